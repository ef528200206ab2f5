package ops

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"unsafe"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph/blas"
)

// ConvSpec is the geometry of a convolution, as Keras's Conv layers take it.
type ConvSpec struct {
	// Strides holds one value for every spatial axis, or one per axis; nil
	// means 1.
	Strides []int
	// Dilation holds the dilation rate the same way; nil means 1.
	Dilation []int
	// Padding is "valid" (the default when empty), "same" (TensorFlow's
	// SAME: output size ceil(n/stride), the odd padding cell at the end) or,
	// for Conv1D only, "causal" (all padding at the start, (k-1)·dilation
	// cells). Padding cells are zeros.
	Padding string
}

// ConvOutputLength returns the output size of one spatial axis of a
// convolution over n cells with a kernel of k cells, as Keras and TensorFlow
// compute it, and how many zero cells pad the input before and after:
//
//	dk = (k-1)·dilation + 1
//	valid:  out = ceil((n-dk+1)/stride), no padding
//	same:   out = ceil(n/stride), total = max(0, (out-1)·stride + dk - n),
//	        before = total/2, after = total - before
//	causal: out = ceil(n/stride), before = dk-1, after = 0
//
// An unknown padding, a non-positive size, or an output size below 1 is an
// error.
func ConvOutputLength(n, k, stride, dilation int, padding string) (out, before, after int, err error) {
	if n < 1 || k < 1 || stride < 1 || dilation < 1 {
		return 0, 0, 0, errors.Errorf("convolution: input size %d, kernel size %d, stride %d and dilation %d must all be positive", n, k, stride, dilation)
	}
	dk := (k-1)*dilation + 1
	switch padding {
	case "valid", "":
		if n-dk+1 < 1 {
			return 0, 0, 0, errors.Errorf("convolution: with padding \"valid\" the kernel (size %d, %d with dilation %d) is larger than the input (size %d): the output size would be %d", k, dk, dilation, n, n-dk+1)
		}
		return (n - dk + stride) / stride, 0, 0, nil
	case "same":
		out = (n + stride - 1) / stride
		total := max(0, (out-1)*stride+dk-n)
		return out, total / 2, total - total/2, nil
	case "causal":
		return (n + stride - 1) / stride, dk - 1, 0, nil
	}
	return 0, 0, 0, errors.Errorf("convolution: padding must be one of \"valid\", \"same\", \"causal\" (got %q)", padding)
}

// Conv2D is Keras's channels-last 2-D convolution (TensorFlow's conv2d, a
// cross-correlation: the kernel is not flipped) as one node: x is
// (N, H, W, Cin), kernel (kh, kw, Cin, Cout), the result (N, Hout, Wout,
// Cout) with the sizes of ConvOutputLength. Padding is "valid" or "same".
// Its gradients are two more nodes, one for x and one for the kernel; all
// three are computed by im2col and one matrix product per block of samples.
func Conv2D(x, kernel *G.Node, spec ConvSpec) (*G.Node, error) {
	return Conv2DBiasAct(x, kernel, nil, spec, ActLinear)
}

// Conv1D is Keras's channels-last 1-D convolution as one node: x is (N, L,
// Cin), kernel (k, Cin, Cout), the result (N, Lout, Cout). Padding is
// "valid", "same" or "causal". It shares Conv2D's implementation (a 1-D
// convolution is a 2-D one of height 1).
func Conv1D(x, kernel *G.Node, spec ConvSpec) (*G.Node, error) {
	return Conv1DBiasAct(x, kernel, nil, spec, ActLinear)
}

// Conv2DBiasAct is act(Conv2D(x, kernel) + bias) as one node: the bias (shape
// (filters,), or nil for none) and the activation are applied to each block
// of the convolution's output right after its matrix product, while it is in
// cache, instead of by two more passes over the output. Its gradients are a
// node for the activation's derivative (none when act is ActLinear) and one
// each for x, the kernel and the bias.
func Conv2DBiasAct(x, kernel, bias *G.Node, spec ConvSpec, act Act) (*G.Node, error) {
	return applyConvRank(2, x, kernel, bias, spec, act)
}

// Conv1DBiasAct is act(Conv1D(x, kernel) + bias) as one node, as
// Conv2DBiasAct.
func Conv1DBiasAct(x, kernel, bias *G.Node, spec ConvSpec, act Act) (*G.Node, error) {
	return applyConvRank(1, x, kernel, bias, spec, act)
}

// convRankNames describe the input and kernel layouts of each rank.
var convRankNames = [...]struct{ op, input, kernel, causal string }{
	1: {"conv1d", "3-D (batch, steps, channels)", "3-D (size, in channels, filters)", ""},
	2: {"conv2d", "4-D (batch, height, width, channels)", "4-D (height, width, in channels, filters)",
		"padding must be one of \"valid\", \"same\" (\"causal\" is for 1-D convolutions only)"},
}

// applyConvRank checks the layouts of a rank-1 or rank-2 convolution and
// applies it.
func applyConvRank(rank int, x, kernel, bias *G.Node, spec ConvSpec, act Act) (*G.Node, error) {
	names := convRankNames[rank]
	xs, ks := x.Shape(), kernel.Shape()
	if len(xs) != rank+2 {
		return nil, errors.Errorf("%s: input must be %s, got shape %v", names.op, names.input, xs)
	}
	if len(ks) != rank+2 {
		return nil, errors.Errorf("%s: kernel must be %s, got shape %v", names.op, names.kernel, ks)
	}
	if spec.Padding == "causal" && names.causal != "" {
		return nil, errors.Errorf("%s: %s", names.op, names.causal)
	}
	g, err := newConvGeom(rank, xs, ks, spec)
	if err != nil {
		return nil, errors.Wrap(err, names.op)
	}
	return applyConvBiasAct(g, x, kernel, bias, act)
}

// Dense is act(x·kernel + bias) as one node, x being (N, in), kernel (in,
// units) and bias (units,) or nil: a matrix product through graph/blas
// whose output pass adds the bias and applies the activation. Its
// gradients are, as Conv2DBiasAct's, dz = act'·dy (a node only when act is
// not ActLinear), dx = dz·kernelᵀ, dkernel = xᵀ·dz and dbias = Σ_rows dz.
// Every node reuses its previous output.
func Dense(x, kernel, bias *G.Node, act Act) (*G.Node, error) {
	xs, ks := x.Shape(), kernel.Shape()
	if len(xs) != 2 || len(ks) != 2 || xs[1] != ks[0] || xs[0] < 1 || ks[0] < 1 || ks[1] < 1 {
		return nil, errors.Errorf("dense: input %v and kernel %v must be (N, in) and (in, units)", xs, ks)
	}
	g := convGeom{rank: 0, n: xs[0], c: xs[1], f: ks[1], h: 1, w: 1, kh: 1, kw: 1,
		sh: 1, sw: 1, dh: 1, dw: 1, oh: 1, ow: 1}
	return applyConvBiasAct(g, x, kernel, bias, act)
}

func applyConvBiasAct(g convGeom, x, kernel, bias *G.Node, act Act) (*G.Node, error) {
	if !act.valid() {
		return nil, errors.Errorf("%s: unknown activation %v", g.name(), act)
	}
	if kernel.Dtype() != x.Dtype() {
		return nil, errors.Errorf("%s: input is %v but kernel is %v", g.name(), x.Dtype(), kernel.Dtype())
	}
	if bias != nil && bias.Dtype() != x.Dtype() {
		return nil, errors.Errorf("%s: input, kernel and bias dtypes differ", g.name())
	}
	k := convKernel{g: g, kind: convForward, bias: bias != nil, act: act}
	if bias == nil {
		return Apply(k, x, kernel)
	}
	return Apply(k, x, kernel, bias)
}

// convGeom is a convolution's full geometry. A 1-D convolution (rank 1) is
// stored as a 2-D one with h = kh = sh = dh = 1 and no vertical padding:
// its tensors have the same memory layout.
type convGeom struct {
	rank           int
	n, h, w, c     int
	kh, kw, f      int
	sh, sw, dh, dw int
	pt, pb, pl, pr int
	oh, ow         int
}

func (g convGeom) name() string {
	if g.rank == 0 {
		return "dense"
	}
	return fmt.Sprintf("conv%dd", g.rank)
}

// PerAxis expands a size option (kernel size, pool size, strides,
// dilation) to one value per spatial axis, as Keras's conv and pooling
// arguments do: none means 1 everywhere, one value applies to every axis,
// otherwise there must be one per axis. Every value must be positive;
// errors name the option (what) and the values.
func PerAxis(what string, v []int, n int) ([]int, error) {
	out := make([]int, n)
	switch len(v) {
	case 0:
		for i := range out {
			out[i] = 1
		}
	case 1:
		for i := range out {
			out[i] = v[0]
		}
	case n:
		copy(out, v)
	default:
		if n == 1 {
			return nil, errors.Errorf("%s takes 1 value, got %v", what, v)
		}
		return nil, errors.Errorf("%s takes 1 or %d values, got %v", what, n, v)
	}
	for _, x := range out {
		if x <= 0 {
			return nil, errors.Errorf("%s must be positive, got %v", what, v)
		}
	}
	return out, nil
}

func newConvGeom(rank int, xs, ks tensor.Shape, spec ConvSpec) (convGeom, error) {
	pad := strings.ToLower(spec.Padding)
	if pad == "" {
		pad = "valid"
	}
	if pad != "valid" && pad != "same" && !(pad == "causal" && rank == 1) {
		valid := `"valid", "same"`
		if rank == 1 {
			valid += `, "causal"`
		}
		return convGeom{}, errors.Errorf("padding must be one of %s (got %q)", valid, spec.Padding)
	}
	strides, err := PerAxis("strides", spec.Strides, rank)
	if err != nil {
		return convGeom{}, err
	}
	dil, err := PerAxis("dilation", spec.Dilation, rank)
	if err != nil {
		return convGeom{}, err
	}
	for _, d := range xs {
		if d < 1 {
			return convGeom{}, errors.Errorf("input shape %v has an empty axis", xs)
		}
	}
	for _, d := range ks {
		if d < 1 {
			return convGeom{}, errors.Errorf("kernel shape %v has an empty axis", ks)
		}
	}
	if ks[rank] != xs[rank+1] {
		return convGeom{}, errors.Errorf("kernel shape %v expects %d input channels, the input %v has %d", ks, ks[rank], xs, xs[rank+1])
	}
	g := convGeom{rank: rank, n: xs[0], c: xs[rank+1], f: ks[rank+1],
		h: 1, kh: 1, sh: 1, dh: 1}
	if rank == 2 {
		g.h, g.kh, g.sh, g.dh = xs[1], ks[0], strides[0], dil[0]
		if g.oh, g.pt, g.pb, err = ConvOutputLength(g.h, g.kh, g.sh, g.dh, pad); err != nil {
			return convGeom{}, errors.Wrap(err, "height")
		}
	} else {
		g.oh = 1
	}
	g.w, g.kw, g.sw, g.dw = xs[rank], ks[rank-1], strides[rank-1], dil[rank-1]
	if g.ow, g.pl, g.pr, err = ConvOutputLength(g.w, g.kw, g.sw, g.dw, pad); err != nil {
		if rank == 2 {
			return convGeom{}, errors.Wrap(err, "width")
		}
		return convGeom{}, err
	}
	return g, nil
}

// shape is (lead, spatial axes of rank, last...): the layout of the
// convolution's tensors, with the spatial sizes h and w (rank 2), w (rank
// 1) or none (rank 0, a dense product).
func (g convGeom) shape(lead, h, w int, last ...int) tensor.Shape {
	s := tensor.Shape{lead}
	switch g.rank {
	case 1:
		s = append(s, w)
	case 2:
		s = append(s, h, w)
	}
	return append(s, last...)
}

func (g convGeom) xShape() tensor.Shape { return g.shape(g.n, g.h, g.w, g.c) }
func (g convGeom) yShape() tensor.Shape { return g.shape(g.n, g.oh, g.ow, g.f) }

func (g convGeom) kShape() tensor.Shape {
	k := g.shape(0, g.kh, g.kw, g.c, g.f)
	return k[1:]
}

// kkc is the length of one im2col row: the receptive field times the input
// channels, also the number of kernel rows.
func (g convGeom) kkc() int { return g.kh * g.kw * g.c }

// direct reports whether the input is its own im2col matrix (a 1×1 kernel,
// stride 1, no padding).
func (g convGeom) direct() bool {
	return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt+g.pb+g.pl+g.pr == 0
}

// maxColElems bounds the im2col scratch of the input gradient (elements):
// its products take fewer samples at a time when theirs would not fit, at
// least one.
var maxColElems = 1 << 22

// convKind says which of the three convolution computations an op does.
type convKind int

const (
	convForward   convKind = iota // (x, kernel) → y
	convGradInput                 // (kernel, dy) → dx
	convGradKern                  // (x, dy) → dkernel
)

var convKindNames = [...]string{"Conv", "ConvGradInput", "ConvGradKernel"}

// convKernel is the forward convolution or one of its two gradients. A
// convolution of rank 0 is a dense layer's matrix product. The forward
// kernel may take a bias as third input and apply an activation (bias and
// act).
type convKernel struct {
	g    convGeom
	kind convKind
	bias bool
	act  Act
}

func (k convKernel) Params() []any { return []any{k.kind, k.g, k.bias, k.act} }

func (k convKernel) Name() string {
	g := k.g
	if g.rank == 0 {
		return fmt.Sprintf("Dense%s(%d→%d bias=%t act=%v)", strings.TrimPrefix(convKindNames[k.kind], "Conv"), g.c, g.f, k.bias, k.act)
	}
	return fmt.Sprintf("%s%dD(k=%dx%d s=%dx%d d=%dx%d pad=%d,%d,%d,%d)", convKindNames[k.kind], g.rank,
		g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pb, g.pl, g.pr)
}

// shapes returns the expected input shapes and the output shape.
func (k convKernel) shapes() (a, b, out tensor.Shape) {
	switch k.kind {
	case convGradInput:
		return k.g.kShape(), k.g.yShape(), k.g.xShape()
	case convGradKern:
		return k.g.xShape(), k.g.yShape(), k.g.kShape()
	}
	return k.g.xShape(), k.g.kShape(), k.g.yShape()
}

func (k convKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	a, b, out := k.shapes()
	want := []tensor.Shape{a, b}
	if k.bias {
		want = append(want, tensor.Shape{k.g.f})
	}
	if len(in) != len(want) {
		return nil, errors.Errorf("%s: expected %d inputs, got %d", k.Name(), len(want), len(in))
	}
	for i, want := range want {
		if !in[i].Eq(want) {
			if i == 2 {
				return nil, errors.Errorf("%s: bias shape %v, expected (%d)", k.g.name(), in[i], k.g.f)
			}
			return nil, errors.Errorf("%s: input %d has shape %v, expected %v", k.Name(), i, in[i], want)
		}
	}
	return out, nil
}

func (k convKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		var bias []float32
		if k.bias {
			bias = in[2].Float32s()
		}
		runConv(k.g, k.kind, in[0].Float32s(), in[1].Float32s(), out.Float32s(), bias, k.act)
		return nil
	}
	var bias []float64
	if k.bias {
		bias = in[2].Float64s()
	}
	runConv(k.g, k.kind, in[0].Float64s(), in[1].Float64s(), out.Float64s(), bias, k.act)
	return nil
}

// NoGradient: the gradient kernels are not differentiated again.
func (k convKernel) NoGradient(int) bool { return k.kind != convForward }

// Gradient returns the gradient nodes: dx from (kernel, dz) and dkernel
// from (x, dz), and with a bias dbias = Σ dz over all but the last axis,
// where dz = act'(y)·dy (dy itself for ActLinear).
func (k convKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if k.kind != convForward {
		return nil, errors.Errorf("%s: second derivatives are not implemented", k.Name())
	}
	var err error
	if k.act != ActLinear && !(k.act == ActReLU && reluMaskedPoolGrad(out, grad)) {
		if grad, err = Apply(actGradKernel{act: k.act}, out, grad); err != nil {
			return nil, err
		}
	}
	dx, err := Apply(convKernel{g: k.g, kind: convGradInput}, in[1], grad)
	if err != nil {
		return nil, err
	}
	dk, err := Apply(convKernel{g: k.g, kind: convGradKern}, in[0], grad)
	if err != nil {
		return nil, err
	}
	if !k.bias {
		return G.Nodes{dx, dk}, nil
	}
	db, err := Apply(sumToLastKernel{}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dk, db}, nil
}

// gemm is C = op(A)·op(B) + beta·C through graph/blas.
func convGemm[T Float](tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		blas.Sgemm(tA, tB, m, n, k, 1, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blas.Dgemm(tA, tB, m, n, k, 1, a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

var convScratch blas.Pools

// convGetScratch returns a pooled buffer of n elements (contents undefined);
// convPutScratch gives it back.
func convGetScratch[T Float](n int) *[]T {
	if v := blas.PoolFor[T](&convScratch).Get(); v != nil {
		b := v.(*[]T)
		if cap(*b) >= n {
			*b = (*b)[:n]
			return b
		}
	}
	b := make([]T, n)
	return &b
}

func convPutScratch[T Float](b *[]T) { blas.PoolFor[T](&convScratch).Put(b) }

// runConv computes one of the three convolution functions, overwriting
// every element of out (its contents on entry do not matter).
//
//	forward:    y  = im2col(x)·K
//	grad input: dx = col2im(dy·Kᵀ)                per block of samples
//	grad kern:  dK = im2col(x)ᵀ·dy
//
// The forward pass applies bias (nil: none) and act to each block of out
// as soon as the product has computed it. The forward and kernel-gradient
// products never store the im2col matrix: blas.GemmFuncPacked asks for it
// one cache block at a time, packed straight into the micro-kernel's layout
// where every kernel position of the block is inside the input
// (convPackRows, convPackCols), else as plain rows (convFill).
func runConv[T Float](g convGeom, kind convKind, a, b, out []T, bias []T, act Act) {
	kkc := g.kkc()
	if g.direct() {
		m := g.n * g.oh * g.ow
		switch kind {
		case convForward:
			convGemm(false, false, m, g.f, kkc, a, kkc, b, g.f, 0, out, g.f)
			biasAct(out[:m*g.f], bias, g.f, act)
		case convGradInput:
			convGemm(false, true, m, kkc, g.f, b, g.f, a, g.f, 0, out, kkc)
		case convGradKern:
			convGemm(true, false, kkc, g.f, m, a, kkc, b, g.f, 0, out, g.f)
		}
		return
	}
	runConvIm2col(g, kind, a, b, out, bias, act)
}

// runConvIm2col is runConv's path through im2col. Its forward and
// kernel-gradient products take their callbacks from a pooled convJob, so
// that a call allocates nothing for them.
func runConvIm2col[T Float](g convGeom, kind convKind, a, b, out []T, bias []T, act Act) {
	kkc := g.kkc()
	rows := g.oh * g.ow // im2col rows per sample
	switch kind {
	case convForward, convGradKern:
		j := getConvJob[T]()
		defer putConvJob(j)
		j.g, j.x, j.out, j.bias, j.act = g, a, out, bias, act
		if kind == convGradKern {
			blas.GemmFuncPacked(true, false, kkc, g.f, g.n*rows, j.fill, j.packCols, b, g.f, 0, out, g.f, nil)
			return
		}
		post := j.post
		if bias == nil && act == ActLinear {
			post = nil
		}
		blas.GemmFuncPacked(false, false, g.n*rows, g.f, kkc, j.fill, j.packRows, b, g.f, 0, out, g.f, post)
		return
	}
	convGradInputIm2col(g, a, b, out)
}

// convGradInputIm2col is the input gradient through col2im: the kernel
// (transposed) is packed once, then each goroutine takes a range of
// samples and, a few samples at a time, computes their im2col gradient
// (dy·Kᵀ) into a scratch that stays in cache and scatters it into dx at
// once, instead of writing the whole batch's im2col gradient to memory and
// reading it back. Samples are disjoint in dx, so the ranges never race.
// A function of its own because its closure captures its arguments, which
// would move runConvIm2col's to the heap at every call.
func convGradInputIm2col[T Float](g convGeom, a, b, out []T) {
	kkc := g.kkc()
	xs, ys := g.h*g.w*g.c, g.oh*g.ow*g.f
	rows := g.oh * g.ow
	kt := getPackedB[T]()
	defer blas.PoolFor[T](&packedBs).Put(kt)
	kt.Pack(true, g.f, kkc, a, g.f)
	// Samples per product: about convGradRows rows of the im2col gradient,
	// at least one sample.
	per := max(1, min(convGradRows/rows, maxColElems/(rows*kkc)))
	parallelRange(g.n, g.n*rows*kkc*g.f, func(lo, hi int) {
		buf := convGetScratch[T](min(per, hi-lo) * rows * kkc)
		defer convPutScratch(buf)
		for s0 := lo; s0 < hi; s0 += per {
			ns := min(per, hi-s0)
			cols := (*buf)[:ns*rows*kkc]
			kt.Gemm(false, ns*rows, 1, b[s0*ys:], g.f, 0, cols, kkc)
			for i := range ns {
				convCol2im(g, cols[i*rows*kkc:][:rows*kkc], out[(s0+i)*xs:][:xs])
			}
		}
	})
}

// convGradRows is about how many im2col rows convGradInputIm2col computes
// per product: enough for the product's blocking to pay, few enough for
// the scratch to stay in cache.
const convGradRows = 256

// packedBs pools the blas.PackedB matrices of convGradInputIm2col.
var packedBs blas.Pools

func getPackedB[T Float]() *blas.PackedB[T] {
	if p, ok := blas.PoolFor[T](&packedBs).Get().(*blas.PackedB[T]); ok {
		return p
	}
	return new(blas.PackedB[T])
}

// convJob is one im2col product's arguments and the callbacks blas calls
// back with them: the callbacks are made once, read the job's current
// fields, and the job is reused through convJobs.
type convJob[T Float] struct {
	g                  convGeom
	x, out, bias       []T
	act                Act
	fill               blas.FillA[T]
	packRows, packCols blas.PackA[T]
	post               func(i0, j0, nr, nc int)
}

var convJobs blas.Pools

// getConvJob returns a pooled convJob (its callbacks made, its arguments
// to be set); putConvJob gives it back, dropping its references to data.
func getConvJob[T Float]() *convJob[T] {
	if j, ok := blas.PoolFor[T](&convJobs).Get().(*convJob[T]); ok {
		return j
	}
	j := &convJob[T]{}
	j.fill, j.packRows, j.packCols = convFill(j), convPackRows(j), convPackCols(j)
	j.post = func(i0, j0, nr, nc int) {
		f, out, bias := j.g.f, j.out, j.bias
		if j0 == 0 && nc == f {
			biasActRows(out[i0*f:(i0+nr)*f], bias, f, j.act)
			return
		}
		var bb []T
		if bias != nil {
			bb = bias[j0 : j0+nc]
		}
		for r := i0; r < i0+nr; r++ {
			biasActRows(out[r*f+j0:r*f+j0+nc], bb, nc, j.act)
		}
	}
	return j
}

func putConvJob[T Float](j *convJob[T]) {
	j.x, j.out, j.bias = nil, nil, nil
	blas.PoolFor[T](&convJobs).Put(j)
}

// convFill returns the blas.FillA of the im2col matrix of the job's input
// x: row r (sample r/(oh·ow), output position r%(oh·ow)) holds the kh·kw·c
// input values under the kernel at that position, zeros where it covers
// padding.
func convFill[T Float](j *convJob[T]) blas.FillA[T] {
	return func(r0, c0, nr, nc int, dst []T) {
		g, x := j.g, j.x
		xs := g.h * g.w * g.c
		o := g.outPosOf(r0)
		full := c0 == 0 && nc == g.kkc()
		for r := 0; r < nr; r++ {
			d := dst[r*nc : r*nc+nc]
			xsample := x[o.s*xs : o.s*xs+xs]
			if full {
				convPatch(g, xsample, o.oy, o.ox, d)
			} else {
				convPatchRange(g, xsample, o.oy, o.ox, c0, d)
			}
			o.advance(g, 1)
		}
	}
}

// convInside reports whether the kernel at output position (oy, ox) lies
// wholly inside the input with unit horizontal dilation, so that its patch
// row is kh runs of kw·c contiguous input values; it returns the offset of
// the first run in the sample.
func (g convGeom) convInside(oy, ox int) (int, bool) {
	iy0, ix0 := oy*g.sh-g.pt, ox*g.sw-g.pl
	if g.dw == 1 && iy0 >= 0 && ix0 >= 0 && iy0+(g.kh-1)*g.dh < g.h && ix0+g.kw <= g.w {
		return (iy0*g.w + ix0) * g.c, true
	}
	return 0, false
}

// patchOffset is the offset in its sample of the first input cell under
// the kernel at output position (oy, ox), for a convolution without
// padding and with unit horizontal dilation (allInside), where every
// kernel position lies inside the input.
func (g convGeom) patchOffset(oy, ox int) int { return (oy*g.sh*g.w + ox*g.sw) * g.c }

// allInside reports whether every kernel position lies wholly inside the
// input with unit horizontal dilation (see convInside).
func (g convGeom) allInside() bool { return g.dw == 1 && g.pt+g.pb+g.pl+g.pr == 0 }

// outPos is the output position of an im2col row: sample s, output row
// oy, output column ox.
type outPos struct{ s, oy, ox int }

// outPosOf is the output position of im2col row r.
func (g convGeom) outPosOf(r int) outPos {
	per := g.oh * g.ow
	return outPos{r / per, r % per / g.ow, r % per % g.ow}
}

// advance moves o n positions on along its row of outputs (n at most what
// is left of the row), to the next row, or the next sample's first, at
// the row's end.
func (o *outPos) advance(g convGeom, n int) {
	if o.ox += n; o.ox == g.ow {
		o.ox = 0
		if o.oy++; o.oy == g.oh {
			o.oy = 0
			o.s++
		}
	}
}

// convPackRows returns the blas.PackA of the job's im2col matrix (rows are
// output positions, columns patch elements): each micro-panel is gathered
// straight from x, one packed column (mr patch rows' element p) at a time.
// It declines a block holding a kernel position that is not wholly inside
// the input, or micro-panels of more than 32 rows.
func convPackRows[T Float](j *convJob[T]) blas.PackA[T] {
	return func(i0, p0, rows, cols, mr int, dst []T) bool {
		g, x := j.g, j.x
		if g.c == 1 && g.sw == 1 && g.allInside() && mr <= 16 && len(x) <= math.MaxInt32 {
			convPackRowsC1(g, x, i0, p0, rows, cols, mr, dst)
			return true
		}
		if mr > 32 {
			return false
		}
		xs := g.h * g.w * g.c
		kwc, step := g.kw*g.c, g.dh*g.w*g.c
		op := g.outPosOf(i0)
		var offs [32]int
		in := g.allInside()
		for r0 := 0; r0 < rows; r0 += mr {
			n := min(mr, rows-r0)
			for i := 0; i < n; i++ {
				off, ok := 0, true
				if in {
					off = g.patchOffset(op.oy, op.ox)
				} else if off, ok = g.convInside(op.oy, op.ox); !ok {
					return false
				}
				offs[i] = op.s*xs + off
				op.advance(g, 1)
			}
			o := offs[:n]
			d := dst[r0*cols : r0*cols+mr*cols]
			for p := p0; p < p0+cols; {
				ky := p / kwc
				end := min(p0+cols, ky*kwc+kwc)
				rel := ky*step - ky*kwc
				if n == mr && mr%6 == 0 {
					// Six rows at a time, each a contiguous run of x.
					for g6 := 0; g6 < mr; g6 += 6 {
						r0 := x[o[g6]+rel+p : o[g6]+rel+end]
						r1 := x[o[g6+1]+rel+p:]
						r1 = r1[:len(r0)]
						r2 := x[o[g6+2]+rel+p:]
						r2 = r2[:len(r0)]
						r3 := x[o[g6+3]+rel+p:]
						r3 = r3[:len(r0)]
						r4 := x[o[g6+4]+rel+p:]
						r4 = r4[:len(r0)]
						r5 := x[o[g6+5]+rel+p:]
						r5 = r5[:len(r0)]
						dd := d[(p-p0)*mr+g6:]
						if d32, ok := any(dd).([]float32); ok { // eight columns at a time
							rows := any(&[6][]T{r0, r1, r2, r3, r4, r5}).(*[6][]float32)
							blas.Interleave6x32(d32, mr, rows)
							continue
						}
						for j := range r0 {
							dp := dd[j*mr : j*mr+6]
							dp[0], dp[1], dp[2] = r0[j], r1[j], r2[j]
							dp[3], dp[4], dp[5] = r3[j], r4[j], r5[j]
						}
					}
					p = end
					continue
				}
				for ; p < end; p++ {
					dp := d[(p-p0)*mr : (p-p0)*mr+mr]
					for i, off := range o {
						dp[i] = x[off+rel+p]
					}
					clear(dp[n:])
				}
			}
		}
		return true
	}
}

// convPackRowsC1 is convPackRows for one input channel, unit horizontal
// stride and no padding (a first layer on grey images): there a panel
// column, mr output positions at one kernel position, is a run of
// consecutive input values per row of output positions, so the block is a
// blas.Gather plan (the runs of each panel) applied at each kernel
// position's offset.
func convPackRowsC1[T Float](g convGeom, x []T, i0, p0, rows, cols, mr int, dst []T) {
	sc := convGathers.Get().(*convGather)
	defer convGathers.Put(sc)
	sc.plan.Reset(mr)
	xs := g.h * g.w
	o := g.outPosOf(i0)
	for r := 0; r < rows; {
		n := min(rows-r, mr-r%mr, g.ow-o.ox) // within one panel and one row of outputs
		sc.plan.AddRun((r/mr)*mr*cols, r%mr, o.s*xs+o.oy*g.sh*g.w+o.ox, n)
		r += n
		o.advance(g, n)
	}
	sc.bases = sc.bases[:0]
	for p := p0; p < p0+cols; p++ {
		sc.bases = append(sc.bases, int32(p/g.kw*g.dh*g.w+p%g.kw))
	}
	blas.PackGather(&sc.plan, dst, x, sc.bases)
}

// convGather is the scratch of one convPackCols or convPackRowsC1 block:
// the block's gather plan and the base offset of each of its columns. Blocks may be packed
// concurrently, so each call takes its own from convGathers.
type convGather struct {
	plan  blas.Gather
	bases []int32
}

var convGathers = sync.Pool{New: func() any { return new(convGather) }}

// convPackCols returns the blas.PackA of the transposed im2col matrix
// (rows are patch elements, columns output positions), as convPackRows:
// each column of a micro-panel is a few contiguous runs of the patch (one
// per kernel row, split at panel boundaries), worked out once per block
// as a blas.Gather plan and applied to the block's columns by
// blas.PackGather. It declines blocks with a kernel position not wholly
// inside the input, and micro-panels of more than 16 rows.
func convPackCols[T Float](j *convJob[T]) blas.PackA[T] {
	return func(i0, p0, rows, cols, mr int, dst []T) bool {
		g, x := j.g, j.x
		if mr > 16 || len(x) > math.MaxInt32 {
			return false
		}
		xs := g.h * g.w * g.c
		kwc, step := g.kw*g.c, g.dh*g.w*g.c
		sc := convGathers.Get().(*convGather)
		defer convGathers.Put(sc)
		sc.plan.Reset(mr)
		for q := i0; q < i0+rows; {
			ky := q / kwc
			r := q - i0
			end := min(i0+rows, ky*kwc+kwc, i0+(r/mr+1)*mr)
			sc.plan.AddRun((r/mr)*mr*cols, r%mr, ky*step+q-ky*kwc, end-q)
			q = end
		}
		o := g.outPosOf(p0)
		in := g.allInside()
		sc.bases = sc.bases[:0]
		for range cols {
			off, ok := 0, true
			if in {
				off = g.patchOffset(o.oy, o.ox)
			} else if off, ok = g.convInside(o.oy, o.ox); !ok {
				return false
			}
			sc.bases = append(sc.bases, int32(o.s*xs+off))
			o.advance(g, 1)
		}
		blas.PackGather(&sc.plan, dst, x, sc.bases)
		return true
	}
}

// convPatch writes into row (kh·kw·c elements) the input values under the
// kernel at output position (oy, ox) of one sample x, zeros where the
// kernel covers padding.
func convPatch[T Float](g convGeom, x []T, oy, ox int, row []T) {
	kwc, wc, c := g.kw*g.c, g.w*g.c, g.c
	iy0, ix0 := oy*g.sh-g.pt, ox*g.sw-g.pl
	if g.dw == 1 && iy0 >= 0 && ix0 >= 0 && iy0+(g.kh-1)*g.dh < g.h && ix0+g.kw <= g.w {
		// Inside the input: one run of kw·c values per kernel row.
		src := x[iy0*wc+ix0*c:]
		step := g.dh * wc
		if kwc <= 4 {
			for ky := 0; ky < g.kh; ky++ {
				seg := row[ky*kwc : ky*kwc+kwc]
				s := src[ky*step : ky*step+kwc]
				for i := range seg {
					seg[i] = s[i]
				}
			}
			return
		}
		for ky := 0; ky < g.kh; ky++ {
			convCopy(row[ky*kwc:ky*kwc+kwc], src[ky*step:])
		}
		return
	}
	convPatchRange(g, x, oy, ox, 0, row)
}

// convPatchRange writes elements [e0, e0+len(dst)) of the patch row that
// convPatch writes.
func convPatchRange[T Float](g convGeom, x []T, oy, ox, e0 int, dst []T) {
	kwc, wc, c := g.kw*g.c, g.w*g.c, g.c
	e1 := e0 + len(dst)
	iy0, ix0 := oy*g.sh-g.pt, ox*g.sw-g.pl
	ylo, yhi := convWindow(iy0, g.kh, g.dh, g.h)
	xlo, xhi := convWindow(ix0, g.kw, g.dw, g.w)
	v0, v1 := xlo*c, xhi*c // the part of a kernel row inside the input
	for ky := e0 / kwc; ky*kwc < e1; ky++ {
		l0, l1 := max(e0, ky*kwc)-ky*kwc, min(e1, ky*kwc+kwc)-ky*kwc
		seg := dst[ky*kwc+l0-e0 : ky*kwc+l1-e0]
		if ky < ylo || ky >= yhi {
			clear(seg)
			continue
		}
		xrow := x[(iy0+ky*g.dh)*wc:][:wc]
		if g.dw == 1 {
			lo := min(max(v0, l0), l1)
			hi := min(max(v1, lo), l1)
			clear(seg[:lo-l0])
			if hi > lo {
				convCopy(seg[lo-l0:hi-l0], xrow[ix0*c+lo:])
			}
			clear(seg[hi-l0:])
			continue
		}
		for kx := l0 / c; kx*c < l1; kx++ {
			k0, k1 := max(l0, kx*c), min(l1, kx*c+c)
			part := seg[k0-l0 : k1-l0]
			if kx < xlo || kx >= xhi {
				clear(part)
				continue
			}
			convCopy(part, xrow[(ix0+kx*g.dw)*c+k0-kx*c:])
		}
	}
}

// window returns, for an output position with first input cell i0 (may be
// negative), the kernel taps [lo, hi) whose input cells i0+t·d lie in [0, n).
func convWindow(i0, k, d, n int) (lo, hi int) {
	if i0 < 0 {
		lo = (-i0 + d - 1) / d
	}
	if last := n - 1 - i0; last < 0 {
		hi = 0
	} else {
		hi = min(k, last/d+1)
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// convIm2col writes one sample's patches: row (oy, ox) of cols holds the
// kh·kw·c input values under the kernel at that output position, zeros where
// the kernel covers padding.
func convIm2col[T Float](g convGeom, x, cols []T) {
	kkc, kwc, wc, c := g.kkc(), g.kw*g.c, g.w*g.c, g.c
	for oy := 0; oy < g.oh; oy++ {
		iy0 := oy*g.sh - g.pt
		ylo, yhi := convWindow(iy0, g.kh, g.dh, g.h)
		for ox := 0; ox < g.ow; ox++ {
			row := cols[(oy*g.ow+ox)*kkc:][:kkc]
			ix0 := ox*g.sw - g.pl
			xlo, xhi := convWindow(ix0, g.kw, g.dw, g.w)
			if ylo > 0 {
				clear(row[:ylo*kwc])
			}
			if yhi < g.kh {
				clear(row[yhi*kwc:])
			}
			for ky := ylo; ky < yhi; ky++ {
				seg := row[ky*kwc:][:kwc]
				xrow := x[(iy0+ky*g.dh)*wc:][:wc]
				if xlo > 0 {
					clear(seg[:xlo*c])
				}
				if xhi < g.kw {
					clear(seg[xhi*c:])
				}
				if g.dw == 1 {
					convCopy(seg[xlo*c:xhi*c], xrow[(ix0+xlo)*c:])
					continue
				}
				for kx := xlo; kx < xhi; kx++ {
					convCopy(seg[kx*c:][:c], xrow[(ix0+kx*g.dw)*c:])
				}
			}
		}
	}
}

// convCopy is copy(dst, src) for len(dst) ≤ len(src), with a plain loop
// for the short runs of few channels, where calling memmove costs more
// than the copy.
func convCopy[T Float](dst, src []T) {
	if len(dst) > 16 {
		copy(dst, src)
		return
	}
	src = src[:len(dst)]
	for i := range dst {
		dst[i] = src[i]
	}
}

// convCol2im writes into dx (one sample) the sum of each row of cols added
// back onto the input cells it was read from (the adjoint of im2col);
// padding cells are dropped. dx's contents on entry do not matter.
func convCol2im[T Float](g convGeom, cols, dx []T) {
	kkc, kwc, wc, c := g.kkc(), g.kw*g.c, g.w*g.c, g.c
	clear(dx)
	for oy := 0; oy < g.oh; oy++ {
		iy0 := oy*g.sh - g.pt
		ylo, yhi := convWindow(iy0, g.kh, g.dh, g.h)
		for ox := 0; ox < g.ow; ox++ {
			row := cols[(oy*g.ow+ox)*kkc:][:kkc]
			ix0 := ox*g.sw - g.pl
			xlo, xhi := convWindow(ix0, g.kw, g.dw, g.w)
			for ky := ylo; ky < yhi; ky++ {
				seg := row[ky*kwc:][:kwc]
				xrow := dx[(iy0+ky*g.dh)*wc:][:wc]
				if g.dw == 1 {
					convAdd(xrow[(ix0+xlo)*c:(ix0+xhi)*c], seg[xlo*c:xhi*c])
					continue
				}
				for kx := xlo; kx < xhi; kx++ {
					dst := xrow[(ix0+kx*g.dw)*c:][:c]
					for i, v := range seg[kx*c:][:c] {
						dst[i] += v
					}
				}
			}
		}
	}
}

// convAdd adds src to dst element-wise (len(src) ≥ len(dst)), through
// blas.Add32's vector loop for float32 runs long enough to pay for the call.
func convAdd[T Float](dst, src []T) {
	var z T
	if unsafe.Sizeof(z) == 4 && len(dst) >= 16 {
		blas.Add32(blas.As32(dst), blas.As32(src))
		return
	}
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}
