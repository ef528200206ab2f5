package ops

import (
	"fmt"
	"math"
	"sort"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Reduction kinds for Reduce.
const (
	ReduceSum  = "sum"
	ReduceMean = "mean"
	ReduceMax  = "max"
	ReduceMin  = "min"
)

// Reduce reduces x over axes (non-negative, distinct axes of x's full
// shape; empty means every axis) with kind: ReduceSum, ReduceMean,
// ReduceMax or ReduceMin. keepDims keeps the reduced axes with size 1;
// without it they are removed, and reducing every axis gives a scalar. The
// gradient is one node: spread evenly for sum and mean, and for max and min
// given to the extreme elements (shared equally between ties, as
// TensorFlow does).
func Reduce(x *G.Node, kind string, axes []int, keepDims bool) (*G.Node, error) {
	switch kind {
	case ReduceSum, ReduceMean, ReduceMax, ReduceMin:
	default:
		return nil, errors.Errorf("reduce: unknown kind %q (sum, mean, max or min)", kind)
	}
	dt := x.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Errorf("reduce %s: dtype %v not supported (float32 or float64)", kind, dt)
	}
	s := x.Shape()
	if len(s) == 0 {
		return nil, errors.Errorf("reduce %s: input is a scalar", kind)
	}
	red := make([]bool, len(s))
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
	}
	for _, a := range axes {
		if a < 0 || a >= len(s) {
			return nil, errors.Errorf("reduce %s: axis %d out of range for shape %v", kind, a, s)
		}
		if red[a] {
			return nil, errors.Errorf("reduce %s: axis %d given twice", kind, a)
		}
		red[a] = true
	}
	var list []int
	for i, r := range red {
		if r {
			list = append(list, i)
		}
	}
	sort.Ints(list)
	return Apply(reduceKernel{kind: kind, axes: list, keep: keepDims}, x)
}

// reduceKernel reduces over axes, in float64.
type reduceKernel struct {
	kind string
	axes []int
	keep bool
}

func (op reduceKernel) reduced(i int) bool {
	for _, a := range op.axes {
		if a == i {
			return true
		}
	}
	return false
}

func (op reduceKernel) outShape(s tensor.Shape) tensor.Shape {
	var out tensor.Shape
	for i, d := range s {
		switch {
		case !op.reduced(i):
			out = append(out, d)
		case op.keep:
			out = append(out, 1)
		}
	}
	if len(out) == 0 {
		return tensor.ScalarShape()
	}
	return out
}

// index maps every element of an input of shape s to its output element,
// and returns the output size.
func (op reduceKernel) index(s tensor.Shape) ([]int, int) {
	n := s.TotalSize()
	// Output strides, 0 on reduced axes.
	strides := make([]int, len(s))
	size := 1
	for i := len(s) - 1; i >= 0; i-- {
		if op.reduced(i) {
			continue
		}
		strides[i] = size
		size *= s[i]
	}
	idx := make([]int, n)
	pos := make([]int, len(s))
	o := 0
	for k := 0; k < n; k++ {
		idx[k] = o
		for i := len(s) - 1; i >= 0; i-- {
			pos[i]++
			o += strides[i]
			if pos[i] < s[i] {
				break
			}
			o -= strides[i] * pos[i]
			pos[i] = 0
		}
	}
	return idx, size
}

func (op reduceKernel) Name() string  { return fmt.Sprintf("Reduce%s%v", op.kind, op.axes) }
func (op reduceKernel) Params() []any { return []any{op.kind, op.axes, op.keep} }
func (op reduceKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	return op.outShape(in[0]), nil
}

func (op reduceKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	x := Float64s(in[0])
	idx, size := op.index(in[0].Shape())
	y := make([]float64, size)
	switch op.kind {
	case ReduceSum, ReduceMean:
		for k, v := range x {
			y[idx[k]] += v
		}
		if op.kind == ReduceMean && size > 0 {
			count := float64(len(x) / size)
			for i := range y {
				y[i] /= count
			}
		}
	case ReduceMax, ReduceMin:
		init := math.Inf(-1)
		if op.kind == ReduceMin {
			init = math.Inf(1)
		}
		for i := range y {
			y[i] = init
		}
		for k, v := range x {
			o := idx[k]
			if (op.kind == ReduceMax && v > y[o]) || (op.kind == ReduceMin && v < y[o]) || math.IsNaN(v) {
				y[o] = v
			}
		}
	}
	storeFloat64s(out, y)
	return nil
}

func (op reduceKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := Apply(reduceGradKernel{op}, in[0], out, grad)
	return G.Nodes{dx}, err
}

// reduceGradKernel computes dL/dx from (x, y, dL/dy).
type reduceGradKernel struct{ r reduceKernel }

func (op reduceGradKernel) Name() string  { return op.r.Name() + "'" }
func (op reduceGradKernel) Params() []any { return op.r.Params() }
func (op reduceGradKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	n := op.r.outShape(in[0]).TotalSize()
	if in[1].TotalSize() != n || in[2].TotalSize() != n {
		return nil, errors.Errorf("%s: output and gradient have %d and %d values, want %d", op.Name(), in[1].TotalSize(), in[2].TotalSize(), n)
	}
	return in[0], nil
}

func (op reduceGradKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	x, y, g := Float64s(in[0]), Float64s(in[1]), Float64s(in[2])
	idx, size := op.r.index(in[0].Shape())
	dx := make([]float64, len(x))
	switch op.r.kind {
	case ReduceSum:
		for k := range dx {
			dx[k] = g[idx[k]]
		}
	case ReduceMean:
		count := float64(len(x) / size)
		for k := range dx {
			dx[k] = g[idx[k]] / count
		}
	default:
		ties := make([]float64, size)
		for k, v := range x {
			if v == y[idx[k]] {
				ties[idx[k]]++
			}
		}
		for k, v := range x {
			if o := idx[k]; v == y[o] {
				dx[k] = g[o] / ties[o]
			}
		}
	}
	storeFloat64s(out, dx)
	return nil
}
