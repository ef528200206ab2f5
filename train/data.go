package train

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/blas"
)

// Multi groups the arrays of a model with several inputs (or outputs), in
// the order the model lists them: Fit(train.Multi(x1, x2), y).
func Multi(arrays ...any) any { return multi(arrays) }

type multi []any

// array is data checked for the training loop: n samples of a per-sample
// shape, row-major values, either float64 (data) or, for float32 input
// data, float32 (f32: the caller's own backing array when it is a
// contiguous *tensor.Dense, so that predicting on float32 data copies
// nothing before the program's feed). Targets are always float64.
type array struct {
	n     int
	shape graph.Shape
	data  []float64
	f32   []float32
	// finite is set when the values are known to be finite; checkOnFeed
	// asks gather to check the float32 rows it copies (fitConfig.checkFinite).
	finite, checkOnFeed bool
}

// float64s makes a's values float64 (targets are checked and fed so).
func (a *array) float64s() {
	if a.f32 != nil {
		a.data = make([]float64, len(a.f32))
		a.finite = convert(a.data, a.f32)
		a.f32 = nil
	}
}

// firstNonFinite is the index of a's first NaN or ±Inf value, or -1.
func (a *array) firstNonFinite() int {
	if a.f32 != nil {
		return blas.FirstNonFinite(a.f32)
	}
	return blas.FirstNonFinite(a.data)
}

// value is a's value at flat index i.
func (a *array) value(i int) float64 {
	if a.f32 != nil {
		return float64(a.f32[i])
	}
	return a.data[i]
}

// convert copies src into dst as float64 and reports whether every value
// is finite (x·0 is 0 for a finite x and NaN otherwise; four independent
// sums keep the check from slowing the copy).
func convert[T float32 | float64](dst []float64, src []T) bool {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(src); i += 4 {
		x, d := src[i:i+4:i+4], dst[i:i+4:i+4]
		a, b, c, e := float64(x[0]), float64(x[1]), float64(x[2]), float64(x[3])
		d[0], d[1], d[2], d[3] = a, b, c, e
		s0 += a * 0
		s1 += b * 0
		s2 += c * 0
		s3 += e * 0
	}
	for ; i < len(src); i++ {
		dst[i] = float64(src[i])
		s0 += dst[i] * 0
	}
	return s0+s1+s2+s3 == 0
}

func (a *array) rowSize() int { return a.shape.Size() }

// slice returns samples [from, to) as a new array sharing the values.
func (a *array) slice(from, to int) *array {
	s := a.rowSize()
	out := &array{n: to - from, shape: a.shape, finite: a.finite}
	if a.f32 != nil {
		out.f32 = a.f32[from*s : to*s]
	} else {
		out.data = a.data[from*s : to*s]
	}
	return out
}

// arraySet holds the arrays of one call's data (one per input or output).
// Predict keeps one in its pooled scratch, so that a call in steady state
// allocates nothing for its inputs; elsewhere a new one serves each call.
type arraySet struct {
	vals []array
	ptrs []*array
}

// convert converts user data (one array, or Multi of several) into arrays
// held by s, replacing what s held. what names the data in errors ("x",
// "y").
func (s *arraySet) convert(what string, d any) ([]*array, error) {
	m, several := d.(multi)
	n := 1
	if several {
		n = len(m)
	}
	if cap(s.vals) < n {
		s.vals, s.ptrs = make([]array, n), make([]*array, n)
	}
	s.vals, s.ptrs = s.vals[:n], s.ptrs[:n]
	for i := range s.vals {
		s.ptrs[i] = &s.vals[i]
		if !several {
			if err := toArray(what, d, s.ptrs[i]); err != nil {
				return nil, err
			}
			continue
		}
		if err := toArray(fmt.Sprintf("%s[%d]", what, i), m[i], s.ptrs[i]); err != nil {
			return nil, err
		}
	}
	return s.ptrs, nil
}

// clear drops s's references to the caller's data (before s is pooled),
// keeping only the storage of the arrays' shapes.
func (s *arraySet) clear() {
	for i := range s.vals {
		s.vals[i] = array{shape: s.vals[i].shape[:0]}
	}
}

// toArray converts d into a, which it resets (keeping a's shape storage).
// It accepts *tensor.Dense (float32 or float64, batch axis first),
// [][]float64, [][]float32, and 1-D []float64, []float32, []int (one value
// per sample, shape (1,), as Keras expands 1-D arrays).
func toArray(what string, d any, a *array) error {
	*a = array{shape: a.shape[:0]}
	switch v := d.(type) {
	case nil:
		return errors.Errorf("%s is nil", what)
	case *tensor.Dense:
		if v == nil {
			return errors.Errorf("%s is nil", what)
		}
		s := v.Shape()
		if len(s) == 0 {
			return errors.Errorf("%s is a scalar; want an array with the samples on axis 0", what)
		}
		a.n = s[0]
		if a.shape = append(a.shape, s[1:]...); len(s) == 1 {
			a.shape = append(a.shape, 1)
		}
		if s.TotalSize() == 0 { // tensor's accessors panic on an empty tensor
			a.finite = true
			return nil
		}
		if v.IsView() || !v.IsNativelyAccessible() {
			v = v.Materialize().(*tensor.Dense)
		}
		// The typed accessors, not Data: Data boxes the slice (an allocation).
		switch v.Dtype() {
		case tensor.Float64:
			data := v.Float64s()
			a.data = make([]float64, len(data))
			a.finite = convert(a.data, data)
		case tensor.Float32:
			a.f32 = v.Float32s()[:s.TotalSize()]
		default:
			return errors.Errorf("%s has dtype %v; want float32 or float64", what, v.Dtype())
		}
		return nil
	case [][]float64:
		return rows(what, a, len(v), func(i int) int { return len(v[i]) }, func(i, j int) float64 { return v[i][j] })
	case [][]float32:
		return rows(what, a, len(v), func(i int) int { return len(v[i]) }, func(i, j int) float64 { return float64(v[i][j]) })
	case []float64:
		a.n, a.shape, a.data = len(v), append(a.shape, 1), make([]float64, len(v))
		a.finite = convert(a.data, v)
		return nil
	case []float32:
		a.n, a.shape, a.f32 = len(v), append(a.shape, 1), v
		return nil
	case []int:
		a.n, a.shape, a.data = len(v), append(a.shape, 1), make([]float64, len(v))
		for i, x := range v {
			a.data[i] = float64(x)
		}
		return nil
	}
	return errors.Errorf("%s has type %T; want *tensor.Dense (float32 or float64), [][]float64, [][]float32, []float64, []float32 or []int", what, d)
}

// rows fills a from n rows of values: width(i) values in row i, at(i, j) the
// j-th. Every row must have row 0's width.
func rows(what string, a *array, n int, width func(int) int, at func(i, j int) float64) error {
	if n == 0 {
		a.shape = append(a.shape, 0)
		return nil
	}
	w := width(0)
	a.n, a.shape, a.data = n, append(a.shape, w), make([]float64, 0, n*w)
	for i := 0; i < n; i++ {
		if width(i) != w {
			return errors.Errorf("%s: row %d has %d values, row 0 has %d", what, i, width(i), w)
		}
		for j := 0; j < w; j++ {
			a.data = append(a.data, at(i, j))
		}
	}
	return nil
}

// conform checks a's per-sample shape against want, accepting what Keras
// accepts: a trailing 1 may be added or dropped ((N,) labels for (N,1)
// outputs, (N,1) sparse labels for (N,) targets). what and role name the
// array in errors, Keras-style.
func conform(a *array, want graph.Shape, role, what string) error {
	if a.shape.Equal(want) || (!want.Known() && want.Fits(a.shape)) {
		return nil
	}
	if a.shape.Size() == want.Size() {
		got, w := trimOnes(a.shape), trimOnes(want)
		if got.Equal(w) {
			a.shape = want.Clone()
			return nil
		}
	}
	return errors.Errorf("error when checking %s: expected %s to have shape %v but got array with shape %v",
		role, what, sampleShape(want), sampleShape(a.shape))
}

func trimOnes(s graph.Shape) graph.Shape {
	for len(s) > 0 && s[len(s)-1] == 1 {
		s = s[:len(s)-1]
	}
	return s
}

// sampleShape prints a per-sample shape as a Python tuple: (784,), (28, 28, 1),
// (None, 32).
func sampleShape(s graph.Shape) string {
	if len(s) == 0 {
		return "()"
	}
	out := "("
	for i, d := range s {
		if i > 0 {
			out += ", "
		}
		if d == graph.Unknown {
			out += "None"
		} else {
			out += fmt.Sprint(d)
		}
	}
	if len(s) == 1 {
		out += ","
	}
	return out + ")"
}

// gather copies the rows idx of a into dst (a program feed of the model's
// dtype), through the typed accessors: Data would box the slice into an
// interface at every step. It reports false when a is marked checkOnFeed
// and a copied value is NaN or ±Inf.
func gather(dst *tensor.Dense, a *array, idx []int) bool {
	s := a.rowSize()
	ok := true
	switch dst.Dtype() {
	case tensor.Float32:
		d := dst.Float32s()
		if a.f32 != nil && len(idx)*s >= feedSplitMin && len(idx) >= 2 && runtime.GOMAXPROCS(0) >= 2 {
			return feedSplit(d, a.f32, idx, s, a.checkOnFeed)
		}
		for k, i := range idx {
			out := d[k*s : (k+1)*s]
			switch {
			case a.f32 != nil && a.checkOnFeed:
				ok = blas.CopyFinite32(out, a.f32[i*s:(i+1)*s]) && ok
				continue
			case a.f32 != nil:
				copy(out, a.f32[i*s:(i+1)*s])
				continue
			}
			for j, v := range a.data[i*s : (i+1)*s] {
				out[j] = float32(v)
			}
		}
	case tensor.Float64:
		d := dst.Float64s()
		for k, i := range idx {
			out := d[k*s : (k+1)*s]
			if a.f32 != nil {
				for j, v := range a.f32[i*s : (i+1)*s] {
					out[j] = float64(v)
				}
				continue
			}
			copy(out, a.data[i*s:(i+1)*s])
		}
	}
	return ok
}

// feedSplitMin is the number of values from which gather copies float32
// rows in two halves on two goroutines (blas.SplitRange).
const feedSplitMin = 1 << 14

// feedSplit is gather's float32 copy of rows idx of src into dst (s
// values a row; checked for NaN and infinities when check) in two halves,
// the first on the calling goroutine and the second on a blas helper when
// one is free: the same halves that the batch's first matrix product
// (blas's rowProductSplit) hands out, so that each core reads the rows it
// wrote, instead of the helper's core pulling the caller's freshly written
// half of the batch out of the other cache.
func feedSplit(dst, src []float32, idx []int, s int, check bool) bool {
	j := feedJobs.Get().(*feedJob)
	j.dst, j.src, j.idx, j.s, j.check = dst, src, idx, s, check
	j.bad.Store(false)
	blas.SplitRange(len(idx), 2, j.rows)
	ok := !j.bad.Load()
	j.dst, j.src, j.idx = nil, nil, nil
	feedJobs.Put(j)
	return ok
}

// feedJob is one feedSplit: its arguments and its SplitRange callback,
// made once per job, so that a split feed allocates nothing.
type feedJob struct {
	dst, src []float32
	idx      []int
	s        int
	check    bool
	bad      atomic.Bool
	rows     func(lo, hi int)
}

var feedJobs = sync.Pool{New: func() any {
	j := new(feedJob)
	j.rows = func(lo, hi int) {
		s := j.s
		for k := lo; k < hi; k++ {
			i := j.idx[k]
			if !j.check {
				copy(j.dst[k*s:(k+1)*s], j.src[i*s:(i+1)*s])
			} else if !blas.CopyFinite32(j.dst[k*s:(k+1)*s], j.src[i*s:(i+1)*s]) {
				j.bad.Store(true)
			}
		}
	}
	return j
}}
