package hdf5

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// readAttribute decodes a version 1 attribute message of a group.
func (r *reader) readAttribute(path string, m message) (Attr, error) {
	c := newCursor(m.data, m.at, path, "attribute message")
	version := c.u8()
	c.skip(1)
	nameSize, typeSize, spaceSize := int(c.u16()), int(c.u16()), int(c.u16())
	if c.err == nil && version != 1 {
		return Attr{}, unsupported(path, m.at, "attribute message version %d (only version 1 is supported)", version)
	}
	rawName := c.take(nameSize)
	c.align8()
	typeBytes := c.take(typeSize)
	c.align8()
	spaceBytes := c.take(spaceSize)
	c.align8()
	if c.err != nil {
		return Attr{}, c.err
	}
	nul := bytes.IndexByte(rawName, 0)
	if nul <= 0 {
		return Attr{}, corrupt(path, m.at+8, "attribute name of %d bytes is empty or not NUL-terminated", nameSize)
	}
	a := Attr{Name: string(rawName[:nul])}
	apath := fmt.Sprintf("%s attribute %q", path, a.Name)
	c.path = apath
	if r.strict && (nul != nameSize-1 || typeSize != 20) {
		return Attr{}, r.notKeras(apath, m.at, "attribute name of %d bytes in %d, datatype of %d bytes; Keras's have name length + 1 and 20", nul, nameSize, typeSize)
	}
	typeAt := m.at + int64(pad8(8+nameSize))
	t, err := decodeDatatype(newCursor(typeBytes, typeAt, apath, "attribute datatype"))
	if err != nil {
		return Attr{}, err
	}
	s, err := decodeDataspace(newCursor(spaceBytes, typeAt+int64(pad8(typeSize)), apath, "attribute dataspace"))
	if err != nil {
		return Attr{}, err
	}
	if len(s.dims) > 1 {
		return Attr{}, unsupported(apath, typeAt+int64(pad8(typeSize)), "%d-dimensional attribute (only scalar and 1-D ones are supported)", len(s.dims))
	}
	if t.kind == kFloat32 {
		return Attr{}, unsupported(apath, typeAt, "float32 attribute (only float64 and string ones are supported)")
	}
	a.Charset = t.charset
	a.Value, err = r.attrValue(apath, c, s, t)
	return a, err
}

// attrValue decodes an attribute's data: len(dims) is 0 or 1.
func (r *reader) attrValue(path string, c *cursor, s dataspace, t dtype) (any, error) {
	at := c.off()
	n, err := s.count(c, at, uint64(t.size), uint64(c.left()))
	if err != nil {
		return nil, err
	}
	if r.strict && c.left()-n*t.size >= 8 {
		return nil, r.notKeras(path, at, "attribute data of %d bytes holds %d values of %d bytes", c.left(), n, t.size)
	}
	data := c.take(n * t.size)
	if t.kind == kFloat64 {
		if r.strict && (len(s.dims) != 1 || n != 0) {
			return nil, r.notKeras(path, at, "float64 attribute of shape %v; Keras's are empty 1-D arrays", s.dims)
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
		if len(s.dims) == 0 {
			return v[0], nil
		}
		return v, nil
	}
	v := make([]string, n)
	for i := range v {
		if v[i], err = r.vlenString(path, data[16*i:16*i+16], at+16*int64(i), t.charset); err != nil {
			return nil, err
		}
	}
	if len(s.dims) == 0 {
		return v[0], nil
	}
	return v, nil
}

// vlenString decodes a 16-byte variable-length string reference (length,
// global heap collection address, object index) into its string.
func (r *reader) vlenString(path string, ref []byte, at int64, cs Charset) (string, error) {
	length := binary.LittleEndian.Uint32(ref)
	addr := binary.LittleEndian.Uint64(ref[4:])
	idx := binary.LittleEndian.Uint32(ref[12:])
	if length == 0 && addr == 0 && idx == 0 {
		if r.strict {
			return "", r.notKeras(path, at, "empty string without a global heap object; the HDF5 library stores an empty one")
		}
		return "", nil
	}
	h, err := r.globalHeap(path, addr)
	if err != nil {
		return "", err
	}
	obj, ok := h.objects[idx]
	switch {
	case idx == 0 || !ok:
		return "", corrupt(path, at, "string refers to object %d of the global heap at offset %d, which has no such object", idx, addr)
	case uint64(length) > uint64(len(obj)):
		return "", corrupt(path, at, "string of %d bytes in a global heap object of %d", length, len(obj))
	case r.strict && uint64(length) != uint64(len(obj)):
		return "", r.notKeras(path, at, "string of %d bytes in a global heap object of %d; Keras's fill their objects", length, len(obj))
	}
	s := obj[:length] // shares the object's bytes with every other reference
	if r.strict && !validString(s, cs) {
		return "", r.notKeras(path, at, "string %q is not valid %s", s, cs)
	}
	return s, nil
}

// validString reports whether s is valid in charset cs.
func validString(s string, cs Charset) bool {
	if cs == UTF8 {
		return utf8.ValidString(s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// globalHeap is a global heap collection (GCOL) read in full: its objects
// by index, as strings, so that many references to one object share its
// bytes.
type globalHeap struct {
	objects map[uint32]string
}

// globalHeap returns the global heap collection at addr, reading it on
// first use.
func (r *reader) globalHeap(path string, addr uint64) (*globalHeap, error) {
	if h, ok := r.heaps[addr]; ok {
		return h, nil
	}
	c, err := r.structure(path, addr, 16, "global heap collection", "GCOL")
	if err != nil {
		return nil, err
	}
	version := c.u8()
	c.skip(3)
	size := c.u64()
	switch {
	case version != 1:
		return nil, unsupported(path, int64(addr)+4, "global heap collection version %d (only version 1 is supported)", version)
	case size < 16:
		return nil, corrupt(path, int64(addr)+8, "global heap collection of %d bytes", size)
	case r.strict && size < 4096:
		return nil, r.notKeras(path, int64(addr)+8, "global heap collection of %d bytes; the HDF5 library makes them at least 4096", size)
	}
	b, err := r.read(path, addr, size, "global heap collection")
	if err != nil {
		return nil, err
	}
	h, err := r.parseGlobalHeap(newCursor(b, int64(addr), path, "global heap object"))
	if err != nil {
		return nil, err
	}
	r.heaps[addr] = h
	return h, nil
}

// parseGlobalHeap reads the objects of a collection, as the HDF5 library
// does: the free-space object (index 0) runs to the collection's end, and
// a tail too small for an object header is free space.
func (r *reader) parseGlobalHeap(c *cursor) (*globalHeap, error) {
	h := &globalHeap{objects: map[uint32]string{}}
	c.skip(16)
	for c.left() >= 16 {
		at := c.off()
		idx, refs := uint32(c.u16()), c.u16()
		c.skip(4)
		size := c.u64()
		if idx == 0 {
			if size < 16 || size-16 > uint64(c.left()) {
				return nil, corrupt(c.path, at, "global heap free space of %d bytes in %d", size, c.left()+16)
			}
			c.skip(int(size) - 16)
			continue
		}
		if size > uint64(c.left()) || uint64(pad8(int(size))) > uint64(c.left()) {
			return nil, corrupt(c.path, at, "global heap object %d of %d bytes overruns its collection", idx, size)
		}
		if _, dup := h.objects[idx]; dup {
			return nil, corrupt(c.path, at, "global heap object %d appears twice", idx)
		}
		if r.strict && refs != 0 {
			return nil, r.notKeras(c.path, at, "global heap object %d has reference count %d; Keras's have 0", idx, refs)
		}
		h.objects[idx] = string(c.take(int(size)))
		c.align8()
	}
	return h, c.err
}
