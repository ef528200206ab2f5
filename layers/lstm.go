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
type LSTM struct{ rnn }

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
	l := &LSTM{rnn: newRNN("LSTM", lstmCell, 4, rnnConfig{RecurrentConfig: cfg.RecurrentConfig,
		RecurrentActivation: cfg.RecurrentActivation, UnitForgetBias: cfg.UnitForgetBias})}
	l.self = l
	return l
}

// Config returns the layer's configuration.
func (l *LSTM) Config() LSTMConfig {
	return LSTMConfig{RecurrentConfig: l.cfg.RecurrentConfig, RecurrentActivation: l.cfg.RecurrentActivation,
		UnitForgetBias: l.cfg.UnitForgetBias}
}

// Clone implements RecurrentLayer.
func (l *LSTM) Clone(name string, goBackwards bool) RecurrentLayer {
	c := l.Config()
	c.Name, c.GoBackwards = name, goBackwards
	return NewLSTMFromConfig(c)
}

// stepLSTM is one unrolled LSTM step.
func (r *rnn) stepLSTM(sn *stepNodes, xt graph.Node, states []graph.Node) ([]graph.Node, error) {
	h, c := states[0], states[1]
	hp, err := recurrentProduct(sn, h, sn.u)
	if err != nil {
		return nil, err
	}
	pre, err := G.Add(xt, hp)
	if err != nil {
		return nil, err
	}
	g, err := gateSlices(pre, 4, r.units)
	if err != nil {
		return nil, err
	}
	i, err := r.recAct(g[0])
	if err != nil {
		return nil, err
	}
	f, err := r.recAct(g[1])
	if err != nil {
		return nil, err
	}
	cand, err := r.act(g[2])
	if err != nil {
		return nil, err
	}
	o, err := r.recAct(g[3])
	if err != nil {
		return nil, err
	}
	fc, err := G.HadamardProd(f, c)
	if err != nil {
		return nil, err
	}
	ig, err := G.HadamardProd(i, cand)
	if err != nil {
		return nil, err
	}
	c2, err := G.Add(fc, ig)
	if err != nil {
		return nil, err
	}
	ac, err := r.act(c2)
	if err != nil {
		return nil, err
	}
	h2, err := G.HadamardProd(o, ac)
	if err != nil {
		return nil, err
	}
	return []graph.Node{h2, c2}, nil
}

// fusedLSTM runs ops.FusedLSTM and returns the h sequence and the final h
// and c.
func (r *rnn) fusedLSTM(ctx *graph.Context, x graph.Node, states []graph.Node, mask graph.Node) (graph.Node, []graph.Node, error) {
	k, u, b, err := r.weightNodes(ctx)
	if err != nil {
		return nil, nil, err
	}
	spec := ops.RecurrentSpec{Units: r.units,
		HardSigmoid: r.cfg.RecurrentActivation == "hard_sigmoid", GoBackwards: r.cfg.GoBackwards}
	all, err := ops.FusedLSTM(spec, x, states[0], states[1], k, u, b, mask)
	if err != nil {
		return nil, nil, err
	}
	h := r.units
	var seq graph.Node
	if r.cfg.ReturnSequences {
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
