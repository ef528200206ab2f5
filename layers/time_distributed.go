package layers

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
)

// TimeDistributed is Keras's TimeDistributed wrapper: it applies a
// one-input, one-output layer (Dense, Activation, Dropout, …) to every time
// step of an input (batch, time, …) by folding time into the batch: the
// inner layer sees (batch·time, …) and the result is unfolded to (batch,
// time, …). The inner layer's weights are shared by all steps and are the
// wrapper's weights. An input mask is passed on unchanged; wrapping a layer
// that reads its input mask (a recurrent layer) is not supported.
type TimeDistributed struct {
	graph.Base
	graph.PassMask
	cfg   TimeDistributedConfig
	inner graph.Layer // cfg.Layer
}

// TimeDistributedConfig is TimeDistributed's configuration: Keras's
// TimeDistributed arguments.
type TimeDistributedConfig struct {
	LayerConfig
	// Layer is the wrapped layer (required).
	Layer graph.Layer `json:"layer" keras:"required"`
}

// DefaultTimeDistributedConfig is Keras's default TimeDistributed
// configuration (layer unset).
func DefaultTimeDistributedConfig() TimeDistributedConfig { return TimeDistributedConfig{} }

// NewTimeDistributed wraps layer. Options: WithName.
func NewTimeDistributed(layer graph.Layer, opts ...Option) *TimeDistributed {
	cfg := DefaultTimeDistributedConfig()
	cfg.Layer = layer
	cfg.LayerConfig = configure(cfg.LayerConfig, opts, Option.applyLayer)
	return NewTimeDistributedFromConfig(cfg)
}

// NewTimeDistributedFromConfig creates a TimeDistributed layer from its
// configuration.
func NewTimeDistributedFromConfig(cfg TimeDistributedConfig) *TimeDistributed {
	td := &TimeDistributed{Base: newBase("TimeDistributed", &cfg.LayerConfig), inner: cfg.Layer}
	td.cfg = cfg
	if cfg.Layer == nil {
		td.Fail(errors.New("needs a layer to wrap, got nil"))
	}
	td.SetInputSpec(graph.InputSpec{MinNDim: 3, Layout: "batch, time, …"})
	return td
}

// Config returns the layer's configuration.
func (td *TimeDistributed) Config() TimeDistributedConfig { return td.cfg }

// Apply applies the layer to x and returns its output tensor.
func (td *TimeDistributed) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(td, x) }

// Layer is the wrapped layer.
func (td *TimeDistributed) Layer() graph.Layer { return td.inner }

// SetTrainable freezes or unfreezes the wrapper and the layer it wraps.
func (td *TimeDistributed) SetTrainable(trainable bool) {
	td.Base.SetTrainable(trainable)
	if t, ok := td.inner.(graph.Trainability); ok {
		t.SetTrainable(trainable)
	}
}

// Weights implements graph.Layer: the inner layer's weights.
func (td *TimeDistributed) Weights() []*graph.Weight {
	if td.inner == nil {
		return nil
	}
	return td.inner.Weights()
}

// Build implements graph.Layer.
func (td *TimeDistributed) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	out, err := graph.Build(td.inner, []graph.Shape{in[0][1:].Clone()})
	if err != nil {
		return nil, errors.Wrapf(err, "inner layer %s (%s)", td.inner.Name(), td.inner.Class())
	}
	if len(out) != 1 {
		return nil, errors.Errorf("inner layer %s (%s) has %d outputs; TimeDistributed needs 1", td.inner.Name(), td.inner.Class(), len(out))
	}
	return []graph.Shape{append(graph.Shape{in[0][0]}, out[0]...)}, nil
}

// Emit implements graph.Layer.
func (td *TimeDistributed) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	x := in[0]
	s := x.Shape()
	n, steps := s[0], s[1]
	folded, err := G.Reshape(x, append([]int{n * steps}, s[2:]...))
	if err != nil {
		return nil, err
	}
	out, err := td.inner.Emit(ctx, []graph.Node{folded})
	if err != nil {
		return nil, errors.Wrapf(err, "inner layer %s (%s)", td.inner.Name(), td.inner.Class())
	}
	if len(out) != 1 {
		return nil, errors.Errorf("inner layer %s emitted %d outputs", td.inner.Name(), len(out))
	}
	os := out[0].Shape()
	y, err := G.Reshape(out[0], append([]int{n, steps}, os[1:]...))
	if err != nil {
		return nil, err
	}
	return []graph.Node{y}, nil
}

// The Keras class of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("TimeDistributed", DefaultTimeDistributedConfig, NewTimeDistributedFromConfig, (*TimeDistributed).Config)
}
