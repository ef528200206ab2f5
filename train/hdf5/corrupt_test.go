package hdf5

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// corruptBase is the small file the corruption tests edit: root attributes
// of each kind, a group with two datasets, an empty group.
func corruptBase(t *testing.T) []byte {
	f := NewFile()
	f.Root.SetAttr("name", "model")
	f.Root.Attrs = append(f.Root.Attrs, Attr{Name: "list", Value: []string{"a", "b"}, Charset: ASCII})
	f.Root.SetAttr("none", []float64{})
	g := f.Root.CreateGroup("g")
	g.SetAttr("note", "x")
	g.CreateDataset("d", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	g.CreateDataset("e", []int{4}, []float32{7, 8, 9, 10})
	f.Root.CreateGroup("h")
	return writeBytes(t, f)
}

// layout locates the structures of corruptBase's file.
type layout struct {
	root, g, h, d, e  int   // object header addresses
	rootMsgs, dMsgs   []int // message offsets: stab, name, list, none; dataspace, datatype, fill, layout, NIL
	snod, btree, heap int   // the root group's
	gcol              int
}

func u64at(b []byte, off int) int { return int(binary.LittleEndian.Uint64(b[off:])) }

func locate(b []byte) layout {
	l := layout{root: u64at(b, 64), btree: u64at(b, 80), heap: u64at(b, 88), gcol: 96}
	l.snod = u64at(b, l.btree+32)
	l.g, l.h = u64at(b, l.snod+16), u64at(b, l.snod+56)
	l.d = bytes.Index(b, []byte{1, 0, 40, 0, 0, 0, 0, 0, 1, 2, 1, 0}) - 16
	l.e = bytes.Index(b, []byte{1, 0, 24, 0, 0, 0, 0, 0, 1, 1, 1, 0}) - 16
	l.rootMsgs, l.dMsgs = messageOffsets(b, l.root), messageOffsets(b, l.d)
	return l
}

// messageOffsets lists the offsets of the messages in an object header's
// first block.
func messageOffsets(b []byte, hdr int) []int {
	var offs []int
	end := hdr + 16 + int(binary.LittleEndian.Uint32(b[hdr+8:]))
	for p := hdr + 16; p < end; p += 8 + int(binary.LittleEndian.Uint16(b[p+2:])) {
		offs = append(offs, p)
	}
	return offs
}

func put16(b []byte, off, v int) { binary.LittleEndian.PutUint16(b[off:], uint16(v)) }
func put32(b []byte, off, v int) { binary.LittleEndian.PutUint32(b[off:], uint32(v)) }
func put64(b []byte, off int, v uint64) {
	binary.LittleEndian.PutUint64(b[off:], v)
}

// corruption is one edit of the base file and the error it must give.
type corruption struct {
	name   string
	edit   func(b []byte, l layout)
	strict bool
	kind   ErrorKind
	path   string
	want   string
}

// checkRefused reads data and checks the error against c.
func checkRefused(t *testing.T, c corruption, data []byte) {
	t.Helper()
	_, err := readBytes(data, c.strict)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: got %v, want an *Error", c.name, err)
	}
	if e.Kind != c.kind || e.Path != c.path || !strings.Contains(e.Msg, c.want) {
		t.Errorf("%s: got %q (kind %v, path %q), want kind %v, path %q, message with %q", c.name, err, e.Kind, e.Path, c.kind, c.path, c.want)
	}
}

// setType changes the type of the message at off.
func setType(typ int) func(b []byte, off int) { return func(b []byte, off int) { put16(b, off, typ) } }

// TestRefusedFeatures edits the base file into each refused feature and
// damage and checks the error: its kind, the object path and the message.
func TestRefusedFeatures(t *testing.T) {
	base := corruptBase(t)
	if _, err := readBytes(base, true); err != nil {
		t.Fatal(err)
	}
	l := locate(base)
	for _, c := range refusals(l) {
		b := append([]byte{}, base...)
		c.edit(b, l)
		checkRefused(t, c, b)
	}
}

// refusals lists the edits of the base file that must be refused.
func refusals(l layout) []corruption {
	cs := append(fileRefusals(l), groupRefusals(l)...)
	cs = append(cs, datasetRefusals(l)...)
	return append(cs, attributeRefusals(l)...)
}

// setBytes returns an edit that writes v at off.
func setBytes(off int, v ...byte) func(b []byte, _ layout) {
	return func(b []byte, _ layout) { copy(b[off:], v) }
}

// Short names for the error kinds in the tables.
const (
	uF = Unsupported
	cF = Corrupt
	kF = NotKeras
)

// fileRefusals edits the superblock and the root object header.
func fileRefusals(l layout) []corruption {
	return []corruption{
		{"signature", setBytes(1, 'X'), false, cF, "", "no HDF5 signature"},
		{"superblock v2", setBytes(8, 2), false, uF, "", "superblock version 2"},
		{"free-space version", setBytes(9, 1), false, uF, "", "free-space storage version 1"},
		{"4-byte offsets", setBytes(13, 4), false, uF, "", "4-byte offsets"},
		{"K zero", setBytes(16, 0, 0), false, cF, "", "group K values 0 (leaf)"},
		{"K strict", setBytes(16, 8), true, kF, "", "group K values 8 (leaf) and 16"},
		{"base address", func(b []byte, _ layout) { put64(b, 24, 512) }, false, uF, "", "base address 512"},
		{"driver info", func(b []byte, _ layout) { put64(b, 48, 0) }, false, uF, "", "driver information block"},
		{"eof beyond", func(b []byte, _ layout) { put64(b, 40, uint64(len(b)+1)) }, false, cF, "", "superblock says the file ends at"},
		{"eof short strict", func(b []byte, _ layout) { put64(b, 40, uint64(len(b)-8)) }, true, kF, "", "end of file"},
		{"free space strict", func(b []byte, _ layout) { put64(b, 32, 0) }, true, kF, "", "free-space address 0x0"},
		{"OHDR", setBytes(l.root, 'O', 'H', 'D', 'R'), false, uF, "/", "version 2 object header (OHDR)"},
		{"header version", setBytes(l.root, 3), false, uF, "/", "object header version 3"},
		{"message count", setBytes(l.root+2, 5), false, cF, "/", "claims 5 messages, holds 4"},
		{"header size", func(b []byte, _ layout) { put32(b, l.root+8, 1<<31-8) }, false, cF, "/", "truncated file: object header messages needs 2147483640 bytes"},
		{"refcount strict", setBytes(l.root+4, 2), true, kF, "/", "object reference count 2"},
	}
}

// groupRefusals edits group structures: links, symbol-table nodes, local
// heaps, B-trees and group messages.
func groupRefusals(l layout) []corruption {
	nameAttr := l.rootMsgs[1]
	return []corruption{
		{"link message", setBytes(nameAttr, 0x06), false, uF, "/", "link message (compact link storage, soft or external links) in a group"},
		{"link info", setBytes(nameAttr, 0x02), false, uF, "/", "link info message (new-style group)"},
		{"group info", setBytes(nameAttr, 0x0A), false, uF, "/", "group info message (new-style group)"},
		{"dense attributes", setBytes(nameAttr, 0x15), false, uF, "/", "attribute info message (dense attribute storage)"},
		{"no stab or layout", setBytes(l.rootMsgs[0], 0), false, uF, "/", "neither a symbol table nor a data layout"},
		{"soft link", setBytes(l.snod+8+16, 2), false, uF, "/g", "soft link"},
		{"cache type 7", setBytes(l.snod+8+16, 7), false, cF, "/g", "cache type 7"},
		{"scratch mismatch", setBytes(l.snod+8+24, 0), false, cF, "/g", "symbol-table entry caches B-tree"},
		{"SNOD version", setBytes(l.snod+4, 2), false, uF, "/", "symbol-table node version 2"},
		{"SNOD count", setBytes(l.snod+6, 9), false, cF, "/", "holds 9 entries, more than 2K = 8"},
		{"SNOD signature", setBytes(l.snod, 'X'), false, cF, "/", "want symbol-table node signature"},
		{"name offset", func(b []byte, _ layout) { put64(b, l.snod+8, 10000) }, false, cF, "/", "name offset 10000 is outside the 88-byte local heap"},
		{"name order", func(b []byte, _ layout) { put64(b, l.snod+48, 8) }, false, cF, "/", `link "g" follows "g"`},
		{"name slash", setBytes(l.heap+32+8, '/'), false, cF, "/", `invalid link name "/"`},
		{"heap version", setBytes(l.heap+4, 1), false, uF, "/", "local heap version 1"},
		{"heap signature", setBytes(l.heap, 'X'), false, cF, "/", "want local heap signature"},
		{"heap size", func(b []byte, _ layout) { put64(b, l.heap+8, 1<<50) }, false, cF, "/", "truncated file: local heap data needs 1125899906842624 bytes"},
		{"heap free list", func(b []byte, _ layout) { put64(b, l.heap+16, 80) }, false, cF, "/", "bad local heap free list"},
		{"B-tree type", setBytes(l.btree+4, 1), false, cF, "/", "B-tree node type 1"},
		{"B-tree signature", setBytes(l.btree, 'X'), false, cF, "/", "want B-tree node signature"},
		{"B-tree level", setBytes(l.btree+5, 9), false, uF, "/", "group B-tree of level 9"},
		{"B-tree level 1", setBytes(l.btree+5, 1), false, cF, "/", `want B-tree node signature "TREE", got "SNOD"`},
		{"B-tree entries", setBytes(l.btree+6, 33), false, cF, "/", "has 33 children, more than 2K = 32"},
		{"B-tree key strict", func(b []byte, _ layout) { put64(b, l.btree+40, 0) }, true, kF, "/", `B-tree key names "" where the last link before it is "h"`},
		{"B-tree sibling strict", func(b []byte, _ layout) { put64(b, l.btree+8, 0) }, true, kF, "/", "siblings 0x0"},
		{"cycle", func(b []byte, _ layout) { put64(b, l.snod+16, uint64(l.root)) }, false, cF, "/g", "was already read as object header of /: a cycle"},
		{"hard link twice", linkGTwice(l), false, cF, "/h", "already read as object header of /g"},
		{"continuation cycle", continuationCycle(l, l.dMsgs[4]), false, cF, "/g/d", "was already read as object header messages of /g/d"},
		{"link outside file", func(b []byte, _ layout) { put64(b, l.snod+56, 1<<40) }, false, cF, "/h", "truncated file: object header prefix needs 16 bytes at offset 1099511627776"},
		{"link undefined", func(b []byte, _ layout) { put64(b, l.snod+56, undef) }, false, cF, "/h", "link to the undefined address"},
	}
}

// datasetRefusals edits /g/d's object header.
func datasetRefusals(l layout) []corruption {
	nilMsg, dLayout, dType, dSpace := l.dMsgs[4], l.dMsgs[3], l.dMsgs[1], l.dMsgs[0]
	cs := []corruption{
		{"unaligned message", setBytes(dSpace+2, 33), false, cF, "/g/d", "dataspace message of 33 bytes is not aligned"},
		{"shared message", setBytes(dType+4, 3), false, uF, "/g/d", "shared datatype message"},
		{"message flags", setBytes(dType+4, 5), false, uF, "/g/d", "datatype message flags 0x5"},
		{"flags strict", setBytes(dType+4, 0), true, kF, "/g/d", "datatype message flags 0; Keras's have 1"},
		{"unknown message", setBytes(nilMsg, 0x99), false, uF, "/g/d", "unknown message type 0x99 in a dataset"},
		{"filters", setBytes(nilMsg, 0x0B), false, uF, "/g/d", "filter pipeline message (compression or other filters) in a dataset"},
		{"external files", setBytes(nilMsg, 0x07), false, uF, "/g/d", "external data files message"},
		{"modification time", setBytes(nilMsg, 0x12), false, uF, "/g/d", "modification time message in a dataset"},
		{"dataset attribute", setBytes(nilMsg, 0x0C), false, uF, "/g/d", "attributes on datasets"},
		{"two layouts", setBytes(nilMsg, 0x08), false, cF, "/g/d", "dataset has two data layout messages"},
		{"chunked", setBytes(dLayout+9, 2), false, uF, "/g/d", "chunked data layout"},
		{"compact", setBytes(dLayout+9, 0), false, uF, "/g/d", "compact data layout"},
		{"virtual", setBytes(dLayout+9, 3), false, uF, "/g/d", "data layout class 3"},
		{"layout v4", setBytes(dLayout+8, 4), false, uF, "/g/d", "data layout message version 4"},
		{"not allocated", func(b []byte, _ layout) { put64(b, dLayout+10, undef) }, false, uF, "/g/d", "storage is not allocated"},
		{"fill v3", setBytes(l.dMsgs[2]+8, 3), false, uF, "/g/d", "fill value message version 3"},
		{"fill strict", setBytes(l.dMsgs[2]+9, 1), true, kF, "/g/d", "allocation time 1"},
		{"float16", setBytes(dType+12, 2), false, uF, "/g/d", "16-bit floating point (float16 or bfloat16)"},
		{"big-endian", setBytes(dType+9, 0x21), false, uF, "/g/d", "big-endian"},
		{"odd float", setBytes(dType+20, 24), false, uF, "/g/d", "floating-point datatype other than IEEE"},
		{"class 11", setBytes(dType+8, 0x1B), false, cF, "/g/d", "datatype class 11"},
		{"string dataset", func(b []byte, _ layout) { copy(b[dType+8:], stringType(UTF8)) }, false, uF, "/g/d", "variable-length string dataset"},
		{"float64 strict", float64Dataset(dSpace, dType), true, kF, "/g/d", "float64 dataset"},
		{"dataspace v2", setBytes(dSpace+8, 2), false, uF, "/g/d", "dataspace version 2"},
		{"permutation", setBytes(dSpace+10, 3), false, uF, "/g/d", "dataspace permutation index"},
		{"rank 33", setBytes(dSpace+9, 33), false, cF, "/g/d", "dataspace of rank 33"},
		{"maxdims strict", func(b []byte, _ layout) { put64(b, dSpace+32, 7) }, true, kF, "/g/d", "maximum dimensions [7 3]"},
		{"dims over max", func(b []byte, _ layout) { put64(b, dSpace+32, 1) }, false, cF, "/g/d", "dimension 0 is 2, more than its maximum 1"},
		{"dimension huge", func(b []byte, _ layout) { put64(b, dSpace+16, 1<<40); put64(b, dSpace+32, 1<<40) }, false, cF, "/g/d", "dimension 0 of 1099511627776 is too large"},
		{"dims product", hugeDims(dSpace), false, cF, "/g/d", "dataspace [2147483647 2147483647] of 4-byte elements exceeds"},
		{"storage size", func(b []byte, _ layout) { put64(b, dLayout+18, 1<<62) }, false, cF, "/g/d", "contiguous storage of 4611686018427387904 bytes for 6 values"},
		{"data past end", func(b []byte, _ layout) { put64(b, dLayout+10, uint64(len(b)-8)) }, false, cF, "/g/d", "truncated file: dataset values needs 24 bytes"},
	}
	for class, name := range classNames {
		cs = append(cs, corruption{name, setBytes(dType+8, 0x10|class), false, uF, "/g/d", name + " datatype (4 bytes)"})
	}
	return cs
}

// attributeRefusals edits the root's attributes and the global heap.
func attributeRefusals(l layout) []corruption {
	nameAttr, listAttr, noneAttr := l.rootMsgs[1], l.rootMsgs[2], l.rootMsgs[3]
	return []corruption{
		{"vlen sequence", setBytes(nameAttr+25, 0x00), false, uF, `/ attribute "name"`, "variable-length sequence datatype"},
		{"string padding", setBytes(nameAttr+25, 0x11), false, uF, `/ attribute "name"`, "variable-length string padding 1"},
		{"charset", setBytes(nameAttr+26, 2), false, uF, `/ attribute "name"`, "string character set 2"},
		{"string base", setBytes(nameAttr+32, 0x13), false, uF, `/ attribute "name"`, "base type is not a 1-byte integer"},
		{"attribute v2", setBytes(nameAttr+8, 2), false, uF, "/", "attribute message version 2"},
		{"attribute 2-D", setBytes(listAttr+49, 2, 0), false, uF, `/ attribute "list"`, "2-dimensional attribute"},
		{"float32 attribute", func(b []byte, _ layout) { copy(b[noneAttr+24:], float32Type) }, false, uF, `/ attribute "none"`, "float32 attribute"},
		{"attribute count", func(b []byte, _ layout) { put64(b, listAttr+56, 1<<30); put64(b, listAttr+64, 1<<30) }, false, cF, `/ attribute "list"`, "exceeds the 32 bytes available"},
		{"attribute name", setBytes(nameAttr+20, 'x'), false, cF, "/", "attribute name of 5 bytes is empty or not NUL-terminated"},
		{"two attributes", setBytes(listAttr+16, 'n', 'a', 'm', 'e', 0), false, cF, "/", `two attributes named "name"`},
		{"missing heap object", func(b []byte, _ layout) { put32(b, nameAttr+68, 999) }, false, cF, `/ attribute "name"`, "has no such object"},
		{"string too long", func(b []byte, _ layout) { put32(b, nameAttr+56, 1000) }, false, cF, `/ attribute "name"`, "string of 1000 bytes in a global heap object of 5"},
		{"string short strict", func(b []byte, _ layout) { put32(b, nameAttr+56, 4) }, true, kF, `/ attribute "name"`, "string of 4 bytes in a global heap object of 5"},
		{"ASCII strict", setBytes(l.gcol+80, 0xE9), true, kF, `/ attribute "list"`, "is not valid ASCII"},
		{"GCOL version", setBytes(l.gcol+4, 2), false, uF, `/ attribute "name"`, "global heap collection version 2"},
		{"GCOL signature", setBytes(l.gcol, 'X'), false, cF, `/ attribute "name"`, "want global heap collection signature"},
		{"GCOL size", func(b []byte, _ layout) { put64(b, l.gcol+8, 1<<40) }, false, cF, `/ attribute "name"`, "truncated file: global heap collection needs 1099511627776 bytes"},
		{"GCOL small strict", func(b []byte, _ layout) { put64(b, l.gcol+8, 2048) }, true, kF, `/ attribute "name"`, "global heap collection of 2048 bytes"},
		{"GCOL object size", func(b []byte, _ layout) { put64(b, l.gcol+24, 1<<40) }, false, cF, `/ attribute "name"`, "global heap object 1 of 1099511627776 bytes overruns"},
		{"GCOL refcount strict", setBytes(l.gcol+18, 1), true, kF, `/ attribute "name"`, "global heap object 1 has reference count 1"},
	}
}

// linkGTwice points the root's link h to g's object header.
func linkGTwice(l layout) func(b []byte, _ layout) {
	return func(b []byte, _ layout) {
		put64(b, l.snod+56, uint64(l.g))
		copy(b[l.snod+64:], b[l.snod+24:l.snod+48])
	}
}

// float64Dataset turns /g/d (2×3 float32) into a 1×3 float64 dataset.
func float64Dataset(dSpace, dType int) func(b []byte, _ layout) {
	return func(b []byte, _ layout) {
		put64(b, dSpace+16, 1)
		put64(b, dSpace+32, 1)
		copy(b[dType+8:], float64Type)
	}
}

// hugeDims gives /g/d the dimensions 2³¹-1 × 2³¹-1.
func hugeDims(dSpace int) func(b []byte, _ layout) {
	return func(b []byte, _ layout) {
		for _, off := range []int{16, 24, 32, 40} {
			put64(b, dSpace+off, 1<<31-1)
		}
	}
}

// continuationCycle turns /g/d's NIL message into a continuation back to
// its header's first block.
func continuationCycle(l layout, nilMsg int) func(b []byte, _ layout) {
	return func(b []byte, _ layout) {
		put16(b, nilMsg, msgContinuation)
		put64(b, nilMsg+8, uint64(l.d+16))
		put64(b, nilMsg+16, 256)
	}
}

// TestFloat64Dataset reads a float64 dataset in default mode.
func TestFloat64Dataset(t *testing.T) {
	b := corruptBase(t)
	l := locate(b)
	float64Dataset(l.dMsgs[0], l.dMsgs[1])(b, l)
	f, err := readBytes(b, false)
	if err != nil {
		t.Fatal(err)
	}
	d := f.Dataset("g/d")
	if len(d.Float64) != 3 || d.Float32 != nil || d.Len() != 3 || math.Float64bits(d.Float64[0]) != 0x400000003f800000 {
		t.Errorf("float64 dataset: %v %v", d.Shape, d.Float64)
	}
}

// TestOverlappingStorage refuses datasets that claim more bytes than the
// file holds by sharing storage.
func TestOverlappingStorage(t *testing.T) {
	f := NewFile()
	big := make([]float32, 16384)
	f.Root.CreateDataset("a", []int{16384}, big)
	f.Root.CreateDataset("b", []int{16384}, big)
	f.Root.CreateDataset("c", []int{1}, []float32{1})
	b := writeBytes(t, f)
	var layouts []int
	for p := 0; ; {
		i := bytes.Index(b[p:], []byte{8, 0, 24, 0, 0, 0, 0, 0, 3, 1})
		if i < 0 {
			break
		}
		layouts = append(layouts, p+i)
		p += i + 1
	}
	aAddr := u64at(b, layouts[0]+10)
	for _, off := range layouts[1:] {
		put64(b, off+10, uint64(aAddr))
		put64(b, off+18, 65536)
	}
	space := messageOffsets(b, layouts[2]-96)[0]
	put64(b, space+16, 16384)
	put64(b, space+24, 16384)
	checkRefused(t, corruption{name: "overlap", kind: Corrupt, path: "/c", want: "storage overlaps"}, b)
}

// TestTruncated cuts the base file at many places: every cut is refused,
// as a truncated file, whether the superblock's end-of-file address is
// left alone or moved to the cut.
func TestTruncated(t *testing.T) {
	base := corruptBase(t)
	for cut := 0; cut < len(base); cut += 5 {
		b := append([]byte{}, base[:cut]...)
		for _, moveEOF := range []bool{false, true} {
			if moveEOF && cut >= 48 {
				put64(b, 40, uint64(cut))
			}
			_, err := readBytes(b, false)
			if err == nil || !strings.Contains(err.Error(), "truncated file") && !strings.Contains(err.Error(), "no HDF5 signature") {
				t.Fatalf("cut at %d (eof moved %v): %v", cut, moveEOF, err)
			}
		}
	}
}
