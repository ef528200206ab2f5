package layers

import (
	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
)

// ActivationLayer is Keras's Activation layer: it applies an activation,
// looked up by its Keras name, to its input; the shape is unchanged.
type ActivationLayer struct {
	graph.Base
	graph.PassMask
	activation string
	fn         ActivationFunc
	err        error
}

// NewActivation creates an Activation layer applying the activation with
// the given Keras name ("relu", "softmax", …; "" is linear). An unknown name
// makes Apply report an error listing the valid names. Options: WithName.
func NewActivation(name string, opts ...Option) *ActivationLayer {
	c := newConfig("Activation", opts)
	a := &ActivationLayer{Base: graph.NewBase("Activation", c.name), activation: name, err: c.err}
	fn, err := Activation(name)
	if a.err == nil {
		a.err = err
	}
	a.fn = fn
	return a
}

// Apply applies the layer to x and returns its output tensor.
func (a *ActivationLayer) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(a, x) }

// ActivationName is the activation's Keras name as given.
func (a *ActivationLayer) ActivationName() string { return a.activation }

// Build implements graph.Layer: the output shape is the input shape.
func (a *ActivationLayer) Build(in []graph.Shape) ([]graph.Shape, error) {
	if a.err != nil {
		return nil, a.err
	}
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	return []graph.Shape{in[0].Clone()}, nil
}

// Emit implements graph.Layer.
func (a *ActivationLayer) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) {
	y, err := a.fn(in[0])
	if err != nil {
		return nil, err
	}
	return []graph.Node{y}, nil
}
