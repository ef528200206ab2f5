package ops

import (
	"fmt"

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
	return Apply(concatKernel{axis: axis, sizes: sizes}, xs...)
}

// concatKernel joins its inputs along axis; sizes are their sizes on it.
type concatKernel struct {
	axis  int
	sizes []int
}

func (op concatKernel) total() int {
	n := 0
	for _, s := range op.sizes {
		n += s
	}
	return n
}

func (op concatKernel) Name() string  { return fmt.Sprintf("Concat(axis=%d)", op.axis) }
func (op concatKernel) Params() []any { return []any{op.axis, op.sizes} }
func (op concatKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	s := in[0].Clone()
	s[op.axis] = op.total()
	return s, nil
}

func (op concatKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		concatInto[float32](op, out, in)
	} else {
		concatInto[float64](op, out, in)
	}
	return nil
}

func concatInto[T Float](op concatKernel, outT *tensor.Dense, in []*tensor.Dense) {
	outer, n, inner := axisView(outT.Shape(), op.axis)
	out := dataOf[T](outT)
	off := 0
	for i, v := range in {
		x := dataOf[T](v)
		k := op.sizes[i] * inner
		for o := 0; o < outer; o++ {
			copy(out[o*n*inner+off:o*n*inner+off+k], x[o*k:(o+1)*k])
		}
		off += k
	}
}

func (op concatKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	res := make(G.Nodes, len(in))
	off := 0
	for i := range in {
		var err error
		if res[i], err = Apply(concatGradKernel{c: op, index: i, offset: off}, grad); err != nil {
			return nil, err
		}
		off += op.sizes[i]
	}
	return res, nil
}

// concatGradKernel slices input index's part out of the output gradient.
type concatGradKernel struct {
	c             concatKernel
	index, offset int
}

func (op concatGradKernel) Name() string  { return fmt.Sprintf("%s'[%d]", op.c.Name(), op.index) }
func (op concatGradKernel) Params() []any { return []any{op.c.Params(), op.index, op.offset} }
func (op concatGradKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	s := in[0].Clone()
	if op.c.axis >= len(s) || s[op.c.axis] != op.c.total() {
		return nil, errors.Errorf("%s: gradient shape %v does not match the output", op.Name(), s)
	}
	s[op.c.axis] = op.c.sizes[op.index]
	return s, nil
}

func (op concatGradKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		concatSlice[float32](op, out, in[0])
	} else {
		concatSlice[float64](op, out, in[0])
	}
	return nil
}

func concatSlice[T Float](op concatGradKernel, outT, gT *tensor.Dense) {
	g := dataOf[T](gT)
	outer, n, inner := axisView(gT.Shape(), op.c.axis)
	k := op.c.sizes[op.index] * inner
	off := op.offset * inner
	dx := dataOf[T](outT)
	for o := 0; o < outer; o++ {
		copy(dx[o*k:(o+1)*k], g[o*n*inner+off:o*n*inner+off+k])
	}
}
