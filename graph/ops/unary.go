package ops

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// UnaryFunc is an element-wise function together with its derivative.
// F computes y = f(x); DF computes dy/dx from the input x and the output y
// (whichever is cheaper: sigmoid's derivative is y(1-y), elu's needs x).
// Name identifies the function in graph hashes and error messages: two
// functions with the same Name are taken to be the same, so a parametrised
// function must put its parameters in its Name ("leaky_relu(0.3)").
type UnaryFunc struct {
	Name string
	F    func(x float64) float64
	DF   func(x, y float64) float64
	// Map32 and Grad32, when set, compute F and its gradient over whole
	// float32 slices (out[i] = F(x[i]); out[i] = g[i]·DF(x[i], y[i])) for
	// speed; they must agree with F and DF.
	Map32  func(x, out []float32)
	Grad32 func(x, y, g, out []float32)
}

// Apply inserts f(x) into x's graph as one node whose gradient is one node.
func (f *UnaryFunc) Apply(x *G.Node) (*G.Node, error) {
	return Apply(unaryKernel{f}, x)
}

// unaryKernel is y = f(x), element by element.
type unaryKernel struct{ f *UnaryFunc }

func (k unaryKernel) Name() string                                  { return k.f.Name }
func (k unaryKernel) Params() []any                                 { return nil }
func (k unaryKernel) Shape(in []tensor.Shape) (tensor.Shape, error) { return in[0], nil }

func (k unaryKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	x := in[0]
	if x.Dtype() == tensor.Float32 {
		xd, od := x.Float32s(), out.Float32s()
		if serial(len(xd), len(xd)) {
			unaryMap32(k.f, xd, od)
		} else {
			parallelRange(len(xd), len(xd), func(lo, hi int) { unaryMap32(k.f, xd[lo:hi], od[lo:hi]) })
		}
		return nil
	}
	xd, od := x.Float64s(), out.Float64s()
	if serial(len(xd), len(xd)) {
		unaryMap64(k.f, xd, od)
	} else {
		parallelRange(len(xd), len(xd), func(lo, hi int) { unaryMap64(k.f, xd[lo:hi], od[lo:hi]) })
	}
	return nil
}

func (k unaryKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := Apply(unaryGradKernel(k), in[0], out, grad)
	return G.Nodes{dx}, err
}

// unaryGradKernel computes dL/dx = dL/dy · f'(x, y) from (x, y, dL/dy).
type unaryGradKernel struct{ f *UnaryFunc }

func (k unaryGradKernel) Name() string  { return k.f.Name + "'" }
func (k unaryGradKernel) Params() []any { return nil }
func (k unaryGradKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[1].TotalSize() != in[0].TotalSize() || in[2].TotalSize() != in[0].TotalSize() {
		return nil, errors.Errorf("%s: sizes %v, %v, %v differ", k.Name(), in[0], in[1], in[2])
	}
	return in[0], nil
}

func (k unaryGradKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	n := out.Shape().TotalSize()
	if out.Dtype() == tensor.Float32 {
		xd, yd, gd, od := in[0].Float32s(), in[1].Float32s(), in[2].Float32s(), out.Float32s()
		if serial(n, n) {
			unaryGrad32(k.f, xd, yd, gd, od)
		} else {
			parallelRange(n, n, func(lo, hi int) { unaryGrad32(k.f, xd[lo:hi], yd[lo:hi], gd[lo:hi], od[lo:hi]) })
		}
		return nil
	}
	xd, yd, gd, od := in[0].Float64s(), in[1].Float64s(), in[2].Float64s(), out.Float64s()
	if serial(n, n) {
		unaryGrad64(k.f, xd, yd, gd, od)
	} else {
		parallelRange(n, n, func(lo, hi int) { unaryGrad64(k.f, xd[lo:hi], yd[lo:hi], gd[lo:hi], od[lo:hi]) })
	}
	return nil
}

// unaryMap32 writes f(x) into out.
func unaryMap32(f *UnaryFunc, x, out []float32) {
	if f.Map32 != nil {
		f.Map32(x, out)
		return
	}
	out = out[:len(x)]
	for i, v := range x {
		out[i] = float32(f.F(float64(v)))
	}
}

// unaryMap64 writes f(x) into out.
func unaryMap64(f *UnaryFunc, x, out []float64) {
	out = out[:len(x)]
	for i, v := range x {
		out[i] = f.F(v)
	}
}

// unaryGrad32 writes g·f'(x, y) into out.
func unaryGrad32(f *UnaryFunc, x, y, g, out []float32) {
	if f.Grad32 != nil {
		f.Grad32(x, y, g, out)
		return
	}
	for i, v := range x {
		out[i] = float32(float64(g[i]) * f.DF(float64(v), float64(y[i])))
	}
}

// unaryGrad64 writes g·f'(x, y) into out.
func unaryGrad64(f *UnaryFunc, x, y, g, out []float64) {
	for i, v := range x {
		out[i] = g[i] * f.DF(v, y[i])
	}
}
