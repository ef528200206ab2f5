package train

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"unsafe"

	"github.com/pkg/errors"
	"github.com/sbinet/npyio/npy"
	"gorgonia.org/tensor"
)

// npyDType is one NPY dtype kerago reads: its size in bytes and how to read
// n values of it through npyio, as a []float32 or []float64.
type npyDType struct {
	item uint64
	read func(r *npy.Reader, n uint64) (any, error)
}

// npyDTypes are the dtypes kerago reads: little-endian floats as they are,
// integers (token ids, labels) converted to float64. Weight files take the
// floats only (npzEntry).
var npyDTypes = map[string]npyDType{
	"<f4": {4, readNPYAs[float32]}, "<f8": {8, readNPYAs[float64]},
	"|i1": {1, readNPYInts[int8]}, "<i2": {2, readNPYInts[int16]},
	"<i4": {4, readNPYInts[int32]}, "<i8": {8, readNPYInts[int64]},
	"|u1": {1, readNPYInts[uint8]}, "<u2": {2, readNPYInts[uint16]},
	"<u4": {4, readNPYInts[uint32]}, "<u8": {8, readNPYInts[uint64]},
}

// readNPYAs reads n values of type T.
func readNPYAs[T any](r *npy.Reader, n uint64) (any, error) {
	v := make([]T, n)
	return v, r.Read(&v)
}

// maxExactInt is the largest integer every smaller one of which a float64
// holds exactly (2⁵³).
const maxExactInt = 1 << 53

// readNPYInts reads n integers of type T as float64, refusing values a
// float64 would round.
func readNPYInts[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](r *npy.Reader, n uint64) (any, error) {
	v := make([]T, n)
	if err := r.Read(&v); err != nil {
		return nil, err
	}
	out := make([]float64, n)
	for i, x := range v {
		f := float64(x)
		if f > maxExactInt || f < -maxExactInt {
			return nil, errors.Errorf("value %d (%d) is too large to convert to float64 exactly", i, x)
		}
		out[i] = f
	}
	return out, nil
}

// ReadNPY reads an NPY file (numpy.save's format 1.0 or 2.0, C order) as a
// tensor of its shape: float32 ('<f4') and float64 ('<f8') arrays as they
// are, little-endian integer arrays converted to float64 (values beyond
// 2⁵³ refused). The header is checked — its length, form and dims against
// the file's size — before anything is allocated from it.
func ReadNPY(path string) (t *tensor.Dense, err error) {
	defer guard("ReadNPY", &err)
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "ReadNPY")
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, errors.Wrap(err, "ReadNPY")
	}
	r := bufio.NewReader(f)
	h, err := readNPYHeader(r, uint64(st.Size()))
	if err == nil {
		if got := uint64(st.Size()) - uint64(len(h.raw)); got != h.size*h.item {
			err = errors.Errorf("shape %v needs %d bytes of data, the file holds %d", h.shape, h.size*h.item, got)
		}
	}
	if err == nil {
		t, err = decodeNPY(h, r)
	}
	return t, errors.Wrapf(err, "ReadNPY %s", path)
}

// WriteNPY writes t (float32 or float64, with at least one element) to path
// as a C-order NPY array of its dtype, which numpy.load reads. The file is
// written under a temporary name and renamed into place.
func WriteNPY(path string, t *tensor.Dense) error {
	if t.Shape().TotalSize() == 0 {
		return errors.Errorf("WriteNPY %s: shape %v has no elements", path, []int(t.Shape()))
	}
	if t.Dtype() != tensor.Float32 && t.Dtype() != tensor.Float64 {
		return errors.Errorf("WriteNPY %s: dtype %v is not float32 or float64", path, t.Dtype())
	}
	if t.IsView() || !t.IsNativelyAccessible() {
		t = t.Materialize().(*tensor.Dense)
	}
	return errors.Wrapf(WriteAtomic(path, func(w io.Writer) error { return writeNPY(w, t) }), "WriteNPY %s", path)
}

// writeNPY writes t (float32 or float64, C order) in NPY format 1.0 as
// numpy.save does: the magic string, the version, the header dictionary
// padded with spaces so that the data start at a multiple of 64 bytes,
// then the values as little-endian bytes. Written here rather than with
// npyio, which encodes a multi-dimensional array value by value through
// reflection (2.9 s for 100 MB of float32; this writes them as one block).
func writeNPY(w io.Writer, t *tensor.Dense) error {
	descr, item := "<f4", 4
	if t.Dtype() == tensor.Float64 {
		descr, item = "<f8", 8
	}
	shape := t.Shape()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(shape) == 1 {
		tuple = "(" + dims[0] + ",)"
	}
	dict := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + tuple + ", }"
	const prefix = 10 // magic (6), version (2), header length (2)
	size := len(dict) + 1
	size += (64 - (prefix+size)%64) % 64
	if size > math.MaxUint16 {
		return errors.Errorf("shape %v: the NPY header would be %d bytes", []int(shape), size)
	}
	hdr := append([]byte("\x93NUMPY\x01\x00"), byte(size), byte(size>>8))
	hdr = append(append(hdr, dict...), bytes.Repeat([]byte{' '}, size-len(dict)-1)...)
	if _, err := w.Write(append(hdr, '\n')); err != nil {
		return err
	}
	var raw []byte
	if t.Dtype() == tensor.Float32 {
		raw = littleEndianBytes(t.Float32s(), item, func(b []byte, v float32) { binary.LittleEndian.PutUint32(b, math.Float32bits(v)) })
	} else {
		raw = littleEndianBytes(t.Float64s(), item, func(b []byte, v float64) { binary.LittleEndian.PutUint64(b, math.Float64bits(v)) })
	}
	_, err := w.Write(raw)
	return err
}

// littleEndianBytes is vals as little-endian bytes (item each): their own
// memory on a little-endian machine, else a copy encoded by put.
func littleEndianBytes[T float32 | float64](vals []T, item int, put func([]byte, T)) []byte {
	if len(vals) == 0 {
		return nil
	}
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(&vals[0])), len(vals)*item)
	}
	out := make([]byte, len(vals)*item)
	for i, v := range vals {
		put(out[i*item:], v)
	}
	return out
}

// nestedArray returns vals in the form npy.Write gives shape: a scalar for
// no dims, else a pointer to nested arrays ([d0][d1]…T, whose memory is
// vals in C order). vals must not be empty.
func nestedArray[T any](vals []T, shape []int) any {
	if len(shape) == 0 {
		return vals[0]
	}
	typ := reflect.TypeFor[T]()
	for d := len(shape) - 1; d >= 0; d-- {
		typ = reflect.ArrayOf(shape[d], typ)
	}
	return reflect.NewAt(typ, unsafe.Pointer(&vals[0])).Interface()
}

// WriteAtomic writes path through write, buffered, under a temporary name
// in the same directory that is renamed into place only once write and the
// flush succeed: a failure never leaves a half-written file at path.
func WriteAtomic(path string, write func(w io.Writer) error) error {
	return writeAtomic(path, write)
}
