package hdf5

import (
	"encoding/binary"
	"math"
	"slices"
)

// readDataset reads a dataset (contiguous float32 or float64) from its
// object header messages, values included.
func (r *reader) readDataset(path, name string, msgs []message) (*Dataset, error) {
	var space, typ, fill, layout *message
	for i := range msgs {
		m := &msgs[i]
		var slot **message
		switch m.typ {
		case msgDataspace:
			slot = &space
		case msgDatatype:
			slot = &typ
		case msgFillValue:
			slot = &fill
		case msgLayout:
			slot = &layout
		case msgAttribute:
			return nil, unsupported(path, m.at, "attributes on datasets")
		default:
			return nil, unsupported(path, m.at, "%s in a dataset", messageName(m.typ))
		}
		if *slot != nil {
			return nil, corrupt(path, m.at, "dataset has two %ss", messageName(m.typ))
		}
		*slot = m
	}
	switch {
	case space == nil || typ == nil:
		return nil, corrupt(path, layout.at, "dataset without a dataspace or a datatype message")
	case fill == nil && r.strict:
		return nil, r.notKeras(path, layout.at, "dataset without a fill value message")
	}
	s, err := decodeDataspace(newCursor(space.data, space.at, path, "dataspace message"))
	if err != nil {
		return nil, err
	}
	t, err := decodeDatatype(newCursor(typ.data, typ.at, path, "datatype message"))
	if err != nil {
		return nil, err
	}
	if err := r.checkDatasetTypes(path, space.at, typ.at, s, t); err != nil {
		return nil, err
	}
	if fill != nil {
		if err := r.checkFill(path, fill); err != nil {
			return nil, err
		}
	}
	return r.readValues(path, name, s, t, layout)
}

// checkDatasetTypes refuses string datasets and, in strict mode, anything
// but float32 datasets whose maximum dimensions are their dimensions.
func (r *reader) checkDatasetTypes(path string, spaceAt, typeAt int64, s dataspace, t dtype) error {
	if t.kind == kString {
		return unsupported(path, typeAt, "variable-length string dataset")
	}
	if !r.strict {
		return nil
	}
	if t.kind != kFloat32 {
		return r.notKeras(path, typeAt, "float64 dataset; Keras's datasets are float32")
	}
	if len(s.dims) > 0 && (s.maxdims == nil || !slices.Equal(s.dims, s.maxdims)) {
		return r.notKeras(path, spaceAt, "dataspace with maximum dimensions %v for dimensions %v; Keras's have them equal", s.maxdims, s.dims)
	}
	return nil
}

// checkFill decodes a fill value message (version 1 or 2). The fill value
// itself never matters: a dataset whose storage is not allocated must be
// empty (readValues checks it).
func (r *reader) checkFill(path string, m *message) error {
	c := newCursor(m.data, m.at, path, "fill value message")
	version, alloc, write, defined := c.u8(), c.u8(), c.u8(), c.u8()
	var size uint32
	if version == 1 || defined != 0 {
		size = c.u32()
		c.skip(int(min(size, math.MaxInt32)))
	}
	switch {
	case version != 1 && version != 2:
		return unsupported(path, m.at, "fill value message version %d (only versions 1 and 2 are supported)", version)
	case c.err != nil:
		return c.err
	case r.strict && (version != 2 || alloc != 2 || write != 2 || defined != 1 || size != 0):
		return r.notKeras(path, m.at, "fill value message version %d, allocation time %d, write time %d, defined %d, size %d; Keras's are 2, 2, 2, 1, 0", version, alloc, write, defined, size)
	}
	return nil
}

// readValues reads a contiguous dataset's values.
func (r *reader) readValues(path, name string, s dataspace, t dtype, layout *message) (*Dataset, error) {
	c := newCursor(layout.data, layout.at, path, "data layout message")
	version, class := c.u8(), c.u8()
	switch {
	case c.err != nil:
		return nil, c.err
	case version != 3:
		return nil, unsupported(path, layout.at, "data layout message version %d (only version 3 is supported)", version)
	case class == 0:
		return nil, unsupported(path, layout.at+1, "compact data layout")
	case class == 2:
		return nil, unsupported(path, layout.at+1, "chunked data layout")
	case class != 1:
		return nil, unsupported(path, layout.at+1, "data layout class %d", class)
	}
	addr, size := c.u64(), c.u64()
	if c.err != nil {
		return nil, c.err
	}
	n, err := s.count(c, layout.at+2, uint64(t.size), r.size)
	if err != nil {
		return nil, err
	}
	if want := uint64(n) * uint64(t.size); size != want {
		return nil, corrupt(path, layout.at+10, "contiguous storage of %d bytes for %d values of %d bytes", size, n, t.size)
	}
	if addr == undef && n > 0 {
		return nil, unsupported(path, layout.at+2, "dataset whose storage is not allocated (its values would be fill values)")
	}
	d := &Dataset{Name: name, Shape: s.shape()}
	var raw []byte
	if n > 0 {
		if r.dataBytes += size; r.dataBytes > r.size {
			return nil, corrupt(path, int64(addr), "datasets take %d bytes in total, more than the %d-byte file holds: their storage overlaps", r.dataBytes, r.size)
		}
		if raw, err = r.read(path, addr, size, "dataset values"); err != nil {
			return nil, err
		}
	}
	decodeFloats(d, t.kind, n, raw)
	return d, nil
}

// decodeFloats fills d's values from little-endian bytes.
func decodeFloats(d *Dataset, kind dkind, n int, raw []byte) {
	if kind == kFloat64 {
		d.Float64 = make([]float64, n)
		for i := range d.Float64 {
			d.Float64[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		return
	}
	d.Float32 = make([]float32, n)
	for i := range d.Float32 {
		d.Float32[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
}
