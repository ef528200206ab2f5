package ops

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// L2Normalize divides x by its L2 norm along axis (a non-negative axis of
// x's full shape), with TensorFlow's tf.math.l2_normalize semantics:
// y = x / sqrt(max(Σ_axis x², eps)). With eps = 1e-12 a zero vector gives
// zeros, and norms below 1e-6 are replaced by 1e-6. Forward and backward
// are one node each; where the clamp is active the norm is a constant.
func L2Normalize(x *G.Node, axis int, eps float64) (*G.Node, error) {
	if !(eps >= 0) {
		return nil, errors.Errorf("l2normalize: epsilon must be ≥ 0, got %v", eps)
	}
	return Apply(l2NormKernel{axis: axis, eps: eps}, x)
}

// l2NormKernel is the l2-normalization along one axis, in float64.
type l2NormKernel struct {
	axis int
	eps  float64
}

func (k l2NormKernel) Name() string  { return "L2Normalize" }
func (k l2NormKernel) Params() []any { return []any{k.axis, k.eps} }
func (k l2NormKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	return in[0], checkAxis("l2normalize", in[0], k.axis)
}

func (k l2NormKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	outer, n, inner := axisView(in[0].Shape(), k.axis)
	if out.Dtype() == tensor.Float32 {
		l2Normalize(in[0].Float32s(), out.Float32s(), outer, n, inner, k.eps)
	} else {
		l2Normalize(in[0].Float64s(), out.Float64s(), outer, n, inner, k.eps)
	}
	return nil
}

func (k l2NormKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := Apply(l2NormGradKernel(k), in[0], grad)
	return G.Nodes{dx}, err
}

// l2Normalize writes x·r into y for every vector along the axis, r =
// 1/sqrt(max(Σ x², eps)) computed in float64.
func l2Normalize[T Float](x, y []T, outer, n, inner int, eps float64) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			_, r := l2Rate(x, base, n, inner, eps)
			for c := 0; c < n; c++ {
				y[base+c*inner] = T(float64(x[base+c*inner]) * r)
			}
		}
	}
}

// l2NormGradKernel computes dL/dx from (x, dL/dy), recomputing the norm in
// float64 rather than trusting a float32 y.
type l2NormGradKernel l2NormKernel

func (k l2NormGradKernel) Name() string  { return "L2Normalize'" }
func (k l2NormGradKernel) Params() []any { return []any{k.axis, k.eps} }
func (k l2NormGradKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[1].TotalSize() != in[0].TotalSize() {
		return nil, errors.Errorf("l2normalize': input %v and gradient %v differ in size", in[0], in[1])
	}
	return in[0], checkAxis("l2normalize'", in[0], k.axis)
}

func (k l2NormGradKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	outer, n, inner := axisView(in[0].Shape(), k.axis)
	if out.Dtype() == tensor.Float32 {
		l2NormalizeGrad(in[0].Float32s(), in[1].Float32s(), out.Float32s(), outer, n, inner, k.eps)
	} else {
		l2NormalizeGrad(in[0].Float64s(), in[1].Float64s(), out.Float64s(), outer, n, inner, k.eps)
	}
	return nil
}

// l2NormalizeGrad writes dx = (g − ŷ·Σ g·ŷ)·r with ŷ = x·r, or g·r where
// the clamp is active (the norm is then a constant).
func l2NormalizeGrad[T Float](x, g, dx []T, outer, n, inner int, eps float64) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			s, r := l2Rate(x, base, n, inner, eps)
			if s <= eps {
				for c := 0; c < n; c++ {
					dx[base+c*inner] = T(float64(g[base+c*inner]) * r)
				}
				continue
			}
			gy := 0.0
			for c := 0; c < n; c++ {
				gy += float64(g[base+c*inner]) * float64(x[base+c*inner]) * r
			}
			for c := 0; c < n; c++ {
				k := base + c*inner
				dx[k] = T((float64(g[k]) - float64(x[k])*r*gy) * r)
			}
		}
	}
}

// l2Rate returns Σ x² over the vector of n elements at base, inner apart,
// and r = 1/sqrt(max(Σ x², eps)), in float64.
func l2Rate[T Float](x []T, base, n, inner int, eps float64) (s, r float64) {
	for c := 0; c < n; c++ {
		v := float64(x[base+c*inner])
		s += v * v
	}
	return s, 1 / math.Sqrt(math.Max(s, eps))
}
