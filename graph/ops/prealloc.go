package ops

import (
	"math"
	"runtime"
	"sync"
	"unsafe"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The ops of this package implement Gorgonia's UsePreallocDoer: given the
// value they returned on the previous run (kerago's executor hands it back
// when it shares no memory with an input), they write their result into it
// instead of allocating a fresh tensor. A preallocated value of the wrong
// kind, dtype or shape is ignored and the op allocates as Do does. Every op
// writes or zeroes each element of a reused output, so a dirty buffer gives
// the same result as a fresh one.

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

// intoOrNew stores data (of like's dtype and shape s) into prealloc when it
// fits, or builds a new value as fromFloat64s/valueOf do.
func intoOrNew(prealloc G.Value, dt tensor.Dtype, s tensor.Shape, data []float64) (G.Value, error) {
	if d := reuseDense(prealloc, dt, s); d != nil {
		storeFloat64s(d, data)
		return d, nil
	}
	return valueOf(dt, s, data)
}

// parMinWork is the number of elements below which a loop runs on the
// calling goroutine: under it, starting goroutines costs more than it saves.
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
	p := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	wg.Add(p - 1)
	for i := 1; i < p; i++ {
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(i*n/p, (i+1)*n/p)
	}
	f(0, n/p)
	wg.Wait()
}

// b2u is 1 for true and 0 for false (compiled without a branch).
func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// maxInto sets dst[k] = src[k] wherever better(src[k], dst[k]), without
// branches: pooling compares values in no predictable order, and a
// mispredicted branch per element costs more than the whole comparison.
func maxInto[T float](dst, src []T) {
	var z T
	if unsafe.Sizeof(z) == 4 {
		d, s := rnnAs32(dst), rnnAs32(src)
		s = s[:len(d)]
		for k, v := range s {
			b := d[k]
			m := uint32(-(b2u(v > b) | b2u(v != v)&b2u(b == b)))
			d[k] = math.Float32frombits(math.Float32bits(v)&m | math.Float32bits(b)&^m)
		}
		return
	}
	d, s := rnnAs64(dst), rnnAs64(src)
	s = s[:len(d)]
	for k, v := range s {
		b := d[k]
		m := -(b2u(v > b) | b2u(v != v)&b2u(b == b))
		d[k] = math.Float64frombits(math.Float64bits(v)&m | math.Float64bits(b)&^m)
	}
}

// argMaxInto is maxInto over best that also sets arg[k] = q+k wherever
// src[k] replaces best[k].
func argMaxInto[T float](best []T, arg []int, src []T, q int) {
	var z T
	arg = arg[:len(best)]
	if unsafe.Sizeof(z) == 4 {
		d, s := rnnAs32(best), rnnAs32(src)
		s = s[:len(d)]
		for k, v := range s {
			b := d[k]
			c := b2u(v > b) | b2u(v != v)&b2u(b == b)
			m := uint32(-c)
			d[k] = math.Float32frombits(math.Float32bits(v)&m | math.Float32bits(b)&^m)
			im := -int(c)
			arg[k] = (q+k)&im | arg[k]&^im
		}
		return
	}
	d, s := rnnAs64(best), rnnAs64(src)
	s = s[:len(d)]
	for k, v := range s {
		b := d[k]
		c := b2u(v > b) | b2u(v != v)&b2u(b == b)
		m := -c
		d[k] = math.Float64frombits(math.Float64bits(v)&m | math.Float64bits(b)&^m)
		im := -int(c)
		arg[k] = (q+k)&im | arg[k]&^im
	}
}
