package ops

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Maximum is max(a, b) element by element for a and b of one shape, as one
// node (Keras's Maximum merge layer, TensorFlow's tf.maximum). Its
// gradient goes to a where a ≥ b and to b elsewhere, as TensorFlow's does;
// a NaN element is propagated.
func Maximum(a, b *G.Node) (*G.Node, error) { return Apply(extremumKernel{}, a, b) }

// Minimum is min(a, b) element by element, as Maximum (the gradient goes
// to a where a ≤ b).
func Minimum(a, b *G.Node) (*G.Node, error) { return Apply(extremumKernel{min: true}, a, b) }

// extremumKernel is the element-wise maximum, or with min the minimum.
type extremumKernel struct{ min bool }

func (k extremumKernel) Name() string {
	if k.min {
		return "Minimum"
	}
	return "Maximum"
}

func (k extremumKernel) Params() []any { return []any{k.min} }

func (k extremumKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if !sameShape(in[0], in[1]) {
		return nil, errors.Errorf("%s: shapes %v and %v differ", k.Name(), in[0], in[1])
	}
	return in[0], nil
}

func (k extremumKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		extremum(k.min, in[0].Float32s(), in[1].Float32s(), out.Float32s())
	} else {
		extremum(k.min, in[0].Float64s(), in[1].Float64s(), out.Float64s())
	}
	return nil
}

// picksA reports whether the extremum of x and y is x: x ≥ y for the
// maximum, x ≤ y for the minimum, or x is NaN.
func picksA[T Float](min bool, x, y T) bool {
	if min {
		return x <= y || x != x
	}
	return x >= y || x != x
}

func extremum[T Float](min bool, a, b, out []T) {
	b, out = b[:len(a)], out[:len(a)]
	for i, x := range a {
		if picksA(min, x, b[i]) {
			out[i] = x
		} else {
			out[i] = b[i]
		}
	}
}

// Gradient routes dy to a where the kernel picked a, else to b.
func (k extremumKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	da, err := Apply(routeKernel{min: k.min}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	db, err := Apply(routeKernel{min: k.min, toB: true}, in[0], in[1], grad)
	return G.Nodes{da, db}, err
}

// routeKernel is one of extremumKernel's gradients, from (a, b, dy): dy
// where the extremum picked a (or, with toB, b), else 0.
type routeKernel struct{ min, toB bool }

func (k routeKernel) Name() string  { return "Route" }
func (k routeKernel) Params() []any { return []any{k.min, k.toB} }
func (k routeKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[2].TotalSize() != in[0].TotalSize() {
		return nil, errors.Errorf("route: gradient %v for inputs %v", in[2], in[0])
	}
	return in[0], nil
}

func (k routeKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		route(k, in[0].Float32s(), in[1].Float32s(), in[2].Float32s(), out.Float32s())
	} else {
		route(k, in[0].Float64s(), in[1].Float64s(), in[2].Float64s(), out.Float64s())
	}
	return nil
}

func route[T Float](k routeKernel, a, b, g, out []T) {
	b, g, out = b[:len(a)], g[:len(a)], out[:len(a)]
	for i, x := range a {
		out[i] = 0
		if picksA(k.min, x, b[i]) != k.toB {
			out[i] = g[i]
		}
	}
}
