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
	nilMsg, dLayout, dType, dSpace := l.dMsgs[4], l.dMsgs[3], l.dMsgs[1], l.dMsgs[0]
	nameAttr, listAttr, noneAttr := l.rootMsgs[1], l.rootMsgs[2], l.rootMsgs[3]
	for _, c := range refusals(l, nilMsg, dLayout, dType, dSpace, nameAttr, listAttr, noneAttr) {
		b := append([]byte{}, base...)
		c.edit(b, l)
		checkRefused(t, c, b)
	}
}

func refusals(l layout, nilMsg, dLayout, dType, dSpace, nameAttr, listAttr, noneAttr int) []corruption {
	U, C, K := Unsupported, Corrupt, NotKeras
	at := func(off int, v ...byte) func(b []byte, _ layout) {
		return func(b []byte, _ layout) { copy(b[off:], v) }
	}
	return []corruption{
		{"signature", at(1, 'X'), false, C, "", "no HDF5 signature"},
		{"superblock v2", at(8, 2), false, U, "", "superblock version 2"},
		{"free-space version", at(9, 1), false, U, "", "free-space storage version 1"},
		{"4-byte offsets", at(13, 4), false, U, "", "4-byte offsets"},
		{"K zero", at(16, 0, 0), false, C, "", "group K values 0 (leaf)"},
		{"K strict", at(16, 8), true, K, "", "group K values 8 (leaf) and 16"},
		{"base address", func(b []byte, _ layout) { put64(b, 24, 512) }, false, U, "", "base address 512"},
		{"driver info", func(b []byte, _ layout) { put64(b, 48, 0) }, false, U, "", "driver information block"},
		{"eof beyond", func(b []byte, _ layout) { put64(b, 40, uint64(len(b)+1)) }, false, C, "", "superblock says the file ends at"},
		{"eof short strict", func(b []byte, _ layout) { put64(b, 40, uint64(len(b)-8)) }, true, K, "", "end of file"},
		{"free space strict", func(b []byte, _ layout) { put64(b, 32, 0) }, true, K, "", "free-space address 0x0"},
		{"OHDR", at(l.root, 'O', 'H', 'D', 'R'), false, U, "/", "version 2 object header (OHDR)"},
		{"header version", at(l.root, 3), false, U, "/", "object header version 3"},
		{"message count", at(l.root+2, 5), false, C, "/", "claims 5 messages, holds 4"},
		{"header size", func(b []byte, _ layout) { put32(b, l.root+8, 1<<31-8) }, false, C, "/", "truncated file: object header messages needs 2147483640 bytes"},
		{"refcount strict", at(l.root+4, 2), true, K, "/", "object reference count 2"},
		{"unaligned message", at(dSpace+2, 33), false, C, "/g/d", "dataspace message of 33 bytes is not aligned"},
		{"shared message", at(dType+4, 3), false, U, "/g/d", "shared datatype message"},
		{"message flags", at(dType+4, 5), false, U, "/g/d", "datatype message flags 0x5"},
		{"flags strict", at(dType+4, 0), true, K, "/g/d", "datatype message flags 0; Keras's have 1"},
		{"unknown message", at(nilMsg, 0x99), false, U, "/g/d", "unknown message type 0x99 in a dataset"},
		{"filters", at(nilMsg, 0x0B), false, U, "/g/d", "filter pipeline message (compression or other filters) in a dataset"},
		{"external files", at(nilMsg, 0x07), false, U, "/g/d", "external data files message"},
		{"modification time", at(nilMsg, 0x12), false, U, "/g/d", "modification time message in a dataset"},
		{"dataset attribute", at(nilMsg, 0x0C), false, U, "/g/d", "attributes on datasets"},
		{"two layouts", at(nilMsg, 0x08), false, C, "/g/d", "dataset has two data layout messages"},
		{"link message", at(nameAttr, 0x06), false, U, "/", "link message (compact link storage, soft or external links) in a group"},
		{"link info", at(nameAttr, 0x02), false, U, "/", "link info message (new-style group)"},
		{"group info", at(nameAttr, 0x0A), false, U, "/", "group info message (new-style group)"},
		{"dense attributes", at(nameAttr, 0x15), false, U, "/", "attribute info message (dense attribute storage)"},
		{"no stab or layout", at(l.rootMsgs[0], 0), false, U, "/", "neither a symbol table nor a data layout"},
		{"chunked", at(dLayout+9, 2), false, U, "/g/d", "chunked data layout"},
		{"compact", at(dLayout+9, 0), false, U, "/g/d", "compact data layout"},
		{"virtual", at(dLayout+9, 3), false, U, "/g/d", "data layout class 3"},
		{"layout v4", at(dLayout+8, 4), false, U, "/g/d", "data layout message version 4"},
		{"not allocated", func(b []byte, _ layout) { put64(b, dLayout+10, undef) }, false, U, "/g/d", "storage is not allocated"},
		{"fill v3", at(l.dMsgs[2]+8, 3), false, U, "/g/d", "fill value message version 3"},
		{"fill strict", at(l.dMsgs[2]+9, 1), true, K, "/g/d", "allocation time 1"},
		{"integer", at(dType+8, 0x10), false, U, "/g/d", "integer datatype (4 bytes)"},
		{"float16", at(dType+12, 2), false, U, "/g/d", "16-bit floating point (float16 or bfloat16)"},
		{"big-endian", at(dType+9, 0x21), false, U, "/g/d", "big-endian"},
		{"odd float", at(dType+20, 24), false, U, "/g/d", "floating-point datatype other than IEEE"},
		{"compound", at(dType+8, 0x16), false, U, "/g/d", "compound datatype"},
		{"fixed string", at(dType+8, 0x13), false, U, "/g/d", "fixed-length string datatype"},
		{"enum", at(dType+8, 0x18), false, U, "/g/d", "enum datatype"},
		{"array", at(dType+8, 0x1A), false, U, "/g/d", "array datatype"},
		{"reference", at(dType+8, 0x17), false, U, "/g/d", "reference datatype"},
		{"opaque", at(dType+8, 0x15), false, U, "/g/d", "opaque datatype"},
		{"time", at(dType+8, 0x12), false, U, "/g/d", "time datatype"},
		{"bitfield", at(dType+8, 0x14), false, U, "/g/d", "bitfield datatype"},
		{"class 11", at(dType+8, 0x1B), false, C, "/g/d", "datatype class 11"},
		{"string dataset", func(b []byte, _ layout) { copy(b[dType+8:], stringType(UTF8)) }, false, U, "/g/d", "variable-length string dataset"},
		{"float64 strict", float64Dataset(dSpace, dType), true, K, "/g/d", "float64 dataset"},
		{"dataspace v2", at(dSpace+8, 2), false, U, "/g/d", "dataspace version 2"},
		{"permutation", at(dSpace+10, 3), false, U, "/g/d", "dataspace permutation index"},
		{"rank 33", at(dSpace+9, 33), false, C, "/g/d", "dataspace of rank 33"},
		{"maxdims strict", func(b []byte, _ layout) { put64(b, dSpace+32, 7) }, true, K, "/g/d", "maximum dimensions [7 3]"},
		{"dims over max", func(b []byte, _ layout) { put64(b, dSpace+32, 1) }, false, C, "/g/d", "dimension 0 is 2, more than its maximum 1"},
		{"dimension huge", func(b []byte, _ layout) { put64(b, dSpace+16, 1<<40); put64(b, dSpace+32, 1<<40) }, false, C, "/g/d", "dimension 0 of 1099511627776 is too large"},
		{"dims product", hugeDims(dSpace), false, C, "/g/d", "dataspace [2147483647 2147483647] of 4-byte elements exceeds"},
		{"storage size", func(b []byte, _ layout) { put64(b, dLayout+18, 1<<62) }, false, C, "/g/d", "contiguous storage of 4611686018427387904 bytes for 6 values"},
		{"data past end", func(b []byte, _ layout) { put64(b, dLayout+10, uint64(len(b)-8)) }, false, C, "/g/d", "truncated file: dataset values needs 24 bytes"},
		{"vlen sequence", at(nameAttr+25, 0x00), false, U, `/ attribute "name"`, "variable-length sequence datatype"},
		{"string padding", at(nameAttr+25, 0x11), false, U, `/ attribute "name"`, "variable-length string padding 1"},
		{"charset", at(nameAttr+26, 2), false, U, `/ attribute "name"`, "string character set 2"},
		{"string base", at(nameAttr+32, 0x13), false, U, `/ attribute "name"`, "base type is not a 1-byte integer"},
		{"attribute v2", at(nameAttr+8, 2), false, U, "/", "attribute message version 2"},
		{"attribute 2-D", at(listAttr+49, 2, 0), false, U, `/ attribute "list"`, "2-dimensional attribute"},
		{"float32 attribute", func(b []byte, _ layout) { copy(b[noneAttr+24:], float32Type) }, false, U, `/ attribute "none"`, "float32 attribute"},
		{"attribute count", func(b []byte, _ layout) { put64(b, listAttr+56, 1<<30); put64(b, listAttr+64, 1<<30) }, false, C, `/ attribute "list"`, "exceeds the 32 bytes available"},
		{"attribute name", at(nameAttr+20, 'x'), false, C, "/", "attribute name of 5 bytes is empty or not NUL-terminated"},
		{"two attributes", at(listAttr+16, 'n', 'a', 'm', 'e', 0), false, C, "/", `two attributes named "name"`},
		{"missing heap object", func(b []byte, _ layout) { put32(b, nameAttr+68, 999) }, false, C, `/ attribute "name"`, "has no such object"},
		{"string too long", func(b []byte, _ layout) { put32(b, nameAttr+56, 1000) }, false, C, `/ attribute "name"`, "string of 1000 bytes in a global heap object of 5"},
		{"string short strict", func(b []byte, _ layout) { put32(b, nameAttr+56, 4) }, true, K, `/ attribute "name"`, "string of 4 bytes in a global heap object of 5"},
		{"ASCII strict", at(l.gcol+80, 0xE9), true, K, `/ attribute "list"`, "is not valid ASCII"},
		{"GCOL version", at(l.gcol+4, 2), false, U, `/ attribute "name"`, "global heap collection version 2"},
		{"GCOL signature", at(l.gcol, 'X'), false, C, `/ attribute "name"`, "want global heap signature"},
		{"GCOL size", func(b []byte, _ layout) { put64(b, l.gcol+8, 1<<40) }, false, C, `/ attribute "name"`, "truncated file: global heap collection needs 1099511627776 bytes"},
		{"GCOL small strict", func(b []byte, _ layout) { put64(b, l.gcol+8, 2048) }, true, K, `/ attribute "name"`, "global heap collection of 2048 bytes"},
		{"GCOL object size", func(b []byte, _ layout) { put64(b, l.gcol+24, 1<<40) }, false, C, `/ attribute "name"`, "global heap object 1 of 1099511627776 bytes overruns"},
		{"GCOL refcount strict", at(l.gcol+18, 1), true, K, `/ attribute "name"`, "global heap object 1 has reference count 1"},
		{"soft link", at(l.snod+8+16, 2), false, U, "/g", "soft link"},
		{"cache type 7", at(l.snod+8+16, 7), false, C, "/g", "cache type 7"},
		{"scratch mismatch", at(l.snod+8+24, 0), false, C, "/g", "symbol-table entry caches B-tree"},
		{"SNOD version", at(l.snod+4, 2), false, U, "/", "symbol-table node version 2"},
		{"SNOD count", at(l.snod+6, 9), false, C, "/", "holds 9 entries, more than 2K = 8"},
		{"SNOD signature", at(l.snod, 'X'), false, C, "/", "want symbol-table node signature"},
		{"name offset", func(b []byte, _ layout) { put64(b, l.snod+8, 10000) }, false, C, "/", "name offset 10000 is outside the 88-byte local heap"},
		{"name order", func(b []byte, _ layout) { put64(b, l.snod+48, 8) }, false, C, "/", `link "g" follows "g"`},
		{"name slash", at(l.heap+32+8, '/'), false, C, "/", `invalid link name "/"`},
		{"heap version", at(l.heap+4, 1), false, U, "/", "local heap version 1"},
		{"heap signature", at(l.heap, 'X'), false, C, "/", "want local heap signature"},
		{"heap size", func(b []byte, _ layout) { put64(b, l.heap+8, 1<<50) }, false, C, "/", "truncated file: local heap data needs 1125899906842624 bytes"},
		{"heap free list", func(b []byte, _ layout) { put64(b, l.heap+16, 80) }, false, C, "/", "bad local heap free list"},
		{"B-tree type", at(l.btree+4, 1), false, C, "/", "B-tree node type 1"},
		{"B-tree signature", at(l.btree, 'X'), false, C, "/", "want B-tree node signature"},
		{"B-tree level", at(l.btree+5, 9), false, U, "/", "group B-tree of level 9"},
		{"B-tree level 1", at(l.btree+5, 1), false, C, "/", `want B-tree node signature "TREE", got "SNOD"`},
		{"B-tree entries", at(l.btree+6, 33), false, C, "/", "has 33 children, more than 2K = 32"},
		{"B-tree key strict", func(b []byte, _ layout) { put64(b, l.btree+40, 0) }, true, K, "/", `B-tree key names "" where the last link before it is "h"`},
		{"B-tree sibling strict", func(b []byte, _ layout) { put64(b, l.btree+8, 0) }, true, K, "/", "siblings 0x0"},
		{"cycle", func(b []byte, _ layout) { put64(b, l.snod+16, uint64(l.root)) }, false, C, "/g", "was already read as object header of /: a cycle"},
		{"hard link twice", func(b []byte, _ layout) {
			put64(b, l.snod+56, uint64(l.g))
			copy(b[l.snod+64:], b[l.snod+24:l.snod+48])
		}, false, C, "/h", "already read as object header of /g"},
		{"continuation cycle", continuationCycle(l, nilMsg), false, C, "/g/d", "was already read as object header messages of /g/d"},
		{"link outside file", func(b []byte, _ layout) { put64(b, l.snod+56, 1<<40) }, false, C, "/h", "truncated file: object header prefix needs 16 bytes at offset 1099511627776"},
		{"link undefined", func(b []byte, _ layout) { put64(b, l.snod+56, undef) }, false, C, "/h", "link to the undefined address"},
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
