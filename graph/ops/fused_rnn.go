package ops

import (
	"fmt"
	"hash"
	"math"
	"runtime"
	"sync"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph/blas"
)

// RecurrentSpec configures a fused recurrent op.
type RecurrentSpec struct {
	// Units is the state size H.
	Units int
	// ResetAfter selects GRU's reset-after form (TF2/Keras 3, cuDNN); false
	// is Keras 2.2's reset-before form. Ignored by LSTM.
	ResetAfter bool
	// HardSigmoid makes the gates use Keras 2's hard_sigmoid,
	// clip(0.2x+0.5, 0, 1), instead of the sigmoid.
	HardSigmoid bool
	// GoBackwards reads the sequence from its last step to its first.
	GoBackwards bool
}

// FusedGRU runs a Keras GRU (gate order z, r, h; activation tanh) over a
// whole sequence as one node, with a hand-written backward pass.
//
// x is (N, T, F); h0 (N, H); kernel (F, 3H); recurrent (H, 3H); bias is
// (2, 3H) with ResetAfter (input biases, then recurrent biases), (3H)
// without, or nil for no bias; mask is (N, T) of 0/1 or nil. The result is
// (N, T, H): the state after each step in processing order (with
// GoBackwards, step 0 is the last input step). At a masked step the state
// is carried over unchanged. Gradients flow to x, h0, kernel, recurrent and
// bias; the mask gets none.
//
// Like cuDNN, the op projects the inputs of all time steps with one matrix
// product, then runs one product with the recurrent kernel and one fused
// element-wise pass per step; the gradient is one more node (back-propagation
// through time with batched products) and one small node per input. The
// working buffers belong to the node and are reused on every run, so one
// graph must not be run by two machines at the same time.
func FusedGRU(spec RecurrentSpec, x, h0, kernel, recurrent, bias, mask *G.Node) (*G.Node, error) {
	return newFusedRNN(false, spec, x, h0, nil, kernel, recurrent, bias, mask)
}

// FusedLSTM runs a Keras LSTM (gate order i, f, c, o; activation tanh) over
// a whole sequence as one node, with a hand-written backward pass.
//
// x is (N, T, F); h0 and c0 (N, H); kernel (F, 4H); recurrent (H, 4H); bias
// (4H) or nil; mask (N, T) or nil. The result is (N, T, 2H): for each step
// in processing order, the hidden state h_t followed by the cell state c_t.
// Masked steps carry both states over. Gradients flow to x, h0, c0, kernel,
// recurrent and bias.
//
// The op is built like FusedGRU's (see there).
func FusedLSTM(spec RecurrentSpec, x, h0, c0, kernel, recurrent, bias, mask *G.Node) (*G.Node, error) {
	if c0 == nil {
		return nil, errors.New("fused LSTM: c0 is nil")
	}
	return newFusedRNN(true, spec, x, h0, c0, kernel, recurrent, bias, mask)
}

// newFusedRNN validates the nodes and inserts the forward op.
func newFusedRNN(lstm bool, spec RecurrentSpec, x, h0, c0, kernel, recurrent, bias, mask *G.Node) (*G.Node, error) {
	op := &fusedRNNOp{lstm: lstm, spec: spec, gates: 3}
	if lstm {
		op.gates = 4
	}
	name := op.String()
	if x == nil || h0 == nil || kernel == nil || recurrent == nil {
		return nil, errors.Errorf("%s: x, h0, kernel and recurrent must not be nil", name)
	}
	hu := spec.Units
	if hu <= 0 {
		return nil, errors.Errorf("%s: units must be positive, got %d", name, hu)
	}
	xs := x.Shape()
	if x.Dims() != 3 || xs.TotalSize() == 0 {
		return nil, errors.Errorf("%s: x must be (batch, time, features) with no empty axis, got shape %v", name, xs)
	}
	op.dt = x.Dtype()
	if op.dt != tensor.Float32 && op.dt != tensor.Float64 {
		return nil, errors.Errorf("%s: dtype %v not supported (float32 or float64)", name, op.dt)
	}
	op.n, op.t, op.f, op.h = xs[0], xs[1], xs[2], hu
	gh := op.gates * hu
	in := G.Nodes{x, h0}
	want := []tensor.Shape{{op.n, op.t, op.f}, {op.n, hu}}
	what := []string{"x", "h0"}
	if lstm {
		in = append(in, c0)
		want = append(want, tensor.Shape{op.n, hu})
		what = append(what, "c0")
	}
	in = append(in, kernel, recurrent)
	want = append(want, tensor.Shape{op.f, gh}, tensor.Shape{hu, gh})
	what = append(what, "kernel", "recurrent")
	op.biasIdx, op.maskIdx = -1, -1
	if bias != nil {
		op.biasIdx = len(in)
		in = append(in, bias)
		switch {
		case lstm || !spec.ResetAfter:
			want = append(want, tensor.Shape{gh})
		default:
			want = append(want, tensor.Shape{2, gh})
		}
		what = append(what, "bias")
	}
	for i, n := range in {
		if n.Dtype() != op.dt {
			return nil, errors.Errorf("%s: %s is %v but x is %v", name, what[i], n.Dtype(), op.dt)
		}
		if !n.Shape().Eq(want[i]) || n.Dims() != len(want[i]) {
			return nil, errors.Errorf("%s: %s has shape %v, want %v", name, what[i], n.Shape(), want[i])
		}
	}
	if mask != nil {
		op.maskIdx = len(in)
		op.maskDt = mask.Dtype()
		if op.maskDt != tensor.Float32 && op.maskDt != tensor.Float64 {
			return nil, errors.Errorf("%s: mask dtype %v not supported (float32 or float64)", name, op.maskDt)
		}
		if mask.Dims() != 2 || !mask.Shape().Eq(tensor.Shape{op.n, op.t}) {
			return nil, errors.Errorf("%s: mask has shape %v, want %v", name, mask.Shape(), tensor.Shape{op.n, op.t})
		}
		in = append(in, mask)
		want = append(want, tensor.Shape{op.n, op.t})
		what = append(what, "mask")
	}
	op.shapes, op.names = want, what
	out, err := G.ApplyOp(op, in...)
	if err != nil {
		return nil, errors.Wrapf(err, "%s", name)
	}
	return out, nil
}

// rnnFloat is the element type of the fused recurrent kernels.
type rnnFloat interface{ ~float32 | ~float64 }

// fusedRNNOp is the forward node of FusedGRU and FusedLSTM. Its inputs are
// x, h0, [c0,] kernel, recurrent, [bias,] [mask]. It keeps, in b32 or b64,
// what the backward pass needs: the inputs in processing order, the gate
// activations and the states of every step.
type fusedRNNOp struct {
	lstm       bool
	spec       RecurrentSpec
	dt, maskDt tensor.Dtype
	gates      int // 3 (GRU) or 4 (LSTM)
	n, t, f, h int
	biasIdx    int            // input index of the bias, -1 for none
	maskIdx    int            // input index of the mask, -1 for none
	shapes     []tensor.Shape // of each input
	names      []string       // of each input, for messages

	b32 *rnnBufs[float32]
	b64 *rnnBufs[float64]
	// ran is set by a successful forward pass; the backward pass reads the
	// buffers that pass filled.
	ran bool
}

// rnnBufs holds one forward op's per-run working memory, allocated on the
// first run. "Processing order" puts step s (time index T−1−s with
// GoBackwards) in block s; rows within a block are the batch.
type rnnBufs[T rnnFloat] struct {
	keep  []bool // (T, N): step s of sample n is not masked
	xs    []T    // (T·N, F): the inputs in processing order
	gates []T    // (T·N, G·H): input projections, then gate activations
	hs    []T    // (T+1)·N·H: h0, then the state after each step
	cs    []T    // LSTM: (T+1)·N·H cell states
	aux   []T    // GRU: (T·N, 3H) h_{t-1}·U (+ b_r); LSTM: (T·N, H) tanh(c_t)
	rh    []T    // GRU reset-before: (T·N, H) r ⊙ h_{t-1}
	args  rnnArgs[T]
	// The recurrent kernel, packed once per run for the per-step
	// products: all of U (GRU reset-after, LSTM), or U_z|U_r in pu and
	// U_h in pu2 (GRU reset-before).
	pu, pu2 blas.PackedB[T]
}

func (op *fusedRNNOp) Arity() int { return len(op.shapes) }
func (op *fusedRNNOp) Type() hm.Type {
	ts := make([]hm.Type, 0, len(op.shapes)+1)
	for i, s := range op.shapes {
		dt := op.dt
		if i == op.maskIdx {
			dt = op.maskDt
		}
		ts = append(ts, G.TensorType{Dims: len(s), Of: dt})
	}
	ts = append(ts, G.TensorType{Dims: 3, Of: op.dt})
	return hm.NewFnType(ts...)
}
func (op *fusedRNNOp) outShape() tensor.Shape {
	if op.lstm {
		return tensor.Shape{op.n, op.t, 2 * op.h}
	}
	return tensor.Shape{op.n, op.t, op.h}
}
func (op *fusedRNNOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.outShape(), nil }
func (op *fusedRNNOp) ReturnsPtr() bool                               { return false }
func (op *fusedRNNOp) CallsExtern() bool                              { return false }
func (op *fusedRNNOp) OverwritesInput() int                           { return -1 }
func (op *fusedRNNOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "kerago.%s%p", op, op) }
func (op *fusedRNNOp) Hashcode() uint32                               { return hashOf(op) }
func (op *fusedRNNOp) String() string {
	if op.lstm {
		return "FusedLSTM"
	}
	return "FusedGRU"
}

// DiffWRT: every input but the mask.
func (op *fusedRNNOp) DiffWRT(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = i != op.maskIdx
	}
	return out
}

// SymDiff inserts the backward op (all gradients, packed into one vector)
// and one node per differentiable input that takes its gradient out.
func (op *fusedRNNOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if len(in) != op.Arity() {
		return nil, errors.Errorf("%s: expected %d inputs, got %d", op, op.Arity(), len(in))
	}
	bw := &fusedRNNGradOp{fw: op}
	offset := 0
	for i, s := range op.shapes {
		if i == op.maskIdx {
			continue
		}
		bw.offsets = append(bw.offsets, offset)
		offset += s.TotalSize()
	}
	bw.size = offset
	args := append(append(G.Nodes{}, in...), out, grad)
	packed, err := G.ApplyOp(bw, args...)
	if err != nil {
		return nil, errors.Wrapf(err, "%s gradient", op)
	}
	grads := make(G.Nodes, len(in))
	for i := range in {
		if i == op.maskIdx {
			continue
		}
		take := rnnTakeOp{bw: bw, idx: i, offset: bw.offsets[i], shape: op.shapes[i], dt: op.dt}
		if grads[i], err = G.ApplyOp(take, packed); err != nil {
			return nil, errors.Wrapf(err, "%s gradient", op)
		}
	}
	return grads, nil
}

// Do runs the forward pass.
func (op *fusedRNNOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing the states into prealloc when it is a tensor
// of the output's dtype and shape.
func (op *fusedRNNOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op *fusedRNNOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	op.ran = false
	if err := op.checkInputs(in, len(op.shapes)); err != nil {
		return nil, err
	}
	out := outDense(prealloc, op.dt, op.outShape())
	switch op.dt {
	case tensor.Float32:
		if op.b32 == nil {
			op.b32 = op.newBufs32()
		}
		if err := rnnForward(op, op.b32, in, out.Float32s()); err != nil {
			return nil, err
		}
	default:
		if op.b64 == nil {
			op.b64 = op.newBufs64()
		}
		if err := rnnForward(op, op.b64, in, out.Float64s()); err != nil {
			return nil, err
		}
	}
	op.ran = true
	return out, nil
}

func (op *fusedRNNOp) newBufs32() *rnnBufs[float32] {
	b := &rnnBufs[float32]{}
	allocBufs(op, b)
	return b
}

func (op *fusedRNNOp) newBufs64() *rnnBufs[float64] {
	b := &rnnBufs[float64]{}
	allocBufs(op, b)
	return b
}

func allocBufs[T rnnFloat](op *fusedRNNOp, b *rnnBufs[T]) {
	n, t, f, h := op.n, op.t, op.f, op.h
	b.keep = make([]bool, t*n)
	b.xs = make([]T, t*n*f)
	b.gates = make([]T, t*n*op.gates*h)
	b.hs = make([]T, (t+1)*n*h)
	if op.lstm {
		b.cs = make([]T, (t+1)*n*h)
		b.aux = make([]T, t*n*h)
		return
	}
	b.aux = make([]T, t*n*3*h)
	if !op.spec.ResetAfter {
		b.rh = make([]T, t*n*h)
	}
}

// checkInputs validates the first count input values against the shapes
// and dtypes the node was built with (a value may disagree with its node).
func (op *fusedRNNOp) checkInputs(in []G.Value, count int) error {
	if len(in) < count {
		return errors.Errorf("%s: expected %d inputs, got %d", op, count, len(in))
	}
	for i := 0; i < count; i++ {
		dt := op.dt
		if i == op.maskIdx {
			dt = op.maskDt
		}
		if err := checkDense(op.names[i], in[i], dt, op.shapes[i]); err != nil {
			return errors.Wrapf(err, "%s", op)
		}
	}
	return nil
}

// checkDense checks that v is a contiguous *tensor.Dense of dtype dt and
// shape s (or of s's size when s is nil).
func checkDense(what string, v G.Value, dt tensor.Dtype, s tensor.Shape) error {
	t, ok := v.(*tensor.Dense)
	if !ok {
		return errors.Errorf("%s is %T, want a *tensor.Dense", what, v)
	}
	if t.Dtype() != dt {
		return errors.Errorf("%s is %v, want %v", what, t.Dtype(), dt)
	}
	if s != nil && !t.Shape().Eq(s) {
		return errors.Errorf("%s has shape %v, want %v", what, t.Shape(), s)
	}
	if t.RequiresIterator() {
		return errors.Errorf("%s is a non-contiguous view", what)
	}
	return nil
}

// denseData is the backing slice of a tensor already checked to hold T,
// read without the allocation of Dense.Data.
func denseData[T rnnFloat](v G.Value) []T {
	d := v.(*tensor.Dense)
	var z T
	if unsafe.Sizeof(z) == 4 {
		s := d.Float32s()
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
	}
	s := d.Float64s()
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// rnnArgs are the input values of one run, as slices.
type rnnArgs[T rnnFloat] struct {
	x, h0, c0, w, u, b []T
}

// argsOf extracts the inputs (already checked by checkInputs) and fills
// the keep flags from the mask.
func argsOf[T rnnFloat](op *fusedRNNOp, bufs *rnnBufs[T], in []G.Value) rnnArgs[T] {
	data := func(i int) []T { return denseData[T](in[i]) }
	var a rnnArgs[T]
	a.x, a.h0 = data(0), data(1)
	i := 2
	if op.lstm {
		a.c0 = data(2)
		i = 3
	}
	a.w, a.u = data(i), data(i+1)
	if op.biasIdx >= 0 {
		a.b = data(op.biasIdx)
	}
	if op.maskIdx < 0 {
		for j := range bufs.keep {
			bufs.keep[j] = true
		}
		return a
	}
	if op.maskDt == tensor.Float32 {
		fillKeep(op, bufs.keep, denseData[float32](in[op.maskIdx]))
	} else {
		fillKeep(op, bufs.keep, denseData[float64](in[op.maskIdx]))
	}
	return a
}

// fillKeep sets keep[s·N+n] to whether mask (N, T) lets sample n through
// at processing step s.
func fillKeep[M rnnFloat](op *fusedRNNOp, keep []bool, mask []M) {
	n, t := op.n, op.t
	for s := 0; s < t; s++ {
		ti := op.timeIndex(s)
		for b := 0; b < n; b++ {
			keep[s*n+b] = mask[b*t+ti] != 0
		}
	}
}

// timeIndex is the input time index read at processing step s.
func (op *fusedRNNOp) timeIndex(s int) int {
	if op.spec.GoBackwards {
		return op.t - 1 - s
	}
	return s
}

// rnnForward runs the forward pass of either cell on dtype T.
func rnnForward[T rnnFloat](op *fusedRNNOp, bufs *rnnBufs[T], in []G.Value, out []T) error {
	// The arguments live in bufs, which is on the heap already, so that
	// handing them to the recurrence's goroutines allocates nothing.
	bufs.args = argsOf(op, bufs, in)
	a := &bufs.args
	// The inputs in processing order, projected in one product.
	n, t, f := op.n, op.t, op.f
	gh := op.gates * op.h
	for s := 0; s < t; s++ {
		ti := op.timeIndex(s)
		for b := 0; b < n; b++ {
			copy(bufs.xs[(s*n+b)*f:(s*n+b+1)*f], a.x[(b*t+ti)*f:(b*t+ti+1)*f])
		}
	}
	rnnGemm(false, false, t*n, gh, f, 1, bufs.xs, f, a.w, gh, 0, bufs.gates, gh)
	if a.b != nil {
		bin := a.b[:gh]
		for r := 0; r < t*n; r++ {
			rnnAdd(bufs.gates[r*gh:(r+1)*gh], bin)
		}
	}
	if op.lstm {
		lstmForward(op, bufs, a, out)
	} else {
		gruForward(op, bufs, a, out)
	}
	return nil
}

// fusedRNNGradOp computes every gradient of a fusedRNNOp at once from
// (inputs…, output, dL/doutput), packed into one vector in input order
// (the mask has none). It reads the activations its forward op saved.
type fusedRNNGradOp struct {
	fw      *fusedRNNOp
	offsets []int // offset of each differentiable input's gradient
	size    int
	g32     *rnnGradBufs[float32]
	g64     *rnnGradBufs[float64]
}

// rnnGradBufs is the backward op's working memory, allocated on first use.
type rnnGradBufs[T rnnFloat] struct {
	dg  []T // (T·N, G·H) gradients of the gate pre-activations
	dgh []T // GRU reset-after: (T·N, 3H) gradients of h_{t-1}·U + b_r
	dxs []T // (T·N, F) input gradients in processing order
	dh  []T // (N, H) running gradient of the state
	dhn []T // (N, H) the next one
	dc  []T // LSTM: (N, H) running gradient of the cell
	tmp []T // (N, H)
	// The transposed recurrent kernel packed for the per-step products:
	// all of Uᵀ (GRU reset-after, LSTM), or U_z|U_rᵀ in pt and U_hᵀ in
	// pt2 (GRU reset-before).
	pt, pt2 blas.PackedB[T]
	packed  *tensor.Dense
	grads   rnnGrads[T] // views of packed
}

func (op *fusedRNNGradOp) Arity() int { return op.fw.Arity() + 2 }
func (op *fusedRNNGradOp) Type() hm.Type {
	fn := op.fw.Type().(*hm.FunctionType)
	ts := fn.FlatTypes()
	y := G.TensorType{Dims: 3, Of: op.fw.dt}
	ts = append(ts[:len(ts)-1], y, y, G.TensorType{Dims: 1, Of: op.fw.dt})
	return hm.NewFnType(ts...)
}
func (op *fusedRNNGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.size}, nil
}
func (op *fusedRNNGradOp) ReturnsPtr() bool      { return false }
func (op *fusedRNNGradOp) CallsExtern() bool     { return false }
func (op *fusedRNNGradOp) OverwritesInput() int  { return -1 }
func (op *fusedRNNGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "kerago.%s%p", op, op) }
func (op *fusedRNNGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *fusedRNNGradOp) String() string        { return op.fw.String() + "Grad" }

// DiffWRT: the gradient is not differentiated again.
func (op *fusedRNNGradOp) DiffWRT(n int) []bool { return make([]bool, n) }

// SymDiff is not implemented (no second derivatives).
func (op *fusedRNNGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.Errorf("%s: second derivatives are not implemented", op)
}

// Do runs back-propagation through time. The packed result is the op's own
// buffer, overwritten on every run; the take nodes copy out of it.
func (op *fusedRNNGradOp) Do(in ...G.Value) (G.Value, error) {
	fw := op.fw
	k := fw.Arity()
	if len(in) != k+2 {
		return nil, errors.Errorf("%s: expected %d inputs, got %d", op, k+2, len(in))
	}
	if err := fw.checkInputs(in, k); err != nil {
		return nil, errors.Wrapf(err, "%s", op)
	}
	if !fw.ran {
		return nil, errors.Errorf("%s: the forward pass has not run", op)
	}
	if err := checkDense("output gradient", in[k+1], fw.dt, nil); err != nil {
		return nil, errors.Wrapf(err, "%s", op)
	}
	if n := in[k+1].Shape().TotalSize(); n != fw.outShape().TotalSize() {
		return nil, errors.Errorf("%s: output gradient has shape %v, want %v", op, in[k+1].Shape(), fw.outShape())
	}
	if fw.dt == tensor.Float32 {
		if op.g32 == nil {
			op.g32 = newGradBufs[float32](op)
		}
		rnnBackward(op, fw.b32, op.g32, in, denseData[float32](in[k+1]))
		return op.g32.packed, nil
	}
	if op.g64 == nil {
		op.g64 = newGradBufs[float64](op)
	}
	rnnBackward(op, fw.b64, op.g64, in, denseData[float64](in[k+1]))
	return op.g64.packed, nil
}

func newGradBufs[T rnnFloat](op *fusedRNNGradOp) *rnnGradBufs[T] {
	fw := op.fw
	n, t, f, h := fw.n, fw.t, fw.f, fw.h
	g := &rnnGradBufs[T]{
		dg:  make([]T, t*n*fw.gates*h),
		dxs: make([]T, t*n*f),
		dh:  make([]T, n*h),
		dhn: make([]T, n*h),
		tmp: make([]T, n*h),
	}
	if fw.lstm {
		g.dc = make([]T, n*h)
	} else if fw.spec.ResetAfter {
		g.dgh = make([]T, t*n*3*h)
	}
	g.packed = tensor.New(tensor.WithShape(op.size), tensor.WithBacking(make([]T, op.size)))
	return g
}

// rnnGrads are the regions of the packed gradient vector.
type rnnGrads[T rnnFloat] struct {
	dx, dh0, dc0, dw, du, db []T
}

func rnnBackward[T rnnFloat](op *fusedRNNGradOp, bufs *rnnBufs[T], gb *rnnGradBufs[T], in []G.Value, dy []T) {
	fw := op.fw
	bufs.args = argsOf(fw, bufs, in) // the keep flags are refilled from the same mask
	a := &bufs.args
	p := denseData[T](gb.packed)
	region := func(i int) []T {
		return p[op.offsets[i] : op.offsets[i]+fw.shapes[i].TotalSize()]
	}
	d := &gb.grads
	*d = rnnGrads[T]{}
	d.dx, d.dh0 = region(0), region(1)
	i := 2
	if fw.lstm {
		d.dc0 = region(2)
		i = 3
	}
	d.dw, d.du = region(i), region(i+1)
	if fw.biasIdx >= 0 {
		d.db = region(fw.biasIdx)
	}
	if fw.lstm {
		lstmBackward(fw, bufs, gb, a, dy, d)
	} else {
		gruBackward(fw, bufs, gb, a, dy, d)
	}
	// Weight and input gradients from the stacked gate gradients.
	n, t, f := fw.n, fw.t, fw.f
	gh := fw.gates * fw.h
	rnnGemm(true, false, f, gh, t*n, 1, bufs.xs, f, gb.dg, gh, 0, d.dw, gh)
	rnnGemm(false, true, t*n, f, gh, 1, gb.dg, gh, a.w, gh, 0, gb.dxs, f)
	for s := 0; s < t; s++ {
		ti := fw.timeIndex(s)
		for b := 0; b < n; b++ {
			copy(d.dx[(b*t+ti)*f:(b*t+ti+1)*f], gb.dxs[(s*n+b)*f:(s*n+b+1)*f])
		}
	}
	if d.db != nil {
		colSums(d.db[:gh], gb.dg, gh)
		if !fw.lstm && fw.spec.ResetAfter {
			colSums(d.db[gh:], gb.dgh, gh)
		}
	}
}

// colSums writes the column sums of the row-major matrix m (c columns).
func colSums[T rnnFloat](dst, m []T, c int) {
	clear(dst)
	for r := 0; r+c <= len(m); r += c {
		rnnAdd(dst, m[r:r+c])
	}
}

// rnnAdd sets dst[i] += src[i], vectorised for float32 (blas.Add32).
func rnnAdd[T rnnFloat](dst, src []T) {
	var z T
	if unsafe.Sizeof(z) == 4 {
		blas.Add32(rnnAs32(dst), rnnAs32(src))
		return
	}
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// rnnTakeOp copies one input's gradient out of the packed vector.
type rnnTakeOp struct {
	bw     *fusedRNNGradOp
	idx    int
	offset int
	shape  tensor.Shape
	dt     tensor.Dtype
}

func (op rnnTakeOp) Arity() int { return 1 }
func (op rnnTakeOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: 1, Of: op.dt}, G.TensorType{Dims: len(op.shape), Of: op.dt})
}
func (op rnnTakeOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op rnnTakeOp) ReturnsPtr() bool                               { return false }
func (op rnnTakeOp) CallsExtern() bool                              { return false }
func (op rnnTakeOp) OverwritesInput() int                           { return -1 }
func (op rnnTakeOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "kerago.rnntake%p.%d", op.bw, op.idx) }
func (op rnnTakeOp) Hashcode() uint32                               { return hashOf(op) }
func (op rnnTakeOp) String() string                                 { return fmt.Sprintf("%s[%d]", op.bw, op.idx) }

// DiffWRT: not differentiated again.
func (op rnnTakeOp) DiffWRT(n int) []bool { return make([]bool, n) }

// SymDiff is not implemented (no second derivatives).
func (op rnnTakeOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.Errorf("%s: second derivatives are not implemented", op)
}

func (op rnnTakeOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// gradient's dtype and shape.
func (op rnnTakeOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op rnnTakeOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("%s: expected 1 input, got %d", op, len(in))
	}
	if err := checkDense("packed gradient", in[0], op.dt, nil); err != nil {
		return nil, errors.Wrapf(err, "%s", op)
	}
	size := op.shape.TotalSize()
	if in[0].Shape().TotalSize() < op.offset+size {
		return nil, errors.Errorf("%s: packed gradient of shape %v does not hold %v at %d", op, in[0].Shape(), op.shape, op.offset)
	}
	out := outDense(prealloc, op.dt, op.shape)
	if op.dt == tensor.Float32 {
		copy(out.Float32s(), denseData[float32](in[0])[op.offset:op.offset+size])
	} else {
		copy(out.Float64s(), denseData[float64](in[0])[op.offset:op.offset+size])
	}
	return out, nil
}

// rnnMinChunk is the fewest samples a goroutine of the recurrence gets (a
// variable so that tests can exercise the parallel path on small batches).
var rnnMinChunk = 16

// rnnWorkers is how many goroutines share the recurrence of n samples: up
// to GOMAXPROCS, each with at least rnnMinChunk samples.
func rnnWorkers(n int) int {
	return max(1, min(runtime.GOMAXPROCS(0), n/rnnMinChunk))
}

// rnnChunks calls f on p contiguous ranges [b0, b1) covering [0, n), in
// parallel. The samples of a batch evolve independently through the whole
// sequence, so each range runs all its steps without synchronising with
// the others.
func rnnChunks(n, p int, f func(b0, b1 int)) {
	var wg sync.WaitGroup
	wg.Add(p - 1)
	for i := 1; i < p; i++ {
		go func(b0, b1 int) {
			defer wg.Done()
			f(b0, b1)
		}(i*n/p, (i+1)*n/p)
	}
	f(0, n/p)
	wg.Wait()
}

// rnnGemm is C = alpha·op(A)·op(B) + beta·C through graph/blas.
func rnnGemm[T rnnFloat](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	var z T
	if unsafe.Sizeof(z) == 4 {
		blas.Sgemm(tA, tB, m, n, k, float32(alpha), rnnAs32(a), lda, rnnAs32(b), ldb, float32(beta), rnnAs32(c), ldc)
		return
	}
	blas.Dgemm(tA, tB, m, n, k, float64(alpha), rnnAs64(a), lda, rnnAs64(b), ldb, float64(beta), rnnAs64(c), ldc)
}

func rnnAs32[T rnnFloat](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func rnnAs64[T rnnFloat](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// rnnSigmoid applies the gate activation in place.
func rnnSigmoid[T rnnFloat](v []T, hard bool) {
	if hard {
		for i, x := range v {
			y := 0.2*x + 0.5
			if y < 0 {
				y = 0
			} else if y > 1 {
				y = 1
			}
			v[i] = y
		}
		return
	}
	var z T
	if unsafe.Sizeof(z) == 4 {
		blas.Sigmoid32(rnnAs32(v))
		return
	}
	for i, x := range v {
		v[i] = T(1 / (1 + math.Exp(-float64(x))))
	}
}

// rnnTanhs applies tanh in place, vectorised for float32 (blas.Tanh32).
func rnnTanhs[T rnnFloat](v []T) {
	var z T
	if unsafe.Sizeof(z) == 4 {
		blas.Tanh32(rnnAs32(v))
		return
	}
	for i, x := range v {
		v[i] = T(math.Tanh(float64(x)))
	}
}

// rnnDSigmoid is the gate activation's derivative from its output y.
func rnnDSigmoid[T rnnFloat](y T, hard bool) T {
	if hard {
		if y > 0 && y < 1 {
			return 0.2
		}
		return 0
	}
	return y * (1 - y)
}

// exp32 is e^x in float32 arithmetic (Cephes expf: x = k·ln2 + r with
// |r| ≤ ln2/2, a polynomial for e^r, 2^k from the exponent bits), within
// 2 ulp of the true value and several times faster than math.Exp, which
// matters because the gates dominate a GRU's element-wise work. Arguments
// are clamped to [−87, 88], where e^x stays a normal float32.
func exp32(x float32) float32 {
	if x < -87 {
		x = -87
	}
	if x > 88 {
		x = 88
	}
	// t's low mantissa bits hold round(x·log2 e) after adding 1.5·2^23.
	t := x*1.44269504088896341 + 12582912
	kf := t - 12582912
	r := x - kf*0.693359375 + kf*2.12194440e-4
	p := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	return (p*r*r + r + 1) * math.Float32frombits((math.Float32bits(t)-0x4B400000+127)<<23)
}

// tanh32 is tanh in float32 arithmetic (Cephes tanhf): an odd polynomial
// for |x| < 0.625, 1 − 2/(e^{2|x|} + 1) beyond.
func tanh32(x float32) float32 {
	a := x
	if a < 0 {
		a = -a
	}
	if a < 0.625 {
		z := x * x
		return ((((-5.70498872745e-3*z+2.06390887954e-2)*z-5.37397155531e-2)*z+1.33314422036e-1)*z-3.33332819422e-1)*z*x + x
	}
	a = 1 - 2/(exp32(2*a)+1)
	if x < 0 {
		return -a
	}
	return a
}
