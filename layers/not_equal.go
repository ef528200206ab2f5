package layers

import (
	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// NotEqual is Keras's ops.not_equal(x, value) as a layer: 1 where x ≠ value,
// 0 elsewhere, of x's shape. Keras writes it into a functional model's
// configuration for the mask of Embedding(mask_zero=True) — NotEqual(tokens,
// 0) passed to the next layer as its mask — and the model loaders read it
// so; pass its output to graph.ApplyMasked. It has no weights and no
// gradient.
type NotEqual struct {
	graph.Base
	cfg NotEqualConfig
}

// NotEqualConfig is NotEqual's configuration. Keras's configuration of the
// op holds the name only: the value is the op's second argument in the
// model's configuration.
type NotEqualConfig struct {
	LayerConfig
	// Value is what x is compared with (Keras's second argument).
	Value float64 `json:"-"`
}

// NewNotEqual creates a NotEqual layer comparing with value. Options:
// WithName.
func NewNotEqual(value float64, opts ...Option) *NotEqual {
	cfg := NotEqualConfig{Value: value}
	cfg.LayerConfig = configure(cfg.LayerConfig, opts, Option.applyLayer)
	return NewNotEqualFromConfig(cfg)
}

// NewNotEqualFromConfig creates a NotEqual layer from its configuration.
func NewNotEqualFromConfig(cfg NotEqualConfig) *NotEqual {
	return &NotEqual{Base: newBase("NotEqual", &cfg.LayerConfig), cfg: cfg}
}

// Config returns the layer's configuration.
func (n *NotEqual) Config() NotEqualConfig { return n.cfg }

// Apply applies the layer to x and returns its output tensor.
func (n *NotEqual) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(n, x) }

// Build implements graph.Layer: the output shape is the input shape.
func (n *NotEqual) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	return []graph.Shape{in[0].Clone()}, nil
}

// Emit implements graph.Layer.
func (n *NotEqual) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) {
	y, err := ops.NotEqual(in[0], n.cfg.Value)
	return []graph.Node{y}, err
}
