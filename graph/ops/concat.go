package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Concat joins xs along axis (a non-negative axis of their full shapes,
// which must agree on every other axis) as one node; the gradient of each
// input is one node, its slice of the output gradient. Unlike Gorgonia's
// Concat it handles shapes with axes of size 1, such as (N, 1) columns,
// which Gorgonia takes for vectors.
func Concat(axis int, xs ...*G.Node) (*G.Node, error) {
	if len(xs) == 0 {
		return nil, errors.New("concat: no inputs")
	}
	s0 := xs[0].Shape()
	dt := xs[0].Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Errorf("concat: dtype %v not supported (float32 or float64)", dt)
	}
	if axis < 0 || axis >= len(s0) {
		return nil, errors.Errorf("concat: axis %d out of range for shape %v", axis, s0)
	}
	sizes := make([]int, len(xs))
	for i, x := range xs {
		s := x.Shape()
		if x.Dtype() != dt || len(s) != len(s0) {
			return nil, errors.Errorf("concat: input %d is %v %v, input 0 %v %v", i, s, x.Dtype(), s0, dt)
		}
		for j := range s {
			if j != axis && s[j] != s0[j] {
				return nil, errors.Errorf("concat: input %d has shape %v, input 0 %v: they differ on an axis other than %d", i, s, s0, axis)
			}
		}
		sizes[i] = s[axis]
	}
	return G.ApplyOp(concatOp{axis: axis, dims: len(s0), sizes: sizes, dt: dt}, xs...)
}

type concatOp struct {
	axis, dims int
	sizes      []int
	dt         tensor.Dtype
}

func (op concatOp) total() int {
	n := 0
	for _, s := range op.sizes {
		n += s
	}
	return n
}

func (op concatOp) Arity() int { return len(op.sizes) }
func (op concatOp) Type() hm.Type {
	t := G.TensorType{Dims: op.dims, Of: op.dt}
	ts := make([]hm.Type, len(op.sizes)+1)
	for i := range ts {
		ts[i] = t
	}
	return hm.NewFnType(ts...)
}
func (op concatOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	if op.axis >= len(s) {
		return nil, errors.Errorf("%v: axis out of range for %v", op, s)
	}
	s[op.axis] = op.total()
	return s, nil
}
func (op concatOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// output's dtype and shape.
func (op concatOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op concatOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != len(op.sizes) {
		return nil, errors.Errorf("%v: expected %d inputs, got %d", op, len(op.sizes), len(in))
	}
	t, ok := in[0].(tensor.Tensor)
	if !ok || len(t.Shape()) != op.dims {
		return nil, errors.Errorf("%v: expected %d-D tensors, got %v", op, op.dims, in[0])
	}
	shape := t.Shape().Clone()
	shape[op.axis] = op.total()
	switch op.dt {
	case tensor.Float32:
		return concatInto[float32](op, prealloc, shape, in)
	case tensor.Float64:
		return concatInto[float64](op, prealloc, shape, in)
	}
	return nil, errors.Errorf("%v: unsupported dtype %v", op, op.dt)
}

// floatsOf returns a value's elements as a []T: a dense tensor of that
// dtype's own backing slice, or a converted copy.
func floatsOf[T float](v G.Value) []T {
	if d, ok := v.(*tensor.Dense); ok && !d.RequiresIterator() {
		var z T
		if d.Dtype() == tensor.Float32 && any(z) == any(float32(0)) || d.Dtype() == tensor.Float64 && any(z) == any(float64(0)) {
			return denseData[T](d)
		}
	}
	x := Float64s(v)
	if x == nil {
		return nil
	}
	out := make([]T, len(x))
	for i, f := range x {
		out[i] = T(f)
	}
	return out
}

func concatInto[T float](op concatOp, prealloc G.Value, shape tensor.Shape, in []G.Value) (G.Value, error) {
	outer, n, inner := axisView(shape, op.axis)
	outT := outDense(prealloc, op.dt, shape)
	out := denseData[T](outT)
	off := 0
	for i, v := range in {
		x := floatsOf[T](v)
		k := op.sizes[i] * inner
		if len(x) != outer*k {
			return nil, errors.Errorf("%v: input %d has %d values, want %d", op, i, len(x), outer*k)
		}
		for o := 0; o < outer; o++ {
			copy(out[o*n*inner+off:o*n*inner+off+k], x[o*k:(o+1)*k])
		}
		off += k
	}
	return outT, nil
}

func (op concatOp) ReturnsPtr() bool     { return false }
func (op concatOp) CallsExtern() bool    { return false }
func (op concatOp) OverwritesInput() int { return -1 }
func (op concatOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.concat(axis=%d,dims=%d,%v,%v)", op.axis, op.dims, op.sizes, op.dt)
}
func (op concatOp) Hashcode() uint32 { return hashOf(op) }
func (op concatOp) String() string   { return fmt.Sprintf("Concat(axis=%d)", op.axis) }

func (op concatOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}
func (op concatOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	res := make(G.Nodes, len(in))
	off := 0
	for i := range in {
		var err error
		if res[i], err = G.ApplyOp(concatGradOp{c: op, index: i, offset: off}, grad); err != nil {
			return nil, err
		}
		off += op.sizes[i]
	}
	return res, nil
}

// concatGradOp slices input index's part out of the output gradient.
type concatGradOp struct {
	c             concatOp
	index, offset int
}

func (op concatGradOp) Arity() int { return 1 }
func (op concatGradOp) Type() hm.Type {
	t := G.TensorType{Dims: op.c.dims, Of: op.c.dt}
	return hm.NewFnType(t, t)
}
func (op concatGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	if op.c.axis >= len(s) {
		return nil, errors.Errorf("%v: axis out of range for %v", op, s)
	}
	s[op.c.axis] = op.c.sizes[op.index]
	return s, nil
}
func (op concatGradOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// slice's dtype and shape.
func (op concatGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op concatGradOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("%v: expected 1 input, got %d", op, len(in))
	}
	t, ok := in[0].(tensor.Tensor)
	if !ok || len(t.Shape()) != op.c.dims {
		return nil, errors.Errorf("%v: expected a %d-D tensor, got %v", op, op.c.dims, in[0])
	}
	switch op.c.dt {
	case tensor.Float32:
		return concatSlice[float32](op, prealloc, t.Shape(), in[0])
	case tensor.Float64:
		return concatSlice[float64](op, prealloc, t.Shape(), in[0])
	}
	return nil, errors.Errorf("%v: unsupported dtype %v", op, op.c.dt)
}

func concatSlice[T float](op concatGradOp, prealloc G.Value, gs tensor.Shape, gv G.Value) (G.Value, error) {
	g := floatsOf[T](gv)
	outer, n, inner := axisView(gs, op.c.axis)
	if len(g) != outer*n*inner {
		return nil, errors.Errorf("%v: gradient has %d values, its shape %v", op, len(g), gs)
	}
	shape := gs.Clone()
	shape[op.c.axis] = op.c.sizes[op.index]
	k := op.c.sizes[op.index] * inner
	off := op.offset * inner
	outT := outDense(prealloc, op.c.dt, shape)
	dx := denseData[T](outT)
	for o := 0; o < outer; o++ {
		copy(dx[o*k:(o+1)*k], g[o*n*inner+off:o*n*inner+off+k])
	}
	return outT, nil
}

func (op concatGradOp) ReturnsPtr() bool     { return false }
func (op concatGradOp) CallsExtern() bool    { return false }
func (op concatGradOp) OverwritesInput() int { return -1 }
func (op concatGradOp) WriteHash(h hash.Hash) {
	op.c.WriteHash(h)
	fmt.Fprintf(h, ".grad%d@%d", op.index, op.offset)
}
func (op concatGradOp) Hashcode() uint32 { return hashOf(op) }
func (op concatGradOp) String() string   { return fmt.Sprintf("%v'[%d]", op.c, op.index) }
