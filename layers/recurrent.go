package layers

import (
	"math/rand/v2"
	"strings"

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

type cellKind int

const (
	simpleCell cellKind = 0
	gruCell    cellKind = 1
	lstmCell   cellKind = 2
)

// rnnConfig is the configuration of any recurrent layer: RecurrentConfig
// and the settings only GRU or LSTM has (zero for the others).
type rnnConfig struct {
	RecurrentConfig
	RecurrentActivation string // GRU and LSTM
	ResetAfter          bool   // GRU
	UnitForgetBias      bool   // LSTM
}

// rnn is the machinery SimpleRNN, GRU and LSTM share: configuration,
// weights, shape checks, initial states, dropout masks, masking, the
// unrolled loop and the choice of the fused kernel.
type rnn struct {
	graph.Base
	self   RecurrentLayer // the layer that embeds this rnn
	kind   cellKind
	units  int // cfg.Units
	gates  int // weight column blocks: 1, 3 or 4
	cfg    rnnConfig
	act    ActivationFunc
	recAct ActivationFunc

	kernel    *graph.Weight
	recurrent *graph.Weight
	bias      *graph.Weight
}

// newRNN checks the configuration of a recurrent layer of the given class.
func newRNN(class string, kind cellKind, gates int, cfg rnnConfig) rnn {
	r := rnn{Base: newBase(class, &cfg.LayerConfig), kind: kind, units: cfg.Units, gates: gates}
	if cfg.Units <= 0 {
		r.Fail(errors.Errorf("units must be positive, got %d", cfg.Units))
	}
	act, err := Activation(cfg.Activation)
	r.Fail(err)
	r.act = act
	if kind != simpleCell {
		ra, err := Activation(cfg.RecurrentActivation)
		r.Fail(err)
		r.recAct = ra
	}
	for _, d := range []struct {
		name string
		v    float64
	}{{"dropout", cfg.Dropout}, {"recurrent_dropout", cfg.RecurrentDropout}} {
		if !(d.v >= 0 && d.v < 1) {
			r.Fail(errors.Errorf("%s must be in [0, 1), got %v", d.name, d.v))
		}
	}
	cfg.KernelConfig = cfg.KernelConfig.withDefaults()
	cfg.RecurrentInitializer = orDefault(cfg.RecurrentInitializer, defaultRecurrent().RecurrentInitializer)
	r.cfg = cfg
	switch cfg.Implementation {
	case implAuto, implUnrolled:
	case implFused:
		r.Fail(r.fusedEligible())
	default:
		r.Fail(errors.Errorf("unknown implementation %q; valid implementations: auto, fused, unrolled", cfg.Implementation))
	}
	r.SetInputSpec(graph.InputSpec{NDim: 3, Layout: "batch, time, features"})
	return r
}

// fusedEligible says why the fused kernel cannot run this configuration, or
// nil when it can: GRU or LSTM, activation tanh, recurrent activation
// sigmoid or hard_sigmoid, no recurrent dropout.
func (r *rnn) fusedEligible() error {
	var why []string
	if r.kind == simpleCell {
		return errors.New("implementation \"fused\": SimpleRNN has no fused kernel")
	}
	if r.cfg.Activation != "tanh" {
		why = append(why, "activation tanh (got "+quoteName(r.cfg.Activation)+")")
	}
	if ra := r.cfg.RecurrentActivation; ra != "sigmoid" && ra != "hard_sigmoid" {
		why = append(why, "recurrent activation sigmoid or hard_sigmoid (got "+quoteName(ra)+")")
	}
	if r.cfg.RecurrentDropout != 0 {
		why = append(why, "no recurrent dropout")
	}
	if len(why) > 0 {
		return errors.Errorf("implementation \"fused\" needs %s", strings.Join(why, ", "))
	}
	return nil
}

func quoteName(s string) string { return "\"" + s + "\"" }

// useFused is the one rule that picks the kernel: "fused" and "unrolled"
// are obeyed; "auto" picks the fused kernel whenever fusedEligible allows
// it (and the fused ops are available).
func (r *rnn) useFused() bool {
	switch r.cfg.Implementation {
	case implFused:
		return true
	case implUnrolled:
		return false
	}
	return r.fusedEligible() == nil
}

// Units is the state size.
func (r *rnn) Units() int { return r.units }

// NumStates is the number of states: 2 for LSTM (h and c), 1 otherwise.
func (r *rnn) NumStates() int {
	if r.kind == lstmCell {
		return 2
	}
	return 1
}

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
func (r *rnn) Kernel() *graph.Weight { return r.kernel }

// RecurrentKernel is the (units, gates·units) recurrent weight.
func (r *rnn) RecurrentKernel() *graph.Weight { return r.recurrent }

// Bias is the bias weight, or nil without bias or before build.
func (r *rnn) Bias() *graph.Weight { return r.bias }

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

// biasShape is the bias weight's shape.
func (r *rnn) biasShape() graph.Shape {
	if r.kind == gruCell && r.cfg.ResetAfter {
		return graph.Shape{2, r.gates * r.units}
	}
	return graph.Shape{r.gates * r.units}
}

// Build implements graph.Layer: input (time, features), then optional
// initial states (units) each. The first build fixes the features.
func (r *rnn) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) == 0 {
		return nil, errors.New("expects an input")
	}
	x := in[0]
	if err := checkInitialStates(in[1:], r.NumStates(), r.units); err != nil {
		return nil, err
	}
	if r.kernel == nil {
		gh := r.gates * r.units
		r.kernel = r.AddWeight("kernel", graph.Shape{x[1], gh}, r.cfg.KernelInitializer, r.cfg.KernelRegularizer, true)
		r.recurrent = r.AddWeight("recurrent_kernel", graph.Shape{r.units, gh}, r.cfg.RecurrentInitializer, r.cfg.RecurrentRegularizer, true)
		if r.cfg.UseBias {
			init := r.cfg.BiasInitializer
			if r.kind == lstmCell && r.cfg.UnitForgetBias {
				init = unitForgetBias{inner: init, units: r.units}
			}
			r.bias = r.AddWeight("bias", r.biasShape(), init, r.cfg.BiasRegularizer, true)
		}
		fixInputAxis(&r.Base, -1, x[1])
	}
	var out []graph.Shape
	if r.cfg.ReturnSequences {
		out = append(out, graph.Shape{x[0], r.units})
	} else {
		out = append(out, graph.Shape{r.units})
	}
	if r.cfg.ReturnState {
		for i := 0; i < r.NumStates(); i++ {
			out = append(out, graph.Shape{r.units})
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
	n, steps := xs[0], xs[1]
	if mask != nil && !mask.Shape().Eq(xs[:2]) {
		return nil, errors.Errorf("mask has shape %v, the input (batch, time) is %v", mask.Shape(), xs[:2])
	}
	states := append([]graph.Node(nil), init...)
	if len(states) == 0 {
		zeros := make([]float64, n*r.units)
		for i := 0; i < r.NumStates(); i++ {
			states = append(states, ctx.Const([]int{n, r.units}, zeros))
		}
	}
	if ctx.Training() && r.cfg.Dropout > 0 {
		// One mask per sequence, shared by every time step and every gate
		// (Keras's implementation 2).
		full := []int{n, steps, xs[2]}
		m := ctx.Random(r.Name()+"/dropout_mask", full, dropoutFill(full, []bool{false, true, false}, r.cfg.Dropout))
		var err error
		if x, err = G.HadamardProd(x, m); err != nil {
			return nil, err
		}
	}
	var (
		seq    graph.Node
		finals []graph.Node
		err    error
	)
	if r.useFused() {
		seq, finals, err = r.emitFused(ctx, x, states, mask)
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

// stepNodes are the per-emission nodes a cell step uses.
type stepNodes struct {
	u       graph.Node // recurrent kernel (H, G·H)
	uzr, uh graph.Node // GRU reset-before: U[:, :2H] and U[:, 2H:]
	recBias graph.Node // GRU reset-after: the recurrent bias row (3H)
	recDrop graph.Node // recurrent dropout mask (N, H), or nil
}

// emitUnrolled emits one set of nodes per time step and returns the output
// sequence (N, T, H) in processing order and the final states.
func (r *rnn) emitUnrolled(ctx *graph.Context, x graph.Node, states []graph.Node, mask graph.Node) (graph.Node, []graph.Node, error) {
	xs := x.Shape()
	n, steps, f := xs[0], xs[1], xs[2]
	gh := r.gates * r.units
	k, err := ctx.Weight(r.kernel)
	if err != nil {
		return nil, nil, err
	}
	var sn stepNodes
	if sn.u, err = ctx.Weight(r.recurrent); err != nil {
		return nil, nil, err
	}
	// Input projections of every step in one product.
	x2, err := G.Reshape(x, []int{n * steps, f})
	if err != nil {
		return nil, nil, err
	}
	xp, err := G.Mul(x2, k)
	if err != nil {
		return nil, nil, err
	}
	if r.bias != nil {
		b, err := ctx.Weight(r.bias)
		if err != nil {
			return nil, nil, err
		}
		inBias := b
		if r.kind == gruCell && r.cfg.ResetAfter {
			if inBias, err = ops.SliceAxis(b, 0, 0, 1, true); err != nil {
				return nil, nil, err
			}
			if sn.recBias, err = ops.SliceAxis(b, 0, 1, 2, true); err != nil {
				return nil, nil, err
			}
		}
		if xp, err = ops.BiasAdd(xp, inBias); err != nil {
			return nil, nil, err
		}
	}
	if xp, err = G.Reshape(xp, []int{n, steps, gh}); err != nil {
		return nil, nil, err
	}
	if r.kind == gruCell && !r.cfg.ResetAfter {
		if sn.uzr, err = ops.SliceAxis(sn.u, 1, 0, 2*r.units, false); err != nil {
			return nil, nil, err
		}
		if sn.uh, err = ops.SliceAxis(sn.u, 1, 2*r.units, 3*r.units, false); err != nil {
			return nil, nil, err
		}
	}
	if ctx.Training() && r.cfg.RecurrentDropout > 0 {
		full := []int{n, r.units}
		sn.recDrop = ctx.Random(r.Name()+"/recurrent_dropout_mask", full, dropoutFill(full, []bool{false, false}, r.cfg.RecurrentDropout))
	}
	var maskE graph.Node
	if mask != nil {
		if maskE, err = expandMask(ctx, mask, r.units); err != nil {
			return nil, nil, err
		}
	}
	outs := make([]graph.Node, steps)
	for k := 0; k < steps; k++ {
		t := k
		if r.cfg.GoBackwards {
			t = steps - 1 - k
		}
		xt, err := ops.SliceAxis(xp, 1, t, t+1, true)
		if err != nil {
			return nil, nil, err
		}
		next, err := r.step(&sn, xt, states)
		if err != nil {
			return nil, nil, err
		}
		if maskE != nil {
			m, err := ops.SliceAxis(maskE, 1, t, t+1, true)
			if err != nil {
				return nil, nil, err
			}
			for i := range next {
				// s = prev + m ⊙ (new − prev): the state is carried over
				// masked steps.
				d, err := G.Sub(next[i], states[i])
				if err != nil {
					return nil, nil, err
				}
				if d, err = G.HadamardProd(m, d); err != nil {
					return nil, nil, err
				}
				if next[i], err = G.Add(states[i], d); err != nil {
					return nil, nil, err
				}
			}
		}
		states = next
		outs[k] = states[0]
	}
	var seq graph.Node
	if r.cfg.ReturnSequences {
		if seq, err = ops.StackTime(outs...); err != nil {
			return nil, nil, err
		}
	}
	return seq, states, nil
}

// step computes the next states from the input projection xt (N, G·H, input
// bias included) and the previous states.
func (r *rnn) step(sn *stepNodes, xt graph.Node, states []graph.Node) ([]graph.Node, error) {
	switch r.kind {
	case gruCell:
		return r.stepGRU(sn, xt, states)
	case lstmCell:
		return r.stepLSTM(sn, xt, states)
	}
	return r.stepSimple(sn, xt, states)
}

// emitFused runs the fused op of a GRU or LSTM.
func (r *rnn) emitFused(ctx *graph.Context, x graph.Node, states []graph.Node, mask graph.Node) (graph.Node, []graph.Node, error) {
	if err := r.fusedEligible(); err != nil {
		return nil, nil, err
	}
	switch r.kind {
	case gruCell:
		return r.fusedGRU(ctx, x, states, mask)
	case lstmCell:
		return r.fusedLSTM(ctx, x, states, mask)
	}
	return nil, nil, errors.New("no fused kernel")
}

// weightNodes returns the kernel, recurrent kernel and bias (nil without
// bias) nodes.
func (r *rnn) weightNodes(ctx *graph.Context) (k, u, b graph.Node, err error) {
	if k, err = ctx.Weight(r.kernel); err != nil {
		return
	}
	if u, err = ctx.Weight(r.recurrent); err != nil {
		return
	}
	if r.bias != nil {
		b, err = ctx.Weight(r.bias)
	}
	return
}

// lastStep returns all[:, T-1, :] of a fused op's (N, T, C) result.
func lastStep(all graph.Node) (graph.Node, error) {
	steps := all.Shape()[1]
	return ops.SliceAxis(all, 1, steps-1, steps, true)
}

// recurrentProduct is (h ⊙ recurrent dropout mask) · u.
func recurrentProduct(sn *stepNodes, h, u graph.Node) (graph.Node, error) {
	if sn.recDrop != nil {
		var err error
		if h, err = G.HadamardProd(h, sn.recDrop); err != nil {
			return nil, err
		}
	}
	return G.Mul(h, u)
}

// gateSlices splits (N, G·H) into G blocks of H columns.
func gateSlices(x graph.Node, gates, units int) ([]graph.Node, error) {
	out := make([]graph.Node, gates)
	for i := range out {
		var err error
		if out[i], err = ops.SliceAxis(x, 1, i*units, (i+1)*units, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// unitForgetBias is LSTM's unit_forget_bias initializer: the inner
// initializer on the i, c, o blocks and ones on the forget block.
type unitForgetBias struct {
	inner graph.Initializer
	units int
}

// Fill implements graph.Initializer.
func (u unitForgetBias) Fill(dst []float64, shape graph.Shape, rng *rand.Rand) error {
	h := u.units
	if err := u.inner.Fill(dst[:h], graph.Shape{h}, rng); err != nil {
		return err
	}
	for i := h; i < 2*h; i++ {
		dst[i] = 1
	}
	return u.inner.Fill(dst[2*h:], graph.Shape{2 * h}, rng)
}

// expandMask repeats a (N, T) mask H times on a new last axis. The mask
// gets no gradient. A constant mask (no graph yet) is put in ctx's graph.
func expandMask(ctx *graph.Context, m graph.Node, h int) (graph.Node, error) {
	if m.Dims() != 2 {
		return nil, errors.Errorf("mask must be (batch, time), got shape %v", m.Shape())
	}
	if m.Graph() == nil {
		m = G.NewConstant(m.Value(), G.In(ctx.Graph()), G.WithName(m.Name()+"#in"))
	}
	return ops.RepeatLast(m, h)
}
