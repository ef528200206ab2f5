package ops

// The helpers every kernel shares: typed views of tensors, output buffers,
// gradients and masks read from input values, and the loop that splits
// large element-wise work over goroutines.

import (
	"math"
	"runtime"
	"unsafe"

	"github.com/kerago/kerago/graph/blas"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Float is the element type of every kernel: float32 or float64 (the
// constraint graph/blas's numerical code shares).
type Float = blas.Float

// dataOf is t's backing slice as a []T, read without the allocation of
// Dense.Data. t's dtype must be T's (kernels dispatch on it first).
func dataOf[T Float](t *tensor.Dense) []T {
	var z T
	if unsafe.Sizeof(z) == 4 {
		s := t.Float32s()
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
	}
	s := t.Float64s()
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// gradData is an incoming gradient's values as size elements: its own
// backing slice, or a one-element gradient broadcast into a new slice.
func gradData[T Float](g *tensor.Dense, size int) []T {
	d := dataOf[T](g)
	if len(d) == size || len(d) != 1 {
		return d
	}
	out := make([]T, size)
	for i := range out {
		out[i] = d[0]
	}
	return out
}

// maskValues is a float or bool mask's values as float64s; a NaN is an
// error.
func maskValues(m *tensor.Dense) ([]float64, error) {
	if b, ok := m.Data().([]bool); ok {
		v := make([]float64, len(b))
		for i, on := range b {
			if on {
				v[i] = 1
			}
		}
		return v, nil
	}
	v := Float64s(m)
	if v == nil {
		return nil, errors.Errorf("mask dtype %v not supported (float or bool)", m.Dtype())
	}
	for _, w := range v {
		if math.IsNaN(w) {
			return nil, errors.New("mask holds NaN")
		}
	}
	return v, nil
}

// kernelOf is the Kernel behind n's op, or nil when n's op is not one.
func kernelOf(n *G.Node) Kernel {
	if o, ok := n.Op().(*op); ok {
		return o.k
	}
	return nil
}

// contiguous returns d, materialized when it is a non-contiguous view.
func contiguous(d *tensor.Dense) *tensor.Dense {
	if d.RequiresIterator() {
		return d.Materialize().(*tensor.Dense)
	}
	return d
}

// sameShape reports whether a and b have the same axes (unlike Shape.Eq,
// which takes (n,) and (n, 1) as equal).
func sameShape(a, b tensor.Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i, d := range a {
		if b[i] != d {
			return false
		}
	}
	return true
}

// reuseDense returns prealloc when it is a contiguous *tensor.Dense of
// dtype dt and shape s (not a scalar) that owns its memory, nil otherwise.
func reuseDense(prealloc G.Value, dt tensor.Dtype, s tensor.Shape) *tensor.Dense {
	d, ok := prealloc.(*tensor.Dense)
	if !ok || d == nil || d.Dtype() != dt || len(s) == 0 || !sameShape(d.Shape(), s) || d.RequiresIterator() || d.IsView() {
		return nil
	}
	if d.Shape().TotalSize() != d.DataSize() {
		return nil
	}
	return d
}

// outDense returns prealloc when reuseDense accepts it, else a new zeroed
// tensor of dtype dt and shape s.
func outDense(prealloc G.Value, dt tensor.Dtype, s tensor.Shape) *tensor.Dense {
	if d := reuseDense(prealloc, dt, s); d != nil {
		return d
	}
	return tensor.New(tensor.Of(dt), tensor.WithShape(s...)) // WithShape copies s
}

// storeFloat64s writes data into the float32 or float64 tensor out
// (len(data) elements, converted to out's dtype).
func storeFloat64s(out *tensor.Dense, data []float64) {
	switch out.Dtype() {
	case tensor.Float32:
		d := out.Float32s()
		for i, v := range data {
			d[i] = float32(v)
		}
	case tensor.Float64:
		copy(out.Float64s(), data)
	}
}

// parMinWork is the number of elements below which a loop runs on the
// calling goroutine: under it, handing ranges to helpers costs more than
// it saves.
var parMinWork = 1 << 16

// serial reports whether parallelRange(n, work, f) would call f once in
// the caller's goroutine. Hot callers test it first to call their kernel
// directly: a closure handed to parallelRange escapes to the heap.
func serial(n, work int) bool {
	return work < parMinWork || min(runtime.GOMAXPROCS(0), n) <= 1
}

// parallelRange calls f on up to GOMAXPROCS contiguous ranges covering
// [0, n), concurrently when work (the elements the whole loop touches) is
// at least parMinWork, else once on [0, n) in the caller's goroutine.
// Ranges never overlap, so f may write the elements of its own range.
func parallelRange(n, work int, f func(lo, hi int)) {
	if serial(n, work) {
		if n > 0 {
			f(0, n)
		}
		return
	}
	splitRange(n, min(runtime.GOMAXPROCS(0), n), f)
}

// splitRange calls f on p contiguous ranges [lo, hi) covering [0, n),
// concurrently, on blas's shared workers (see blas.SplitRange).
func splitRange(n, p int, f func(lo, hi int)) { blas.SplitRange(n, p, f) }

// Float64s returns the elements of a Gorgonia value as float64s. A float64
// tensor's own backing slice is returned (no copy); float32 values are
// converted into a new slice.
func Float64s(v G.Value) []float64 {
	switch t := v.(type) {
	case *G.F64:
		return []float64{float64(*t)}
	case *G.F32:
		return []float64{float64(*t)}
	case *tensor.Dense:
		// Typed accessors: Data would box the slice into an interface.
		if !t.IsScalar() && !t.RequiresIterator() {
			switch t.Dtype() {
			case tensor.Float64:
				return t.Float64s()
			case tensor.Float32:
				return float64sInto(nil, t.Float32s())
			}
		}
	}
	if t, ok := v.(tensor.Tensor); ok {
		switch d := t.Data().(type) {
		case []float64:
			return d
		case []float32:
			out := make([]float64, len(d))
			for i, x := range d {
				out[i] = float64(x)
			}
			return out
		case float64:
			return []float64{d}
		case float32:
			return []float64{float64(d)}
		}
	}
	return nil
}

// float64sInto converts src into buf (grown when too short) and returns
// the len(src) converted values.
func float64sInto(buf []float64, src []float32) []float64 {
	if cap(buf) < len(src) {
		buf = make([]float64, len(src))
	}
	buf = buf[:len(src)]
	for i, x := range src {
		buf[i] = float64(x)
	}
	return buf
}
