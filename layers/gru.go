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
type GRU struct {
	rnn
	gru *GRUCell
}

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
	cell, err := newGRUCell(cfg)
	g := &GRU{rnn: newRNN("GRU", cfg.RecurrentConfig, cell, err), gru: cell}
	g.self = g
	return g
}

// Config returns the layer's configuration.
func (g *GRU) Config() GRUConfig {
	return GRUConfig{RecurrentConfig: g.cfg, RecurrentActivation: g.gru.recActName, ResetAfter: g.gru.resetAfter}
}

// Clone implements RecurrentLayer.
func (g *GRU) Clone(name string, goBackwards bool) RecurrentLayer {
	c := g.Config()
	c.Name, c.GoBackwards = name, goBackwards
	return NewGRUFromConfig(c)
}

// ResetAfter reports whether the layer uses the reset-after form.
func (g *GRU) ResetAfter() bool { return g.gru.resetAfter }

// GRUCell is Keras's GRUCell: gates z, r and the candidate h~ (three blocks
// of weights, in that order), in the reset-after or reset-before form (see
// GRU). Its fused kernel is ops.FusedGRU.
type GRUCell struct {
	gatedCell
	resetAfter bool
}

func newGRUCell(cfg GRUConfig) (*GRUCell, error) {
	g, err := newGatedCell(cfg.RecurrentConfig, 3, cfg.RecurrentActivation)
	return &GRUCell{gatedCell: g, resetAfter: cfg.ResetAfter}, err
}

// Build implements Cell: kernel (F, 3H), recurrent_kernel (H, 3H), bias
// (2, 3H) with reset_after (input biases, then recurrent biases) or (3H).
func (c *GRUCell) Build(layer *graph.Base, features int) {
	shape := graph.Shape{3 * c.units}
	if c.resetAfter {
		shape = graph.Shape{2, 3 * c.units}
	}
	c.build(layer, features, shape, c.cfg.BiasInitializer)
}

// gruStep are the nodes a GRU step reuses.
type gruStep struct {
	c       *GRUCell
	u       graph.Node // recurrent kernel (H, 3H)
	uzr, uh graph.Node // reset-before: U[:, :2H] and U[:, 2H:]
	recBias graph.Node // reset-after: the recurrent bias row (3H), or nil
	drop    graph.Node // recurrent dropout mask (N, H), or nil
}

// Begin implements Cell: with reset_after the bias's first row is the input
// bias and its second the recurrent one; without, the recurrent kernel is
// used in two parts, U_z|U_r and U_h.
func (c *GRUCell) Begin(ctx *graph.Context, layer string, x graph.Node) (graph.Node, StepFunc, error) {
	var inBias func(graph.Node) (graph.Node, error)
	if c.resetAfter {
		inBias = func(b graph.Node) (graph.Node, error) { return ops.SliceAxis(b, 0, 0, 1, true) }
	}
	proj, u, b, drop, err := c.begin(ctx, layer, x, inBias)
	if err != nil {
		return nil, nil, err
	}
	st := &gruStep{c: c, u: u, drop: drop}
	if b != nil && c.resetAfter {
		if st.recBias, err = ops.SliceAxis(b, 0, 1, 2, true); err != nil {
			return nil, nil, err
		}
	}
	if !c.resetAfter {
		if st.uzr, err = ops.SliceAxis(u, 1, 0, 2*c.units, false); err != nil {
			return nil, nil, err
		}
		if st.uh, err = ops.SliceAxis(u, 1, 2*c.units, 3*c.units, false); err != nil {
			return nil, nil, err
		}
	}
	return proj, st.step, nil
}

// recurrentGates are h·U's z, r and (reset-after only) h blocks, the
// recurrent bias added.
func (st *gruStep) recurrentGates(h graph.Node) (hz, hr, hh graph.Node, err error) {
	units := st.c.units
	if !st.c.resetAfter {
		hp, err := recurrentProduct(h, st.drop, st.uzr)
		if err != nil {
			return nil, nil, nil, err
		}
		hg, err := gateSlices(hp, 2, units)
		if err != nil {
			return nil, nil, nil, err
		}
		return hg[0], hg[1], nil, nil
	}
	hp, err := recurrentProduct(h, st.drop, st.u)
	if err != nil {
		return nil, nil, nil, err
	}
	if st.recBias != nil {
		if hp, err = ops.BiasAdd(hp, st.recBias); err != nil {
			return nil, nil, nil, err
		}
	}
	hg, err := gateSlices(hp, 3, units)
	if err != nil {
		return nil, nil, nil, err
	}
	return hg[0], hg[1], hg[2], nil
}

// step is one GRU step: z and r from the input and recurrent gates, the
// candidate h~ with r applied after (reset_after) or before the recurrent
// product, and h' = z ⊙ h + (1 − z) ⊙ h~ = h~ + z ⊙ (h − h~).
func (st *gruStep) step(xt graph.Node, states []graph.Node) ([]graph.Node, error) {
	c, h := st.c, states[0]
	xg, err := gateSlices(xt, 3, c.units)
	if err != nil {
		return nil, err
	}
	hz, hr, hh, err := st.recurrentGates(h)
	if err != nil {
		return nil, err
	}
	gate := func(a, b graph.Node) (graph.Node, error) {
		s, err := G.Add(a, b)
		if err != nil {
			return nil, err
		}
		return c.recAct(s)
	}
	z, err := gate(xg[0], hz)
	if err != nil {
		return nil, err
	}
	rg, err := gate(xg[1], hr)
	if err != nil {
		return nil, err
	}
	rec, err := st.resetRecurrent(rg, h, hh)
	if err != nil {
		return nil, err
	}
	pre, err := G.Add(xg[2], rec)
	if err != nil {
		return nil, err
	}
	cand, err := c.act(pre)
	if err != nil {
		return nil, err
	}
	d, err := G.Sub(h, cand)
	if err != nil {
		return nil, err
	}
	if d, err = G.HadamardProd(z, d); err != nil {
		return nil, err
	}
	next, err := G.Add(cand, d)
	return []graph.Node{next}, err
}

// resetRecurrent is the candidate's recurrent term: r ⊙ (h U_h + b_rh)
// with reset_after (hh), else (r ⊙ h) U_h.
func (st *gruStep) resetRecurrent(rg, h, hh graph.Node) (graph.Node, error) {
	if st.c.resetAfter {
		return G.HadamardProd(rg, hh)
	}
	hd := h
	var err error
	if st.drop != nil {
		if hd, err = G.HadamardProd(h, st.drop); err != nil {
			return nil, err
		}
	}
	rh, err := G.HadamardProd(rg, hd)
	if err != nil {
		return nil, err
	}
	return G.Mul(rh, st.uh)
}

// Fused implements FusedCell with ops.FusedGRU.
func (c *GRUCell) Fused(ctx *graph.Context, x graph.Node, states []graph.Node, mask graph.Node, goBackwards, _ bool) (graph.Node, []graph.Node, error) {
	k, u, b, err := c.weightNodes(ctx)
	if err != nil {
		return nil, nil, err
	}
	all, err := ops.FusedGRU(c.fusedSpec(c.resetAfter, goBackwards), x, states[0], k, u, b, mask)
	if err != nil {
		return nil, nil, err
	}
	last, err := lastStep(all)
	if err != nil {
		return nil, nil, err
	}
	return all, []graph.Node{last}, nil
}

// The Keras class of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("GRU", DefaultGRUConfig, NewGRUFromConfig, (*GRU).Config)
}
