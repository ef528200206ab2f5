package ops

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mean inserts the mean of all of x's elements as a scalar node, as
// Gorgonia's Mean does, in one op whose run allocates nothing, summed in
// float64; its gradient dL/dx_i = g/N writes into its previous output. x
// must be a float32 or float64 tensor with at least one element; a scalar
// x is returned as it is.
func Mean(x *G.Node) (*G.Node, error) {
	if x.IsScalar() {
		return x, nil
	}
	return Apply(meanKernel{}, x)
}

// meanKernel is the mean of a tensor's elements.
type meanKernel struct{}

func (meanKernel) Name() string  { return "Mean" }
func (meanKernel) Params() []any { return nil }
func (meanKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].TotalSize() == 0 {
		return nil, errors.Errorf("mean: input has no elements (shape %v)", in[0])
	}
	return tensor.ScalarShape(), nil
}

func (meanKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	sum := 0.0
	if out.Dtype() == tensor.Float32 {
		d := in[0].Float32s()
		for _, v := range d {
			sum += float64(v)
		}
		out.Float32s()[0] = float32(sum / float64(len(d)))
		return nil
	}
	d := in[0].Float64s()
	for _, v := range d {
		sum += v
	}
	out.Float64s()[0] = sum / float64(len(d))
	return nil
}

func (meanKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := Apply(meanGradKernel{shape: in[0].Shape().Clone()}, grad)
	return G.Nodes{dx}, err
}

// meanGradKernel computes dL/dx = g/N for every element of x from the
// mean's output gradient g (a scalar or a one-element tensor).
type meanGradKernel struct{ shape tensor.Shape }

func (k meanGradKernel) Name() string  { return "Mean'" }
func (k meanGradKernel) Params() []any { return []any{k.shape} }
func (k meanGradKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].TotalSize() != 1 {
		return nil, errors.Errorf("mean': output gradient has shape %v, want one element", in[0])
	}
	return k.shape, nil
}

func (k meanGradKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	n := float64(k.shape.TotalSize())
	if out.Dtype() == tensor.Float32 {
		v := float32(float64(in[0].Float32s()[0]) / n)
		d := out.Float32s()
		for i := range d {
			d[i] = v
		}
		return nil
	}
	v := in[0].Float64s()[0] / n
	d := out.Float64s()
	for i := range d {
		d[i] = v
	}
	return nil
}
