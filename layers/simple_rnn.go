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

// NewSimpleRNN creates a SimpleRNN layer with the given number of units.
// Options: WithName, WithActivation, WithoutBias, WithKernelInitializer,
// WithRecurrentInitializer, WithBiasInitializer, WithKernelRegularizer,
// WithRecurrentRegularizer, WithBiasRegularizer, WithReturnSequences,
// WithReturnState, WithGoBackwards, WithDropoutRate, WithRecurrentDropout,
// WithImplementation.
func NewSimpleRNN(units int, opts ...Option) *SimpleRNN {
	s := &SimpleRNN{rnn: newRNN("SimpleRNN", simpleCell, units, 1, opts)}
	s.self = s
	return s
}

// Clone implements RecurrentLayer.
func (s *SimpleRNN) Clone(name string, goBackwards bool) RecurrentLayer {
	c := NewSimpleRNN(s.units, append(append([]Option(nil), s.opts...), WithName(name))...)
	c.cfg.goBackwards = goBackwards
	return c
}

// stepSimple is one unrolled SimpleRNN step.
func (r *rnn) stepSimple(sn *stepNodes, xt graph.Node, states []graph.Node) ([]graph.Node, error) {
	hp, err := recurrentProduct(sn, states[0], sn.u)
	if err != nil {
		return nil, err
	}
	pre, err := G.Add(xt, hp)
	if err != nil {
		return nil, err
	}
	h, err := r.act(pre)
	if err != nil {
		return nil, err
	}
	return []graph.Node{h}, nil
}
