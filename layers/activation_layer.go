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
	cfg ActivationConfig
	fn  ActivationFunc
}

// ActivationConfig is the Activation layer's configuration: Keras's
// Activation arguments.
type ActivationConfig struct {
	LayerConfig
	// Activation is the activation's Keras name ("" is linear).
	Activation string `json:"activation"`
}

// DefaultActivationConfig is Keras's default Activation configuration
// (activation unset, that is linear).
func DefaultActivationConfig() ActivationConfig { return ActivationConfig{} }

// NewActivation creates an Activation layer applying the activation with
// the given Keras name ("relu", "softmax", …; "" is linear). An unknown name
// makes Apply report an error listing the valid names. Options: WithName.
func NewActivation(name string, opts ...Option) *ActivationLayer {
	cfg := DefaultActivationConfig()
	cfg.Activation = name
	cfg.LayerConfig = configure(cfg.LayerConfig, opts, Option.applyLayer)
	return NewActivationFromConfig(cfg)
}

// NewActivationFromConfig creates an Activation layer from its
// configuration.
func NewActivationFromConfig(cfg ActivationConfig) *ActivationLayer {
	a := &ActivationLayer{Base: newBase("Activation", &cfg.LayerConfig)}
	a.cfg = cfg
	fn, err := Activation(cfg.Activation)
	a.Fail(err)
	a.fn = fn
	return a
}

// Config returns the layer's configuration.
func (a *ActivationLayer) Config() ActivationConfig { return a.cfg }

// Apply applies the layer to x and returns its output tensor.
func (a *ActivationLayer) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(a, x) }

// ActivationName is the activation's Keras name as given.
func (a *ActivationLayer) ActivationName() string { return a.cfg.Activation }

// Build implements graph.Layer: the output shape is the input shape.
func (a *ActivationLayer) Build(in []graph.Shape) ([]graph.Shape, error) {
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

// The Keras class of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("Activation", DefaultActivationConfig, NewActivationFromConfig, (*ActivationLayer).Config)
}
