package hdf5

import (
	"fmt"
	"math"
	"strings"
)

// maxMessage is the largest object header message (its size is 16 bits,
// aligned to 8).
const maxMessage = 0xFFF8

// plan is the writer's first pass: it checks the whole tree, so that
// writing cannot fail halfway for a reason of the tree's, and measures
// what must be placed before the metadata (the strings of the global heap
// and the datasets' values).
type plan struct {
	stringBytes uint64 // bytes the strings take in the global heap
	strings     int    // strings, each an object of the heap
	datasets    []*Dataset
	seen        map[*Group]bool
}

// check checks g and everything below it.
func (p *plan) check(path string, g *Group, depth int) error {
	if depth > maxDepth {
		return invalid(path, "groups nested deeper than %d levels", maxDepth)
	}
	if p.seen[g] {
		return invalid(path, "the group appears twice in the tree (a cycle, or a group linked from two places)")
	}
	p.seen[g] = true
	if err := p.checkAttrs(path, g.Attrs); err != nil {
		return err
	}
	ms := g.members()
	for i, m := range ms {
		mpath := objectPath(path, m.name)
		if m.group == nil && m.dataset == nil {
			return invalid(path, "nil member")
		}
		if err := checkName(mpath, m.name, "link"); err != nil {
			return err
		}
		if i > 0 && ms[i-1].name == m.name {
			return invalid(mpath, "two members of %s are called %q", path, m.name)
		}
		var err error
		switch {
		case m.group != nil:
			err = p.check(mpath, m.group, depth+1)
		default:
			err = p.checkDataset(mpath, m.dataset)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkName refuses names that HDF5 cannot store or that h5py would cut.
func checkName(path, name, what string) error {
	if name == "" || name == "." || strings.ContainsAny(name, "/\x00") {
		return invalid(path, "invalid %s name %q (empty, \".\", or holding '/' or NUL)", what, name)
	}
	return nil
}

// checkDataset checks a dataset: float32 values matching its shape.
func (p *plan) checkDataset(path string, d *Dataset) error {
	switch {
	case d.Float64 != nil:
		return invalid(path, "float64 dataset: the writer writes float32 datasets only, as Keras's files hold")
	case len(d.Shape) > 32:
		return invalid(path, "dataset of rank %d (at most 32)", len(d.Shape))
	}
	n := 1
	for _, s := range d.Shape {
		if s < 0 || s > math.MaxInt32 {
			return invalid(path, "dataset shape %v has a dimension outside [0, 2^31)", d.Shape)
		}
		if s != 0 && n > math.MaxInt/4/s {
			return invalid(path, "dataset shape %v is too large", d.Shape)
		}
		n *= s
	}
	if n != len(d.Float32) {
		return invalid(path, "dataset of shape %v holds %d values, want %d", d.Shape, len(d.Float32), n)
	}
	p.datasets = append(p.datasets, d)
	return nil
}

// checkAttrs checks a group's attributes: names, value types, strings, and
// that each fits in an object header message.
func (p *plan) checkAttrs(path string, attrs []Attr) error {
	seen := map[string]bool{}
	for _, a := range attrs {
		apath := fmt.Sprintf("%s attribute %q", path, a.Name)
		if a.Name == "" || strings.ContainsRune(a.Name, 0) {
			return invalid(apath, "invalid attribute name (empty or holding NUL)")
		}
		if seen[a.Name] {
			return invalid(apath, "two attributes of one name")
		}
		seen[a.Name] = true
		var strs []string
		switch v := a.Value.(type) {
		case string:
			strs = []string{v}
		case []string:
			strs = v
		case []float64:
			if len(v) != 0 {
				return invalid(apath, "non-empty float64 attribute: the writer writes only empty ones, as Keras's weight_names of a layer without weights")
			}
		case float64:
			return invalid(apath, "scalar float64 attribute: the writer writes only empty 1-D float64 ones")
		default:
			return invalid(apath, "attribute value of type %T (want string, []string or an empty []float64)", a.Value)
		}
		if err := p.checkStrings(apath, strs, a.Charset); err != nil {
			return err
		}
		if size := attrMessageSize(a); size > maxMessage {
			return invalid(apath, "attribute takes %d bytes, more than an object header message holds (%d): split it, as Keras does", size, maxMessage)
		}
	}
	return nil
}

// checkStrings checks strings against their charset and counts their
// global heap bytes.
func (p *plan) checkStrings(path string, strs []string, cs Charset) error {
	if cs != UTF8 && cs != ASCII {
		return invalid(path, "unknown charset %d", cs)
	}
	for _, s := range strs {
		switch {
		case strings.ContainsRune(s, 0):
			return invalid(path, "string holding NUL (h5py would cut it there)")
		case !validString(s, cs):
			return invalid(path, "string %q is not valid %s", s, cs)
		case len(s) > math.MaxUint32-16:
			return invalid(path, "string of %d bytes is too long", len(s))
		}
		p.stringBytes += 16 + uint64(pad8(len(s)))
		if p.strings++; p.strings > 0xFFFF {
			return invalid(path, "more than 65535 strings in the file: one global heap collection cannot index them")
		}
	}
	return nil
}

// attrMessageSize is the size of an attribute message's data.
func attrMessageSize(a Attr) int {
	switch v := a.Value.(type) {
	case string:
		return 8 + pad8(len(a.Name)+1) + 24 + 8 + 16
	case []string:
		return 8 + pad8(len(a.Name)+1) + 24 + 24 + 16*len(v)
	}
	return 8 + pad8(len(a.Name)+1) + 24 + 24 // an empty []float64
}
