package hdf5

import (
	"io"
	"os"

	"github.com/pkg/errors"
)

// signature is the 8 bytes every HDF5 file starts with.
const signature = "\x89HDF\r\n\x1a\n"

// maxDepth bounds the nesting of groups (Keras nests fewer than ten) and so
// the reader's recursion.
const maxDepth = 100

// maxBTreeLevel bounds a group B-tree's height: with 2K = 32 children per
// node, level 8 would index more names than any file can hold.
const maxBTreeLevel = 8

// ReadOptions configures the reader.
type ReadOptions struct {
	// Strict additionally refuses anything that the HDF5 subset allows but
	// Keras (h5py on the HDF5 library) does not write: see the package
	// documentation for the list. Tests use it to prove that files are
	// Keras-shaped.
	Strict bool
}

// Open reads the HDF5 file at path with the default options.
func Open(path string) (*File, error) { return ReadOptions{}.Open(path) }

// Read reads an HDF5 file of size bytes from r with the default options.
func Read(r io.ReaderAt, size int64) (*File, error) { return ReadOptions{}.Read(r, size) }

// Open reads the HDF5 file at path.
func (o ReadOptions) Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "hdf5")
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, errors.Wrap(err, "hdf5")
	}
	f, err := o.Read(fh, st.Size())
	return f, errors.WithMessage(err, path)
}

// Read reads an HDF5 file of size bytes from r. The whole tree, dataset
// values included, is read and checked before Read returns; the result
// holds no reference to r.
func (o ReadOptions) Read(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, errors.Errorf("hdf5: negative file size %d", size)
	}
	rd := &reader{r: r, size: uint64(size), strict: o.Strict,
		claims: map[uint64]string{}, heaps: map[uint64]*globalHeap{}}
	root, err := rd.readSuperblock()
	if err != nil {
		return nil, err
	}
	g, err := rd.readRoot(root)
	if err != nil {
		return nil, err
	}
	return &File{Root: g}, nil
}

// reader holds the state of one Read.
type reader struct {
	r      io.ReaderAt
	size   uint64
	strict bool
	// internalK and leafK are the group B-tree and symbol-table-node K
	// values from the superblock.
	internalK, leafK int
	// claims maps the address of every structure read (object headers,
	// continuation blocks, B-tree nodes, symbol-table nodes, local heaps,
	// global heaps) to what it was read as, so that a cycle or a structure
	// used twice is refused instead of looping or multiplying work.
	claims map[uint64]string
	heaps  map[uint64]*globalHeap
	// dataBytes counts the dataset bytes read; more than the file holds
	// means overlapping storage, refused so that a small file cannot
	// expand into a large tree.
	dataBytes uint64
}

// notKeras reports a strict-mode violation.
func (r *reader) notKeras(path string, off int64, format string, args ...any) error {
	return newError(NotKeras, path, off, format, args...)
}

// read reads n bytes at file offset off, checking first that they lie in
// the file, so that no size read from the file allocates more than the
// file holds.
func (r *reader) read(path string, off, n uint64, what string) ([]byte, error) {
	if off > r.size || n > r.size-off {
		return nil, corrupt(path, offsetOf(off), "truncated file: %s needs %d bytes at offset %d, the file has %d", what, n, off, r.size)
	}
	b := make([]byte, n)
	got, err := r.r.ReadAt(b, int64(off))
	if got == len(b) {
		return b, nil
	}
	if err == nil || err == io.EOF {
		return nil, corrupt(path, int64(off), "truncated file: %s needs %d bytes, read %d", what, n, got)
	}
	return nil, errors.Wrapf(err, "hdf5: %s: reading %s at offset %d", path, what, off)
}

// structure claims the structure at addr as what, reads its n-byte fixed
// part, checks that it starts with signature sig, and returns a cursor on
// the part after the signature.
func (r *reader) structure(path string, addr, n uint64, what, sig string) (*cursor, error) {
	if err := r.claim(path, addr, what); err != nil {
		return nil, err
	}
	b, err := r.read(path, addr, n, what)
	if err != nil {
		return nil, err
	}
	if got := string(b[:len(sig)]); got != sig {
		return nil, corrupt(path, int64(addr), "want %s signature %q, got %q", what, sig, got)
	}
	c := newCursor(b, int64(addr), path, what)
	c.skip(len(sig))
	return c, nil
}

// claim records that the structure at addr is read as what, and refuses
// an address read twice.
func (r *reader) claim(path string, addr uint64, what string) error {
	if prev, ok := r.claims[addr]; ok {
		return corrupt(path, offsetOf(addr), "%s at offset %d was already read as %s: a cycle, or a structure shared by two objects", what, addr, prev)
	}
	r.claims[addr] = what + " of " + pathOrFile(path)
	return nil
}

func pathOrFile(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

// offsetOf converts a file address to an error offset (-1 when it cannot
// be one).
func offsetOf(addr uint64) int64 {
	if addr > 1<<62 {
		return -1
	}
	return int64(addr)
}

// rootEntry is the root group's symbol-table entry from the superblock.
type rootEntry struct {
	header             uint64
	cacheType          uint32
	btree, heap        uint64
	entryAt, headerOff int64
}

// readSuperblock checks the signature and the version 0 superblock and
// returns the root group's symbol-table entry.
func (r *reader) readSuperblock() (rootEntry, error) {
	b, err := r.read("", 0, 96, "superblock")
	if err != nil {
		if r.size >= 8 {
			if head, err2 := r.read("", 0, 8, "signature"); err2 == nil && string(head) != signature {
				return rootEntry{}, corrupt("", 0, "not an HDF5 file: no HDF5 signature at offset 0 (user blocks are not supported)")
			}
		}
		return rootEntry{}, err
	}
	if string(b[:8]) != signature {
		return rootEntry{}, corrupt("", 0, "not an HDF5 file: no HDF5 signature at offset 0 (user blocks are not supported)")
	}
	c := newCursor(b, 0, "", "superblock")
	c.skip(8)
	if v := c.u8(); v != 0 {
		return rootEntry{}, unsupported("", 8, "superblock version %d (only version 0 is supported)", v)
	}
	versions := []struct {
		what string
		at   int64
	}{{"free-space storage", 9}, {"root group symbol table entry", 10}, {"", 11}, {"shared header message format", 12}}
	for _, v := range versions {
		if x := c.u8(); x != 0 && v.what != "" {
			return rootEntry{}, unsupported("", v.at, "%s version %d (only version 0 is supported)", v.what, x)
		}
	}
	if so, sl := c.u8(), c.u8(); so != 8 || sl != 8 {
		return rootEntry{}, unsupported("", 13, "%d-byte offsets and %d-byte lengths (only 8-byte ones are supported)", so, sl)
	}
	c.skip(1)
	r.leafK, r.internalK = int(c.u16()), int(c.u16())
	return r.superblockRest(c)
}

// superblockRest checks the superblock after the K values.
func (r *reader) superblockRest(c *cursor) (rootEntry, error) {
	if r.leafK == 0 || r.internalK == 0 {
		return rootEntry{}, corrupt("", 16, "group K values %d (leaf) and %d (internal) must be positive", r.leafK, r.internalK)
	}
	if r.strict && (r.leafK != 4 || r.internalK != 16) {
		return rootEntry{}, r.notKeras("", 16, "group K values %d (leaf) and %d (internal); Keras's files have 4 and 16", r.leafK, r.internalK)
	}
	flags := c.u32()
	base, freeSpace, eof, driver := c.u64(), c.u64(), c.u64(), c.u64()
	switch {
	case base != 0:
		return rootEntry{}, unsupported("", 24, "base address %d (a user block or an embedded file)", base)
	case driver != undef:
		return rootEntry{}, unsupported("", 48, "driver information block at offset %d (family, multi or split files)", driver)
	case eof > r.size:
		return rootEntry{}, corrupt("", 40, "truncated file: the superblock says the file ends at %d, it has %d bytes", eof, r.size)
	case r.strict && (flags != 0 || freeSpace != undef || eof != r.size):
		return rootEntry{}, r.notKeras("", 20, "superblock has consistency flags %d, free-space address %#x, end of file %d for a %d-byte file; Keras's files have 0, undefined, the file's size", flags, freeSpace, eof, r.size)
	}
	var e rootEntry
	e.entryAt = c.off()
	nameOff := c.u64()
	e.headerOff = c.off()
	e.header = c.u64()
	e.cacheType = c.u32()
	c.skip(4)
	e.btree, e.heap = c.u64(), c.u64()
	if r.strict && (nameOff != 0 || e.cacheType != 1) {
		return rootEntry{}, r.notKeras("/", e.entryAt, "root symbol-table entry has name offset %d and cache type %d; Keras's files have 0 and 1", nameOff, e.cacheType)
	}
	return e, c.err
}

// readRoot reads the root group from its symbol-table entry.
func (r *reader) readRoot(e rootEntry) (*Group, error) {
	ent := symbolEntry{name: "/", header: e.header, cacheType: e.cacheType, btree: e.btree, heap: e.heap, at: e.entryAt}
	g, ds, err := r.readObject("/", ent, 0)
	if err != nil {
		return nil, err
	}
	if ds != nil {
		return nil, corrupt("/", e.headerOff, "the root object is a dataset, not a group")
	}
	return g, nil
}
