package hdf5

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"

	"github.com/pkg/errors"
)

// The writer's constants, those of Keras's files.
const (
	leafK       = 4  // a symbol-table node holds 2·4 links
	internalK   = 16 // a group B-tree node has 2·16 children
	snodSize    = 8 + 2*leafK*40
	btreeSize   = 24 + (2*internalK+1)*8 + 2*internalK*8
	minHeapData = 88   // the HDF5 library's initial local heap data size
	minGCOL     = 4096 // the HDF5 library's smallest global heap collection
	datasetHdr  = 256  // the HDF5 library's dataset object header size
	superSize   = 96
)

// Write writes f to w as an HDF5 file in the package's subset, laid out
// the way Keras's files are (strict mode reads it). The tree is checked in
// full before anything is written: an invalid tree writes nothing. Write
// holds the file's metadata in memory and streams the dataset values.
func (f *File) Write(w io.Writer) error {
	if f == nil || f.Root == nil {
		return invalid("/", "no root group")
	}
	p := &plan{seen: map[*Group]bool{}}
	if err := p.check("/", f.Root, 0); err != nil {
		return err
	}
	// Layout: superblock, global heap, dataset values, metadata.
	b := &builder{dataAddr: map[*Dataset]uint64{}}
	next := uint64(superSize)
	if p.stringBytes > 0 {
		b.gcol = newGCOL(next, p.stringBytes)
		next += uint64(len(b.gcol.buf))
	}
	for _, d := range p.datasets {
		if len(d.Float32) > 0 {
			b.dataAddr[d] = next
			next += uint64(pad8(4 * len(d.Float32)))
		}
	}
	b.base = next
	root := b.group(f.Root)
	eof := b.base + uint64(len(b.meta))
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(superblock(root, eof))
	if b.gcol != nil {
		bw.Write(b.gcol.buf)
	}
	for _, d := range p.datasets {
		writeFloats(bw, d.Float32)
	}
	bw.Write(b.meta)
	return errors.Wrap(bw.Flush(), "hdf5: writing")
}

// writeFloats writes float32 values little-endian, padded to 8 bytes
// (errors stick in the bufio.Writer).
func writeFloats(w *bufio.Writer, vs []float32) {
	var buf [4]byte
	for _, v := range vs {
		binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
		w.Write(buf[:])
	}
	if len(vs)%2 == 1 {
		w.Write([]byte{0, 0, 0, 0})
	}
}

// superblock encodes the version 0 superblock.
func superblock(root link, eof uint64) []byte {
	e := newEnc(superSize)
	e.bytes([]byte(signature))
	e.bytes([]byte{0, 0, 0, 0, 0, 8, 8, 0})
	e.u16(leafK)
	e.u16(internalK)
	e.u32(0)
	e.u64(0)     // base address
	e.u64(undef) // free-space info
	e.u64(eof)
	e.u64(undef) // driver info
	e.u64(0)     // root's link name offset
	e.u64(root.header)
	e.u32(1)
	e.u32(0)
	e.u64(root.btree)
	e.u64(root.heap)
	return e.b
}

// link is what a parent's symbol-table entry records of a child.
type link struct {
	header, btree, heap uint64
	group               bool
}

// builder lays out the metadata (object headers, local heaps, symbol-table
// nodes, B-tree nodes) from address base on, children before parents so
// that every address is known when it is written.
type builder struct {
	base     uint64
	meta     []byte
	gcol     *gcolBuilder
	dataAddr map[*Dataset]uint64
}

// next is the address of the next block appended.
func (b *builder) next() uint64 { return b.base + uint64(len(b.meta)) }

// add appends a block and returns its address.
func (b *builder) add(block []byte) uint64 {
	addr := b.next()
	b.meta = append(b.meta, block...)
	return addr
}

func putU16(b []byte, v uint16) { binary.LittleEndian.PutUint16(b, v) }
func putU64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

// enc builds a little-endian block.
type enc struct{ b []byte }

func newEnc(capacity int) *enc { return &enc{b: make([]byte, 0, capacity)} }

func (e *enc) bytes(p []byte) { e.b = append(e.b, p...) }
func (e *enc) u8(v uint8)     { e.b = append(e.b, v) }
func (e *enc) u16(v uint16)   { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *enc) u32(v uint32)   { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64)   { e.b = binary.LittleEndian.AppendUint64(e.b, v) }

// pad appends zeros up to a multiple of 8 bytes.
func (e *enc) pad() { e.b = append(e.b, make([]byte, pad8(len(e.b))-len(e.b))...) }

// zeros appends n zero bytes.
func (e *enc) zeros(n int) { e.b = append(e.b, make([]byte, n)...) }

// message appends an object header message: type, size, flags, data
// (padded to 8 bytes).
func (e *enc) message(typ uint16, flags uint8, data []byte) {
	e.u16(typ)
	e.u16(uint16(pad8(len(data))))
	e.u8(flags)
	e.zeros(3)
	e.bytes(data)
	e.zeros(pad8(len(data)) - len(data))
}

// objectHeader encodes a version 1 object header whose single block holds
// the given messages (already encoded, nmesgs of them), padded with a NIL
// message to at least minSize bytes.
func objectHeader(msgs []byte, nmesgs, minSize int) []byte {
	e := newEnc(16 + max(len(msgs), minSize))
	size := len(msgs)
	if size+8 <= minSize {
		size = minSize
	}
	e.u8(1)
	e.u8(0)
	if size > len(msgs) {
		nmesgs++
	}
	e.u16(uint16(nmesgs))
	e.u32(1) // reference count
	e.u32(uint32(size))
	e.u32(0)
	e.bytes(msgs)
	if size > len(msgs) {
		e.message(msgNIL, 0, make([]byte, size-len(msgs)-8))
	}
	return e.b
}
