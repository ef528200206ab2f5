package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
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
	return G.ApplyOp(unaryOp{f}, x)
}

type unaryOp struct{ f *UnaryFunc }

func (op unaryOp) Arity() int { return 1 }
func (op unaryOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}
func (op unaryOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(in[0])
}
func (op unaryOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// input's dtype and shape.
func (op unaryOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op unaryOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("%s: expected 1 input, got %d", op.f.Name, len(in))
	}
	f := op.f.F
	switch x := in[0].(type) {
	case *tensor.Dense:
		if x.RequiresIterator() {
			x = x.Materialize().(*tensor.Dense)
		}
		switch x.Dtype() {
		case tensor.Float32:
			out := outDense(prealloc, x.Dtype(), x.Shape())
			xd, od := x.Float32s(), out.Float32s()
			if serial(len(xd), len(xd)) {
				unaryMap32(op.f, xd, od)
			} else {
				parallelRange(len(xd), len(xd), func(lo, hi int) { unaryMap32(op.f, xd[lo:hi], od[lo:hi]) })
			}
			return out, nil
		case tensor.Float64:
			out := outDense(prealloc, x.Dtype(), x.Shape())
			xd, od := x.Float64s(), out.Float64s()
			if serial(len(xd), len(xd)) {
				unaryMap64(op.f, xd, od)
			} else {
				parallelRange(len(xd), len(xd), func(lo, hi int) { unaryMap64(op.f, xd[lo:hi], od[lo:hi]) })
			}
			return out, nil
		}
	case *G.F32:
		v := G.F32(float32(f(float64(*x))))
		return &v, nil
	case *G.F64:
		v := G.F64(f(float64(*x)))
		return &v, nil
	}
	return nil, errors.Errorf("%s: unsupported value %T (want float32 or float64)", op.f.Name, in[0])
}
func (op unaryOp) ReturnsPtr() bool      { return false }
func (op unaryOp) CallsExtern() bool     { return false }
func (op unaryOp) OverwritesInput() int  { return -1 }
func (op unaryOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "kerago.%s", op.f.Name) }
func (op unaryOp) Hashcode() uint32      { return hashOf(op) }
func (op unaryOp) String() string        { return op.f.Name }

func (op unaryOp) DiffWRT(int) []bool { return []bool{true} }
func (op unaryOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(unaryGradOp{op.f}, in[0], out, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// unaryGradOp computes dL/dx = dL/dy * f'(x, y) from (x, y, dL/dy).
type unaryGradOp struct{ f *UnaryFunc }

func (op unaryGradOp) Arity() int { return 3 }
func (op unaryGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a, a)
}
func (op unaryGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(in[0])
}
func (op unaryGradOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of x's
// dtype and shape.
func (op unaryGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op unaryGradOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 3 {
		return nil, errors.Errorf("%s gradient: expected 3 inputs, got %d", op.f.Name, len(in))
	}
	df := op.f.DF
	x, okx := in[0].(*tensor.Dense)
	y, oky := in[1].(*tensor.Dense)
	g, okg := in[2].(*tensor.Dense)
	if !okx || !oky || !okg {
		// Scalars: the rare case, done through float64 slices.
		xs, ys, gs := Float64s(in[0]), Float64s(in[1]), Float64s(in[2])
		if len(xs) != 1 || len(ys) != 1 || len(gs) != 1 {
			return nil, errors.Errorf("%s gradient: mixed tensor and scalar inputs", op.f.Name)
		}
		return fromFloat64s(in[0], []float64{gs[0] * df(xs[0], ys[0])})
	}
	n := x.Shape().TotalSize()
	if y.Shape().TotalSize() != n || g.Shape().TotalSize() != n {
		return nil, errors.Errorf("%s gradient: sizes %v, %v, %v differ", op.f.Name, x.Shape(), y.Shape(), g.Shape())
	}
	if x.Dtype() != y.Dtype() || x.Dtype() != g.Dtype() {
		return nil, errors.Errorf("%s gradient: mixed dtypes", op.f.Name)
	}
	x, y, g = contiguous(x), contiguous(y), contiguous(g)
	switch x.Dtype() {
	case tensor.Float32:
		out := outDense(prealloc, x.Dtype(), x.Shape())
		xd, yd, gd, od := x.Float32s(), y.Float32s(), g.Float32s(), out.Float32s()
		if serial(n, n) {
			unaryGrad32(op.f, xd, yd, gd, od)
		} else {
			parallelRange(n, n, func(lo, hi int) { unaryGrad32(op.f, xd[lo:hi], yd[lo:hi], gd[lo:hi], od[lo:hi]) })
		}
		return out, nil
	case tensor.Float64:
		out := outDense(prealloc, x.Dtype(), x.Shape())
		xd, yd, gd, od := x.Float64s(), y.Float64s(), g.Float64s(), out.Float64s()
		if serial(n, n) {
			unaryGrad64(op.f, xd, yd, gd, od)
		} else {
			parallelRange(n, n, func(lo, hi int) { unaryGrad64(op.f, xd[lo:hi], yd[lo:hi], gd[lo:hi], od[lo:hi]) })
		}
		return out, nil
	}
	return nil, errors.Errorf("%s gradient: unsupported dtype %v", op.f.Name, x.Dtype())
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

// contiguous returns d, materialized when it is a non-contiguous view.
func contiguous(d *tensor.Dense) *tensor.Dense {
	if d.RequiresIterator() {
		return d.Materialize().(*tensor.Dense)
	}
	return d
}

func (op unaryGradOp) ReturnsPtr() bool      { return false }
func (op unaryGradOp) CallsExtern() bool     { return false }
func (op unaryGradOp) OverwritesInput() int  { return -1 }
func (op unaryGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "kerago.%s.grad", op.f.Name) }
func (op unaryGradOp) Hashcode() uint32      { return hashOf(op) }
func (op unaryGradOp) String() string        { return op.f.Name + "'" }

func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func shapeOf(d G.DimSizer) (tensor.Shape, error) {
	s, ok := d.(tensor.Shape)
	if !ok {
		return nil, errors.Errorf("expected a shape, got %T", d)
	}
	return s.Clone(), nil
}
