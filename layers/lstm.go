package layers

import (
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// LSTM is Keras's LSTM layer: gates i, f, c, o in that order in every
// weight;
//
//	i  = σ(x W_i + h U_i + b_i)
//	f  = σ(x W_f + h U_f + b_f)
//	g  = φ(x W_c + h U_c + b_c)
//	o  = σ(x W_o + h U_o + b_o)
//	c' = f ⊙ c + i ⊙ g
//	h' = o ⊙ φ(c')
//
// with φ the activation (tanh) and σ the recurrent activation (sigmoid, or
// Keras 2's hard_sigmoid). Weights: kernel (F, 4H) glorot_uniform,
// recurrent_kernel (H, 4H) orthogonal, bias (4H) zeros with the forget block
// set to ones (unit_forget_bias, default on).
//
// States are h and c: WithReturnState adds h_T and c_T as outputs, and
// ApplyWithState(x, h0, c0) starts from given states. Sequences, masking
// (both states are carried over masked steps), go_backwards and dropout
// behave as described for GRU.
//
// Kernel choice (WithImplementation): "auto", the default, runs the whole
// sequence as one ops.FusedLSTM node whenever the configuration allows it —
// activation tanh, recurrent activation sigmoid or hard_sigmoid, no
// recurrent dropout — and emits the unrolled graph otherwise; "fused" and
// "unrolled" force one of them.
type LSTM struct {
	rnn
	lstm *LSTMCell
}

// LSTMConfig is LSTM's configuration: Keras's LSTM arguments.
type LSTMConfig struct {
	RecurrentConfig
	// RecurrentActivation is the gate activation (default sigmoid).
	RecurrentActivation string `json:"recurrent_activation"`
	// UnitForgetBias starts the forget gate's bias at 1 (default true).
	UnitForgetBias bool `json:"unit_forget_bias"`
}

// DefaultLSTMConfig is Keras's default LSTM configuration (units unset): as
// DefaultSimpleRNNConfig, with sigmoid gates and a unit forget bias.
func DefaultLSTMConfig() LSTMConfig {
	return LSTMConfig{RecurrentConfig: defaultRecurrent(), RecurrentActivation: "sigmoid", UnitForgetBias: true}
}

// LSTMOption is an option of NewLSTM: WithName, a KernelOption, a
// RecurrentOption, WithRecurrentActivation or WithUnitForgetBias.
type LSTMOption interface{ applyLSTM(*LSTMConfig) }

func (o NameOption) applyLSTM(c *LSTMConfig)                { o.applyLayer(&c.LayerConfig) }
func (o KernelOption) applyLSTM(c *LSTMConfig)              { o(&c.KernelConfig) }
func (o RecurrentOption) applyLSTM(c *LSTMConfig)           { o(&c.RecurrentConfig) }
func (o RecurrentActivationOption) applyLSTM(c *LSTMConfig) { c.RecurrentActivation = string(o) }

// lstmOption is an option only LSTM takes.
type lstmOption func(*LSTMConfig)

func (o lstmOption) applyLSTM(c *LSTMConfig) { o(c) }

// WithUnitForgetBias sets whether LSTM's forget-gate bias starts at 1
// (default true).
func WithUnitForgetBias(on bool) LSTMOption {
	return lstmOption(func(c *LSTMConfig) { c.UnitForgetBias = on })
}

// NewLSTM creates an LSTM layer with the given number of units. Options:
// those of SimpleRNN plus WithRecurrentActivation and WithUnitForgetBias.
func NewLSTM(units int, opts ...LSTMOption) *LSTM {
	cfg := DefaultLSTMConfig()
	cfg.Units = units
	return NewLSTMFromConfig(configure(cfg, opts, LSTMOption.applyLSTM))
}

// NewLSTMFromConfig creates an LSTM layer from its configuration.
func NewLSTMFromConfig(cfg LSTMConfig) *LSTM {
	cell, err := newLSTMCell(cfg)
	l := &LSTM{rnn: newRNN("LSTM", cfg.RecurrentConfig, cell, err), lstm: cell}
	l.self = l
	return l
}

// Config returns the layer's configuration.
func (l *LSTM) Config() LSTMConfig {
	return LSTMConfig{RecurrentConfig: l.cfg, RecurrentActivation: l.lstm.recActName, UnitForgetBias: l.lstm.unitForgetBias}
}

// Clone implements RecurrentLayer.
func (l *LSTM) Clone(name string, goBackwards bool) RecurrentLayer {
	c := l.Config()
	c.Name, c.GoBackwards = name, goBackwards
	return NewLSTMFromConfig(c)
}

// LSTMCell is Keras's LSTMCell: gates i, f, the candidate c and o (four
// blocks of weights, in that order) and two states, h and c (see LSTM). Its
// fused kernel is ops.FusedLSTM.
type LSTMCell struct {
	gatedCell
	unitForgetBias bool
}

func newLSTMCell(cfg LSTMConfig) (*LSTMCell, error) {
	g, err := newGatedCell(cfg.RecurrentConfig, 4, cfg.RecurrentActivation)
	return &LSTMCell{gatedCell: g, unitForgetBias: cfg.UnitForgetBias}, err
}

// StateCount implements Cell: h and c.
func (c *LSTMCell) StateCount() int { return 2 }

// Build implements Cell: kernel (F, 4H), recurrent_kernel (H, 4H), bias
// (4H) whose forget block starts at 1 with unit_forget_bias.
func (c *LSTMCell) Build(layer *graph.Base, features int) {
	init := c.cfg.BiasInitializer
	if c.unitForgetBias {
		init = unitForgetBias{inner: init, units: c.units}
	}
	c.build(layer, features, graph.Shape{4 * c.units}, init)
}

// Begin implements Cell.
func (c *LSTMCell) Begin(ctx *graph.Context, layer string, x graph.Node) (graph.Node, StepFunc, error) {
	proj, u, _, drop, err := c.begin(ctx, layer, x, nil)
	if err != nil {
		return nil, nil, err
	}
	return proj, func(xt graph.Node, states []graph.Node) ([]graph.Node, error) {
		return c.step(xt, states, u, drop)
	}, nil
}

// step is one LSTM step: the four gates from the input and recurrent
// projections, c' = f ⊙ c + i ⊙ g and h' = o ⊙ φ(c').
func (c *LSTMCell) step(xt graph.Node, states []graph.Node, u, drop graph.Node) ([]graph.Node, error) {
	h, cs := states[0], states[1]
	hp, err := recurrentProduct(h, drop, u)
	if err != nil {
		return nil, err
	}
	pre, err := G.Add(xt, hp)
	if err != nil {
		return nil, err
	}
	g, err := gateSlices(pre, 4, c.units)
	if err != nil {
		return nil, err
	}
	acts := []ActivationFunc{c.recAct, c.recAct, c.act, c.recAct}
	for j := range g {
		if g[j], err = acts[j](g[j]); err != nil {
			return nil, err
		}
	}
	fc, err := G.HadamardProd(g[1], cs)
	if err != nil {
		return nil, err
	}
	ig, err := G.HadamardProd(g[0], g[2])
	if err != nil {
		return nil, err
	}
	c2, err := G.Add(fc, ig)
	if err != nil {
		return nil, err
	}
	ac, err := c.act(c2)
	if err != nil {
		return nil, err
	}
	h2, err := G.HadamardProd(g[3], ac)
	return []graph.Node{h2, c2}, err
}

// Fused implements FusedCell with ops.FusedLSTM, whose result holds h and c
// side by side: the h sequence is sliced out only when wanted.
func (c *LSTMCell) Fused(ctx *graph.Context, x graph.Node, states []graph.Node, mask graph.Node, goBackwards, sequence bool) (graph.Node, []graph.Node, error) {
	k, u, b, err := c.weightNodes(ctx)
	if err != nil {
		return nil, nil, err
	}
	all, err := ops.FusedLSTM(c.fusedSpec(false, goBackwards), x, states[0], states[1], k, u, b, mask)
	if err != nil {
		return nil, nil, err
	}
	h := c.units
	var seq graph.Node
	if sequence {
		if seq, err = ops.SliceAxis(all, 2, 0, h, false); err != nil {
			return nil, nil, err
		}
	}
	last, err := lastStep(all)
	if err != nil {
		return nil, nil, err
	}
	hT, err := ops.SliceAxis(last, 1, 0, h, false)
	if err != nil {
		return nil, nil, err
	}
	cT, err := ops.SliceAxis(last, 1, h, 2*h, false)
	if err != nil {
		return nil, nil, err
	}
	return seq, []graph.Node{hT, cT}, nil
}

// The Keras class of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("LSTM", DefaultLSTMConfig, NewLSTMFromConfig, (*LSTM).Config)
}
