package ops

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph/blas"
)

// PoolKind selects what a pooling op computes over each window.
type PoolKind int

const (
	// PoolMax takes the largest value of each window; its gradient goes to
	// that value's cell (the first one in row-major window order on ties).
	PoolMax PoolKind = iota
	// PoolAverage takes the mean of each window's cells; padded cells are
	// not counted.
	PoolAverage
)

// String is "max" or "avg".
func (k PoolKind) String() string {
	switch k {
	case PoolMax:
		return "max"
	case PoolAverage:
		return "avg"
	}
	return fmt.Sprintf("PoolKind(%d)", int(k))
}

func (k PoolKind) valid() bool { return k == PoolMax || k == PoolAverage }

// PoolOutputSize returns TensorFlow's output length of a pooling (or
// convolution) along one axis of size n, with window k and stride s, and the
// number of padded cells before the first element: VALID gives
// ceil((n-k+1)/s) and no padding; SAME gives ceil(n/s) with
// pad_total = max(0, (out-1)·s + k - n) split pad_before = pad_total/2
// (the extra cell goes after). out ≤ 0 means the window does not fit.
func PoolOutputSize(n, k, s int, same bool) (out, padBefore int) {
	if s <= 0 {
		return 0, 0
	}
	if !same {
		if n-k+1 <= 0 {
			return 0, 0
		}
		return (n - k + s) / s, 0
	}
	if n <= 0 {
		return 0, 0
	}
	out = (n + s - 1) / s
	total := (out-1)*s + k - n
	if total < 0 {
		total = 0
	}
	return out, total / 2
}

// poolGeom is a channels-last pooling viewed as 2-D: a rank-3 input
// (N, L, C) is (N, 1, L, C) with a window and stride of 1 on the first axis.
type poolGeom struct {
	n, h, w, c     int
	kh, kw, sh, sw int
	oh, ow         int
	ph, pw         int // padding before
}

// poolGeometry checks x's shape against the window and strides and lays the
// pooling out.
func poolGeometry(shape tensor.Shape, pool, strides []int, same bool) (poolGeom, error) {
	rank := len(shape)
	if rank != 3 && rank != 4 {
		return poolGeom{}, errors.Errorf("pooling: input must be (N, L, C) or (N, H, W, C), got shape %v", shape)
	}
	sp := rank - 2
	if len(pool) != sp || len(strides) != sp {
		return poolGeom{}, errors.Errorf("pooling: a rank-%d input needs %d pool sizes and strides, got pool %v, strides %v", rank, sp, pool, strides)
	}
	for i := 0; i < sp; i++ {
		if pool[i] <= 0 || strides[i] <= 0 {
			return poolGeom{}, errors.Errorf("pooling: pool size %v and strides %v must be positive", pool, strides)
		}
	}
	for _, d := range shape {
		if d <= 0 {
			return poolGeom{}, errors.Errorf("pooling: input shape %v has an empty axis", shape)
		}
	}
	g := poolGeom{n: shape[0], c: shape[rank-1], h: 1, kh: 1, sh: 1, oh: 1}
	if rank == 4 {
		g.h, g.kh, g.sh = shape[1], pool[0], strides[0]
		g.oh, g.ph = PoolOutputSize(g.h, g.kh, g.sh, same)
	}
	g.w, g.kw, g.sw = shape[rank-2], pool[sp-1], strides[sp-1]
	g.ow, g.pw = PoolOutputSize(g.w, g.kw, g.sw, same)
	if g.oh <= 0 || g.ow <= 0 {
		pad := "valid"
		if same {
			pad = "same"
		}
		return poolGeom{}, errors.Errorf("pooling: pool size %v does not fit input shape %v with %s padding (output size ≤ 0)", pool, shape, pad)
	}
	return g, nil
}

func (g poolGeom) outShape(rank int) tensor.Shape {
	if rank == 3 {
		return tensor.Shape{g.n, g.ow, g.c}
	}
	return tensor.Shape{g.n, g.oh, g.ow, g.c}
}

// window returns the valid input rows [y0, y1) and columns [x0, x1) of
// output cell (oy, ox).
func (g poolGeom) window(oy, ox int) (y0, y1, x0, x1 int) {
	y0 = oy*g.sh - g.ph
	y1 = min(y0+g.kh, g.h)
	y0 = max(y0, 0)
	x0 = ox*g.sw - g.pw
	x1 = min(x0+g.kw, g.w)
	x0 = max(x0, 0)
	return
}

// Pool inserts a channels-last max or average pooling of x as one node:
// x is (N, L, C) with one pool size and stride, or (N, H, W, C) with two.
// same selects TensorFlow's SAME padding, whose padded cells are ignored
// (never the maximum, not counted in the mean); otherwise VALID. The
// gradient is one node too.
func Pool(x *G.Node, kind PoolKind, pool, strides []int, same bool) (*G.Node, error) {
	if !kind.valid() {
		return nil, errors.Errorf("pooling: unknown kind %v", kind)
	}
	if x == nil {
		return nil, errors.New("pooling: nil input")
	}
	return Apply(poolKernel{kind: kind, pool: append([]int(nil), pool...), strides: append([]int(nil), strides...), same: same}, x)
}

// poolKernel is a max or average pooling.
type poolKernel struct {
	kind          PoolKind
	pool, strides []int
	same          bool
}

func (k poolKernel) Params() []any { return []any{k.kind, k.pool, k.strides, k.same} }

func (k poolKernel) Name() string {
	pad := "valid"
	if k.same {
		pad = "same"
	}
	return fmt.Sprintf("%sPool%dD%v/%v/%s", k.kind, len(k.pool), k.pool, k.strides, pad)
}

func (k poolKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	g, err := poolGeometry(in[0], k.pool, k.strides, k.same)
	if err != nil {
		return nil, err
	}
	return g.outShape(len(in[0])), nil
}

// geom is the geometry of the pooling of an input of shape x.
func (k poolKernel) geom(x tensor.Shape) poolGeom {
	g, _ := poolGeometry(x, k.pool, k.strides, k.same) // checked by Shape
	return g
}

func (k poolKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	g := k.geom(in[0].Shape())
	if out.Dtype() == tensor.Float32 {
		poolForward(g, k.kind, in[0].Float32s(), out.Float32s())
	} else {
		poolForward(g, k.kind, in[0].Float64s(), out.Float64s())
	}
	return nil
}

func (k poolKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if k.kind == PoolMax {
		// Max pooling's gradient finds each window's maximum as the first
		// cell equal to the output; after a relu (a convolution or dense
		// node with ActReLU) it also applies the relu's derivative, so that
		// node needs no pass of its own (see convKernel.Gradient).
		dx, err := Apply(poolGradKernel{pool: k, withY: true, relu: isReLUConv(in[0])}, in[0], out, grad)
		return G.Nodes{dx}, err
	}
	dx, err := Apply(poolGradKernel{pool: k}, in[0], grad)
	return G.Nodes{dx}, err
}

// isReLUConv reports whether n is a forward convolution or dense node that
// applies a relu.
func isReLUConv(n *G.Node) bool {
	c, ok := kernelOf(n).(convKernel)
	return ok && c.kind == convForward && c.act == ActReLU
}

// reluMaskedPoolGrad reports whether grad is a max or global average
// pooling's gradient node that already applies the relu derivative of its
// input out.
func reluMaskedPoolGrad(out, grad *G.Node) bool {
	switch k := kernelOf(grad).(type) {
	case poolGradKernel:
		if !k.relu {
			return false
		}
	case globalPoolGradKernel:
		if !k.relu {
			return false
		}
	default:
		return false
	}
	it := grad.Graph().From(grad.ID())
	return it.Next() && it.Node().ID() == out.ID()
}

// poolGradKernel computes dL/dx from (x, dL/dy), or with withY from (x, y,
// dL/dy). With relu (x being a relu's output) it also multiplies by the
// relu's derivative: a window whose maximum is not positive passes nothing.
type poolGradKernel struct {
	pool  poolKernel
	withY bool
	relu  bool
}

func (k poolGradKernel) Params() []any { return []any{k.pool.Params(), k.withY, k.relu} }
func (k poolGradKernel) Name() string  { return k.pool.Name() + "'" }

func (k poolGradKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	ys, err := k.pool.Shape(in[:1])
	if err != nil {
		return nil, err
	}
	if k.withY && !in[1].Eq(ys) {
		return nil, errors.Errorf("%s: output shape %v, want %v", k.Name(), in[1], ys)
	}
	if g := in[len(in)-1]; g.TotalSize() != ys.TotalSize() && g.TotalSize() != 1 {
		return nil, errors.Errorf("%s: output gradient shape %v, the output %v", k.Name(), g, ys)
	}
	return in[0], nil
}

func (k poolGradKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		poolGradForward[float32](k, out, in)
	} else {
		poolGradForward[float64](k, out, in)
	}
	return nil
}

func poolGradForward[T Float](k poolGradKernel, out *tensor.Dense, in []*tensor.Dense) {
	g := k.pool.geom(in[0].Shape())
	var y []T
	if k.withY {
		y = dataOf[T](in[1])
	}
	gy := gradData[T](in[len(in)-1], g.outShape(len(in[0].Shape())).TotalSize())
	poolBackward(g, k.pool.kind, dataOf[T](in[0]), y, gy, dataOf[T](out), k.relu)
}

// better reports whether v replaces best as a window's maximum: strictly
// larger (so the first maximum wins ties), or NaN over a number (NaN
// propagates).
func better[T Float](v, best T) bool { return v > best || (v != v && best == best) }

// windowsInside reports whether every window of g lies wholly inside the
// input (no padding cell is ever covered).
func (g poolGeom) windowsInside() bool {
	return g.ph == 0 && g.pw == 0 && (g.oh-1)*g.sh+g.kh <= g.h && (g.ow-1)*g.sw+g.kw <= g.w
}

// offsets returns, when every window lies inside the input, the offsets of
// a window's cells from its first cell in row-major order, appended to
// buf (a caller's stack array of windowCells, so that computing them
// allocates nothing for the usual windows); nil otherwise.
func (g poolGeom) offsets(buf []int) []int {
	if !g.windowsInside() {
		return nil
	}
	offs := buf[:0]
	for ky := 0; ky < g.kh; ky++ {
		for kx := 0; kx < g.kw; kx++ {
			offs = append(offs, (ky*g.w+kx)*g.c)
		}
	}
	return offs
}

// windowCells is the window size whose offsets fit a caller's stack array.
const windowCells = 16

// poolForward writes the pooling of x into y (every element of y).
func poolForward[T Float](g poolGeom, kind PoolKind, x, y []T) {
	xs, ys := g.h*g.w*g.c, g.oh*g.ow*g.c
	if serial(g.n, g.n*(xs+ys)) {
		poolForwardSamples(g, kind, x, y, 0, g.n)
		return
	}
	j := getPoolJob[T]()
	defer putPoolJob(j)
	j.g, j.kind, j.x, j.y = g, kind, x, y
	parallelRange(g.n, g.n*(xs+ys), j.run)
}

// poolJob is one parallel poolForward: its arguments and its parallelRange
// callback, made once and reused through poolJobs, so that pooling a batch
// allocates nothing.
type poolJob[T Float] struct {
	g    poolGeom
	kind PoolKind
	x, y []T
	run  func(lo, hi int)
}

var poolJobs blas.Pools

func getPoolJob[T Float]() *poolJob[T] {
	if j, ok := blas.PoolFor[T](&poolJobs).Get().(*poolJob[T]); ok {
		return j
	}
	j := &poolJob[T]{}
	j.run = func(lo, hi int) { poolForwardSamples(j.g, j.kind, j.x, j.y, lo, hi) }
	return j
}

func putPoolJob[T Float](j *poolJob[T]) {
	j.x, j.y = nil, nil
	blas.PoolFor[T](&poolJobs).Put(j)
}

// poolForwardSamples is poolForward on samples [lo, hi).
func poolForwardSamples[T Float](g poolGeom, kind PoolKind, x, y []T, lo, hi int) {
	xs, ys := g.h*g.w*g.c, g.oh*g.ow*g.c
	var ob [windowCells]int
	offs := g.offsets(ob[:0])
	var sum []float64
	if kind == PoolAverage {
		sum = make([]float64, g.c)
	}
	for n := lo; n < hi; n++ {
		xn, yn := x[n*xs:][:xs], y[n*ys:][:ys]
		if offs != nil {
			poolForwardFull(g, kind, offs, xn, yn, sum)
		} else {
			poolForwardPadded(g, kind, xn, yn, sum)
		}
	}
}

// poolForwardFull pools one sample whose windows all lie inside the input:
// window cell k of the window starting at input cell p is x[p+offs[k]:].
func poolForwardFull[T Float](g poolGeom, kind PoolKind, offs []int, x, y []T, sum []float64) {
	c := g.c
	cnt := float64(len(offs))
	for oy := 0; oy < g.oh; oy++ {
		for ox := 0; ox < g.ow; ox++ {
			p := (oy*g.sh*g.w + ox*g.sw) * c
			dst := y[(oy*g.ow+ox)*c:][:c]
			if kind == PoolMax {
				copy(dst, x[p+offs[0]:][:c])
				if d32, ok := any(dst).([]float32); ok {
					x32 := any(x).([]float32)
					for _, o := range offs[1:] {
						blas.MaxInto32(d32, x32[p+o:][:c])
					}
					continue
				}
				for _, o := range offs[1:] {
					maxInto(dst, x[p+o:][:c])
				}
				continue
			}
			clear(sum)
			for _, o := range offs {
				src := x[p+o:][:c]
				for k, v := range src {
					sum[k] += float64(v)
				}
			}
			for k := range dst {
				dst[k] = T(sum[k] / cnt)
			}
		}
	}
}

// poolForwardPadded pools one sample in the general case: windows are
// clipped to the input (SAME padding).
func poolForwardPadded[T Float](g poolGeom, kind PoolKind, x, y []T, sum []float64) {
	c := g.c
	for oy := 0; oy < g.oh; oy++ {
		for ox := 0; ox < g.ow; ox++ {
			y0, y1, x0, x1 := g.window(oy, ox)
			dst := y[(oy*g.ow+ox)*c:][:c]
			if y1 <= y0 || x1 <= x0 {
				clear(dst) // a window of padding only
				continue
			}
			if kind == PoolMax {
				first := true
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						src := x[(iy*g.w+ix)*c:][:c]
						if first {
							copy(dst, src)
							first = false
							continue
						}
						maxInto(dst, src)
					}
				}
				continue
			}
			clear(sum)
			for iy := y0; iy < y1; iy++ {
				for ix := x0; ix < x1; ix++ {
					for k, v := range x[(iy*g.w+ix)*c:][:c] {
						sum[k] += float64(v)
					}
				}
			}
			cnt := float64((y1 - y0) * (x1 - x0))
			for k := range dst {
				dst[k] = T(sum[k] / cnt)
			}
		}
	}
}

// poolBackward writes dL/dx into dx (every element of dx) from x and
// dL/dy; y (the forward output, nil if not at hand) lets max pooling find
// each window's maximum by equality. With relu, a window whose maximum is not
// positive passes no gradient.
func poolBackward[T Float](g poolGeom, kind PoolKind, x, y, gy, dx []T, relu bool) {
	xs, ys := g.h*g.w*g.c, g.oh*g.ow*g.c
	// Windows that never overlap let each cell of dx be written once.
	disjoint := g.sh >= g.kh && g.sw >= g.kw
	exact := disjoint && g.sh == g.kh && g.sw == g.kw && g.oh*g.kh == g.h && g.ow*g.kw == g.w
	if kind == PoolMax && g.windowsInside() && y != nil && disjoint {
		parallelRange(g.n, g.n*(2*xs+2*ys), func(lo, hi int) {
			var ob [windowCells]int
			offs := g.offsets(ob[:0])
			for n := lo; n < hi; n++ {
				dn := dx[n*xs:][:xs]
				if !exact {
					clear(dn)
				}
				poolBackwardMaxEq(g, offs, x[n*xs:][:xs], y[n*ys:][:ys], gy[n*ys:][:ys], dn, relu)
			}
		})
		return
	}
	parallelRange(g.n, g.n*(2*xs+ys), func(lo, hi int) {
		var ob [windowCells]int
		offs := g.offsets(ob[:0])
		best := make([]T, g.c)
		arg := make([]int, g.c)
		for n := lo; n < hi; n++ {
			xn, gn, dn := x[n*xs:][:xs], gy[n*ys:][:ys], dx[n*xs:][:xs]
			clear(dn)
			if offs != nil && kind == PoolMax {
				poolBackwardMaxFull(g, offs, xn, gn, dn, best, arg, relu)
				continue
			}
			poolBackwardSample(g, kind, xn, gn, dn, best, arg, relu)
		}
	})
}

// poolBackwardMaxEq writes one sample's max-pooling gradient into the cells
// of dx under its windows, which lie inside the input and do not overlap:
// each window's gradient goes to its first cell equal to the window's
// output y (NaN matching NaN), the other cells get 0.
func poolBackwardMaxEq[T Float](g poolGeom, offs []int, x, y, gy, dx []T, relu bool) {
	c := g.c
	var z T
	if unsafe.Sizeof(z) == 4 {
		x32, y32, g32, d32 := blas.As32(x), blas.As32(y), blas.As32(gy), blas.As32(dx)
		for oy := 0; oy < g.oh; oy++ {
			if len(offs) == 4 && g.kh == 2 {
				// A whole row of 2×2 windows in one call.
				p, q := oy*g.sh*g.w*c, oy*g.ow*c
				blas.MaxEq2x2RowF32(x32[p:], d32[p:], y32[q:], g32[q:], g.ow, c, g.sw*c, g.w*c, relu)
				continue
			}
			for ox := 0; ox < g.ow; ox++ {
				p := (oy*g.sh*g.w + ox*g.sw) * c
				q := (oy*g.ow + ox) * c
				maxEqWindow32(offs, x32[p:], y32[q:q+c], g32[q:q+c], d32[p:], relu)
			}
		}
		return
	}
	for oy := 0; oy < g.oh; oy++ {
		for ox := 0; ox < g.ow; ox++ {
			p := (oy*g.sh*g.w + ox*g.sw) * c
			q := (oy*g.ow + ox) * c
			for k := 0; k < c; k++ {
				yv, gv := y[q+k], gy[q+k]
				if relu && !(yv > 0) {
					gv = 0
				}
				found := false
				for _, o := range offs {
					v := x[p+o+k]
					if !found && (v == yv || (v != v && yv != yv)) {
						dx[p+o+k] = gv
						found = true
					} else {
						dx[p+o+k] = 0
					}
				}
			}
		}
	}
}

// maxEqWindow32 is poolBackwardMaxEq for one window of float32s, without
// branches: x and dx start at the window's first cell, y and gy hold its c
// outputs and their gradients.
func maxEqWindow32(offs []int, x, y, gy, dx []float32, relu bool) {
	var rm uint32
	if relu {
		rm = ^uint32(0)
	}
	for k, yv := range y {
		gb := math.Float32bits(gy[k])
		// With relu, drop the gradient unless yv > 0.
		gb &= -uint32(b2u(yv > 0)) | ^rm
		yn := uint32(b2u(yv != yv))
		var found uint32
		for _, o := range offs {
			v := x[o+k]
			hit := (uint32(b2u(v == yv)) | uint32(b2u(v != v))&yn) &^ found
			found |= hit
			dx[o+k] = math.Float32frombits(gb & -hit)
		}
	}
}

// poolBackwardMaxFull adds one sample's max-pooling gradient to dx when
// every window lies inside the input (see poolForwardFull).
func poolBackwardMaxFull[T Float](g poolGeom, offs []int, x, gy, dx, best []T, arg []int, relu bool) {
	c := g.c
	for oy := 0; oy < g.oh; oy++ {
		for ox := 0; ox < g.ow; ox++ {
			p := (oy*g.sh*g.w + ox*g.sw) * c
			src := gy[(oy*g.ow+ox)*c:][:c]
			first := p + offs[0]
			copy(best, x[first:][:c])
			for k := range arg {
				arg[k] = first + k
			}
			for _, o := range offs[1:] {
				argMaxInto(best, arg, x[p+o:][:c], p+o)
			}
			for k, a := range arg {
				if relu && !(best[k] > 0) {
					continue
				}
				dx[a] += src[k]
			}
		}
	}
}

// poolBackwardSample adds one sample's pooling gradient to dx (general
// case).
func poolBackwardSample[T Float](g poolGeom, kind PoolKind, x, gy, dx, best []T, arg []int, relu bool) {
	c := g.c
	for oy := 0; oy < g.oh; oy++ {
		for ox := 0; ox < g.ow; ox++ {
			y0, y1, x0, x1 := g.window(oy, ox)
			src := gy[(oy*g.ow+ox)*c:][:c]
			if kind == PoolMax {
				first := true
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						off := (iy*g.w + ix) * c
						for k, v := range x[off : off+c] {
							if first || better(v, best[k]) {
								best[k], arg[k] = v, off+k
							}
						}
						first = false
					}
				}
				if !first {
					for k, a := range arg {
						if relu && !(best[k] > 0) {
							continue
						}
						dx[a] += src[k]
					}
				}
				continue
			}
			cnt := (y1 - y0) * (x1 - x0)
			if cnt <= 0 {
				continue
			}
			inv := 1 / float64(cnt)
			for iy := y0; iy < y1; iy++ {
				for ix := x0; ix < x1; ix++ {
					d := dx[(iy*g.w+ix)*c:][:c]
					for k, v := range src {
						d[k] += T(float64(v) * inv)
					}
				}
			}
		}
	}
}

// GlobalPool inserts a max or average over every spatial axis of a
// channels-last x ((N, L, C) or (N, H, W, C)) as one node: (N, C), or with
// keepDims (N, 1, C) / (N, 1, 1, C). Max's gradient goes to the first
// maximum of each channel.
func GlobalPool(x *G.Node, kind PoolKind, keepDims bool) (*G.Node, error) {
	return globalPool(x, nil, kind, keepDims)
}

// MaskedGlobalAveragePool inserts Σ_t x·m / Σ_t m over the time axis of x
// (N, T, C) as one node, mask m being (N, T) (or (N, T, 1)) of any float or
// bool dtype: Keras's GlobalAveragePooling1D with a mask. A sample whose mask
// sums to 0 gets 0 (Keras divides 0 by 0). The gradient flows to x only.
func MaskedGlobalAveragePool(x, mask *G.Node, keepDims bool) (*G.Node, error) {
	if mask == nil {
		return nil, errors.New("masked global average pooling: nil mask")
	}
	return globalPool(x, mask, PoolAverage, keepDims)
}

func globalPool(x, mask *G.Node, kind PoolKind, keepDims bool) (*G.Node, error) {
	if !kind.valid() {
		return nil, errors.Errorf("global pooling: unknown kind %v", kind)
	}
	if x == nil {
		return nil, errors.New("global pooling: nil input")
	}
	k := globalPoolKernel{kind: kind, keepDims: keepDims, masked: mask != nil}
	if mask == nil {
		return Apply(k, x)
	}
	return Apply(k, x, mask)
}

// globalPoolKernel reduces every spatial axis; with masked, a second input
// weights the time steps of an average.
type globalPoolKernel struct {
	kind     PoolKind
	keepDims bool
	masked   bool
}

func (k globalPoolKernel) Params() []any { return []any{k.kind, k.keepDims, k.masked} }

func (k globalPoolKernel) Name() string {
	m := ""
	if k.masked {
		m = "Masked"
	}
	return fmt.Sprintf("%sGlobal%sPool", m, k.kind)
}

// globalGeom returns the batch size, the number of spatial cells and
// channels of an input of shape x.
func globalGeom(x tensor.Shape) (n, s, c int, err error) {
	rank := len(x)
	if rank != 3 && rank != 4 {
		return 0, 0, 0, errors.Errorf("global pooling: input must be (N, L, C) or (N, H, W, C), got shape %v", x)
	}
	n, c = x[0], x[rank-1]
	s = x[1 : rank-1].TotalSize()
	if n <= 0 || s <= 0 || c <= 0 {
		return 0, 0, 0, errors.Errorf("global pooling: input shape %v has an empty axis", x)
	}
	return n, s, c, nil
}

func (k globalPoolKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if _, _, _, err := globalGeom(x); err != nil {
		return nil, err
	}
	if k.masked {
		if len(x) != 3 {
			return nil, errors.Errorf("masked global pooling: input must be (N, T, C), got shape %v", x)
		}
		if ms := in[1]; !(ms.Eq(tensor.Shape{x[0], x[1]}) || ms.Eq(tensor.Shape{x[0], x[1], 1})) {
			return nil, errors.Errorf("masked global pooling: mask shape %v does not match input %v (want (%d, %d))", ms, x, x[0], x[1])
		}
	}
	rank := len(x)
	if !k.keepDims {
		return tensor.Shape{x[0], x[rank-1]}, nil
	}
	out := make(tensor.Shape, rank)
	for i := range out {
		out[i] = 1
	}
	out[0], out[rank-1] = x[0], x[rank-1]
	return out, nil
}

func (k globalPoolKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	n, s, c, _ := globalGeom(in[0].Shape())
	var m []float64
	if k.masked {
		var err error
		if m, err = maskValues(in[1]); err != nil {
			return err
		}
	}
	if out.Dtype() == tensor.Float32 {
		globalForward(k.kind, n, s, c, in[0].Float32s(), m, out.Float32s())
	} else {
		globalForward(k.kind, n, s, c, in[0].Float64s(), m, out.Float64s())
	}
	return nil
}

// NoGradient: the mask gets none.
func (k globalPoolKernel) NoGradient(i int) bool { return i > 0 }

func (k globalPoolKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	args := G.Nodes{in[0], grad}
	if k.masked {
		args = append(args, in[1])
	}
	// After a relu (a convolution or dense node with ActReLU) an average's
	// gradient also applies the relu's derivative, as max pooling's does,
	// so that node needs no pass of its own (see convKernel.Gradient).
	relu := k.kind == PoolAverage && !k.masked && isReLUConv(in[0])
	dx, err := Apply(globalPoolGradKernel{pool: k, relu: relu}, args...)
	if k.masked {
		return G.Nodes{dx, nil}, err
	}
	return G.Nodes{dx}, err
}

// globalPoolGradKernel computes dL/dx from (x, dL/dy[, mask]). With relu (an
// unmasked average whose x is a relu's output) it also multiplies by the
// relu's derivative: cells of x that are not positive get 0.
type globalPoolGradKernel struct {
	pool globalPoolKernel
	relu bool
}

func (k globalPoolGradKernel) Params() []any { return []any{k.pool.Params(), k.relu} }
func (k globalPoolGradKernel) Name() string  { return k.pool.Name() + "'" }

func (k globalPoolGradKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	n, _, c, err := globalGeom(in[0])
	if err != nil {
		return nil, err
	}
	if g := in[1].TotalSize(); g != n*c && g != 1 {
		return nil, errors.Errorf("%s: output gradient shape %v, want %d values", k.Name(), in[1], n*c)
	}
	return in[0], nil
}

func (k globalPoolGradKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	n, s, c, _ := globalGeom(in[0].Shape())
	var m []float64
	if k.pool.masked {
		var err error
		if m, err = maskValues(in[2]); err != nil {
			return err
		}
	}
	if out.Dtype() == tensor.Float32 {
		globalBackward(k.pool.kind, n, s, c, in[0].Float32s(), m, gradData[float32](in[1], n*c), out.Float32s(), k.relu)
	} else {
		globalBackward(k.pool.kind, n, s, c, in[0].Float64s(), m, gradData[float64](in[1], n*c), out.Float64s(), k.relu)
	}
	return nil
}

// maskSums returns Σ_t m for each sample.
func maskSums(m []float64, n, s int) []float64 {
	sums := make([]float64, n)
	for i := range sums {
		for _, v := range m[i*s : (i+1)*s] {
			sums[i] += v
		}
	}
	return sums
}

// globalForward writes the global pooling of x into y (every element).
func globalForward[T Float](kind PoolKind, n, s, c int, x []T, m []float64, y []T) {
	j := getGlobalJob[T]()
	defer putGlobalJob(j)
	j.kind, j.s, j.c, j.x, j.m, j.y, j.back = kind, s, c, x, m, y, false
	if m != nil {
		j.sums = maskSums(m, n, s)
	}
	parallelRange(n, n*s*c, j.run)
}

// globalForwardRange is globalForward on samples [lo, hi).
func globalForwardRange[T Float](kind PoolKind, s, c int, x []T, m, sums []float64, y []T, lo, hi int) {
	var acc []float64
	var accBuf [256]float64 // on the stack for up to 256 channels
	if kind != PoolMax {
		acc = accBuf[:]
		if c > len(accBuf) {
			acc = make([]float64, c)
		}
		acc = acc[:c]
	}
	for i := lo; i < hi; i++ {
		xi, dst := x[i*s*c:(i+1)*s*c], y[i*c:(i+1)*c]
		if kind == PoolMax {
			copy(dst, xi[:c])
			for t := 1; t < s; t++ {
				maxInto(dst, xi[t*c:(t+1)*c])
			}
			continue
		}
		clear(acc)
		den := float64(s)
		for t := 0; t < s; t++ {
			w := 1.0
			if m != nil {
				w = m[i*s+t]
				if w == 0 {
					continue
				}
			}
			row := xi[t*c : (t+1)*c]
			if w == 1 {
				for k, v := range row {
					acc[k] += float64(v)
				}
				continue
			}
			for k, v := range row {
				acc[k] += w * float64(v)
			}
		}
		if m != nil {
			den = sums[i]
		}
		if den == 0 {
			clear(dst) // fully masked sample: 0
			continue
		}
		for k := range dst {
			dst[k] = T(acc[k] / den)
		}
	}
}

// globalBackward writes dL/dx into dx (every element); relu (for an
// unmasked average only) zeroes it where x is not positive.
func globalBackward[T Float](kind PoolKind, n, s, c int, x []T, m []float64, gy, dx []T, relu bool) {
	j := getGlobalJob[T]()
	defer putGlobalJob(j)
	j.kind, j.s, j.c, j.x, j.m, j.gy, j.dx, j.relu, j.back = kind, s, c, x, m, gy, dx, relu, true
	if m != nil {
		j.sums = maskSums(m, n, s)
	}
	parallelRange(n, 2*n*s*c, j.run)
}

// globalBackwardRange is globalBackward on samples [lo, hi).
func globalBackwardRange[T Float](kind PoolKind, s, c int, x []T, m, sums []float64, gy, dx []T, relu bool, lo, hi int) {
	var arg []int
	var argBuf [256]int // on the stack for up to 256 channels
	if kind == PoolMax {
		arg = argBuf[:]
		if c > len(argBuf) {
			arg = make([]int, c)
		}
		arg = arg[:c]
	}
	var rb []T
	var rbBuf [256]T
	if relu {
		rb = rbBuf[:]
		if c > len(rbBuf) {
			rb = make([]T, c)
		}
		rb = rb[:c]
	}
	for i := lo; i < hi; i++ {
		xi, gi, di := x[i*s*c:(i+1)*s*c], gy[i*c:(i+1)*c], dx[i*s*c:(i+1)*s*c]
		if kind == PoolMax {
			clear(di)
			for k := range arg {
				arg[k] = k
			}
			for t := 1; t < s; t++ {
				for k, v := range xi[t*c : (t+1)*c] {
					if better(v, xi[arg[k]]) {
						arg[k] = t*c + k
					}
				}
			}
			for k, a := range arg {
				di[a] += gi[k]
			}
			continue
		}
		den := float64(s)
		if m != nil {
			den = sums[i]
		}
		if den == 0 {
			clear(di)
			continue
		}
		if m == nil {
			// Every step gets the same gradient: compute one row, copy it.
			row, w := di[:c], 1/den
			for k, v := range gi {
				row[k] = T(w * float64(v))
			}
			if relu {
				reluBroadcast(xi, row, di, rb)
				continue
			}
			for t := 1; t < s; t++ {
				copy(di[t*c:(t+1)*c], row)
			}
			continue
		}
		for t := 0; t < s; t++ {
			w := m[i*s+t] / den
			for k, v := range gi {
				di[t*c+k] = T(w * float64(v))
			}
		}
	}
}

// reluBroadcast writes into every row of len(row) values of dx the
// gradient row, zeroed where the same row of x (a relu's output) is not
// positive; buf (len(row) values) is scratch, so that row may be dx's
// first row.
func reluBroadcast[T Float](x, row, dx, buf []T) {
	c := len(row)
	copy(buf, row)
	var z T
	if unsafe.Sizeof(z) == 4 {
		x32, d32, b32 := blas.As32(x), blas.As32(dx), blas.As32(buf)
		for t := 0; t+c <= len(x32); t += c {
			xr, dr := x32[t:t+c], d32[t:t+c]
			dr = dr[:len(xr)]
			b := b32[:len(xr)]
			for k, v := range xr {
				dr[k] = math.Float32frombits(math.Float32bits(b[k]) & -uint32(b2u(v > 0)))
			}
		}
		return
	}
	for t := 0; t+c <= len(x); t += c {
		xr, dr := x[t:t+c], dx[t:t+c]
		dr = dr[:len(xr)]
		b := buf[:len(xr)]
		for k, v := range xr {
			if v > 0 {
				dr[k] = b[k]
			} else {
				dr[k] = 0
			}
		}
	}
}

// b2u is 1 for true and 0 for false (compiled without a branch).
func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// maxInto sets dst[k] = src[k] wherever better(src[k], dst[k]), without
// branches: pooling compares values in no predictable order, and a
// mispredicted branch per element costs more than the whole comparison.
func maxInto[T Float](dst, src []T) {
	var z T
	if unsafe.Sizeof(z) == 4 {
		d, s := blas.As32(dst), blas.As32(src)
		s = s[:len(d)]
		for k, v := range s {
			b := d[k]
			m := uint32(-(b2u(v > b) | b2u(v != v)&b2u(b == b)))
			d[k] = math.Float32frombits(math.Float32bits(v)&m | math.Float32bits(b)&^m)
		}
		return
	}
	d, s := blas.As64(dst), blas.As64(src)
	s = s[:len(d)]
	for k, v := range s {
		b := d[k]
		m := -(b2u(v > b) | b2u(v != v)&b2u(b == b))
		d[k] = math.Float64frombits(math.Float64bits(v)&m | math.Float64bits(b)&^m)
	}
}

// argMaxInto is maxInto over best that also sets arg[k] = q+k wherever
// src[k] replaces best[k].
func argMaxInto[T Float](best []T, arg []int, src []T, q int) {
	var z T
	arg = arg[:len(best)]
	if unsafe.Sizeof(z) == 4 {
		d, s := blas.As32(best), blas.As32(src)
		s = s[:len(d)]
		for k, v := range s {
			b := d[k]
			c := b2u(v > b) | b2u(v != v)&b2u(b == b)
			m := uint32(-c)
			d[k] = math.Float32frombits(math.Float32bits(v)&m | math.Float32bits(b)&^m)
			im := -int(c)
			arg[k] = (q+k)&im | arg[k]&^im
		}
		return
	}
	d, s := blas.As64(best), blas.As64(src)
	s = s[:len(d)]
	for k, v := range s {
		b := d[k]
		c := b2u(v > b) | b2u(v != v)&b2u(b == b)
		m := -c
		d[k] = math.Float64frombits(math.Float64bits(v)&m | math.Float64bits(b)&^m)
		im := -int(c)
		arg[k] = (q+k)&im | arg[k]&^im
	}
}

// globalJob is one parallel global pooling, forward or backward (back):
// its arguments and its parallelRange callback, made once and reused
// through globalJobs.
type globalJob[T Float] struct {
	kind       PoolKind
	s, c       int
	x, y       []T
	gy, dx     []T
	m, sums    []float64
	relu, back bool
	run        func(lo, hi int)
}

var globalJobs blas.Pools

func getGlobalJob[T Float]() *globalJob[T] {
	if j, ok := blas.PoolFor[T](&globalJobs).Get().(*globalJob[T]); ok {
		return j
	}
	j := &globalJob[T]{}
	j.run = func(lo, hi int) {
		if j.back {
			globalBackwardRange(j.kind, j.s, j.c, j.x, j.m, j.sums, j.gy, j.dx, j.relu, lo, hi)
		} else {
			globalForwardRange(j.kind, j.s, j.c, j.x, j.m, j.sums, j.y, lo, hi)
		}
	}
	return j
}

func putGlobalJob[T Float](j *globalJob[T]) {
	j.x, j.y, j.gy, j.dx, j.m, j.sums = nil, nil, nil, nil, nil, nil
	blas.PoolFor[T](&globalJobs).Put(j)
}
