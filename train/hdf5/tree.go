package hdf5

import (
	"sort"
	"strings"
)

// File is an HDF5 file held in memory: its root group and everything below.
type File struct {
	Root *Group
}

// NewFile returns a file with an empty root group, ready to be filled and
// written.
func NewFile() *File {
	return &File{Root: &Group{Name: "/"}}
}

// Group returns the group at path below the root ("layers/dense/vars"), or
// nil.
func (f *File) Group(path string) *Group { return f.Root.Group(path) }

// Dataset returns the dataset at path below the root
// ("layers/dense/vars/0"), or nil.
func (f *File) Dataset(path string) *Dataset { return f.Root.Dataset(path) }

// Group is an HDF5 group: its attributes, its subgroups and its datasets.
// The reader returns members sorted by name (HDF5 keeps no creation order);
// the writer sorts them itself, so their order in the slices does not
// matter for writing.
type Group struct {
	// Name is the link name of the group in its parent, "/" for the root.
	Name     string
	Attrs    []Attr
	Groups   []*Group
	Datasets []*Dataset
}

// Dataset is an HDF5 dataset of floating-point numbers in row-major
// (C) order. Exactly one of Float32 and Float64 is non-nil; Keras's files
// and this package's writer hold only float32 datasets.
type Dataset struct {
	// Name is the link name of the dataset in its group.
	Name string
	// Shape is the dataset's dimensions; empty for a scalar.
	Shape   []int
	Float32 []float32
	Float64 []float64
}

// Len is the number of values, the product of Shape.
func (d *Dataset) Len() int {
	if d.Float64 != nil {
		return len(d.Float64)
	}
	return len(d.Float32)
}

// Charset is the character set an HDF5 string is flagged with. Both are
// decoded the same way (the bytes become a Go string as they are); the flag
// is kept so that a tree read and written again keeps it.
type Charset uint8

const (
	// UTF8 is the zero value: what the writer uses unless told otherwise.
	UTF8 Charset = iota
	// ASCII strings must hold 7-bit characters only.
	ASCII
)

// String names the charset.
func (c Charset) String() string { return enumName(int(c), "Charset", "UTF-8", "ASCII") }

// Attr is an attribute of a group. Value is one of:
//
//	string     a scalar variable-length string
//	[]string   a 1-D array of variable-length strings
//	float64    a scalar float64
//	[]float64  a 1-D float64 array (Keras writes empty ones, shape (0,))
type Attr struct {
	Name  string
	Value any
	// Charset applies to string values only.
	Charset Charset
}

// Group returns the group at the slash-separated path below g, or nil. An
// empty path or "." is g itself.
func (g *Group) Group(path string) *Group {
	for _, part := range splitPath(path) {
		if g = g.child(part); g == nil {
			return nil
		}
	}
	return g
}

// Dataset returns the dataset at the slash-separated path below g
// ("vars/0"), or nil.
func (g *Group) Dataset(path string) *Dataset {
	parts := splitPath(path)
	if len(parts) == 0 {
		return nil
	}
	parent := g.Group(strings.Join(parts[:len(parts)-1], "/"))
	if parent == nil {
		return nil
	}
	for _, d := range parent.Datasets {
		if d != nil && d.Name == parts[len(parts)-1] {
			return d
		}
	}
	return nil
}

// Attr returns the value of the attribute called name (see Attr for its
// Go types), and whether there is one.
func (g *Group) Attr(name string) (any, bool) {
	for _, a := range g.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return nil, false
}

// SetAttr sets the attribute called name to value (string, []string,
// float64 or []float64; the writer checks the type), replacing an existing
// one of that name and keeping its place. Strings are flagged UTF-8.
func (g *Group) SetAttr(name string, value any) {
	for i := range g.Attrs {
		if g.Attrs[i].Name == name {
			g.Attrs[i] = Attr{Name: name, Value: value}
			return
		}
	}
	g.Attrs = append(g.Attrs, Attr{Name: name, Value: value})
}

// CreateGroup adds an empty subgroup called name and returns it. The writer
// refuses a group with two members of one name.
func (g *Group) CreateGroup(name string) *Group {
	c := &Group{Name: name}
	g.Groups = append(g.Groups, c)
	return c
}

// CreateDataset adds a float32 dataset called name with the given shape and
// values (row-major; len(values) must be the product of shape) and
// returns it. The values are not copied.
func (g *Group) CreateDataset(name string, shape []int, values []float32) *Dataset {
	if values == nil {
		values = []float32{}
	}
	d := &Dataset{Name: name, Shape: append([]int{}, shape...), Float32: values}
	g.Datasets = append(g.Datasets, d)
	return d
}

// Walk calls fn for g and every group and dataset below it, depth first,
// members in name order (groups and datasets interleaved as HDF5 lists
// them). path is the object's path relative to g ("" for g itself). For
// each object exactly one of grp and ds is non-nil. Walk stops at the first
// error fn returns and returns it.
func (g *Group) Walk(fn func(path string, grp *Group, ds *Dataset) error) error {
	return g.walk("", fn)
}

func (g *Group) walk(path string, fn func(string, *Group, *Dataset) error) error {
	if err := fn(path, g, nil); err != nil {
		return err
	}
	for _, m := range g.members() {
		p := joinPath(path, m.name)
		var err error
		switch {
		case m.group != nil:
			err = m.group.walk(p, fn)
		case m.dataset != nil:
			err = fn(p, nil, m.dataset)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// member is a group's link: a subgroup or a dataset.
type member struct {
	name    string
	group   *Group
	dataset *Dataset
}

// members returns g's groups and datasets sorted by name, as HDF5 orders
// links (byte order); a nil one has an empty name and no object.
func (g *Group) members() []member {
	ms := make([]member, 0, len(g.Groups)+len(g.Datasets))
	for _, c := range g.Groups {
		if c == nil {
			ms = append(ms, member{})
		} else {
			ms = append(ms, member{name: c.Name, group: c})
		}
	}
	for _, d := range g.Datasets {
		if d == nil {
			ms = append(ms, member{})
		} else {
			ms = append(ms, member{name: d.Name, dataset: d})
		}
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].name < ms[j].name })
	return ms
}

func (g *Group) child(name string) *Group {
	for _, c := range g.Groups {
		if c != nil && c.Name == name {
			return c
		}
	}
	return nil
}

// splitPath splits a slash-separated path into its non-empty parts,
// dropping "." parts.
func splitPath(path string) []string {
	var parts []string
	for _, p := range strings.Split(path, "/") {
		if p != "" && p != "." {
			parts = append(parts, p)
		}
	}
	return parts
}

// joinPath appends name to a path relative to some group ("" is the group).
func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "/" + name
}

// objectPath appends name to an absolute object path ("/" is the root).
func objectPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}
