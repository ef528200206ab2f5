package ops

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The small tensor ops the recurrent layers, Bidirectional and the unrolled
// loop are built from. Gorgonia's own Slice returns a scalar value when the
// slice has one element (gorgonia#568: batch 1, one feature, one time
// step), and its Concat differentiates through that Slice, so every slice,
// stack and reversal here is a kernel whose values are always tensors of
// the inferred shape.

// SliceAxis is x[start:end] along axis as one node; with drop the axis (of
// size 1 after slicing, end = start+1) is removed. Its gradient pads with
// zeros.
func SliceAxis(x *G.Node, axis, start, end int, drop bool) (*G.Node, error) {
	s := x.Shape()
	if axis < 0 || axis >= len(s) || start < 0 || end > s[axis] || start >= end || (drop && end != start+1) {
		return nil, errors.Errorf("slice [%d:%d] of axis %d out of range for shape %v", start, end, axis, s)
	}
	if drop && len(s) < 2 {
		return nil, errors.Errorf("slice of shape %v would be a scalar", s)
	}
	return Apply(sliceKernel{axis: axis, start: start, end: end, drop: drop}, x)
}

// sliceKernel is x[start:end] along axis.
type sliceKernel struct {
	axis, start, end int
	drop             bool
}

func (k sliceKernel) Name() string {
	return fmt.Sprintf("SliceAxis%d[%d:%d]", k.axis, k.start, k.end)
}
func (k sliceKernel) Params() []any { return []any{k.axis, k.start, k.end, k.drop} }
func (k sliceKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	return k.sliced(in[0]), nil
}

// sliced is the shape of a slice of a tensor of shape s.
func (k sliceKernel) sliced(s tensor.Shape) tensor.Shape {
	out := s.Clone()
	out[k.axis] = k.end - k.start
	if k.drop {
		out = append(out[:k.axis:k.axis], s[k.axis+1:]...)
	}
	return out
}

func (k sliceKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	outer, _, inner := axisView(s, k.axis)
	if out.Dtype() == tensor.Float32 {
		copyRange(out.Float32s(), in[0].Float32s(), outer, s[k.axis], inner, k.start, k.end, false)
	} else {
		copyRange(out.Float64s(), in[0].Float64s(), outer, s[k.axis], inner, k.start, k.end, false)
	}
	return nil
}

func (k sliceKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := Apply(padKernel{slice: k, full: in[0].Shape().Clone()}, grad)
	return G.Nodes{dx}, err
}

// padKernel is sliceKernel's gradient: it writes its input into the sliced
// range of a zero tensor of the full shape.
type padKernel struct {
	slice sliceKernel
	full  tensor.Shape
}

func (k padKernel) Name() string  { return "Pad" + k.slice.Name() }
func (k padKernel) Params() []any { return []any{k.slice.Params(), k.full} }
func (k padKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].TotalSize() != k.slice.sliced(k.full).TotalSize() {
		return nil, errors.Errorf("slice gradient: got shape %v for a slice of %v", in[0], k.full)
	}
	return k.full, nil
}

func (k padKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	outer, n, inner := axisView(k.full, k.slice.axis)
	if out.Dtype() == tensor.Float32 {
		clear(out.Float32s())
		copyRange(in[0].Float32s(), out.Float32s(), outer, n, inner, k.slice.start, k.slice.end, true)
	} else {
		clear(out.Float64s())
		copyRange(in[0].Float64s(), out.Float64s(), outer, n, inner, k.slice.start, k.slice.end, true)
	}
	return nil
}

func (k padKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := Apply(k.slice, grad)
	return G.Nodes{dx}, err
}

// copyRange copies between a full tensor (outer, n, inner) and its slice
// (outer, end-start, inner): small → full range when toFull, else the
// reverse (full → small, with small = dst).
func copyRange[T Float](small, full []T, outer, n, inner, start, end int, toFull bool) {
	w := (end - start) * inner
	for o := 0; o < outer; o++ {
		f := full[o*n*inner+start*inner : o*n*inner+end*inner]
		s := small[o*w : (o+1)*w]
		if toFull {
			copy(f, s)
		} else {
			copy(s, f)
		}
	}
}

// StackTime stacks per-step outputs, each (N, …) of one shape, into (N, T,
// …); the gradient of each input is its step's slice.
func StackTime(xs ...*G.Node) (*G.Node, error) {
	if len(xs) == 0 {
		return nil, errors.New("stack: no inputs")
	}
	return Apply(stackKernel{}, xs...)
}

type stackKernel struct{}

func (stackKernel) Name() string  { return "StackTime" }
func (stackKernel) Params() []any { return nil }
func (stackKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	s := in[0]
	if len(s) == 0 {
		return nil, errors.New("stack: inputs are scalars")
	}
	for _, x := range in[1:] {
		if !x.Eq(s) {
			return nil, errors.Errorf("stack: shapes %v and %v differ", s, x)
		}
	}
	return append(tensor.Shape{s[0], len(in)}, s[1:]...), nil
}

func (stackKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	outer, inner := s[0], s.TotalSize()/s[0]
	for t, x := range in {
		if out.Dtype() == tensor.Float32 {
			copyRange(x.Float32s(), out.Float32s(), outer, len(in), inner, t, t+1, true)
		} else {
			copyRange(x.Float64s(), out.Float64s(), outer, len(in), inner, t, t+1, true)
		}
	}
	return nil
}

func (stackKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	res := make(G.Nodes, len(in))
	for t := range in {
		g, err := SliceAxis(grad, 1, t, t+1, true)
		if err != nil {
			return nil, err
		}
		res[t] = g
	}
	return res, nil
}

// ReverseTime reverses axis 1 (time) of x (N, T, …); its gradient reverses
// back.
func ReverseTime(x *G.Node) (*G.Node, error) { return Apply(reverseKernel{}, x) }

type reverseKernel struct{}

func (reverseKernel) Name() string  { return "ReverseTime" }
func (reverseKernel) Params() []any { return nil }
func (reverseKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[0]) < 2 {
		return nil, errors.Errorf("reverse time: shape %v has no time axis", in[0])
	}
	return in[0], nil
}

func (reverseKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	outer, n, inner := axisView(s, 1)
	if out.Dtype() == tensor.Float32 {
		reverseRows(out.Float32s(), in[0].Float32s(), outer, n, inner)
	} else {
		reverseRows(out.Float64s(), in[0].Float64s(), outer, n, inner)
	}
	return nil
}

func (k reverseKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := Apply(k, grad)
	return G.Nodes{dx}, err
}

func reverseRows[T Float](out, x []T, outer, n, inner int) {
	for o := 0; o < outer; o++ {
		for t := 0; t < n; t++ {
			copy(out[(o*n+n-1-t)*inner:(o*n+n-t)*inner], x[(o*n+t)*inner:(o*n+t+1)*inner])
		}
	}
}

// RepeatLast repeats every element of x h times on a new last axis: a
// (N, T) mask becomes (N, T, h). It has no gradient (masks are data).
func RepeatLast(x *G.Node, h int) (*G.Node, error) {
	if h < 1 {
		return nil, errors.Errorf("repeat: count %d must be positive", h)
	}
	return Apply(repeatKernel{h: h}, x)
}

type repeatKernel struct{ h int }

func (k repeatKernel) Name() string  { return fmt.Sprintf("RepeatLast(%d)", k.h) }
func (k repeatKernel) Params() []any { return []any{k.h} }
func (k repeatKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	return append(in[0].Clone(), k.h), nil
}

func (k repeatKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		repeatEach(out.Float32s(), in[0].Float32s(), k.h)
	} else {
		repeatEach(out.Float64s(), in[0].Float64s(), k.h)
	}
	return nil
}

func repeatEach[T Float](out, m []T, h int) {
	for i, v := range m {
		for j := 0; j < h; j++ {
			out[i*h+j] = v
		}
	}
}
