package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
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
	return applyAxisOp(axisOp{kind: "l2normalize", eps: eps}, x, axis)
}

// Softmax is the softmax of x along axis (a non-negative axis of x's full
// shape), computed stably (the maximum is subtracted first), as one node
// forward and one backward: dx = y ⊙ (g − Σ_axis g ⊙ y).
func Softmax(x *G.Node, axis int) (*G.Node, error) {
	return applyAxisOp(axisOp{kind: "softmax"}, x, axis)
}

func applyAxisOp(op axisOp, x *G.Node, axis int) (*G.Node, error) {
	dt := x.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Errorf("%s: dtype %v not supported (float32 or float64)", op.kind, dt)
	}
	s := x.Shape()
	if len(s) == 0 {
		return nil, errors.Errorf("%s: input is a scalar", op.kind)
	}
	if axis < 0 || axis >= len(s) {
		return nil, errors.Errorf("%s: axis %d out of range for shape %v", op.kind, axis, s)
	}
	if !(op.eps >= 0) {
		return nil, errors.Errorf("%s: epsilon must be ≥ 0, got %v", op.kind, op.eps)
	}
	op.axis, op.dims, op.dt = axis, len(s), dt
	return G.ApplyOp(op, x)
}

// axisOp is an element-wise-shaped function of the vectors along one axis:
// l2normalize or softmax.
type axisOp struct {
	kind       string
	eps        float64
	axis, dims int
	dt         tensor.Dtype
}

func (op axisOp) Arity() int { return 1 }
func (op axisOp) Type() hm.Type {
	t := G.TensorType{Dims: op.dims, Of: op.dt}
	return hm.NewFnType(t, t)
}
func (op axisOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]) }

func viewOf(v G.Value, dims, axis int) (outer, n, inner int, err error) {
	t, ok := v.(tensor.Tensor)
	if !ok || len(t.Shape()) != dims || axis >= dims {
		return 0, 0, 0, errors.Errorf("expected a %d-D tensor, got %v", dims, v)
	}
	outer, n, inner = axisView(t.Shape(), axis)
	return outer, n, inner, nil
}

func (op axisOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// input's dtype and shape.
func (op axisOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op axisOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("%v: expected 1 input, got %d", op, len(in))
	}
	outer, n, inner, err := viewOf(in[0], op.dims, op.axis)
	if err != nil {
		return nil, errors.Wrap(err, op.String())
	}
	x := Float64s(in[0])
	y := make([]float64, len(x))
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			switch op.kind {
			case "l2normalize":
				s := 0.0
				for c := 0; c < n; c++ {
					v := x[base+c*inner]
					s += v * v
				}
				r := 1 / math.Sqrt(math.Max(s, op.eps))
				for c := 0; c < n; c++ {
					y[base+c*inner] = x[base+c*inner] * r
				}
			case "softmax":
				m := math.Inf(-1)
				for c := 0; c < n; c++ {
					m = math.Max(m, x[base+c*inner])
				}
				s := 0.0
				for c := 0; c < n; c++ {
					e := math.Exp(x[base+c*inner] - m)
					y[base+c*inner] = e
					s += e
				}
				for c := 0; c < n; c++ {
					y[base+c*inner] /= s
				}
			}
		}
	}
	if d := reuseDense(prealloc, op.dt, in[0].(tensor.Tensor).Shape()); d != nil {
		storeFloat64s(d, y)
		return d, nil
	}
	return fromFloat64s(in[0], y)
}
func (op axisOp) ReturnsPtr() bool     { return false }
func (op axisOp) CallsExtern() bool    { return false }
func (op axisOp) OverwritesInput() int { return -1 }
func (op axisOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.%s(axis=%d,dims=%d,eps=%v,%v)", op.kind, op.axis, op.dims, op.eps, op.dt)
}
func (op axisOp) Hashcode() uint32 { return hashOf(op) }
func (op axisOp) String() string   { return fmt.Sprintf("%s(axis=%d)", op.kind, op.axis) }

func (op axisOp) DiffWRT(int) []bool { return []bool{true} }
func (op axisOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(axisGradOp{op}, in[0], out, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// axisGradOp computes dL/dx of an axisOp from (x, y, dL/dy).
type axisGradOp struct{ f axisOp }

func (op axisGradOp) Arity() int { return 3 }
func (op axisGradOp) Type() hm.Type {
	t := G.TensorType{Dims: op.f.dims, Of: op.f.dt}
	return hm.NewFnType(t, t, t, t)
}
func (op axisGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]) }
func (op axisGradOp) Do(in ...G.Value) (G.Value, error)                 { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// input's dtype and shape.
func (op axisGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op axisGradOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 3 {
		return nil, errors.Errorf("%v: expected 3 inputs, got %d", op, len(in))
	}
	outer, n, inner, err := viewOf(in[0], op.f.dims, op.f.axis)
	if err != nil {
		return nil, errors.Wrap(err, op.String())
	}
	x, y, g := Float64s(in[0]), Float64s(in[1]), Float64s(in[2])
	if len(y) != len(x) || len(g) != len(x) {
		return nil, errors.Errorf("%v: sizes %d, %d, %d differ", op, len(x), len(y), len(g))
	}
	dx := make([]float64, len(x))
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			switch op.f.kind {
			case "l2normalize":
				// Recompute in float64 rather than trust a float32 y.
				s := 0.0
				for c := 0; c < n; c++ {
					v := x[base+c*inner]
					s += v * v
				}
				r := 1 / math.Sqrt(math.Max(s, op.f.eps))
				if s <= op.f.eps {
					for c := 0; c < n; c++ {
						dx[base+c*inner] = g[base+c*inner] * r
					}
					continue
				}
				// dx = (g − ŷ·Σ g·ŷ)·r with ŷ = x·r.
				gy := 0.0
				for c := 0; c < n; c++ {
					gy += g[base+c*inner] * x[base+c*inner] * r
				}
				for c := 0; c < n; c++ {
					k := base + c*inner
					dx[k] = (g[k] - x[k]*r*gy) * r
				}
			case "softmax":
				gy := 0.0
				for c := 0; c < n; c++ {
					gy += g[base+c*inner] * y[base+c*inner]
				}
				for c := 0; c < n; c++ {
					k := base + c*inner
					dx[k] = y[k] * (g[k] - gy)
				}
			}
		}
	}
	if d := reuseDense(prealloc, op.f.dt, in[0].(tensor.Tensor).Shape()); d != nil {
		storeFloat64s(d, dx)
		return d, nil
	}
	return fromFloat64s(in[0], dx)
}
func (op axisGradOp) ReturnsPtr() bool     { return false }
func (op axisGradOp) CallsExtern() bool    { return false }
func (op axisGradOp) OverwritesInput() int { return -1 }
func (op axisGradOp) WriteHash(h hash.Hash) {
	op.f.WriteHash(h)
	fmt.Fprint(h, ".grad")
}
func (op axisGradOp) Hashcode() uint32 { return hashOf(op) }
func (op axisGradOp) String() string   { return op.f.String() + "'" }
