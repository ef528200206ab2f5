package hdf5

import "math"

// dkind is the kind of a datatype inside the subset.
type dkind int

const (
	kFloat32 dkind = iota
	kFloat64
	kString // variable-length string
)

// dtype is a decoded datatype message.
type dtype struct {
	kind    dkind
	size    int // bytes per element
	charset Charset
	base    []byte // a string's base type, as encoded
}

// The datatypes of the subset as Keras's files encode them (the writer
// writes these bytes).
var (
	float32Type = []byte{0x11, 0x20, 0x1f, 0x00, 4, 0, 0, 0, 0, 0, 32, 0, 23, 8, 0, 23, 127, 0, 0, 0}
	float64Type = []byte{0x11, 0x20, 0x3f, 0x00, 8, 0, 0, 0, 0, 0, 64, 0, 52, 11, 0, 52, 0xff, 0x03, 0, 0}
	// stringBase is the base type of a variable-length string: an
	// unsigned 8-bit integer.
	stringBase = []byte{0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0}
)

// classNames names the datatype classes outside the subset.
var classNames = map[uint8]string{
	0: "integer", 2: "time", 3: "fixed-length string", 4: "bitfield", 5: "opaque",
	6: "compound", 7: "reference", 8: "enum", 10: "array",
}

// decodeDatatype decodes a datatype message: IEEE little-endian float32 or
// float64, or a variable-length string of bytes; anything else is refused.
func decodeDatatype(c *cursor) (dtype, error) {
	at := c.off()
	head := c.take(8)
	if c.err != nil {
		return dtype{}, c.err
	}
	class, version, size := head[0]&0x0f, head[0]>>4, int(uint32(head[4])|uint32(head[5])<<8|uint32(head[6])<<16|uint32(head[7])<<24)
	switch class {
	case 1:
		return decodeFloat(c, head, at)
	case 9:
		return decodeString(c, head, at)
	}
	if name, ok := classNames[class]; ok {
		return dtype{}, unsupported(c.path, at, "%s datatype (%d bytes)", name, size)
	}
	return dtype{}, corrupt(c.path, at, "datatype class %d, version %d", class, version)
}

// decodeFloat decodes a floating-point datatype whose 8-byte head was read.
func decodeFloat(c *cursor, head []byte, at int64) (dtype, error) {
	props := c.take(12)
	if c.err != nil {
		return dtype{}, c.err
	}
	enc := string(append(append([]byte{}, head...), props...))
	switch {
	case enc == string(float32Type):
		return dtype{kind: kFloat32, size: 4}, nil
	case enc == string(float64Type):
		return dtype{kind: kFloat64, size: 8}, nil
	case head[1]&0x41 != 0:
		return dtype{}, unsupported(c.path, at, "big-endian or VAX-order floating point")
	case head[4] == 2 && head[5] == 0:
		return dtype{}, unsupported(c.path, at, "16-bit floating point (float16 or bfloat16)")
	}
	return dtype{}, unsupported(c.path, at, "floating-point datatype other than IEEE little-endian float32 and float64 (version %d, %d bytes)", head[0]>>4, int(head[4])|int(head[5])<<8)
}

// decodeString decodes a variable-length datatype whose 8-byte head was
// read: only strings, NUL-terminated, ASCII or UTF-8, of unsigned bytes.
func decodeString(c *cursor, head []byte, at int64) (dtype, error) {
	version, typ, pad, cset := head[0]>>4, head[1]&0x0f, head[1]>>4, head[2]&0x0f
	size := int(head[4]) | int(head[5])<<8 | int(head[6])<<16 | int(head[7])<<24
	switch {
	case typ == 0:
		return dtype{}, unsupported(c.path, at, "variable-length sequence datatype")
	case typ != 1:
		return dtype{}, corrupt(c.path, at, "variable-length datatype of type %d", typ)
	case version != 1:
		return dtype{}, unsupported(c.path, at, "variable-length string datatype version %d", version)
	case pad != 0:
		return dtype{}, unsupported(c.path, at, "variable-length string padding %d (only NUL-terminated is supported)", pad)
	case cset > 1:
		return dtype{}, unsupported(c.path, at, "string character set %d (only ASCII and UTF-8 are supported)", cset)
	case size != 16:
		return dtype{}, corrupt(c.path, at+4, "variable-length string of %d bytes per element (want 16)", size)
	}
	base := c.take(12)
	if c.err != nil {
		return dtype{}, c.err
	}
	if base[0]&0x0f != 0 || base[4] != 1 || base[5]|base[6]|base[7] != 0 || base[8]|base[9] != 0 || base[10] != 8 || base[11] != 0 {
		return dtype{}, unsupported(c.path, at+8, "variable-length string whose base type is not a 1-byte integer")
	}
	cs := UTF8
	if cset == 0 {
		cs = ASCII
	}
	return dtype{kind: kString, size: 16, charset: cs, base: base}, nil
}

// dataspace is a decoded version 1 dataspace message.
type dataspace struct {
	dims, maxdims []uint64 // maxdims nil when absent
}

// decodeDataspace decodes a version 1 dataspace message.
func decodeDataspace(c *cursor) (dataspace, error) {
	at := c.off()
	version, rank, flags := c.u8(), int(c.u8()), c.u8()
	c.skip(5)
	switch {
	case c.err != nil:
		return dataspace{}, c.err
	case version != 1:
		return dataspace{}, unsupported(c.path, at, "dataspace version %d (only version 1 is supported)", version)
	case rank > 32:
		return dataspace{}, corrupt(c.path, at+1, "dataspace of rank %d (at most 32)", rank)
	case flags&0x02 != 0:
		return dataspace{}, unsupported(c.path, at+2, "dataspace permutation index")
	case flags&^0x01 != 0:
		return dataspace{}, corrupt(c.path, at+2, "dataspace flags %#x", flags)
	}
	var s dataspace
	for i := 0; i < rank; i++ {
		s.dims = append(s.dims, c.u64())
	}
	if flags&1 != 0 {
		for i := 0; i < rank; i++ {
			s.maxdims = append(s.maxdims, c.u64())
		}
	}
	if c.err != nil {
		return dataspace{}, c.err
	}
	for i, d := range s.dims {
		if d > math.MaxInt32 {
			return dataspace{}, corrupt(c.path, at+8+8*int64(i), "dimension %d of %d is too large", i, d)
		}
		if s.maxdims != nil && s.maxdims[i] < d {
			return dataspace{}, corrupt(c.path, at+8, "dimension %d is %d, more than its maximum %d", i, d, s.maxdims[i])
		}
	}
	return s, nil
}

// count returns the number of elements of s, checking that they take at
// most limit bytes of elemSize each (so that no count read from a file
// can overflow or allocate more than the file holds).
func (s dataspace) count(c *cursor, at int64, elemSize, limit uint64) (int, error) {
	n := uint64(1)
	for _, d := range s.dims {
		if d == 0 {
			return 0, nil
		}
	}
	for _, d := range s.dims {
		if d > limit/elemSize/n {
			return 0, corrupt(c.path, at, "dataspace %v of %d-byte elements exceeds the %d bytes available", s.dims, elemSize, limit)
		}
		n *= d
	}
	if elemSize > limit {
		return 0, corrupt(c.path, at, "a %d-byte value exceeds the %d bytes available", elemSize, limit)
	}
	return int(n), nil
}

// shape converts s's dimensions to ints (decodeDataspace bounded them).
func (s dataspace) shape() []int {
	shape := make([]int, len(s.dims))
	for i, d := range s.dims {
		shape[i] = int(d)
	}
	return shape
}
