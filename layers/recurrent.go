package layers

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// RecurrentLayer is implemented by SimpleRNN, GRU and LSTM: what
// Bidirectional needs to wrap a recurrent layer.
type RecurrentLayer interface {
	graph.Layer
	graph.MaskLayer
	// Units is the state size.
	Units() int
	// NumStates is the number of states (1, or 2 for LSTM's h and c).
	NumStates() int
	// ReturnSequences reports whether the output is the whole sequence.
	ReturnSequences() bool
	// ReturnState reports whether the final states are extra outputs.
	ReturnState() bool
	// GoBackwards reports whether the layer reads its input backwards.
	GoBackwards() bool
	// Cell is the layer's cell, the computation of one step.
	Cell() Cell
	// Clone returns a new, unbuilt layer with this one's configuration
	// (its own fresh weights), named name and reading in the given
	// direction. Bidirectional makes its two directions this way.
	Clone(name string, goBackwards bool) RecurrentLayer
}

// Implementations, as WithImplementation names them.
const (
	implAuto     = "auto"
	implFused    = "fused"
	implUnrolled = "unrolled"
)

// rnn is the one recurrent loop, Keras's RNN layer: what SimpleRNN, GRU and
// LSTM share around their cell — the configuration of the sequence (return
// sequences or states, direction, input dropout, the kernel choice), shape
// checks, initial states, masking, and the two ways of running the cell
// over a sequence: unrolled, one set of nodes per step, or fused, the cell's
// whole-sequence kernel when it has one (FusedCell) and the configuration
// allows it.
type rnn struct {
	graph.Base
	self RecurrentLayer // the layer that embeds this rnn
	cell Cell
	cfg  RecurrentConfig
}

// newRNN checks the sequence settings of a recurrent layer of the given
// class around cell; cellErr is the cell's own configuration error.
func newRNN(class string, cfg RecurrentConfig, cell Cell, cellErr error) rnn {
	r := rnn{Base: newBase(class, &cfg.LayerConfig), cell: cell}
	r.Fail(cellErr)
	if !(cfg.Dropout >= 0 && cfg.Dropout < 1) {
		r.Fail(errors.Errorf("dropout must be in [0, 1), got %v", cfg.Dropout))
	}
	cfg.KernelConfig = cfg.KernelConfig.withDefaults()
	cfg.RecurrentInitializer = orDefault(cfg.RecurrentInitializer, defaultRecurrent().RecurrentInitializer)
	r.cfg = cfg
	switch cfg.Implementation {
	case implAuto, implUnrolled:
	case implFused:
		r.Fail(r.canFuse())
	default:
		r.Fail(errors.Errorf("unknown implementation %q; valid implementations: auto, fused, unrolled", cfg.Implementation))
	}
	r.SetInputSpec(graph.InputSpec{NDim: 3, Layout: "batch, time, features"})
	return r
}

// canFuse says why the layer cannot run fused, or nil when it can: its
// cell must have a fused kernel that takes its configuration.
func (r *rnn) canFuse() error {
	f, ok := r.cell.(FusedCell)
	if !ok {
		return errors.Errorf("implementation \"fused\": %s has no fused kernel", r.Class())
	}
	return f.CanFuse()
}

// useFused is the one rule that picks the kernel: "fused" and "unrolled"
// are obeyed; "auto" picks the fused kernel whenever the cell can run this
// configuration fused.
func (r *rnn) useFused() bool {
	switch r.cfg.Implementation {
	case implFused:
		return true
	case implUnrolled:
		return false
	}
	return r.canFuse() == nil
}

// Cell is the layer's cell.
func (r *rnn) Cell() Cell { return r.cell }

// Units is the state size.
func (r *rnn) Units() int { return r.cell.Units() }

// NumStates is the number of states: 2 for LSTM (h and c), 1 otherwise.
func (r *rnn) NumStates() int { return r.cell.StateCount() }

// ReturnSequences reports whether the output is the whole sequence.
func (r *rnn) ReturnSequences() bool { return r.cfg.ReturnSequences }

// ReturnState reports whether the final states are extra outputs.
func (r *rnn) ReturnState() bool { return r.cfg.ReturnState }

// GoBackwards reports whether the layer reads its input backwards.
func (r *rnn) GoBackwards() bool { return r.cfg.GoBackwards }

// Implementation is the kernel the layer uses: "fused" or "unrolled" (what
// "auto" resolved to).
func (r *rnn) Implementation() string {
	if r.useFused() {
		return implFused
	}
	return implUnrolled
}

// Kernel is the (input_dim, gates·units) input weight (nil before build).
func (r *rnn) Kernel() *graph.Weight { return r.cell.core().kernel }

// RecurrentKernel is the (units, gates·units) recurrent weight.
func (r *rnn) RecurrentKernel() *graph.Weight { return r.cell.core().recurrent }

// Bias is the bias weight, or nil without bias or before build.
func (r *rnn) Bias() *graph.Weight { return r.cell.core().bias }

// Apply applies the layer to x and returns its output. A layer with
// WithReturnState has several outputs: use ApplyAll or ApplyWithState.
func (r *rnn) Apply(x *graph.Tensor) *graph.Tensor {
	if r.cfg.ReturnState {
		return graph.Errored(errors.Errorf("layer %s (%s) returns its states (WithReturnState): use ApplyAll or ApplyWithState", r.Name(), r.Class()))
	}
	return graph.Apply1(r.self, x)
}

// ApplyAll applies the layer to x and returns all its outputs: the output,
// then with WithReturnState the final states (h, and c for LSTM).
func (r *rnn) ApplyAll(x *graph.Tensor) []*graph.Tensor { return graph.Apply(r.self, x) }

// ApplyWithState applies the layer to x starting from the given initial
// states (Keras's initial_state: h0 for SimpleRNN and GRU, h0 and c0 for
// LSTM, each (batch, units)) and returns all its outputs, as ApplyAll.
func (r *rnn) ApplyWithState(x *graph.Tensor, states ...*graph.Tensor) []*graph.Tensor {
	return graph.Apply(r.self, append([]*graph.Tensor{x}, states...)...)
}

// Build implements graph.Layer: input (time, features), then optional
// initial states (units) each. The first build creates the cell's weights
// and fixes the features.
func (r *rnn) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) == 0 {
		return nil, errors.New("expects an input")
	}
	x := in[0]
	units, ns := r.Units(), r.NumStates()
	if err := checkInitialStates(in[1:], ns, units); err != nil {
		return nil, err
	}
	if r.Kernel() == nil {
		r.cell.Build(&r.Base, x[1])
		fixInputAxis(&r.Base, -1, x[1])
	}
	var out []graph.Shape
	if r.cfg.ReturnSequences {
		out = append(out, graph.Shape{x[0], units})
	} else {
		out = append(out, graph.Shape{units})
	}
	if r.cfg.ReturnState {
		for i := 0; i < ns; i++ {
			out = append(out, graph.Shape{units})
		}
	}
	return out, nil
}

// checkInitialStates checks the initial-state inputs: none, or exactly n of
// shape (units).
func checkInitialStates(states []graph.Shape, n, units int) error {
	if len(states) != 0 && len(states) != n {
		return errors.Errorf("layer has %d states but was passed %d initial states", n, len(states))
	}
	for i, s := range states {
		if !s.Equal(graph.Shape{units}) {
			return errors.Errorf("initial state %d has shape %s, expected (None, %d)", i, s, units)
		}
	}
	return nil
}

// OutputMasked implements graph.MaskLayer: the output carries the input's
// mask when it is a sequence; states never do.
func (r *rnn) OutputMasked(in []bool) []bool {
	out := make([]bool, 1, 1+r.NumStates())
	out[0] = r.cfg.ReturnSequences && len(in) > 0 && in[0]
	if r.cfg.ReturnState {
		out = append(out, make([]bool, r.NumStates())...)
	}
	return out
}

// ComputeMask implements graph.MaskLayer: with return_sequences the input
// mask is passed on unchanged (as Keras does, even with go_backwards);
// otherwise it is consumed.
func (r *rnn) ComputeMask(_ *graph.Context, _ []graph.Node, masks []graph.Node) ([]graph.Node, error) {
	out := make([]graph.Node, len(r.OutputMasked(nil)))
	if r.cfg.ReturnSequences && len(masks) > 0 {
		out[0] = masks[0]
	}
	return out, nil
}

// Emit implements graph.Layer.
func (r *rnn) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	return r.emit(ctx, in[0], in[1:], ctx.InputMask(0))
}

// emit runs the layer over x (N, T, F) from the initial states init (none:
// zeros) with mask (N, T) or nil, and returns the outputs Build promised.
func (r *rnn) emit(ctx *graph.Context, x graph.Node, init []graph.Node, mask graph.Node) ([]graph.Node, error) {
	xs := x.Shape()
	if len(xs) != 3 {
		return nil, errors.Errorf("input has shape %v, expected (batch, time, features)", xs)
	}
	if mask != nil && !mask.Shape().Eq(xs[:2]) {
		return nil, errors.Errorf("mask has shape %v, the input (batch, time) is %v", mask.Shape(), xs[:2])
	}
	states := r.initialStates(ctx, init, xs[0])
	x, err := r.inputDropout(ctx, x)
	if err != nil {
		return nil, err
	}
	var (
		seq    graph.Node
		finals []graph.Node
	)
	if r.useFused() {
		if err := r.canFuse(); err != nil {
			return nil, err
		}
		seq, finals, err = r.cell.(FusedCell).Fused(ctx, x, states, mask, r.cfg.GoBackwards, r.cfg.ReturnSequences)
	} else {
		seq, finals, err = r.emitUnrolled(ctx, x, states, mask)
	}
	if err != nil {
		return nil, err
	}
	out := []graph.Node{finals[0]}
	if r.cfg.ReturnSequences {
		out[0] = seq
	}
	if r.cfg.ReturnState {
		out = append(out, finals...)
	}
	return out, nil
}

// initialStates are init, or zeros of shape (n, units) for every state.
func (r *rnn) initialStates(ctx *graph.Context, init []graph.Node, n int) []graph.Node {
	states := append([]graph.Node(nil), init...)
	if len(states) == 0 {
		zeros := make([]float64, n*r.Units())
		for i := 0; i < r.NumStates(); i++ {
			states = append(states, ctx.Const([]int{n, r.Units()}, zeros))
		}
	}
	return states
}

// inputDropout drops input features in training programs: one mask per
// sequence, shared by every time step and every gate (Keras's
// implementation 2).
func (r *rnn) inputDropout(ctx *graph.Context, x graph.Node) (graph.Node, error) {
	if !ctx.Training() || r.cfg.Dropout == 0 {
		return x, nil
	}
	full := append([]int(nil), x.Shape()...)
	m := ctx.Random(r.Name()+"/dropout_mask", full, dropoutFill(full, []bool{false, true, false}, r.cfg.Dropout))
	return G.HadamardProd(x, m)
}

// emitUnrolled emits the cell's step once per time step and returns the
// output sequence (N, T, H) in processing order (nil without
// return_sequences) and the final states. A masked step carries every
// state over: s = prev + m ⊙ (new − prev).
func (r *rnn) emitUnrolled(ctx *graph.Context, x graph.Node, states []graph.Node, mask graph.Node) (graph.Node, []graph.Node, error) {
	proj, step, err := r.cell.Begin(ctx, r.Name(), x)
	if err != nil {
		return nil, nil, err
	}
	var maskE graph.Node
	if mask != nil {
		if maskE, err = expandMask(ctx, mask, r.Units()); err != nil {
			return nil, nil, err
		}
	}
	steps := x.Shape()[1]
	outs := make([]graph.Node, steps)
	for k := 0; k < steps; k++ {
		t := k
		if r.cfg.GoBackwards {
			t = steps - 1 - k
		}
		xt, err := ops.SliceAxis(proj, 1, t, t+1, true)
		if err != nil {
			return nil, nil, err
		}
		next, err := step(xt, states)
		if err != nil {
			return nil, nil, err
		}
		if maskE != nil {
			if next, err = carryMasked(maskE, t, next, states); err != nil {
				return nil, nil, err
			}
		}
		states = next
		outs[k] = states[0]
	}
	if !r.cfg.ReturnSequences {
		return nil, states, nil
	}
	seq, err := ops.StackTime(outs...)
	return seq, states, err
}

// carryMasked blends the states of step t with the previous ones by the
// step's mask (maskE is (N, T, H)): next = prev + m ⊙ (next − prev).
func carryMasked(maskE graph.Node, t int, next, prev []graph.Node) ([]graph.Node, error) {
	m, err := ops.SliceAxis(maskE, 1, t, t+1, true)
	if err != nil {
		return nil, err
	}
	for i := range next {
		d, err := G.Sub(next[i], prev[i])
		if err != nil {
			return nil, err
		}
		if d, err = G.HadamardProd(m, d); err != nil {
			return nil, err
		}
		if next[i], err = G.Add(prev[i], d); err != nil {
			return nil, err
		}
	}
	return next, nil
}

// expandMask repeats a (N, T) mask H times on a new last axis. The mask
// gets no gradient.
func expandMask(ctx *graph.Context, m graph.Node, h int) (graph.Node, error) {
	m, err := maskInGraph(ctx, m)
	if err != nil {
		return nil, err
	}
	return ops.RepeatLast(m, h)
}

// maskInGraph checks that m is a (N, T) mask and returns it as a node of
// ctx's graph: a constant mask (no graph yet) is put in it.
func maskInGraph(ctx *graph.Context, m graph.Node) (graph.Node, error) {
	if m.Dims() != 2 {
		return nil, errors.Errorf("mask must be (batch, time), got shape %v", m.Shape())
	}
	if m.Graph() == nil {
		m = G.NewConstant(m.Value(), G.In(ctx.Graph()), G.WithName(m.Name()+"#in"))
	}
	return m, nil
}
