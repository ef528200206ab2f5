package ops

import (
	"math"

	"github.com/kerago/kerago/graph/blas"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Softmax is the softmax of x along axis (a non-negative axis of x's full
// shape) as one node, computed stably in float64 (the maximum is subtracted
// first); its gradient is one node, dx = y ⊙ (dy − Σ_axis dy ⊙ y), from the
// output y. Both reuse their previous output and allocate nothing.
func Softmax(x *G.Node, axis int) (*G.Node, error) {
	return Apply(softmaxKernel{axis: axis}, x)
}

// SoftmaxLast is Softmax along x's last axis (the softmax activation).
func SoftmaxLast(x *G.Node) (*G.Node, error) {
	return Softmax(x, x.Dims()-1)
}

// softmaxKernel is the softmax along one axis.
type softmaxKernel struct{ axis int }

func (k softmaxKernel) Name() string  { return "Softmax" }
func (k softmaxKernel) Params() []any { return []any{k.axis} }
func (k softmaxKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	return in[0], checkAxis("softmax", in[0], k.axis)
}

// checkAxis checks that axis is an axis of a tensor of shape s.
func checkAxis(what string, s tensor.Shape, axis int) error {
	if len(s) == 0 {
		return errors.Errorf("%s: input is a scalar", what)
	}
	if axis < 0 || axis >= len(s) {
		return errors.Errorf("%s: axis %d out of range for shape %v", what, axis, s)
	}
	return nil
}

func (k softmaxKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	outer, n, inner := axisView(in[0].Shape(), k.axis)
	if out.Dtype() == tensor.Float32 {
		if inner == 1 {
			softmaxRows32(in[0].Float32s(), out.Float32s(), outer, n)
		} else {
			softmaxAxis(in[0].Float32s(), out.Float32s(), outer, n, inner)
		}
	} else {
		softmaxAxis(in[0].Float64s(), out.Float64s(), outer, n, inner)
	}
	return nil
}

func (k softmaxKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := Apply(softmaxGradKernel(k), out, grad)
	return G.Nodes{dx}, err
}

// softmaxAxis writes into y the softmax of x's vectors of n elements, inner
// apart, in outer·inner groups (inner = 1: the rows of the last axis).
func softmaxAxis[T Float](x, y []T, outer, n, inner int) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			m := math.Inf(-1)
			for c := 0; c < n; c++ {
				m = math.Max(m, float64(x[base+c*inner]))
			}
			sum := 0.0
			for c := 0; c < n; c++ {
				e := math.Exp(float64(x[base+c*inner]) - m)
				y[base+c*inner] = T(e)
				sum += e
			}
			inv := 1 / sum
			for c := 0; c < n; c++ {
				y[base+c*inner] = T(float64(y[base+c*inner]) * inv)
			}
		}
	}
}

// softmaxRows32 is softmaxAxis on float32 rows (the last axis): the
// exponentials in float32 by blas.Exp32's vector loop, the sum and the
// scaling in float64, as softmaxAxis. A row holding a NaN or an infinity
// goes through softmaxAxis (which keeps NaN), and entries more than 87
// below their row's maximum (where Exp32 clamps) are recomputed exactly.
func softmaxRows32(x, y []float32, rows, n int) {
	for r := range rows {
		xr, yr := x[r*n:r*n+n], y[r*n:r*n+n]
		m, finite := xr[0], true
		for _, v := range xr {
			if v > m {
				m = v
			}
			if v-v != 0 { // NaN or ±Inf
				finite = false
			}
		}
		if !finite {
			softmaxAxis(xr, yr, 1, n, 1)
			continue
		}
		low := false
		for i, v := range xr {
			yr[i] = v - m
			low = low || yr[i] < -87
		}
		blas.Exp32(yr)
		if low {
			for i, v := range xr {
				if v-m < -87 {
					yr[i] = float32(math.Exp(float64(v - m)))
				}
			}
		}
		sum := 0.0
		for _, e := range yr {
			sum += float64(e)
		}
		inv := 1 / sum
		for i, e := range yr {
			yr[i] = float32(float64(e) * inv)
		}
	}
}

// softmaxGradKernel computes dL/dx from (y, dL/dy).
type softmaxGradKernel softmaxKernel

func (k softmaxGradKernel) Name() string  { return "Softmax'" }
func (k softmaxGradKernel) Params() []any { return []any{k.axis} }
func (k softmaxGradKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[1].TotalSize() != in[0].TotalSize() {
		return nil, errors.Errorf("softmax': output %v and gradient %v differ in size", in[0], in[1])
	}
	return in[0], checkAxis("softmax'", in[0], k.axis)
}

func (k softmaxGradKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	outer, n, inner := axisView(in[0].Shape(), k.axis)
	if out.Dtype() == tensor.Float32 {
		softmaxGradAxis(in[0].Float32s(), in[1].Float32s(), out.Float32s(), outer, n, inner)
	} else {
		softmaxGradAxis(in[0].Float64s(), in[1].Float64s(), out.Float64s(), outer, n, inner)
	}
	return nil
}

// softmaxGradAxis writes y ⊙ (g − Σ_axis g ⊙ y) for every vector.
func softmaxGradAxis[T Float](y, g, dx []T, outer, n, inner int) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			dot := 0.0
			for c := 0; c < n; c++ {
				dot += float64(y[base+c*inner]) * float64(g[base+c*inner])
			}
			for c := 0; c < n; c++ {
				k := base + c*inner
				dx[k] = T(float64(y[k]) * (float64(g[k]) - dot))
			}
		}
	}
}
