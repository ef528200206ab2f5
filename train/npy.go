package train

import (
	"bufio"
	"io"
	"os"
	"reflect"
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
	var arr any
	switch d := t.Data().(type) {
	case []float32:
		arr = nestedArray(d, t.Shape())
	case []float64:
		arr = nestedArray(d, t.Shape())
	default:
		return errors.Errorf("WriteNPY %s: dtype %v is not float32 or float64", path, t.Dtype())
	}
	return errors.Wrapf(WriteAtomic(path, func(w io.Writer) error { return npy.Write(w, arr) }), "WriteNPY %s", path)
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
