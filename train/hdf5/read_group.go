package hdf5

// symbolEntry is a symbol-table entry: a link in an old-style group.
type symbolEntry struct {
	name        string
	header      uint64
	cacheType   uint32
	btree, heap uint64 // scratch pad, for cache type 1
	at          int64  // file offset of the entry
}

// readObject reads the object an entry links to: a group or a dataset.
func (r *reader) readObject(path string, e symbolEntry, depth int) (*Group, *Dataset, error) {
	if depth > maxDepth {
		return nil, nil, unsupported(path, e.at, "groups nested deeper than %d levels", maxDepth)
	}
	switch e.cacheType {
	case 0, 1:
	case 2:
		return nil, nil, unsupported(path, e.at, "soft link (symbol-table entry with cache type 2)")
	default:
		return nil, nil, corrupt(path, e.at, "symbol-table entry has cache type %d (want 0, 1 or 2)", e.cacheType)
	}
	if e.header == undef {
		return nil, nil, corrupt(path, e.at, "link to the undefined address")
	}
	msgs, err := r.readHeader(path, e.header)
	if err != nil {
		return nil, nil, err
	}
	var stab, layout *message
	for i := range msgs {
		switch msgs[i].typ {
		case msgSymbolTable:
			stab = &msgs[i]
		case msgLayout:
			layout = &msgs[i]
		}
	}
	switch {
	case stab != nil && layout != nil:
		return nil, nil, corrupt(path, int64(e.header), "object header has both a symbol table and a data layout message")
	case stab != nil:
		g, err := r.readGroup(path, e, msgs, depth)
		return g, nil, err
	case layout != nil:
		if r.strict && e.cacheType != 0 {
			return nil, nil, r.notKeras(path, e.at, "dataset's symbol-table entry has cache type %d; Keras's have 0", e.cacheType)
		}
		d, err := r.readDataset(path, e.name, msgs)
		return nil, d, err
	}
	return nil, nil, unsupported(path, int64(e.header), "object with neither a symbol table nor a data layout message (a new-style group or a named datatype)")
}

// readGroup reads an old-style group from its object header messages.
func (r *reader) readGroup(path string, e symbolEntry, msgs []message, depth int) (*Group, error) {
	g := &Group{Name: e.name}
	var stab message
	for _, m := range msgs {
		switch m.typ {
		case msgSymbolTable:
			if stab.data != nil {
				return nil, corrupt(path, m.at, "group has two symbol table messages")
			}
			stab = m
		case msgAttribute:
			a, err := r.readAttribute(path, m)
			if err != nil {
				return nil, err
			}
			for _, b := range g.Attrs {
				if b.Name == a.Name {
					return nil, corrupt(path, m.at, "two attributes named %q", a.Name)
				}
			}
			g.Attrs = append(g.Attrs, a)
		default:
			return nil, unsupported(path, m.at, "%s in a group", messageName(m.typ))
		}
	}
	c := newCursor(stab.data, stab.at, path, "symbol table message")
	btree, heap := c.u64(), c.u64()
	if c.err != nil {
		return nil, c.err
	}
	if err := r.checkScratch(path, e, btree, heap); err != nil {
		return nil, err
	}
	entries, err := r.readLinks(path, btree, heap)
	if err != nil {
		return nil, err
	}
	for _, ent := range entries {
		sub, ds, err := r.readObject(objectPath(path, ent.name), ent, depth+1)
		if err != nil {
			return nil, err
		}
		if sub != nil {
			g.Groups = append(g.Groups, sub)
		} else {
			g.Datasets = append(g.Datasets, ds)
		}
	}
	return g, nil
}

// checkScratch compares a group's cached B-tree and heap addresses (cache
// type 1) with its symbol table message: if they differ, which one HDF5
// uses depends on the code path, so the file is refused.
func (r *reader) checkScratch(path string, e symbolEntry, btree, heap uint64) error {
	if e.cacheType == 1 && (e.btree != btree || e.heap != heap) {
		return corrupt(path, e.at, "symbol-table entry caches B-tree %#x and heap %#x, the group's symbol table message says %#x and %#x", e.btree, e.heap, btree, heap)
	}
	if r.strict && e.cacheType != 1 {
		return r.notKeras(path, e.at, "group's symbol-table entry has cache type %d; Keras's have 1", e.cacheType)
	}
	return nil
}

// readLinks reads a group's links: its local heap of names and its B-tree
// of symbol-table nodes. The links come back in name order.
func (r *reader) readLinks(path string, btree, heapAddr uint64) ([]symbolEntry, error) {
	heap, err := r.readLocalHeap(path, heapAddr)
	if err != nil {
		return nil, err
	}
	w := &btreeWalk{r: r, path: path, heap: heap, levels: map[int][]btreeNode{}}
	if _, err := w.node(btree, -1); err != nil {
		return nil, err
	}
	if err := w.checkTree(); err != nil {
		return nil, err
	}
	return w.entries, nil
}

// localHeap is a group's local heap: the data segment holding link names.
type localHeap struct {
	data []byte
	at   uint64 // file offset of data
}

// name returns the NUL-terminated string at offset off of the heap.
func (h *localHeap) name(path string, off uint64) (string, error) {
	if off >= uint64(len(h.data)) {
		return "", corrupt(path, offsetOf(h.at), "name offset %d is outside the %d-byte local heap", off, len(h.data))
	}
	for i := off; i < uint64(len(h.data)); i++ {
		if h.data[i] == 0 {
			return string(h.data[off:i]), nil
		}
	}
	return "", corrupt(path, offsetOf(h.at+off), "name at local heap offset %d is not NUL-terminated", off)
}

// readLocalHeap reads a version 0 local heap and checks its free list.
func (r *reader) readLocalHeap(path string, addr uint64) (*localHeap, error) {
	c, err := r.structure(path, addr, 32, "local heap", "HEAP")
	if err != nil {
		return nil, err
	}
	if v := c.u8(); v != 0 {
		return nil, unsupported(path, int64(addr)+4, "local heap version %d (only version 0 is supported)", v)
	}
	c.skip(3)
	size, free, dataAddr := c.u64(), c.u64(), c.u64()
	if dataAddr != addr+32 {
		if err := r.claim(path, dataAddr, "local heap data"); err != nil {
			return nil, err
		}
	}
	data, err := r.read(path, dataAddr, size, "local heap data")
	if err != nil {
		return nil, err
	}
	h := &localHeap{data: data, at: dataAddr}
	return h, h.checkFreeList(path, free)
}

// checkFreeList walks the heap's free list (1 ends it).
func (h *localHeap) checkFreeList(path string, off uint64) error {
	size := uint64(len(h.data))
	for n := 0; off != 1; n++ {
		if off >= size || size-off < 16 || off%8 != 0 || uint64(n) > size/16 {
			return corrupt(path, offsetOf(h.at), "bad local heap free list: block at offset %d in a %d-byte heap", off, size)
		}
		c := newCursor(h.data[off:], int64(h.at+off), path, "local heap free block")
		next, bsize := c.u64(), c.u64()
		if bsize < 16 || bsize > size-off {
			return corrupt(path, offsetOf(h.at+off), "bad local heap free block: %d bytes at offset %d, next at %d, in a %d-byte heap", bsize, off, next, size)
		}
		off = next
	}
	return nil
}
