package ops

import (
	"fmt"
	"hash"
	"math"
	"unsafe"

	"github.com/chewxy/hm"
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
	if err := checkFloat(x, "pooling"); err != nil {
		return nil, err
	}
	shape := x.Shape().Clone()
	if _, err := poolGeometry(shape, pool, strides, same); err != nil {
		return nil, err
	}
	op := poolOp{kind: kind, shape: shape, pool: append([]int(nil), pool...), strides: append([]int(nil), strides...), same: same, dt: x.Dtype()}
	return G.ApplyOp(op, x)
}

func checkFloat(x *G.Node, what string) error {
	if x == nil {
		return errors.Errorf("%s: nil input", what)
	}
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return errors.Errorf("%s: dtype %v not supported (float32 or float64)", what, dt)
	}
	return nil
}

// poolOp is a max or average pooling of an input of a fixed shape.
type poolOp struct {
	kind          PoolKind
	shape         tensor.Shape // input shape, batch included
	pool, strides []int
	same          bool
	dt            tensor.Dtype
}

func (op poolOp) geom() (poolGeom, error) {
	return poolGeometry(op.shape, op.pool, op.strides, op.same)
}

func (op poolOp) Arity() int { return 1 }
func (op poolOp) Type() hm.Type {
	t := G.TensorType{Dims: len(op.shape), Of: op.dt}
	return hm.NewFnType(t, t)
}
func (op poolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("%v: expected 1 input, got %d", op, len(in))
	}
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	g, err := poolGeometry(s, op.pool, op.strides, op.same)
	if err != nil {
		return nil, err
	}
	return g.outShape(len(s)), nil
}
func (op poolOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// output's dtype and shape.
func (op poolOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op poolOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("%v: expected 1 input, got %d", op, len(in))
	}
	x, err := tensorIn(in[0], op.shape, op.dt, op.String())
	if err != nil {
		return nil, err
	}
	g, err := op.geom()
	if err != nil {
		return nil, err
	}
	out := outDense(prealloc, op.dt, g.outShape(len(op.shape)))
	switch op.dt {
	case tensor.Float32:
		poolForward(g, op.kind, x.Float32s(), out.Float32s())
	case tensor.Float64:
		poolForward(g, op.kind, x.Float64s(), out.Float64s())
	default:
		return nil, errors.Errorf("%v: unsupported dtype %v", op, x.Dtype())
	}
	return out, nil
}
func (op poolOp) ReturnsPtr() bool     { return false }
func (op poolOp) CallsExtern() bool    { return false }
func (op poolOp) OverwritesInput() int { return -1 }
func (op poolOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.pool.%v.%v.%v.%v.%t.%v", op.kind, []int(op.shape), op.pool, op.strides, op.same, op.dt)
}
func (op poolOp) Hashcode() uint32 { return hashOf(op) }
func (op poolOp) String() string {
	pad := "valid"
	if op.same {
		pad = "same"
	}
	return fmt.Sprintf("%sPool%dD%v/%v/%s", op.kind, len(op.shape)-2, op.pool, op.strides, pad)
}

func (op poolOp) DiffWRT(int) []bool { return []bool{true} }
func (op poolOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("%v: expected 1 input, got %d", op, len(in))
	}
	if op.kind == PoolMax {
		// Max pooling's gradient finds each window's maximum as the first
		// cell equal to the output; after a relu (a convolution or dense
		// node with ActReLU) it also applies the relu's derivative, so that
		// node needs no pass of its own (see convOp.SymDiff).
		relu := false
		if c, ok := in[0].Op().(convOp); ok && c.kind == convForward && c.act == ActReLU {
			relu = true
		}
		dx, err := G.ApplyOp(poolGradOp{poolOp: op, gdims: grad.Dims(), withY: true, relu: relu}, in[0], out, grad)
		if err != nil {
			return nil, err
		}
		return G.Nodes{dx}, nil
	}
	dx, err := G.ApplyOp(poolGradOp{poolOp: op, gdims: grad.Dims()}, in[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// reluMaskedPoolGrad reports whether grad is a max or global average
// pooling's gradient node that already applies the relu derivative of its
// input out.
func reluMaskedPoolGrad(out, grad *G.Node) bool {
	switch op := grad.Op().(type) {
	case poolGradOp:
		if !op.relu {
			return false
		}
	case globalPoolGradOp:
		if !op.relu {
			return false
		}
	default:
		return false
	}
	it := grad.Graph().From(grad.ID())
	return it.Next() && it.Node().ID() == out.ID()
}

// poolGradOp computes dL/dx from (x, dL/dy), or with withY from (x, y,
// dL/dy). With relu (x being a relu's output) it also multiplies by the
// relu's derivative: a window whose maximum is not positive passes nothing.
type poolGradOp struct {
	poolOp
	gdims int
	withY bool
	relu  bool
}

func (op poolGradOp) Arity() int {
	if op.withY {
		return 3
	}
	return 2
}
func (op poolGradOp) Type() hm.Type {
	t := G.TensorType{Dims: len(op.shape), Of: op.dt}
	if op.withY {
		return hm.NewFnType(t, t, gradType(op.gdims, op.dt), t)
	}
	return hm.NewFnType(t, gradType(op.gdims, op.dt), t)
}
func (op poolGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != op.Arity() {
		return nil, errors.Errorf("%v: expected %d inputs, got %d", op, op.Arity(), len(in))
	}
	return shapeOf(in[0])
}
func (op poolGradOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of x's
// dtype and shape.
func (op poolGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op poolGradOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != op.Arity() {
		return nil, errors.Errorf("%v: expected %d inputs, got %d", op, op.Arity(), len(in))
	}
	x, err := tensorIn(in[0], op.shape, op.dt, op.String())
	if err != nil {
		return nil, err
	}
	g, err := op.geom()
	if err != nil {
		return nil, err
	}
	ys := g.outShape(len(op.shape))
	var y *tensor.Dense
	gin := in[1]
	if op.withY {
		if y, err = tensorIn(in[1], ys, op.dt, op.String()); err != nil {
			return nil, err
		}
		gin = in[2]
	}
	switch op.dt {
	case tensor.Float32:
		gy, err := gradIn[float32](gin, ys.TotalSize(), op.String())
		if err != nil {
			return nil, err
		}
		out := outDense(prealloc, op.dt, op.shape)
		var yd []float32
		if y != nil {
			yd = y.Float32s()
		}
		poolBackward(g, op.kind, x.Float32s(), yd, gy, out.Float32s(), op.relu)
		return out, nil
	case tensor.Float64:
		gy, err := gradIn[float64](gin, ys.TotalSize(), op.String())
		if err != nil {
			return nil, err
		}
		out := outDense(prealloc, op.dt, op.shape)
		var yd []float64
		if y != nil {
			yd = y.Float64s()
		}
		poolBackward(g, op.kind, x.Float64s(), yd, gy, out.Float64s(), op.relu)
		return out, nil
	}
	return nil, errors.Errorf("%v: unsupported dtype %v", op, x.Dtype())
}
func (op poolGradOp) WriteHash(h hash.Hash) {
	op.poolOp.WriteHash(h)
	fmt.Fprintf(h, ".grad%d.%t.%t", op.gdims, op.withY, op.relu)
}
func (op poolGradOp) Hashcode() uint32 { return hashOf(op) }
func (op poolGradOp) String() string   { return op.poolOp.String() + "'" }

// The gradient op is not differentiated again.
func (op poolGradOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op poolGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.Errorf("%v: second derivatives are not implemented", op.poolOp)
}

type float interface{ float32 | float64 }

// better reports whether v replaces best as a window's maximum: strictly
// larger (so the first maximum wins ties), or NaN over a number (NaN
// propagates).
func better[T float](v, best T) bool { return v > best || (v != v && best == best) }

// offsets returns, when every window of g lies wholly inside the input (no
// padding cell is ever covered), the offsets of a window's cells from its
// first cell in row-major order; nil otherwise.
func (g poolGeom) offsets() []int {
	if g.ph != 0 || g.pw != 0 || (g.oh-1)*g.sh+g.kh > g.h || (g.ow-1)*g.sw+g.kw > g.w {
		return nil
	}
	offs := make([]int, 0, g.kh*g.kw)
	for ky := 0; ky < g.kh; ky++ {
		for kx := 0; kx < g.kw; kx++ {
			offs = append(offs, (ky*g.w+kx)*g.c)
		}
	}
	return offs
}

// poolForward writes the pooling of x into y (every element of y).
func poolForward[T float](g poolGeom, kind PoolKind, x, y []T) {
	xs, ys := g.h*g.w*g.c, g.oh*g.ow*g.c
	offs := g.offsets()
	parallelRange(g.n, g.n*(xs+ys), func(lo, hi int) {
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
	})
}

// poolForwardFull pools one sample whose windows all lie inside the input:
// window cell k of the window starting at input cell p is x[p+offs[k]:].
func poolForwardFull[T float](g poolGeom, kind PoolKind, offs []int, x, y []T, sum []float64) {
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
func poolForwardPadded[T float](g poolGeom, kind PoolKind, x, y []T, sum []float64) {
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
func poolBackward[T float](g poolGeom, kind PoolKind, x, y, gy, dx []T, relu bool) {
	xs, ys := g.h*g.w*g.c, g.oh*g.ow*g.c
	offs := g.offsets()
	// Windows that never overlap let each cell of dx be written once.
	disjoint := g.sh >= g.kh && g.sw >= g.kw
	exact := disjoint && g.sh == g.kh && g.sw == g.kw && g.oh*g.kh == g.h && g.ow*g.kw == g.w
	if kind == PoolMax && offs != nil && y != nil && disjoint {
		parallelRange(g.n, g.n*(2*xs+2*ys), func(lo, hi int) {
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
func poolBackwardMaxEq[T float](g poolGeom, offs []int, x, y, gy, dx []T, relu bool) {
	c := g.c
	var z T
	if unsafe.Sizeof(z) == 4 {
		x32, y32, g32, d32 := actAs32(x), actAs32(y), actAs32(gy), actAs32(dx)
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
func poolBackwardMaxFull[T float](g poolGeom, offs []int, x, gy, dx, best []T, arg []int, relu bool) {
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
func poolBackwardSample[T float](g poolGeom, kind PoolKind, x, gy, dx, best []T, arg []int, relu bool) {
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
	if err := checkFloat(x, "global pooling"); err != nil {
		return nil, err
	}
	op := globalPoolOp{kind: kind, shape: x.Shape().Clone(), keepDims: keepDims, dt: x.Dtype()}
	if _, _, _, err := op.geom(); err != nil {
		return nil, err
	}
	if mask == nil {
		return G.ApplyOp(op, x)
	}
	if len(op.shape) != 3 {
		return nil, errors.Errorf("masked global pooling: input must be (N, T, C), got shape %v", op.shape)
	}
	ms := mask.Shape()
	if !(ms.Eq(tensor.Shape{op.shape[0], op.shape[1]}) || ms.Eq(tensor.Shape{op.shape[0], op.shape[1], 1})) {
		return nil, errors.Errorf("masked global pooling: mask shape %v does not match input %v (want (%d, %d))", ms, op.shape, op.shape[0], op.shape[1])
	}
	op.masked, op.maskDims, op.maskDt = true, mask.Dims(), mask.Dtype()
	return G.ApplyOp(op, x, mask)
}

// globalPoolOp reduces every spatial axis; with masked, a second input
// weights the time steps of an average.
type globalPoolOp struct {
	kind     PoolKind
	shape    tensor.Shape
	keepDims bool
	dt       tensor.Dtype
	masked   bool
	maskDims int
	maskDt   tensor.Dtype
}

// geom returns the batch size, the number of spatial cells and channels.
func (op globalPoolOp) geom() (n, s, c int, err error) {
	rank := len(op.shape)
	if rank != 3 && rank != 4 {
		return 0, 0, 0, errors.Errorf("global pooling: input must be (N, L, C) or (N, H, W, C), got shape %v", op.shape)
	}
	n, c = op.shape[0], op.shape[rank-1]
	s = op.shape[1 : rank-1].TotalSize()
	if n <= 0 || s <= 0 || c <= 0 {
		return 0, 0, 0, errors.Errorf("global pooling: input shape %v has an empty axis", op.shape)
	}
	return n, s, c, nil
}

func (op globalPoolOp) outShape() tensor.Shape {
	rank := len(op.shape)
	if !op.keepDims {
		return tensor.Shape{op.shape[0], op.shape[rank-1]}
	}
	out := make(tensor.Shape, rank)
	for i := range out {
		out[i] = 1
	}
	out[0], out[rank-1] = op.shape[0], op.shape[rank-1]
	return out
}

func (op globalPoolOp) Arity() int {
	if op.masked {
		return 2
	}
	return 1
}
func (op globalPoolOp) Type() hm.Type {
	x := G.TensorType{Dims: len(op.shape), Of: op.dt}
	y := G.TensorType{Dims: len(op.outShape()), Of: op.dt}
	if op.masked {
		return hm.NewFnType(x, G.TensorType{Dims: op.maskDims, Of: op.maskDt}, y)
	}
	return hm.NewFnType(x, y)
}
func (op globalPoolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != op.Arity() {
		return nil, errors.Errorf("%v: expected %d inputs, got %d", op, op.Arity(), len(in))
	}
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	if !s.Eq(op.shape) {
		return nil, errors.Errorf("%v: input shape %v, built for %v", op, s, op.shape)
	}
	return op.outShape(), nil
}
func (op globalPoolOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// output's dtype and shape.
func (op globalPoolOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op globalPoolOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != op.Arity() {
		return nil, errors.Errorf("%v: expected %d inputs, got %d", op, op.Arity(), len(in))
	}
	x, err := tensorIn(in[0], op.shape, op.dt, op.String())
	if err != nil {
		return nil, err
	}
	n, s, c, err := op.geom()
	if err != nil {
		return nil, err
	}
	var m []float64
	if op.masked {
		if m, err = maskIn(in[1], n*s, op.String()); err != nil {
			return nil, err
		}
	}
	out := outDense(prealloc, op.dt, op.outShape())
	switch op.dt {
	case tensor.Float32:
		globalForward(op.kind, n, s, c, x.Float32s(), m, out.Float32s())
	case tensor.Float64:
		globalForward(op.kind, n, s, c, x.Float64s(), m, out.Float64s())
	default:
		return nil, errors.Errorf("%v: unsupported dtype %v", op, x.Dtype())
	}
	return out, nil
}
func (op globalPoolOp) ReturnsPtr() bool     { return false }
func (op globalPoolOp) CallsExtern() bool    { return false }
func (op globalPoolOp) OverwritesInput() int { return -1 }
func (op globalPoolOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.globalpool.%v.%v.%t.%v.%t.%d.%v", op.kind, []int(op.shape), op.keepDims, op.dt, op.masked, op.maskDims, op.maskDt)
}
func (op globalPoolOp) Hashcode() uint32 { return hashOf(op) }
func (op globalPoolOp) String() string {
	m := ""
	if op.masked {
		m = "Masked"
	}
	return fmt.Sprintf("%sGlobal%sPool%dD", m, op.kind, len(op.shape)-2)
}

func (op globalPoolOp) DiffWRT(n int) []bool {
	out := make([]bool, n)
	if n > 0 {
		out[0] = true
	}
	return out
}
func (op globalPoolOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if len(in) != op.Arity() {
		return nil, errors.Errorf("%v: expected %d inputs, got %d", op, op.Arity(), len(in))
	}
	args := G.Nodes{in[0], grad}
	if op.masked {
		args = append(args, in[1])
	}
	// After a relu (a convolution or dense node with ActReLU) an average's
	// gradient also applies the relu's derivative, as max pooling's does,
	// so that node needs no pass of its own (see convOp.SymDiff).
	relu := false
	if c, ok := in[0].Op().(convOp); ok && c.kind == convForward && c.act == ActReLU && op.kind == PoolAverage && !op.masked {
		relu = true
	}
	dx, err := G.ApplyOp(globalPoolGradOp{globalPoolOp: op, gdims: grad.Dims(), relu: relu}, args...)
	if err != nil {
		return nil, err
	}
	if op.masked {
		return G.Nodes{dx, nil}, nil
	}
	return G.Nodes{dx}, nil
}

// globalPoolGradOp computes dL/dx from (x, dL/dy[, mask]). With relu (an
// unmasked average whose x is a relu's output) it also multiplies by the
// relu's derivative: cells of x that are not positive get 0.
type globalPoolGradOp struct {
	globalPoolOp
	gdims int
	relu  bool
}

func (op globalPoolGradOp) Arity() int { return op.globalPoolOp.Arity() + 1 }
func (op globalPoolGradOp) Type() hm.Type {
	x := G.TensorType{Dims: len(op.shape), Of: op.dt}
	g := gradType(op.gdims, op.dt)
	if op.masked {
		return hm.NewFnType(x, g, G.TensorType{Dims: op.maskDims, Of: op.maskDt}, x)
	}
	return hm.NewFnType(x, g, x)
}
func (op globalPoolGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != op.Arity() {
		return nil, errors.Errorf("%v: expected %d inputs, got %d", op, op.Arity(), len(in))
	}
	return shapeOf(in[0])
}
func (op globalPoolGradOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of x's
// dtype and shape.
func (op globalPoolGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op globalPoolGradOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != op.Arity() {
		return nil, errors.Errorf("%v: expected %d inputs, got %d", op, op.Arity(), len(in))
	}
	x, err := tensorIn(in[0], op.shape, op.dt, op.String())
	if err != nil {
		return nil, err
	}
	n, s, c, err := op.geom()
	if err != nil {
		return nil, err
	}
	var m []float64
	if op.masked {
		if m, err = maskIn(in[2], n*s, op.String()); err != nil {
			return nil, err
		}
	}
	switch op.dt {
	case tensor.Float32:
		gy, err := gradIn[float32](in[1], n*c, op.String())
		if err != nil {
			return nil, err
		}
		out := outDense(prealloc, op.dt, op.shape)
		globalBackward(op.kind, n, s, c, x.Float32s(), m, gy, out.Float32s(), op.relu)
		return out, nil
	case tensor.Float64:
		gy, err := gradIn[float64](in[1], n*c, op.String())
		if err != nil {
			return nil, err
		}
		out := outDense(prealloc, op.dt, op.shape)
		globalBackward(op.kind, n, s, c, x.Float64s(), m, gy, out.Float64s(), op.relu)
		return out, nil
	}
	return nil, errors.Errorf("%v: unsupported dtype %v", op, x.Dtype())
}
func (op globalPoolGradOp) WriteHash(h hash.Hash) {
	op.globalPoolOp.WriteHash(h)
	fmt.Fprintf(h, ".grad%d", op.gdims)
	if op.relu {
		fmt.Fprint(h, ".relu")
	}
}
func (op globalPoolGradOp) Hashcode() uint32 { return hashOf(op) }
func (op globalPoolGradOp) String() string   { return op.globalPoolOp.String() + "'" }

// The gradient op is not differentiated again.
func (op globalPoolGradOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op globalPoolGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.Errorf("%v: second derivatives are not implemented", op.globalPoolOp)
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
func globalForward[T float](kind PoolKind, n, s, c int, x []T, m []float64, y []T) {
	var sums []float64
	if m != nil {
		sums = maskSums(m, n, s)
	}
	parallelRange(n, n*s*c, func(lo, hi int) {
		var acc []float64
		if kind != PoolMax {
			acc = make([]float64, c)
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
	})
}

// globalBackward writes dL/dx into dx (every element); relu (for an
// unmasked average only) zeroes it where x is not positive.
func globalBackward[T float](kind PoolKind, n, s, c int, x []T, m []float64, gy, dx []T, relu bool) {
	var sums []float64
	if m != nil {
		sums = maskSums(m, n, s)
	}
	parallelRange(n, 2*n*s*c, func(lo, hi int) {
		var arg []int
		if kind == PoolMax {
			arg = make([]int, c)
		}
		var rb []T
		if relu {
			rb = make([]T, c)
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
	})
}

// reluBroadcast writes into every row of len(row) values of dx the
// gradient row, zeroed where the same row of x (a relu's output) is not
// positive; buf (len(row) values) is scratch, so that row may be dx's
// first row.
func reluBroadcast[T float](x, row, dx, buf []T) {
	c := len(row)
	copy(buf, row)
	var z T
	if unsafe.Sizeof(z) == 4 {
		x32, d32, b32 := actAs32(x), actAs32(dx), actAs32(buf)
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

// gradType is the type of an incoming gradient of the given rank.
func gradType(dims int, dt tensor.Dtype) hm.Type {
	if dims == 0 {
		return dt
	}
	return G.TensorType{Dims: dims, Of: dt}
}

// tensorIn checks that v is a tensor of the given shape and dtype.
func tensorIn(v G.Value, shape tensor.Shape, dt tensor.Dtype, what string) (*tensor.Dense, error) {
	t, ok := v.(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("%s: input is %T, not a dense tensor", what, v)
	}
	if t.Dtype() != dt {
		return nil, errors.Errorf("%s: input is %v, built for %v", what, t.Dtype(), dt)
	}
	if !t.Shape().Eq(shape) {
		return nil, errors.Errorf("%s: input shape %v, built for %v", what, t.Shape(), shape)
	}
	if t.RequiresIterator() {
		return nil, errors.Errorf("%s: input is not contiguous", what)
	}
	return t, nil
}

// gradIn returns an incoming gradient as a slice of size values, a scalar
// gradient being broadcast.
func gradIn[T float](v G.Value, size int, what string) ([]T, error) {
	var data []T
	var z T
	switch t := v.(type) {
	case *tensor.Dense:
		// Typed accessors: Data would box the slice into an interface.
		if t.RequiresIterator() {
			return nil, errors.Errorf("%s: output gradient is not contiguous", what)
		}
		switch {
		case t.IsScalar():
			if d, ok := t.ScalarValue().(T); ok {
				data = []T{d}
			}
		case t.Dtype() == tensor.Float32 && unsafe.Sizeof(z) == 4:
			d := t.Float32s()
			data = unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
		case t.Dtype() == tensor.Float64 && unsafe.Sizeof(z) == 8:
			d := t.Float64s()
			data = unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
		}
	case tensor.Tensor:
		if t.RequiresIterator() {
			return nil, errors.Errorf("%s: output gradient is not contiguous", what)
		}
		switch d := t.Data().(type) {
		case []T:
			data = d
		case T:
			data = []T{d}
		}
	case *G.F32:
		if d, ok := any(float32(*t)).(T); ok {
			data = []T{d}
		}
	case *G.F64:
		if d, ok := any(float64(*t)).(T); ok {
			data = []T{d}
		}
	}
	if data == nil {
		return nil, errors.Errorf("%s: output gradient %T has the wrong dtype", what, v)
	}
	if len(data) == size {
		return data, nil
	}
	if len(data) == 1 {
		out := make([]T, size)
		for i := range out {
			out[i] = data[0]
		}
		return out, nil
	}
	return nil, errors.Errorf("%s: output gradient has %d values, the output %d", what, len(data), size)
}

// maskIn returns a float or bool mask of size values as float64s.
func maskIn(v G.Value, size int, what string) ([]float64, error) {
	t, ok := v.(tensor.Tensor)
	if !ok {
		return nil, errors.Errorf("%s: mask is %T, not a tensor", what, v)
	}
	if t.RequiresIterator() {
		return nil, errors.Errorf("%s: mask is not contiguous", what)
	}
	var m []float64
	switch d := t.Data().(type) {
	case []bool:
		m = make([]float64, len(d))
		for i, b := range d {
			if b {
				m[i] = 1
			}
		}
	default:
		m = Float64s(t)
	}
	if m == nil {
		return nil, errors.Errorf("%s: mask dtype %v not supported (float or bool)", what, t.Dtype())
	}
	if len(m) != size {
		return nil, errors.Errorf("%s: mask has %d values, want %d", what, len(m), size)
	}
	for _, w := range m {
		if math.IsNaN(w) {
			return nil, errors.Errorf("%s: mask holds NaN", what)
		}
	}
	return m, nil
}
