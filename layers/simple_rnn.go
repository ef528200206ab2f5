package layers

import (
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
)

// SimpleRNN is Keras's SimpleRNN: h' = φ(x W + h U + b), φ the activation
// (tanh by default). Weights: kernel (F, H) glorot_uniform,
// recurrent_kernel (H, H) orthogonal, bias (H) zeros.
//
// Input (batch, time, features); output (batch, units), or the sequence
// with WithReturnSequences; WithReturnState adds the final state;
// ApplyWithState(x, h0) starts from h0. Masking, go_backwards and dropout
// behave as described for GRU. SimpleRNN is always unrolled (it has no
// fused kernel; WithImplementation("fused") is an error).
type SimpleRNN struct{ rnn }

// SimpleRNNConfig is SimpleRNN's configuration: Keras's SimpleRNN
// arguments.
type SimpleRNNConfig struct {
	RecurrentConfig
}

// DefaultSimpleRNNConfig is Keras's default SimpleRNN configuration (units
// unset): tanh, a bias, glorot_uniform kernel, orthogonal recurrent kernel,
// zeros bias, no dropout, the last output only.
func DefaultSimpleRNNConfig() SimpleRNNConfig { return SimpleRNNConfig{defaultRecurrent()} }

// SimpleRNNOption is an option of NewSimpleRNN: WithName, a KernelOption or
// a RecurrentOption.
type SimpleRNNOption interface{ applySimpleRNN(*SimpleRNNConfig) }

func (o NameOption) applySimpleRNN(c *SimpleRNNConfig)      { o.applyLayer(&c.LayerConfig) }
func (o KernelOption) applySimpleRNN(c *SimpleRNNConfig)    { o(&c.KernelConfig) }
func (o RecurrentOption) applySimpleRNN(c *SimpleRNNConfig) { o(&c.RecurrentConfig) }

// NewSimpleRNN creates a SimpleRNN layer with the given number of units.
// Options: WithName, WithActivation, WithoutBias, WithKernelInitializer,
// WithRecurrentInitializer, WithBiasInitializer, WithKernelRegularizer,
// WithRecurrentRegularizer, WithBiasRegularizer, WithReturnSequences,
// WithReturnState, WithGoBackwards, WithDropoutRate, WithRecurrentDropout,
// WithImplementation.
func NewSimpleRNN(units int, opts ...SimpleRNNOption) *SimpleRNN {
	cfg := DefaultSimpleRNNConfig()
	cfg.Units = units
	return NewSimpleRNNFromConfig(configure(cfg, opts, SimpleRNNOption.applySimpleRNN))
}

// NewSimpleRNNFromConfig creates a SimpleRNN layer from its configuration.
func NewSimpleRNNFromConfig(cfg SimpleRNNConfig) *SimpleRNN {
	cell, err := newSimpleRNNCell(cfg.RecurrentConfig)
	s := &SimpleRNN{rnn: newRNN("SimpleRNN", cfg.RecurrentConfig, cell, err)}
	s.self = s
	return s
}

// Config returns the layer's configuration.
func (s *SimpleRNN) Config() SimpleRNNConfig { return SimpleRNNConfig{s.cfg} }

// Clone implements RecurrentLayer.
func (s *SimpleRNN) Clone(name string, goBackwards bool) RecurrentLayer {
	c := s.Config()
	c.Name, c.GoBackwards = name, goBackwards
	return NewSimpleRNNFromConfig(c)
}

// SimpleRNNCell is Keras's SimpleRNNCell: h' = φ(x W + b + h U), one block
// of weights. It has no fused kernel.
type SimpleRNNCell struct{ cellCore }

func newSimpleRNNCell(cfg RecurrentConfig) (*SimpleRNNCell, error) {
	core, err := newCellCore(cfg, 1)
	c := &SimpleRNNCell{core}
	if err != nil {
		return c, err
	}
	return c, c.checkDropout()
}

// Build implements Cell: kernel (F, H), recurrent_kernel (H, H), bias (H).
func (c *SimpleRNNCell) Build(layer *graph.Base, features int) {
	c.build(layer, features, graph.Shape{c.units}, c.cfg.BiasInitializer)
}

// Begin implements Cell.
func (c *SimpleRNNCell) Begin(ctx *graph.Context, layer string, x graph.Node) (graph.Node, StepFunc, error) {
	proj, u, _, drop, err := c.begin(ctx, layer, x, nil)
	if err != nil {
		return nil, nil, err
	}
	step := func(xt graph.Node, states []graph.Node) ([]graph.Node, error) {
		hp, err := recurrentProduct(states[0], drop, u)
		if err != nil {
			return nil, err
		}
		pre, err := G.Add(xt, hp)
		if err != nil {
			return nil, err
		}
		h, err := c.act(pre)
		return []graph.Node{h}, err
	}
	return proj, step, nil
}

// The Keras class of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("SimpleRNN", DefaultSimpleRNNConfig, NewSimpleRNNFromConfig, (*SimpleRNN).Config)
}
