package layers

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math/rand/v2"
	"strings"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

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
			if inBias, err = sliceAxis(b, 0, 0, 1, true); err != nil {
				return nil, nil, err
			}
			if sn.recBias, err = sliceAxis(b, 0, 1, 2, true); err != nil {
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
		if sn.uzr, err = sliceAxis(sn.u, 1, 0, 2*r.units, false); err != nil {
			return nil, nil, err
		}
		if sn.uh, err = sliceAxis(sn.u, 1, 2*r.units, 3*r.units, false); err != nil {
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
		xt, err := sliceAxis(xp, 1, t, t+1, true)
		if err != nil {
			return nil, nil, err
		}
		next, err := r.step(&sn, xt, states)
		if err != nil {
			return nil, nil, err
		}
		if maskE != nil {
			m, err := sliceAxis(maskE, 1, t, t+1, true)
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
		if seq, err = stackTime(outs); err != nil {
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
	return sliceAxis(all, 1, steps-1, steps, true)
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
		if out[i], err = sliceAxis(x, 1, i*units, (i+1)*units, false); err != nil {
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

// The rest of this file holds the small tensor ops the recurrent layers, Bidirectional
// and Embedding are built from. Gorgonia's own Slice returns a scalar value
// when the slice has one element (gorgonia#568: batch 1, one feature, one
// time step), and its Concat differentiates through that Slice, so every
// slice, stack and concatenation here is a kerago op whose values are always
// tensors of the inferred shape.

// opHash hashes an op by its WriteHash.
func opHash(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func shapeArg(d G.DimSizer) (tensor.Shape, error) {
	s, ok := d.(tensor.Shape)
	if !ok {
		return nil, errors.Errorf("expected a shape, got %T", d)
	}
	return s.Clone(), nil
}

// denseArg returns a value as a float32 or float64 tensor.
func denseArg(v G.Value, what string) (tensor.Tensor, error) {
	t, ok := v.(tensor.Tensor)
	if !ok {
		return nil, errors.Errorf("%s: expected a tensor, got %T", what, v)
	}
	if t.Dtype() != tensor.Float32 && t.Dtype() != tensor.Float64 {
		return nil, errors.Errorf("%s: dtype %v not supported (float32 or float64)", what, t.Dtype())
	}
	return t, nil
}

func newTensor(dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	return tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
}

// ---------------------------------------------------------------------------
// axisSlice: x[..., start:end, ...] along one axis, optionally dropping the
// axis (end = start+1).

type axisSliceOp struct {
	axis, start, end int
	drop             bool
	dims             int
	dt               tensor.Dtype
}

// sliceAxis returns x[start:end] along axis as one node; with drop the axis
// (of size 1 after slicing) is removed. Its gradient pads with zeros.
func sliceAxis(x graph.Node, axis, start, end int, drop bool) (graph.Node, error) {
	s := x.Shape()
	if axis < 0 || axis >= len(s) || start < 0 || end > s[axis] || start >= end || (drop && end != start+1) {
		return nil, errors.Errorf("slice [%d:%d] of axis %d out of range for shape %v", start, end, axis, s)
	}
	if drop && len(s) < 2 {
		return nil, errors.Errorf("slice of shape %v would be a scalar", s)
	}
	return G.ApplyOp(axisSliceOp{axis: axis, start: start, end: end, drop: drop, dims: len(s), dt: x.Dtype()}, x)
}

func (op axisSliceOp) outDims() int {
	if op.drop {
		return op.dims - 1
	}
	return op.dims
}
func (op axisSliceOp) Arity() int { return 1 }
func (op axisSliceOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: op.dims, Of: op.dt}, G.TensorType{Dims: op.outDims(), Of: op.dt})
}
func (op axisSliceOp) outShape(s tensor.Shape) tensor.Shape {
	out := s.Clone()
	out[op.axis] = op.end - op.start
	if op.drop {
		out = append(out[:op.axis:op.axis], s[op.axis+1:]...)
	}
	return out
}
func (op axisSliceOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeArg(in[0])
	if err != nil {
		return nil, err
	}
	return op.outShape(s), nil
}
func (op axisSliceOp) Do(in ...G.Value) (G.Value, error) {
	x, err := denseArg(in[0], "slice")
	if err != nil {
		return nil, err
	}
	s := x.Shape()
	if len(s) != op.dims || op.end > s[op.axis] {
		return nil, errors.Errorf("slice: input shape %v does not fit %v", s, op)
	}
	out := newTensor(x.Dtype(), op.outShape(s))
	outer, inner := split3(s, op.axis)
	switch xd := x.Data().(type) {
	case []float32:
		copyRange(out.Data().([]float32), xd, outer, s[op.axis], inner, op.start, op.end, false)
	case []float64:
		copyRange(out.Data().([]float64), xd, outer, s[op.axis], inner, op.start, op.end, false)
	}
	return out, nil
}
func (op axisSliceOp) ReturnsPtr() bool     { return false }
func (op axisSliceOp) CallsExtern() bool    { return false }
func (op axisSliceOp) OverwritesInput() int { return -1 }
func (op axisSliceOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.slice.%d.%d.%d.%t.%d.%v", op.axis, op.start, op.end, op.drop, op.dims, op.dt)
}
func (op axisSliceOp) Hashcode() uint32 { return opHash(op) }
func (op axisSliceOp) String() string {
	return fmt.Sprintf("SliceAxis%d[%d:%d]", op.axis, op.start, op.end)
}
func (op axisSliceOp) DiffWRT(int) []bool { return []bool{true} }
func (op axisSliceOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	pad := axisPadOp{slice: op, full: in[0].Shape().Clone()}
	dx, err := G.ApplyOp(pad, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// axisPadOp is axisSlice's gradient: it writes its input into the sliced
// range of a zero tensor of the full shape.
type axisPadOp struct {
	slice axisSliceOp
	full  tensor.Shape
}

func (op axisPadOp) Arity() int { return 1 }
func (op axisPadOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: op.slice.outDims(), Of: op.slice.dt}, G.TensorType{Dims: op.slice.dims, Of: op.slice.dt})
}
func (op axisPadOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.full.Clone(), nil }
func (op axisPadOp) Do(in ...G.Value) (G.Value, error) {
	g, err := denseArg(in[0], "slice gradient")
	if err != nil {
		return nil, err
	}
	if g.Shape().TotalSize() != op.slice.outShape(op.full).TotalSize() {
		return nil, errors.Errorf("slice gradient: got shape %v for a slice of %v", g.Shape(), op.full)
	}
	out := newTensor(g.Dtype(), op.full)
	outer, inner := split3(op.full, op.slice.axis)
	switch gd := g.Data().(type) {
	case []float32:
		copyRange(gd, out.Data().([]float32), outer, op.full[op.slice.axis], inner, op.slice.start, op.slice.end, true)
	case []float64:
		copyRange(gd, out.Data().([]float64), outer, op.full[op.slice.axis], inner, op.slice.start, op.slice.end, true)
	}
	return out, nil
}
func (op axisPadOp) ReturnsPtr() bool     { return false }
func (op axisPadOp) CallsExtern() bool    { return false }
func (op axisPadOp) OverwritesInput() int { return -1 }
func (op axisPadOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.slicepad.%v.", op.full)
	op.slice.WriteHash(h)
}
func (op axisPadOp) Hashcode() uint32   { return opHash(op) }
func (op axisPadOp) String() string     { return "Pad" + op.slice.String() }
func (op axisPadOp) DiffWRT(int) []bool { return []bool{true} }
func (op axisPadOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(op.slice, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// split3 views shape s as (outer, s[axis], inner).
func split3(s tensor.Shape, axis int) (outer, inner int) {
	outer, inner = 1, 1
	for _, d := range s[:axis] {
		outer *= d
	}
	for _, d := range s[axis+1:] {
		inner *= d
	}
	return outer, inner
}

// copyRange copies between a full tensor (outer, n, inner) and its slice
// (outer, end-start, inner): small → full range when toFull, else the
// reverse (full → small, with small = dst).
func copyRange[T float32 | float64](small, full []T, outer, n, inner, start, end int, toFull bool) {
	w := (end - start) * inner
	for o := 0; o < outer; o++ {
		f := full[o*n*inner+start*inner : o*n*inner+end*inner]
		s := small[o*w : (o+1)*w]
		if toFull {
			copy(f, s)
		} else {
			copy(s, f)
		}
	}
}

// ---------------------------------------------------------------------------
// stack: n tensors of shape (N, H…) → (N, n, H…).

type stackOp struct {
	n, dims int // dims of each input
	dt      tensor.Dtype
}

// stackTime stacks per-step outputs (each (N, …)) into (N, T, …).
func stackTime(xs []graph.Node) (graph.Node, error) {
	if len(xs) == 0 {
		return nil, errors.New("stack: no inputs")
	}
	s := xs[0].Shape()
	for _, x := range xs[1:] {
		if !x.Shape().Eq(s) {
			return nil, errors.Errorf("stack: shapes %v and %v differ", s, x.Shape())
		}
	}
	return G.ApplyOp(stackOp{n: len(xs), dims: len(s), dt: xs[0].Dtype()}, xs...)
}

func (op stackOp) Arity() int { return op.n }
func (op stackOp) Type() hm.Type {
	ts := make([]hm.Type, op.n+1)
	for i := 0; i < op.n; i++ {
		ts[i] = G.TensorType{Dims: op.dims, Of: op.dt}
	}
	ts[op.n] = G.TensorType{Dims: op.dims + 1, Of: op.dt}
	return hm.NewFnType(ts...)
}
func (op stackOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeArg(in[0])
	if err != nil {
		return nil, err
	}
	out := tensor.Shape{s[0], op.n}
	return append(out, s[1:]...), nil
}
func (op stackOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != op.n {
		return nil, errors.Errorf("stack: expected %d inputs, got %d", op.n, len(in))
	}
	first, err := denseArg(in[0], "stack")
	if err != nil {
		return nil, err
	}
	s := first.Shape()
	out := newTensor(first.Dtype(), append(tensor.Shape{s[0], op.n}, s[1:]...))
	outer, inner := s[0], s.TotalSize()/s[0]
	for t, v := range in {
		x, err := denseArg(v, "stack")
		if err != nil {
			return nil, err
		}
		if x.Shape().TotalSize() != s.TotalSize() {
			return nil, errors.Errorf("stack: input %d has shape %v, input 0 %v", t, x.Shape(), s)
		}
		switch xd := x.Data().(type) {
		case []float32:
			copyRange(xd, out.Data().([]float32), outer, op.n, inner, t, t+1, true)
		case []float64:
			copyRange(xd, out.Data().([]float64), outer, op.n, inner, t, t+1, true)
		}
	}
	return out, nil
}
func (op stackOp) ReturnsPtr() bool     { return false }
func (op stackOp) CallsExtern() bool    { return false }
func (op stackOp) OverwritesInput() int { return -1 }
func (op stackOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.stack.%d.%d.%v", op.n, op.dims, op.dt)
}
func (op stackOp) Hashcode() uint32 { return opHash(op) }
func (op stackOp) String() string   { return fmt.Sprintf("StackTime(%d)", op.n) }
func (op stackOp) DiffWRT(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = true
	}
	return out
}
func (op stackOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	res := make(G.Nodes, len(in))
	for t := range in {
		g, err := sliceAxis(grad, 1, t, t+1, true)
		if err != nil {
			return nil, err
		}
		res[t] = g
	}
	return res, nil
}

// ---------------------------------------------------------------------------
// concat of two tensors along the last axis.

type concatLastOp struct {
	dims int
	dt   tensor.Dtype
}

// concatLast joins a and b (same shape but for the last axis) on the last axis.
func concatLast(a, b graph.Node) (graph.Node, error) {
	as, bs := a.Shape(), b.Shape()
	if len(as) != len(bs) || len(as) < 1 {
		return nil, errors.Errorf("concatenate: shapes %v and %v", as, bs)
	}
	for i := 0; i < len(as)-1; i++ {
		if as[i] != bs[i] {
			return nil, errors.Errorf("concatenate: shapes %v and %v differ before the last axis", as, bs)
		}
	}
	return G.ApplyOp(concatLastOp{dims: len(as), dt: a.Dtype()}, a, b)
}

func (op concatLastOp) Arity() int { return 2 }
func (op concatLastOp) Type() hm.Type {
	t := G.TensorType{Dims: op.dims, Of: op.dt}
	return hm.NewFnType(t, t, t)
}
func (op concatLastOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	a, err := shapeArg(in[0])
	if err != nil {
		return nil, err
	}
	b, err := shapeArg(in[1])
	if err != nil {
		return nil, err
	}
	a[len(a)-1] += b[len(b)-1]
	return a, nil
}
func (op concatLastOp) Do(in ...G.Value) (G.Value, error) {
	a, err := denseArg(in[0], "concatenate")
	if err != nil {
		return nil, err
	}
	b, err := denseArg(in[1], "concatenate")
	if err != nil {
		return nil, err
	}
	as, bs := a.Shape(), b.Shape()
	ca, cb := as[len(as)-1], bs[len(bs)-1]
	rows := as.TotalSize() / ca
	if bs.TotalSize()/cb != rows {
		return nil, errors.Errorf("concatenate: shapes %v and %v", as, bs)
	}
	os := as.Clone()
	os[len(os)-1] = ca + cb
	out := newTensor(a.Dtype(), os)
	switch ad := a.Data().(type) {
	case []float32:
		concatRows(out.Data().([]float32), ad, b.Data().([]float32), rows, ca, cb)
	case []float64:
		concatRows(out.Data().([]float64), ad, b.Data().([]float64), rows, ca, cb)
	}
	return out, nil
}
func concatRows[T float32 | float64](out, a, b []T, rows, ca, cb int) {
	for r := 0; r < rows; r++ {
		copy(out[r*(ca+cb):], a[r*ca:(r+1)*ca])
		copy(out[r*(ca+cb)+ca:], b[r*cb:(r+1)*cb])
	}
}
func (op concatLastOp) ReturnsPtr() bool     { return false }
func (op concatLastOp) CallsExtern() bool    { return false }
func (op concatLastOp) OverwritesInput() int { return -1 }
func (op concatLastOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.concatlast.%d.%v", op.dims, op.dt)
}
func (op concatLastOp) Hashcode() uint32   { return opHash(op) }
func (op concatLastOp) String() string     { return "ConcatLast" }
func (op concatLastOp) DiffWRT(int) []bool { return []bool{true, true} }
func (op concatLastOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	ca := in[0].Shape()[op.dims-1]
	c := grad.Shape()[op.dims-1]
	da, err := sliceAxis(grad, op.dims-1, 0, ca, false)
	if err != nil {
		return nil, err
	}
	db, err := sliceAxis(grad, op.dims-1, ca, c, false)
	if err != nil {
		return nil, err
	}
	return G.Nodes{da, db}, nil
}

// ---------------------------------------------------------------------------
// reverseTime: x[:, ::-1] for x of shape (N, T, …).

type reverseTimeOp struct {
	dims int
	dt   tensor.Dtype
}

// reverseTime reverses axis 1 (time) of x; its gradient reverses back.
func reverseTime(x graph.Node) (graph.Node, error) {
	if x.Dims() < 2 {
		return nil, errors.Errorf("reverse time: shape %v has no time axis", x.Shape())
	}
	return G.ApplyOp(reverseTimeOp{dims: x.Dims(), dt: x.Dtype()}, x)
}

func (op reverseTimeOp) Arity() int { return 1 }
func (op reverseTimeOp) Type() hm.Type {
	t := G.TensorType{Dims: op.dims, Of: op.dt}
	return hm.NewFnType(t, t)
}
func (op reverseTimeOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeArg(in[0]) }
func (op reverseTimeOp) Do(in ...G.Value) (G.Value, error) {
	x, err := denseArg(in[0], "reverse time")
	if err != nil {
		return nil, err
	}
	s := x.Shape()
	out := newTensor(x.Dtype(), s)
	outer, inner := split3(s, 1)
	switch xd := x.Data().(type) {
	case []float32:
		reverseRows(out.Data().([]float32), xd, outer, s[1], inner)
	case []float64:
		reverseRows(out.Data().([]float64), xd, outer, s[1], inner)
	}
	return out, nil
}
func reverseRows[T float32 | float64](out, x []T, outer, n, inner int) {
	for o := 0; o < outer; o++ {
		for t := 0; t < n; t++ {
			copy(out[(o*n+n-1-t)*inner:(o*n+n-t)*inner], x[(o*n+t)*inner:(o*n+t+1)*inner])
		}
	}
}
func (op reverseTimeOp) ReturnsPtr() bool     { return false }
func (op reverseTimeOp) CallsExtern() bool    { return false }
func (op reverseTimeOp) OverwritesInput() int { return -1 }
func (op reverseTimeOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.reversetime.%d.%v", op.dims, op.dt)
}
func (op reverseTimeOp) Hashcode() uint32   { return opHash(op) }
func (op reverseTimeOp) String() string     { return "ReverseTime" }
func (op reverseTimeOp) DiffWRT(int) []bool { return []bool{true} }
func (op reverseTimeOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(op, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// ---------------------------------------------------------------------------
// maskExpand: a (N, T) mask → (N, T, H), repeated on the new last axis; no
// gradient (masks are data).

type maskExpandOp struct {
	h  int
	dt tensor.Dtype
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
	return G.ApplyOp(maskExpandOp{h: h, dt: m.Dtype()}, m)
}

func (op maskExpandOp) Arity() int { return 1 }
func (op maskExpandOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: 2, Of: op.dt}, G.TensorType{Dims: 3, Of: op.dt})
}
func (op maskExpandOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeArg(in[0])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0], s[1], op.h}, nil
}
func (op maskExpandOp) Do(in ...G.Value) (G.Value, error) {
	m, err := denseArg(in[0], "mask")
	if err != nil {
		return nil, err
	}
	s := m.Shape()
	out := newTensor(m.Dtype(), tensor.Shape{s[0], s[1], op.h})
	switch md := m.Data().(type) {
	case []float32:
		repeatEach(out.Data().([]float32), md, op.h)
	case []float64:
		repeatEach(out.Data().([]float64), md, op.h)
	}
	return out, nil
}
func repeatEach[T float32 | float64](out, m []T, h int) {
	for i, v := range m {
		for j := 0; j < h; j++ {
			out[i*h+j] = v
		}
	}
}
func (op maskExpandOp) ReturnsPtr() bool      { return false }
func (op maskExpandOp) CallsExtern() bool     { return false }
func (op maskExpandOp) OverwritesInput() int  { return -1 }
func (op maskExpandOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "kerago.maskexpand.%d.%v", op.h, op.dt) }
func (op maskExpandOp) Hashcode() uint32      { return opHash(op) }
func (op maskExpandOp) String() string        { return fmt.Sprintf("ExpandMask(%d)", op.h) }
func (op maskExpandOp) DiffWRT(int) []bool    { return []bool{false} }
func (op maskExpandOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return G.Nodes{nil}, nil
}
