package hdf5

import (
	"strings"
)

// btreeNode is what checkTree needs to know of a B-tree node.
type btreeNode struct {
	addr, left, right uint64
	entries           int
}

// btreeWalk reads one group's B-tree (version 1, node type 0) and the
// symbol-table nodes it indexes.
type btreeWalk struct {
	r       *reader
	path    string
	heap    *localHeap
	entries []symbolEntry
	// levels lists the nodes met at each level, left to right.
	levels    map[int][]btreeNode
	rootLevel int
}

// node reads the B-tree node at addr, which must be at level want (-1 for
// the root), appending the links below it to w.entries in order. It
// returns the name of the last link below the node.
func (w *btreeWalk) node(addr uint64, want int) (string, error) {
	r, path := w.r, w.path
	c, err := r.structure(path, addr, 24, "B-tree node", "TREE")
	if err != nil {
		return "", err
	}
	typ, level, used := c.u8(), int(c.u8()), int(c.u16())
	n := btreeNode{addr: addr, left: c.u64(), right: c.u64(), entries: used}
	switch {
	case typ != 0:
		return "", corrupt(path, int64(addr), "B-tree node type %d where a group's B-tree (type 0) was expected", typ)
	case want < 0 && level > maxBTreeLevel:
		return "", unsupported(path, int64(addr)+5, "group B-tree of level %d (at most %d is supported)", level, maxBTreeLevel)
	case want >= 0 && level != want:
		return "", corrupt(path, int64(addr)+5, "B-tree node of level %d below a node of level %d", level, want+1)
	case used > 2*r.internalK:
		return "", corrupt(path, int64(addr)+6, "B-tree node has %d children, more than 2K = %d", used, 2*r.internalK)
	case r.strict && used == 0 && (want >= 0 || level > 0):
		return "", r.notKeras(path, int64(addr)+6, "empty B-tree node below a non-empty group's root")
	}
	if want < 0 {
		w.rootLevel = level
	}
	w.levels[level] = append(w.levels[level], n)
	body, err := r.read(path, addr+24, uint64(2*used+1)*8, "group B-tree keys and children")
	if err != nil {
		return "", err
	}
	return w.children(body, int64(addr)+24, level, used)
}

// children reads the children of a B-tree node from its body (keys and
// child addresses, interleaved) and checks the keys in strict mode.
func (w *btreeWalk) children(body []byte, at int64, level, used int) (string, error) {
	c := newCursor(body, at, w.path, "group B-tree keys and children")
	last := w.last()
	for i := 0; ; i++ {
		keyAt := c.off()
		key := c.u64()
		if err := w.checkKey(keyAt, key, last, c.err); err != nil {
			return "", err
		}
		if i == used {
			return last, nil
		}
		child := c.u64()
		if c.err != nil {
			return "", c.err
		}
		var err error
		if level == 0 {
			last, err = w.symbolNode(child)
		} else {
			last, err = w.node(child, level-1)
		}
		if err != nil {
			return "", err
		}
	}
}

// last is the name of the last link read so far, "" if none.
func (w *btreeWalk) last() string {
	if len(w.entries) == 0 {
		return ""
	}
	return w.entries[len(w.entries)-1].name
}

// checkKey checks, in strict mode, that a B-tree key names the last link
// left of it ("" for the first key), as the HDF5 library writes them.
func (w *btreeWalk) checkKey(at int64, key uint64, want string, cerr error) error {
	if cerr != nil || !w.r.strict {
		return cerr
	}
	name, err := w.heap.name(w.path, key)
	if err != nil {
		return err
	}
	if name != want {
		return w.r.notKeras(w.path, at, "B-tree key names %q where the last link before it is %q", name, want)
	}
	return nil
}

// symbolNode reads a symbol-table node (SNOD), appending its entries to
// w.entries, and returns its last name.
func (w *btreeWalk) symbolNode(addr uint64) (string, error) {
	r, path := w.r, w.path
	c, err := r.structure(path, addr, 8, "symbol-table node", "SNOD")
	if err != nil {
		return "", err
	}
	version := c.u8()
	c.skip(1)
	n := int(c.u16())
	switch {
	case version != 1:
		return "", unsupported(path, int64(addr)+4, "symbol-table node version %d (only version 1 is supported)", version)
	case n > 2*r.leafK:
		return "", corrupt(path, int64(addr)+6, "symbol-table node holds %d entries, more than 2K = %d", n, 2*r.leafK)
	case r.strict && n == 0:
		return "", r.notKeras(path, int64(addr)+6, "empty symbol-table node")
	}
	body, err := r.read(path, addr+8, uint64(n)*40, "symbol-table entries")
	if err != nil {
		return "", err
	}
	c = newCursor(body, int64(addr)+8, path, "symbol-table entry")
	for i := 0; i < n; i++ {
		if err := w.entry(c); err != nil {
			return "", err
		}
	}
	return w.last(), nil
}

// entry decodes one symbol-table entry, checking its name.
func (w *btreeWalk) entry(c *cursor) error {
	e := symbolEntry{at: c.off()}
	nameOff := c.u64()
	e.header, e.cacheType = c.u64(), c.u32()
	c.skip(4)
	e.btree, e.heap = c.u64(), c.u64()
	if c.err != nil {
		return c.err
	}
	name, err := w.heap.name(w.path, nameOff)
	if err != nil {
		return err
	}
	e.name = name
	switch {
	case name == "" || name == "." || strings.Contains(name, "/"):
		return corrupt(w.path, e.at, "invalid link name %q", name)
	case len(w.entries) > 0 && name <= w.last():
		return corrupt(w.path, e.at, "link %q follows %q: links must be in strictly increasing name order", name, w.last())
	case w.r.strict && e.cacheType == 0 && (e.btree != 0 || e.heap != 0):
		return w.r.notKeras(objectPath(w.path, name), e.at, "symbol-table entry with cache type 0 has a non-zero scratch pad")
	}
	w.entries = append(w.entries, e)
	return nil
}

// checkTree checks, in strict mode, that the B-tree is shaped as the HDF5
// library grows one: a root above level 0 has at least two children (a
// level is only added when the root splits), and each node's sibling
// addresses name its neighbours on its level.
func (w *btreeWalk) checkTree() error {
	if !w.r.strict {
		return nil
	}
	root := w.levels[w.rootLevel][0]
	if w.rootLevel > 0 && root.entries < 2 {
		return w.r.notKeras(w.path, int64(root.addr), "B-tree root of level %d with %d child: a level the HDF5 library would not have added", w.rootLevel, root.entries)
	}
	for level, nodes := range w.levels {
		for i, n := range nodes {
			left, right := undef, undef
			if i > 0 {
				left = nodes[i-1].addr
			}
			if i+1 < len(nodes) {
				right = nodes[i+1].addr
			}
			if n.left != left || n.right != right {
				return w.r.notKeras(w.path, int64(n.addr)+8, "level-%d B-tree node has siblings %#x and %#x, want %#x and %#x", level, n.left, n.right, left, right)
			}
		}
	}
	return nil
}
