package hdf5

import (
	"encoding/binary"
)

// undef is HDF5's undefined address.
const undef = ^uint64(0)

// cursor decodes little-endian fields from a block read from the file. A
// read past the block's end records an error (naming what was decoded and
// where) and yields zeros; check err once after a run of reads.
type cursor struct {
	b    []byte
	pos  int
	at   int64 // file offset of b[0]
	path string
	what string
	err  error
}

func newCursor(b []byte, at int64, path, what string) *cursor {
	return &cursor{b: b, at: at, path: path, what: what}
}

// off is the file offset of the next byte.
func (c *cursor) off() int64 { return c.at + int64(c.pos) }

// left is the number of bytes not yet read.
func (c *cursor) left() int { return len(c.b) - c.pos }

func (c *cursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > c.left() {
		c.err = corrupt(c.path, c.off(), "%s: need %d more bytes, %d left", c.what, n, c.left())
		return nil
	}
	s := c.b[c.pos : c.pos+n]
	c.pos += n
	return s
}

func (c *cursor) u8() uint8 {
	if s := c.take(1); s != nil {
		return s[0]
	}
	return 0
}

func (c *cursor) u16() uint16 {
	if s := c.take(2); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if s := c.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (c *cursor) u64() uint64 {
	if s := c.take(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

// skip passes over n bytes.
func (c *cursor) skip(n int) { c.take(n) }

// align8 skips to the next multiple of 8 from the block's start.
func (c *cursor) align8() { c.skip(pad8(c.pos) - c.pos) }

// pad8 rounds n up to a multiple of 8.
func pad8(n int) int { return (n + 7) &^ 7 }
