package hdf5

// group lays out g and everything below it and returns its link.
func (b *builder) group(g *Group) link {
	ms := g.members()
	links := make([]link, len(ms))
	for i, m := range ms {
		if m.group != nil {
			links[i] = b.group(m.group)
		} else {
			links[i] = link{header: b.dataset(m.dataset)}
		}
	}
	heap, offs := b.localHeap(ms)
	btree := b.btree(b.symbolNodes(links, offs), offs)
	msgs := newEnc(64)
	stab := newEnc(16)
	stab.u64(btree)
	stab.u64(heap)
	msgs.message(msgSymbolTable, 0, stab.b)
	for _, a := range g.Attrs {
		msgs.message(msgAttribute, 0, b.attribute(a))
	}
	header := b.add(objectHeader(msgs.b, 1+len(g.Attrs), 0))
	return link{header: header, btree: btree, heap: heap, group: true}
}

// localHeap lays out a group's local heap: the empty string at offset 0,
// then each member's name, NUL-terminated and padded to 8 bytes, then a
// free block up to the HDF5 library's initial size. It returns the heap's
// address and each name's offset.
func (b *builder) localHeap(ms []member) (uint64, []uint64) {
	data := newEnc(minHeapData)
	data.zeros(8)
	offs := make([]uint64, len(ms))
	for i, m := range ms {
		offs[i] = uint64(len(data.b))
		data.bytes([]byte(m.name))
		data.u8(0)
		data.pad()
	}
	used := len(data.b)
	size := max(minHeapData, used)
	if size-used == 8 { // too small for a free block
		size += 8
	}
	free := uint64(1) // no free block
	if size > used {
		free = uint64(used)
		data.u64(1)
		data.u64(uint64(size - used))
		data.zeros(size - used - 16)
	}
	addr := b.next()
	e := newEnc(32 + size)
	e.bytes([]byte("HEAP"))
	e.zeros(4)
	e.u64(uint64(size))
	e.u64(free)
	e.u64(addr + 32)
	e.bytes(data.b)
	b.add(e.b)
	return addr, offs
}

// span is a symbol-table or B-tree node and the members [lo, hi) below it.
type span struct {
	addr   uint64
	lo, hi int
}

// evenChunks splits n items into as few chunks of at most size as
// possible, of sizes differing by at most one; n = 0 gives one empty chunk.
func evenChunks(n, size int) []int {
	k := max(1, (n+size-1)/size)
	chunks := make([]int, k)
	for i := range chunks {
		chunks[i] = n / k
		if i < n%k {
			chunks[i]++
		}
	}
	return chunks
}

// symbolNodes lays out the symbol-table nodes of a group's links (none for
// an empty group).
func (b *builder) symbolNodes(links []link, offs []uint64) []span {
	if len(links) == 0 {
		return nil
	}
	var spans []span
	lo := 0
	for _, k := range evenChunks(len(links), 2*leafK) {
		e := newEnc(snodSize)
		e.bytes([]byte("SNOD"))
		e.u8(1)
		e.u8(0)
		e.u16(uint16(k))
		for i := lo; i < lo+k; i++ {
			e.u64(offs[i])
			e.u64(links[i].header)
			if links[i].group {
				e.u32(1)
				e.u32(0)
				e.u64(links[i].btree)
				e.u64(links[i].heap)
			} else {
				e.zeros(24)
			}
		}
		e.zeros(snodSize - len(e.b))
		spans = append(spans, span{addr: b.add(e.b), lo: lo, hi: lo + k})
		lo += k
	}
	return spans
}

// btree lays out a group's B-tree over its symbol-table nodes, level by
// level, each level's nodes side by side (so that sibling addresses are
// known), and returns the root's address. Key i of a node is the offset
// of the last name left of child i (0, the empty string, at the far left).
func (b *builder) btree(children []span, offs []uint64) uint64 {
	keyBefore := func(lo int) uint64 {
		if lo == 0 {
			return 0
		}
		return offs[lo-1]
	}
	for level := 0; ; level++ {
		chunks := evenChunks(len(children), 2*internalK)
		start := b.next()
		var parents []span
		i := 0
		for j, k := range chunks {
			left, right := undef, undef
			if j > 0 {
				left = start + uint64(j-1)*btreeSize
			}
			if j+1 < len(chunks) {
				right = start + uint64(j+1)*btreeSize
			}
			e := newEnc(btreeSize)
			e.bytes([]byte("TREE"))
			e.u8(0)
			e.u8(uint8(level))
			e.u16(uint16(k))
			e.u64(left)
			e.u64(right)
			p := span{lo: 0, hi: 0}
			if k > 0 {
				p = span{lo: children[i].lo, hi: children[i+k-1].hi}
			}
			e.u64(keyBefore(p.lo))
			for _, c := range children[i : i+k] {
				e.u64(c.addr)
				e.u64(offs[c.hi-1])
			}
			e.zeros(btreeSize - len(e.b))
			p.addr = b.add(e.b)
			parents = append(parents, p)
			i += k
		}
		if len(parents) == 1 {
			return parents[0].addr
		}
		children = parents
	}
}

// dataset lays out a dataset's object header, as the HDF5 library writes
// it for h5py: dataspace with maximum dimensions, float32 datatype
// (constant), fill value (version 2, constant), contiguous layout, padded
// with a NIL message to 256 bytes. Its values were placed by Write.
func (b *builder) dataset(d *Dataset) uint64 {
	dims := make([]uint64, len(d.Shape))
	for i, s := range d.Shape {
		dims[i] = uint64(s)
	}
	msgs := newEnc(datasetHdr)
	msgs.message(msgDataspace, 0, dataspaceBytes(dims, len(dims) > 0))
	msgs.message(msgDatatype, 1, float32Type)
	msgs.message(msgFillValue, 1, []byte{2, 2, 2, 1, 0, 0, 0, 0})
	layout := newEnc(24)
	layout.u8(3)
	layout.u8(1)
	if addr, ok := b.dataAddr[d]; ok {
		layout.u64(addr)
	} else {
		layout.u64(undef) // no values: HDF5 allocates nothing
	}
	layout.u64(uint64(4 * len(d.Float32)))
	msgs.message(msgLayout, 0, layout.b)
	return b.add(objectHeader(msgs.b, 4, datasetHdr))
}

// dataspaceBytes encodes a version 1 dataspace, with maximum dimensions
// equal to the dimensions when withMax.
func dataspaceBytes(dims []uint64, withMax bool) []byte {
	e := newEnc(8 + 16*len(dims))
	e.u8(1)
	e.u8(uint8(len(dims)))
	if withMax {
		e.u8(1)
	} else {
		e.u8(0)
	}
	e.zeros(5)
	for _, d := range dims {
		e.u64(d)
	}
	if withMax {
		for _, d := range dims {
			e.u64(d)
		}
	}
	return e.b
}

// attribute encodes a version 1 attribute message: a scalar or 1-D
// variable-length string, or an empty 1-D float64 array (the tree was
// checked).
func (b *builder) attribute(a Attr) []byte {
	e := newEnc(attrMessageSize(a))
	var strs []string
	scalar := false
	switch v := a.Value.(type) {
	case string:
		strs, scalar = []string{v}, true
	case []string:
		strs = v
	}
	_, isFloat := a.Value.([]float64)
	space := dataspaceBytes([]uint64{uint64(len(strs))}, true)
	if scalar {
		space = dataspaceBytes(nil, false)
	}
	e.u8(1)
	e.u8(0)
	e.u16(uint16(len(a.Name) + 1))
	e.u16(20)
	e.u16(uint16(len(space)))
	e.bytes([]byte(a.Name))
	e.u8(0)
	e.pad()
	if isFloat {
		e.bytes(float64Type)
	} else {
		e.bytes(stringType(a.Charset))
	}
	e.pad()
	e.bytes(space)
	for _, s := range strs {
		e.u32(uint32(len(s)))
		e.u64(b.gcol.addr) // an empty string too gets an (empty) object, as HDF5 does
		e.u32(b.gcol.add(s))
	}
	return e.b
}

// stringType encodes the variable-length string datatype, NUL-terminated,
// in charset cs.
func stringType(cs Charset) []byte {
	flag := byte(1)
	if cs == ASCII {
		flag = 0
	}
	return append([]byte{0x19, 0x01, flag, 0, 16, 0, 0, 0}, stringBase...)
}

// gcolBuilder builds the file's one global heap collection.
type gcolBuilder struct {
	addr uint64
	buf  []byte
	pos  int
	last uint32 // the last object index used
}

// newGCOL makes a collection at addr for strings taking need bytes: at
// least the HDF5 library's 4096 bytes, doubled until they fit with room
// for the free-space object (or none left at all).
func newGCOL(addr, need uint64) *gcolBuilder {
	size := uint64(minGCOL)
	for size < 16+need || size-16-need == 8 {
		size *= 2
	}
	g := &gcolBuilder{addr: addr, buf: make([]byte, size), pos: 16}
	copy(g.buf, "GCOL\x01\x00\x00\x00")
	putU64(g.buf[8:], size)
	return g
}

// add stores s as the next object (reference count 0, as HDF5 leaves
// attribute strings) and returns its index; the free-space object after
// the last one is kept up to date.
func (g *gcolBuilder) add(s string) uint32 {
	g.last++
	putU16(g.buf[g.pos:], uint16(g.last))
	putU64(g.buf[g.pos+8:], uint64(len(s)))
	copy(g.buf[g.pos+16:], s)
	g.pos += 16 + pad8(len(s))
	if free := len(g.buf) - g.pos; free >= 16 {
		putU16(g.buf[g.pos:], 0)
		putU64(g.buf[g.pos+8:], uint64(free))
	}
	return g.last
}
