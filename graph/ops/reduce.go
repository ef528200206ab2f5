package ops

import (
	"fmt"
	"hash"
	"math"
	"sort"

	"github.com/chewxy/hm"
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
	op := reduceOp{kind: kind, axes: list, keep: keepDims, dims: len(s), dt: dt}
	return G.ApplyOp(op, x)
}

type reduceOp struct {
	kind string
	axes []int
	keep bool
	dims int
	dt   tensor.Dtype
}

func (op reduceOp) outDims() int {
	if op.keep {
		return op.dims
	}
	return op.dims - len(op.axes)
}

func typeOfDims(dims int, dt tensor.Dtype) hm.Type {
	if dims == 0 {
		return dt
	}
	return G.TensorType{Dims: dims, Of: dt}
}

func (op reduceOp) reduced(i int) bool {
	for _, a := range op.axes {
		if a == i {
			return true
		}
	}
	return false
}

func (op reduceOp) outShape(s tensor.Shape) tensor.Shape {
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
func (op reduceOp) index(s tensor.Shape) ([]int, int) {
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

func (op reduceOp) Arity() int { return 1 }
func (op reduceOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: op.dims, Of: op.dt}, typeOfDims(op.outDims(), op.dt))
}
func (op reduceOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	return op.outShape(s), nil
}

// valueOf builds a float value of dtype dt and shape s (a scalar value when
// s is a scalar shape) holding data.
func valueOf(dt tensor.Dtype, s tensor.Shape, data []float64) (G.Value, error) {
	if s.IsScalar() {
		switch dt {
		case tensor.Float64:
			v := G.F64(data[0])
			return &v, nil
		case tensor.Float32:
			v := G.F32(float32(data[0]))
			return &v, nil
		}
		return nil, errors.Errorf("unsupported dtype %v", dt)
	}
	like := tensor.New(tensor.Of(dt), tensor.WithShape(s.Clone()...))
	return fromFloat64s(like, data)
}

func (op reduceOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// output's dtype and shape.
func (op reduceOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op reduceOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("%v: expected 1 input, got %d", op, len(in))
	}
	t, ok := in[0].(tensor.Tensor)
	if !ok || len(t.Shape()) != op.dims {
		return nil, errors.Errorf("%v: expected a %d-D tensor, got %v", op, op.dims, in[0])
	}
	x := Float64s(in[0])
	idx, size := op.index(t.Shape())
	out := make([]float64, size)
	switch op.kind {
	case ReduceSum, ReduceMean:
		for k, v := range x {
			out[idx[k]] += v
		}
		if op.kind == ReduceMean && size > 0 {
			count := float64(len(x) / size)
			for i := range out {
				out[i] /= count
			}
		}
	case ReduceMax, ReduceMin:
		init := math.Inf(-1)
		if op.kind == ReduceMin {
			init = math.Inf(1)
		}
		for i := range out {
			out[i] = init
		}
		for k, v := range x {
			o := idx[k]
			if (op.kind == ReduceMax && v > out[o]) || (op.kind == ReduceMin && v < out[o]) || math.IsNaN(v) {
				out[o] = v
			}
		}
	}
	return intoOrNew(prealloc, op.dt, op.outShape(t.Shape()), out)
}
func (op reduceOp) ReturnsPtr() bool     { return false }
func (op reduceOp) CallsExtern() bool    { return false }
func (op reduceOp) OverwritesInput() int { return -1 }
func (op reduceOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.reduce(%s,%v,keep=%v,dims=%d,%v)", op.kind, op.axes, op.keep, op.dims, op.dt)
}
func (op reduceOp) Hashcode() uint32 { return hashOf(op) }
func (op reduceOp) String() string   { return fmt.Sprintf("Reduce%s%v", op.kind, op.axes) }

func (op reduceOp) DiffWRT(int) []bool { return []bool{true} }
func (op reduceOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(reduceGradOp{op}, in[0], out, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// reduceGradOp computes dL/dx from (x, y, dL/dy).
type reduceGradOp struct{ r reduceOp }

func (op reduceGradOp) Arity() int { return 3 }
func (op reduceGradOp) Type() hm.Type {
	x := G.TensorType{Dims: op.r.dims, Of: op.r.dt}
	y := typeOfDims(op.r.outDims(), op.r.dt)
	return hm.NewFnType(x, y, y, x)
}
func (op reduceGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]) }
func (op reduceGradOp) Do(in ...G.Value) (G.Value, error)                 { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// input's dtype and shape.
func (op reduceGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op reduceGradOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 3 {
		return nil, errors.Errorf("%v: expected 3 inputs, got %d", op, len(in))
	}
	t, ok := in[0].(tensor.Tensor)
	if !ok || len(t.Shape()) != op.r.dims {
		return nil, errors.Errorf("%v: expected a %d-D tensor, got %v", op, op.r.dims, in[0])
	}
	x, y, g := Float64s(in[0]), Float64s(in[1]), Float64s(in[2])
	idx, size := op.r.index(t.Shape())
	if len(y) != size || len(g) != size {
		return nil, errors.Errorf("%v: output and gradient have %d and %d values, want %d", op, len(y), len(g), size)
	}
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
	if d := reuseDense(prealloc, op.r.dt, t.Shape()); d != nil {
		storeFloat64s(d, dx)
		return d, nil
	}
	return fromFloat64s(in[0], dx)
}
func (op reduceGradOp) ReturnsPtr() bool     { return false }
func (op reduceGradOp) CallsExtern() bool    { return false }
func (op reduceGradOp) OverwritesInput() int { return -1 }
func (op reduceGradOp) WriteHash(h hash.Hash) {
	op.r.WriteHash(h)
	fmt.Fprint(h, ".grad")
}
func (op reduceGradOp) Hashcode() uint32 { return hashOf(op) }
func (op reduceGradOp) String() string   { return op.r.String() + "'" }
