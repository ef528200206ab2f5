package ops

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"

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
	op := &fusedRNNKernel{lstm: lstm, spec: spec, gates: 3}
	if lstm {
		op.gates = 4
	}
	name := op.Name()
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
	dt := x.Dtype()
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
		if n.Dtype() != dt {
			return nil, errors.Errorf("%s: %s is %v but x is %v", name, what[i], n.Dtype(), dt)
		}
		if !n.Shape().Eq(want[i]) || n.Dims() != len(want[i]) {
			return nil, errors.Errorf("%s: %s has shape %v, want %v", name, what[i], n.Shape(), want[i])
		}
	}
	if mask != nil {
		op.maskIdx = len(in)
		if mask.Dims() != 2 || !mask.Shape().Eq(tensor.Shape{op.n, op.t}) {
			return nil, errors.Errorf("%s: mask has shape %v, want %v", name, mask.Shape(), tensor.Shape{op.n, op.t})
		}
		in = append(in, mask)
		want = append(want, tensor.Shape{op.n, op.t})
		what = append(what, "mask")
	}
	op.shapes = want
	out, err := Apply(op, in...)
	if err != nil {
		return nil, errors.Wrapf(err, "%s", name)
	}
	return out, nil
}

// fusedRNNKernel is the forward node of FusedGRU and FusedLSTM. Its inputs
// are x, h0, [c0,] kernel, recurrent, [bias,] [mask]. It keeps, in b32 or
// b64, what the backward pass needs: the inputs in processing order, the
// gate activations and the states of every step.
type fusedRNNKernel struct {
	lstm       bool
	spec       RecurrentSpec
	gates      int // 3 (GRU) or 4 (LSTM)
	n, t, f, h int
	biasIdx    int            // input index of the bias, -1 for none
	maskIdx    int            // input index of the mask, -1 for none
	shapes     []tensor.Shape // of each input

	b32 *rnnBufs[float32]
	b64 *rnnBufs[float64]
	// ran is set by a successful forward pass; the backward pass reads the
	// buffers that pass filled.
	ran bool
}

// rnnBufs holds one forward op's per-run working memory, allocated on the
// first run. "Processing order" puts step s (time index T−1−s with
// GoBackwards) in block s; rows within a block are the batch.
type rnnBufs[T Float] struct {
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
	// call and run split a pass's steps over the batch (parallelSteps):
	// run is made once and reads call, so a pass allocates nothing.
	call rnnStepCall[T]
	run  func(b0, b1 int)
}

// rnnStepCall is one pass whose samples parallelSteps splits: the forward
// steps, or with gb the backward ones (with dy and d), of a GRU or an LSTM
// as op says. The steps are called directly: a generic function value
// would be a new closure at every pass.
type rnnStepCall[T Float] struct {
	op  *fusedRNNKernel
	a   *rnnArgs[T]
	out []T
	gb  *rnnGradBufs[T]
	dy  []T
	d   *rnnGrads[T]
}

// parallelSteps runs c's steps for every sample, split over p workers,
// through the buffers' one callback.
func (bufs *rnnBufs[T]) parallelSteps(c rnnStepCall[T], p int) {
	bufs.call = c
	if bufs.run == nil {
		bufs.run = func(b0, b1 int) {
			c := &bufs.call
			switch {
			case c.gb == nil && c.op.lstm:
				lstmSteps(c.op, bufs, c.a, c.out, b0, b1)
			case c.gb == nil:
				gruSteps(c.op, bufs, c.a, c.out, b0, b1)
			case c.op.lstm:
				lstmBackSteps(c.op, bufs, c.gb, c.a, c.dy, c.d, b0, b1)
			default:
				gruBackSteps(c.op, bufs, c.gb, c.a, c.dy, c.d, b0, b1)
			}
		}
	}
	splitRange(c.op.n, p, bufs.run)
	bufs.call = rnnStepCall[T]{}
}

func (op *fusedRNNKernel) outShape() tensor.Shape {
	if op.lstm {
		return tensor.Shape{op.n, op.t, 2 * op.h}
	}
	return tensor.Shape{op.n, op.t, op.h}
}

// Params: the kernel keeps the activations of its last run, so it is
// never merged with another node.
func (op *fusedRNNKernel) Params() []any                              { return []any{Identity(op)} }
func (op *fusedRNNKernel) Shape([]tensor.Shape) (tensor.Shape, error) { return op.outShape(), nil }
func (op *fusedRNNKernel) Name() string {
	if op.lstm {
		return "FusedLSTM"
	}
	return "FusedGRU"
}

// NoGradient: every input but the mask gets one.
func (op *fusedRNNKernel) NoGradient(i int) bool { return i == op.maskIdx }

// Gradient inserts the backward node (all gradients, packed into one
// vector) and one node per differentiable input that takes its gradient
// out.
func (op *fusedRNNKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	bw := &fusedRNNGradKernel{fw: op}
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
	packed, err := Apply(bw, args...)
	if err != nil {
		return nil, errors.Wrapf(err, "%s gradient", op.Name())
	}
	grads := make(G.Nodes, len(in))
	for i := range in {
		if i == op.maskIdx {
			continue
		}
		take := rnnTakeKernel{bw: bw, idx: i, offset: bw.offsets[i], shape: op.shapes[i]}
		if grads[i], err = Apply(take, packed); err != nil {
			return nil, errors.Wrapf(err, "%s gradient", op.Name())
		}
	}
	return grads, nil
}

// Forward runs the forward pass.
func (op *fusedRNNKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	op.ran = false
	if out.Dtype() == tensor.Float32 {
		if op.b32 == nil {
			op.b32 = op.newBufs32()
		}
		rnnForward(op, op.b32, in, out.Float32s())
	} else {
		if op.b64 == nil {
			op.b64 = op.newBufs64()
		}
		rnnForward(op, op.b64, in, out.Float64s())
	}
	op.ran = true
	return nil
}

func (op *fusedRNNKernel) newBufs32() *rnnBufs[float32] {
	b := &rnnBufs[float32]{}
	allocBufs(op, b)
	return b
}

func (op *fusedRNNKernel) newBufs64() *rnnBufs[float64] {
	b := &rnnBufs[float64]{}
	allocBufs(op, b)
	return b
}

func allocBufs[T Float](op *fusedRNNKernel, b *rnnBufs[T]) {
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

// rnnArgs are the input values of one run, as slices, or (rnnGrads) the
// gradients of those inputs.
type rnnArgs[T Float] struct {
	x, h0, c0, w, u, b []T
}

// rnnGrads are the regions of the packed gradient vector, one per input.
type rnnGrads[T Float] = rnnArgs[T]

// inputViews places the slices get returns for each input index in an
// rnnArgs (c0 for LSTM only, the bias when there is one).
func inputViews[T Float](op *fusedRNNKernel, get func(i int) []T) rnnArgs[T] {
	var a rnnArgs[T]
	a.x, a.h0 = get(0), get(1)
	i := 2
	if op.lstm {
		a.c0 = get(2)
		i = 3
	}
	a.w, a.u = get(i), get(i+1)
	if op.biasIdx >= 0 {
		a.b = get(op.biasIdx)
	}
	return a
}

// argsOf extracts the inputs (already checked by checkInputs) and fills
// the keep flags from the mask.
func argsOf[T Float](op *fusedRNNKernel, bufs *rnnBufs[T], in []*tensor.Dense) rnnArgs[T] {
	a := inputViews(op, func(i int) []T { return dataOf[T](in[i]) })
	if op.maskIdx < 0 {
		for j := range bufs.keep {
			bufs.keep[j] = true
		}
		return a
	}
	if m := in[op.maskIdx]; m.Dtype() == tensor.Float32 {
		fillKeep(op, bufs.keep, m.Float32s())
	} else {
		fillKeep(op, bufs.keep, m.Float64s())
	}
	return a
}

// fillKeep sets keep[s·N+n] to whether mask (N, T) lets sample n through
// at processing step s.
func fillKeep[M Float](op *fusedRNNKernel, keep []bool, mask []M) {
	n, t := op.n, op.t
	for s := 0; s < t; s++ {
		ti := op.timeIndex(s)
		for b := 0; b < n; b++ {
			keep[s*n+b] = mask[b*t+ti] != 0
		}
	}
}

// timeIndex is the input time index read at processing step s.
func (op *fusedRNNKernel) timeIndex(s int) int {
	if op.spec.GoBackwards {
		return op.t - 1 - s
	}
	return s
}

// rnnForward runs the forward pass of either cell on dtype T.
func rnnForward[T Float](op *fusedRNNKernel, bufs *rnnBufs[T], in []*tensor.Dense, out []T) {
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
}

// fusedRNNGradKernel computes every gradient of a fusedRNNKernel at once
// from (inputs…, output, dL/doutput), packed into one vector in input order
// (the mask has none). It reads the activations its forward kernel saved.
type fusedRNNGradKernel struct {
	fw      *fusedRNNKernel
	offsets []int // offset of each differentiable input's gradient
	size    int
	g32     *rnnGradBufs[float32]
	g64     *rnnGradBufs[float64]
}

// rnnGradBufs is the backward op's working memory, allocated on first use.
type rnnGradBufs[T Float] struct {
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
	grads   rnnGrads[T] // views of the packed output
}

func (op *fusedRNNGradKernel) Params() []any { return []any{Identity(op)} }
func (op *fusedRNNGradKernel) Name() string  { return op.fw.Name() + "Grad" }
func (op *fusedRNNGradKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if n := in[len(in)-1].TotalSize(); n != op.fw.outShape().TotalSize() {
		return nil, errors.Errorf("%s: output gradient has shape %v, want %v", op.Name(), in[len(in)-1], op.fw.outShape())
	}
	return tensor.Shape{op.size}, nil
}

// Forward runs back-propagation through time into the packed vector.
func (op *fusedRNNGradKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	fw := op.fw
	if !fw.ran {
		return errors.New("the forward pass has not run")
	}
	dy := in[len(in)-1]
	if out.Dtype() == tensor.Float32 {
		if op.g32 == nil {
			op.g32 = newGradBufs[float32](op)
		}
		rnnBackward(op, fw.b32, op.g32, in, dy.Float32s(), out.Float32s())
		return nil
	}
	if op.g64 == nil {
		op.g64 = newGradBufs[float64](op)
	}
	rnnBackward(op, fw.b64, op.g64, in, dy.Float64s(), out.Float64s())
	return nil
}

func newGradBufs[T Float](op *fusedRNNGradKernel) *rnnGradBufs[T] {
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
	return g
}

func rnnBackward[T Float](op *fusedRNNGradKernel, bufs *rnnBufs[T], gb *rnnGradBufs[T], in []*tensor.Dense, dy, p []T) {
	fw := op.fw
	bufs.args = argsOf(fw, bufs, in) // the keep flags are refilled from the same mask
	a := &bufs.args
	d := &gb.grads
	*d = inputViews(fw, func(i int) []T {
		return p[op.offsets[i] : op.offsets[i]+fw.shapes[i].TotalSize()]
	})
	if fw.lstm {
		lstmBackward(fw, bufs, gb, a, dy, d)
	} else {
		gruBackward(fw, bufs, gb, a, dy, d)
	}
	// Weight and input gradients from the stacked gate gradients.
	n, t, f := fw.n, fw.t, fw.f
	gh := fw.gates * fw.h
	rnnGemm(true, false, f, gh, t*n, 1, bufs.xs, f, gb.dg, gh, 0, d.w, gh)
	rnnGemm(false, true, t*n, f, gh, 1, gb.dg, gh, a.w, gh, 0, gb.dxs, f)
	for s := 0; s < t; s++ {
		ti := fw.timeIndex(s)
		for b := 0; b < n; b++ {
			copy(d.x[(b*t+ti)*f:(b*t+ti+1)*f], gb.dxs[(s*n+b)*f:(s*n+b+1)*f])
		}
	}
	if d.b != nil {
		colSums(d.b[:gh], gb.dg, gh)
		if !fw.lstm && fw.spec.ResetAfter {
			colSums(d.b[gh:], gb.dgh, gh)
		}
	}
}

// colSums writes the column sums of the row-major matrix m (c columns).
func colSums[T Float](dst, m []T, c int) {
	clear(dst)
	for r := 0; r+c <= len(m); r += c {
		rnnAdd(dst, m[r:r+c])
	}
}

// rnnAdd sets dst[i] += src[i], vectorised for float32 (blas.Add32).
func rnnAdd[T Float](dst, src []T) {
	var z T
	if unsafe.Sizeof(z) == 4 {
		blas.Add32(blas.As32(dst), blas.As32(src))
		return
	}
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// rnnTakeKernel copies one input's gradient out of the packed vector.
type rnnTakeKernel struct {
	bw     *fusedRNNGradKernel
	idx    int
	offset int
	shape  tensor.Shape
}

func (op rnnTakeKernel) Params() []any { return []any{Identity(op.bw), op.idx} }
func (op rnnTakeKernel) Name() string  { return fmt.Sprintf("%s[%d]", op.bw.Name(), op.idx) }
func (op rnnTakeKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].TotalSize() < op.offset+op.shape.TotalSize() {
		return nil, errors.Errorf("%s: packed gradient of shape %v does not hold %v at %d", op.Name(), in[0], op.shape, op.offset)
	}
	return op.shape, nil
}

func (op rnnTakeKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	size := op.shape.TotalSize()
	if out.Dtype() == tensor.Float32 {
		copy(out.Float32s(), in[0].Float32s()[op.offset:op.offset+size])
	} else {
		copy(out.Float64s(), in[0].Float64s()[op.offset:op.offset+size])
	}
	return nil
}

// rnnMinChunk is the fewest samples a goroutine of the recurrence gets (a
// variable so that tests can exercise the parallel path on small batches).
var rnnMinChunk = 16

// rnnWorkers is how many goroutines share the recurrence of n samples: up
// to GOMAXPROCS, each with at least rnnMinChunk samples.
func rnnWorkers(n int) int {
	return max(1, min(runtime.GOMAXPROCS(0), n/rnnMinChunk))
}

// rnnGemm is C = alpha·op(A)·op(B) + beta·C through graph/blas.
func rnnGemm[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	var z T
	if unsafe.Sizeof(z) == 4 {
		blas.Sgemm(tA, tB, m, n, k, float32(alpha), blas.As32(a), lda, blas.As32(b), ldb, float32(beta), blas.As32(c), ldc)
		return
	}
	blas.Dgemm(tA, tB, m, n, k, float64(alpha), blas.As64(a), lda, blas.As64(b), ldb, float64(beta), blas.As64(c), ldc)
}

// rnnSigmoid applies the gate activation in place.
func rnnSigmoid[T Float](v []T, hard bool) {
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
		blas.Sigmoid32(blas.As32(v))
		return
	}
	for i, x := range v {
		v[i] = T(1 / (1 + math.Exp(-float64(x))))
	}
}

// rnnTanhs applies tanh in place, vectorised for float32 (blas.Tanh32).
func rnnTanhs[T Float](v []T) {
	var z T
	if unsafe.Sizeof(z) == 4 {
		blas.Tanh32(blas.As32(v))
		return
	}
	for i, x := range v {
		v[i] = T(math.Tanh(float64(x)))
	}
}

// rnnDSigmoid is the gate activation's derivative from its output y.
func rnnDSigmoid[T Float](y T, hard bool) T {
	if hard {
		if y > 0 && y < 1 {
			return 0.2
		}
		return 0
	}
	return y * (1 - y)
}
