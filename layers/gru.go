package layers

import (
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// GRU is Keras's GRU layer (TF2/Keras 3 defaults): gates z (update), r
// (reset) and h (candidate), in that order in every weight;
//
//	z  = σ(x W_z + b_iz + h U_z + b_rz)
//	r  = σ(x W_r + b_ir + h U_r + b_rr)
//	h~ = φ(x W_h + b_ih + r ⊙ (h U_h + b_rh))      (reset_after, the default)
//	h~ = φ(x W_h + b_h + (r ⊙ h) U_h)              (WithResetAfter(false), Keras 2.2)
//	h' = z ⊙ h + (1 − z) ⊙ h~
//
// with φ the activation (tanh) and σ the recurrent activation (sigmoid, or
// Keras 2's hard_sigmoid clip(0.2x+0.5, 0, 1)). Weights: kernel (F, 3H)
// glorot_uniform, recurrent_kernel (H, 3H) orthogonal, bias (2, 3H) with
// reset_after (row 0 input biases, row 1 recurrent biases) or (3H) without,
// zeros.
//
// Input (batch, time, features). Output (batch, units), or (batch, time,
// units) with WithReturnSequences; WithReturnState adds the final state h
// as a second output (use ApplyAll / ApplyWithState). WithGoBackwards reads
// the sequence from its end, and a sequence output is then in processing
// order (not re-reversed), as in Keras. ApplyWithState(x, h0) starts from
// h0 instead of zeros.
//
// Masking (an input mask from Embedding(mask_zero)): a masked step leaves
// the state unchanged and outputs the carried state, so every sequence of a
// padded batch gets the result it would get alone; with return_sequences the
// output carries the mask on, otherwise the mask is consumed.
//
// Dropout (training programs only, inverted scaling): WithDropoutRate drops
// input features with one mask per sequence, shared by all steps and gates
// (Keras's implementation 2); WithRecurrentDropout drops the previous state
// before the recurrent products, one mask per sequence (the carried state
// itself is not dropped).
//
// Kernel choice (WithImplementation): "unrolled" emits Gorgonia nodes for
// every step; "fused" runs the whole sequence as one ops.FusedGRU node with
// a hand-written backward pass (kerago's CuDNNGRU); "auto", the default,
// chooses the fused kernel whenever the configuration allows it — activation
// tanh, recurrent activation sigmoid or hard_sigmoid, no recurrent dropout
// (either reset_after form, with or without bias, masks, initial states,
// input dropout and go_backwards are all supported by the fused op) — and
// unrolls otherwise. Both compute the same values.
type GRU struct{ rnn }

// GRUConfig is GRU's configuration: Keras's GRU arguments.
type GRUConfig struct {
	RecurrentConfig
	// RecurrentActivation is the gate activation (default sigmoid).
	RecurrentActivation string `json:"recurrent_activation"`
	// ResetAfter applies the reset gate after the recurrent product
	// (default true).
	ResetAfter bool `json:"reset_after"`
}

// DefaultGRUConfig is Keras's default GRU configuration (units unset): as
// DefaultSimpleRNNConfig, with sigmoid gates and the reset-after form.
func DefaultGRUConfig() GRUConfig {
	return GRUConfig{RecurrentConfig: defaultRecurrent(), RecurrentActivation: "sigmoid", ResetAfter: true}
}

// GRUOption is an option of NewGRU: WithName, a KernelOption, a
// RecurrentOption, WithRecurrentActivation or WithResetAfter.
type GRUOption interface{ applyGRU(*GRUConfig) }

func (o NameOption) applyGRU(c *GRUConfig)                { o.applyLayer(&c.LayerConfig) }
func (o KernelOption) applyGRU(c *GRUConfig)              { o(&c.KernelConfig) }
func (o RecurrentOption) applyGRU(c *GRUConfig)           { o(&c.RecurrentConfig) }
func (o RecurrentActivationOption) applyGRU(c *GRUConfig) { c.RecurrentActivation = string(o) }

// gruOption is an option only GRU takes.
type gruOption func(*GRUConfig)

func (o gruOption) applyGRU(c *GRUConfig) { o(c) }

// WithResetAfter chooses GRU's form: true (the default, TF2/Keras 3 and
// cuDNN) applies the reset gate after the recurrent product; false is
// Keras 2.2's form.
func WithResetAfter(on bool) GRUOption {
	return gruOption(func(c *GRUConfig) { c.ResetAfter = on })
}

// NewGRU creates a GRU layer with the given number of units. Options: those
// of SimpleRNN plus WithRecurrentActivation and WithResetAfter.
func NewGRU(units int, opts ...GRUOption) *GRU {
	cfg := DefaultGRUConfig()
	cfg.Units = units
	return NewGRUFromConfig(configure(cfg, opts, GRUOption.applyGRU))
}

// NewGRUFromConfig creates a GRU layer from its configuration.
func NewGRUFromConfig(cfg GRUConfig) *GRU {
	g := &GRU{rnn: newRNN("GRU", gruCell, 3, rnnConfig{RecurrentConfig: cfg.RecurrentConfig,
		RecurrentActivation: cfg.RecurrentActivation, ResetAfter: cfg.ResetAfter})}
	g.self = g
	return g
}

// Config returns the layer's configuration.
func (g *GRU) Config() GRUConfig {
	return GRUConfig{RecurrentConfig: g.cfg.RecurrentConfig, RecurrentActivation: g.cfg.RecurrentActivation,
		ResetAfter: g.cfg.ResetAfter}
}

// Clone implements RecurrentLayer.
func (g *GRU) Clone(name string, goBackwards bool) RecurrentLayer {
	c := g.Config()
	c.Name, c.GoBackwards = name, goBackwards
	return NewGRUFromConfig(c)
}

// ResetAfter reports whether the layer uses the reset-after form.
func (g *GRU) ResetAfter() bool { return g.cfg.ResetAfter }

// stepGRU is one unrolled GRU step.
func (r *rnn) stepGRU(sn *stepNodes, xt graph.Node, states []graph.Node) ([]graph.Node, error) {
	h := states[0]
	xg, err := gateSlices(xt, 3, r.units)
	if err != nil {
		return nil, err
	}
	var hz, hr, hh graph.Node
	if r.cfg.ResetAfter {
		hp, err := recurrentProduct(sn, h, sn.u)
		if err != nil {
			return nil, err
		}
		if sn.recBias != nil {
			if hp, err = ops.BiasAdd(hp, sn.recBias); err != nil {
				return nil, err
			}
		}
		hg, err := gateSlices(hp, 3, r.units)
		if err != nil {
			return nil, err
		}
		hz, hr, hh = hg[0], hg[1], hg[2]
	} else {
		hp, err := recurrentProduct(sn, h, sn.uzr)
		if err != nil {
			return nil, err
		}
		hg, err := gateSlices(hp, 2, r.units)
		if err != nil {
			return nil, err
		}
		hz, hr = hg[0], hg[1]
	}
	gate := func(a, b graph.Node) (graph.Node, error) {
		s, err := G.Add(a, b)
		if err != nil {
			return nil, err
		}
		return r.recAct(s)
	}
	z, err := gate(xg[0], hz)
	if err != nil {
		return nil, err
	}
	rg, err := gate(xg[1], hr)
	if err != nil {
		return nil, err
	}
	var rec graph.Node
	if r.cfg.ResetAfter {
		rec, err = G.HadamardProd(rg, hh)
	} else {
		hd := h
		if sn.recDrop != nil {
			if hd, err = G.HadamardProd(h, sn.recDrop); err != nil {
				return nil, err
			}
		}
		var rh graph.Node
		if rh, err = G.HadamardProd(rg, hd); err != nil {
			return nil, err
		}
		rec, err = G.Mul(rh, sn.uh)
	}
	if err != nil {
		return nil, err
	}
	pre, err := G.Add(xg[2], rec)
	if err != nil {
		return nil, err
	}
	cand, err := r.act(pre)
	if err != nil {
		return nil, err
	}
	// h' = z ⊙ h + (1 − z) ⊙ h~ = h~ + z ⊙ (h − h~)
	d, err := G.Sub(h, cand)
	if err != nil {
		return nil, err
	}
	if d, err = G.HadamardProd(z, d); err != nil {
		return nil, err
	}
	next, err := G.Add(cand, d)
	if err != nil {
		return nil, err
	}
	return []graph.Node{next}, nil
}

// fusedGRU runs ops.FusedGRU and returns the sequence and the final state.
func (r *rnn) fusedGRU(ctx *graph.Context, x graph.Node, states []graph.Node, mask graph.Node) (graph.Node, []graph.Node, error) {
	k, u, b, err := r.weightNodes(ctx)
	if err != nil {
		return nil, nil, err
	}
	spec := ops.RecurrentSpec{Units: r.units, ResetAfter: r.cfg.ResetAfter,
		HardSigmoid: r.cfg.RecurrentActivation == "hard_sigmoid", GoBackwards: r.cfg.GoBackwards}
	all, err := ops.FusedGRU(spec, x, states[0], k, u, b, mask)
	if err != nil {
		return nil, nil, err
	}
	last, err := lastStep(all)
	if err != nil {
		return nil, nil, err
	}
	return all, []graph.Node{last}, nil
}
