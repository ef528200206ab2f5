package train

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"github.com/sbinet/npyio/npy"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// NPZ weight files are what numpy's np.savez(path, *model.get_weights())
// writes: a zip of stored entries arr_0.npy … arr_N.npy, one NPY array per
// weight in get_weights() order. The arrays are encoded and decoded by
// github.com/sbinet/npyio/npy; the zip container is archive/zip's, so that
// entries can be stored uncompressed (as np.savez does) and their sizes
// checked. npyio's NPY reader trusts its header (it allocates the header
// length and the element count it reads, panics on headers not in numpy's
// exact form and ignores short reads), so npzEntry checks every header
// first: its length, its form, its dims against the entry size, and its
// shape against the model's weight, before npyio reads a byte of data.

// SaveWeightsNPZ writes the model's weights to path as np.savez does:
// entries arr_0.npy … arr_N.npy in GetWeights order, each a C-order
// little-endian float32 ('<f4') NPY array, which numpy.load and Keras's
// set_weights read. A float64 model's weights are rounded to float32; a
// finite value too large for float32 is an error. The file is written under a
// temporary name and renamed into place, so a failure never leaves a
// half-written file at path.
func (m *Model) SaveWeightsNPZ(path string) (err error) {
	defer guard("SaveWeightsNPZ", &err)
	err = writeAtomic(path, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		names := m.Weights()
		for i, t := range m.GetWeights() {
			if err := writeNPZEntry(zw, i, t); err != nil {
				return errors.Wrapf(err, "weight %d (%s)", i, names[i].Name())
			}
		}
		return zw.Close()
	})
	return errors.Wrap(err, "SaveWeightsNPZ")
}

// writeNPZEntry writes t as the stored entry arr_<i>.npy of zw.
func writeNPZEntry(zw *zip.Writer, i int, t *tensor.Dense) error {
	arr, err := float32Array(t)
	if err != nil {
		return err
	}
	e, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("arr_%d.npy", i), Method: zip.Store})
	if err != nil {
		return err
	}
	return npy.Write(e, arr)
}

// float32Array returns t's values as float32 in the form npy.Write gives
// t's shape: a float32 for a scalar, else a pointer to nested arrays
// ([d0][d1]…float32, whose memory is the C-order values).
func float32Array(t *tensor.Dense) (any, error) {
	var vals []float32
	switch d := t.Data().(type) {
	case []float32:
		vals = d
	case []float64:
		vals = make([]float32, len(d))
		for j, v := range d {
			if !math.IsInf(v, 0) && math.Abs(v) > math.MaxFloat32 {
				return nil, errors.Errorf("value %d (%g) overflows float32", j, v)
			}
			vals[j] = float32(v)
		}
	}
	if len(t.Shape()) > 0 && len(vals) == 0 {
		return nil, errors.Errorf("shape %v has no elements; NPZ weight files cannot hold empty weights", []int(t.Shape()))
	}
	return nestedArray(vals, t.Shape()), nil
}

// LoadWeightsNPZ reads an NPZ weight file (one written by SaveWeightsNPZ or
// by np.savez(path, *model.get_weights())) into the model through
// SetWeights. The file must hold exactly arr_0.npy … arr_N.npy, one per
// weight, each a C-order '<f4' or '<f8' NPY array (format 1.0 or 2.0) of
// exactly its weight's shape, with finite values. Nothing changes unless
// the whole file passes.
func (m *Model) LoadWeightsNPZ(path string) (err error) {
	defer guard("LoadWeightsNPZ", &err)
	f, err := os.Open(path)
	if err != nil {
		return errors.Wrap(err, "LoadWeightsNPZ")
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return errors.Wrap(err, "LoadWeightsNPZ")
	}
	ws, err := readNPZ(f, st.Size(), m.Weights())
	if err == nil {
		err = m.SetWeights(ws)
	}
	return errors.Wrapf(err, "LoadWeightsNPZ %s", path)
}

// npzEntries maps the zip's entries to weight indices: exactly
// arr_0.npy … arr_<n-1>.npy, each once.
func npzEntries(zr *zip.Reader, n int) ([]*zip.File, error) {
	byIndex := make([]*zip.File, n)
	for _, f := range zr.File {
		i, ok := npzIndex(f.Name)
		switch {
		case !ok:
			return nil, errors.Errorf("unexpected entry %q (np.savez names them arr_0.npy … arr_N.npy)", f.Name)
		case i >= n:
			return nil, errors.Errorf("extra entry %s: the model has %d weights (arr_0 … arr_%d)", f.Name, n, n-1)
		case byIndex[i] != nil:
			return nil, errors.Errorf("entry %s appears twice", f.Name)
		}
		byIndex[i] = f
	}
	for i, f := range byIndex {
		if f == nil {
			return nil, errors.Errorf("missing entry arr_%d.npy: the file has %d arrays, the model has %d weights", i, len(zr.File), n)
		}
	}
	return byIndex, nil
}

// npzIndex parses "arr_<i>.npy" (no sign, no leading zeros).
func npzIndex(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "arr_")
	if !ok {
		return 0, false
	}
	if s, ok = strings.CutSuffix(s, ".npy"); !ok || s == "" || (s[0] == '0' && s != "0") {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(s)
	return i, err == nil
}

// readNPZ reads and checks every entry of the NPZ file r (size bytes)
// against the model's weights want.
func readNPZ(r io.ReaderAt, size int64, want []*graph.Weight) ([]*tensor.Dense, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, errors.Wrap(err, "not a readable NPZ (zip) file")
	}
	entries, err := npzEntries(zr, len(want))
	if err != nil {
		return nil, err
	}
	out := make([]*tensor.Dense, len(want))
	for i, f := range entries {
		if out[i], err = npzEntry(f, size, want[i]); err != nil {
			return nil, errors.Wrapf(err, "%s (weight %d, %s)", f.Name, i, want[i].Name())
		}
	}
	return out, nil
}

// npzEntry reads one entry as the value of weight w, checking its NPY
// header against the entry's size, the file's size and w before npyio
// reads the data.
func npzEntry(f *zip.File, fileSize int64, w *graph.Weight) (*tensor.Dense, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, errors.Wrap(err, "cannot open the entry")
	}
	defer rc.Close()
	h, err := readNPYHeader(rc, f.UncompressedSize64)
	if err != nil {
		return nil, err
	}
	if h.descr != "<f4" && h.descr != "<f8" {
		return nil, errors.Errorf("dtype %q is not supported (want '<f4' or '<f8', little-endian float)", h.descr)
	}
	data := h.size * h.item
	switch got := f.UncompressedSize64 - uint64(len(h.raw)); {
	case f.Method == zip.Store && data > uint64(fileSize):
		return nil, errors.Errorf("shape %v needs %d bytes of data, more than the whole file (%d bytes)", h.shape, data, fileSize)
	case got != data:
		return nil, errors.Errorf("shape %v needs %d bytes of data, the entry holds %d", h.shape, data, got)
	case !w.Shape().Equal(h.shape):
		return nil, errors.Errorf("has shape %v, the model's weight has %v", h.shape, []int(w.Shape()))
	}
	return decodeNPY(h, rc)
}

// decodeNPY reads the data of the checked header h from r through npyio,
// into a slice allocated from the checked element count, and makes sure
// the entry ends (and passes its CRC check) right after the data.
func decodeNPY(h *npyHeader, r io.Reader) (*tensor.Dense, error) {
	fr := &fullReader{r: r}
	rr, err := npy.NewReader(io.MultiReader(bytes.NewReader(h.raw), fr))
	if err != nil {
		return nil, errors.Wrap(err, "bad NPY header")
	}
	if d := rr.Header.Descr; d.Type != h.descr || d.Fortran != h.fortran || !slices.Equal(d.Shape, h.shape) {
		return nil, errors.Errorf("npyio read the header as %v, kerago as %s %v", rr.Header, h.descr, h.shape)
	}
	backing, err := npyDTypes[h.descr].read(rr, h.size)
	if fr.err != nil {
		return nil, errors.Wrap(fr.err, "truncated or corrupt data")
	}
	if err != nil {
		return nil, errors.Wrap(err, "bad NPY data")
	}
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != io.EOF {
		return nil, errors.Errorf("corrupt entry after the data: %v", err)
	}
	if h.fortran && len(h.shape) > 1 {
		return fromFortranOrder(h.shape, backing)
	}
	return tensor.New(tensor.WithShape(h.shape...), tensor.WithBacking(backing)), nil
}

// fromFortranOrder lays out data stored in Fortran (column-major) order
// for shape in C order: the data are, in C order, the array of the
// reversed shape, whose axes are then reversed. numpy writes get_weights()
// arrays that are transposes of others this way.
func fromFortranOrder(shape []int, backing any) (*tensor.Dense, error) {
	n := len(shape)
	rev, perm := make([]int, n), make([]int, n)
	for i := range shape {
		rev[i], perm[i] = shape[n-1-i], n-1-i
	}
	t := tensor.New(tensor.WithShape(rev...), tensor.WithBacking(backing))
	if err := t.T(perm...); err != nil {
		return nil, errors.Wrap(err, "reordering a Fortran-order array")
	}
	if err := t.Transpose(); err != nil {
		return nil, errors.Wrap(err, "reordering a Fortran-order array")
	}
	return t, nil
}

// fullReader reads whole buffers or fails: npyio ignores short reads and
// io.EOF while decoding, which would silently leave values unset.
type fullReader struct {
	r   io.Reader
	err error
}

func (f *fullReader) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := io.ReadFull(f.r, p)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	f.err = err
	return n, err
}

// npyHeader is an NPY header that passed readNPYHeader's checks.
type npyHeader struct {
	raw   []byte // the header as read: magic, version, length, dictionary
	descr string // a key of npyDTypes: '<f4', '<f8' or an integer type
	item  uint64 // bytes per element
	shape []int
	size  uint64 // element count
	// fortran is numpy's fortran_order: the data are in column-major order.
	fortran bool
}

// maxNPYHeader bounds the header length read from a file (numpy itself
// refuses headers over 10000 bytes by default).
const maxNPYHeader = 1 << 16

// npyDict is the header dictionary exactly as numpy (and npyio) write it;
// npyio's parser needs this form.
var npyDict = regexp.MustCompile(`^\{'descr': '([^']*)', 'fortran_order': (True|False), 'shape': \(([0-9, ]*)\), \} *\n$`)

// readNPYHeader reads and checks an NPY header from r, an entry of
// entrySize bytes: magic, format 1.0 or 2.0, a bounded length, numpy's
// dictionary form, a known dtype (npyDTypes) in C or Fortran order, and dims whose byte count
// does not overflow.
func readNPYHeader(r io.Reader, entrySize uint64) (*npyHeader, error) {
	raw := make([]byte, 8, 12)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, errors.New("truncated NPY header")
	}
	if string(raw[:6]) != "\x93NUMPY" {
		return nil, errors.New("not an NPY array (bad magic)")
	}
	lenBytes := map[[2]byte]int{{1, 0}: 2, {2, 0}: 4}[[2]byte{raw[6], raw[7]}]
	if lenBytes == 0 {
		return nil, errors.Errorf("NPY format %d.%d is not supported (1.0 and 2.0 are)", raw[6], raw[7])
	}
	raw = raw[:8+lenBytes]
	if _, err := io.ReadFull(r, raw[8:]); err != nil {
		return nil, errors.New("truncated NPY header")
	}
	hlen := uint64(binary.LittleEndian.Uint16(raw[8:]))
	if lenBytes == 4 {
		hlen = uint64(binary.LittleEndian.Uint32(raw[8:]))
	}
	start := uint64(len(raw))
	if hlen > maxNPYHeader {
		return nil, errors.Errorf("NPY header of %d bytes is too long (at most %d)", hlen, maxNPYHeader)
	}
	if start+hlen > entrySize {
		return nil, errors.New("truncated NPY header")
	}
	raw = append(raw, make([]byte, hlen)...)
	if _, err := io.ReadFull(r, raw[start:]); err != nil {
		return nil, errors.New("truncated NPY header")
	}
	return parseNPYDict(raw, start)
}

// parseNPYDict checks the dictionary raw[start:] and fills the header.
func parseNPYDict(raw []byte, start uint64) (*npyHeader, error) {
	dict := raw[start:]
	m := npyDict.FindSubmatch(dict)
	if m == nil {
		if len(dict) > 120 {
			dict = append(dict[:120:120], "…"...)
		}
		return nil, errors.Errorf("NPY header %q is not numpy's {'descr': …, 'fortran_order': …, 'shape': (…), }", dict)
	}
	h := &npyHeader{raw: raw, descr: string(m[1])}
	dt, ok := npyDTypes[h.descr]
	if !ok {
		return nil, errors.Errorf("dtype %q is not supported (want '<f4' or '<f8', little-endian float, or a little-endian integer)", h.descr)
	}
	h.item = dt.item
	h.fortran = string(m[2]) == "True"
	var err error
	h.shape, h.size, err = parseNPYShape(string(m[3]), h.item)
	return h, err
}

// maxNPYRank bounds the number of dims (numpy's own limit is 64).
const maxNPYRank = 32

// parseNPYShape parses the inside of a shape tuple ("", "5,", "20, 16")
// and returns the dims and the element count, refusing counts whose byte
// size (item bytes each) overflows an int64.
func parseNPYShape(s string, item uint64) ([]int, uint64, error) {
	toks := strings.Split(s, ",")
	shape := []int{}
	n := uint64(1)
	for k, tok := range toks {
		tok = strings.TrimSpace(tok)
		if tok == "" && k == len(toks)-1 {
			break
		}
		d, err := strconv.ParseUint(tok, 10, 63)
		if err != nil || len(shape) == maxNPYRank {
			return nil, 0, errors.Errorf("NPY shape (%s) is not a valid shape", s)
		}
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > math.MaxInt64/item {
			return nil, 0, errors.Errorf("NPY shape (%s) is absurd: its size overflows", s)
		}
		n = lo
		shape = append(shape, int(d))
	}
	return shape, n, nil
}
