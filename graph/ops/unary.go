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
func (op unaryOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("%s: expected 1 input, got %d", op.f.Name, len(in))
	}
	f := op.f.F
	switch x := in[0].(type) {
	case *tensor.Dense:
		out := tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(x.Shape().Clone()...))
		switch xd := x.Data().(type) {
		case []float32:
			od := out.Data().([]float32)
			if op.f.Map32 != nil {
				op.f.Map32(xd, od)
				return out, nil
			}
			for i, v := range xd {
				od[i] = float32(f(float64(v)))
			}
			return out, nil
		case []float64:
			od := out.Data().([]float64)
			for i, v := range xd {
				od[i] = f(v)
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
func (op unaryGradOp) Do(in ...G.Value) (G.Value, error) {
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
	out := tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(x.Shape().Clone()...))
	switch xd := x.Data().(type) {
	case []float32:
		yd, ok1 := y.Data().([]float32)
		gd, ok2 := g.Data().([]float32)
		if !ok1 || !ok2 {
			return nil, errors.Errorf("%s gradient: mixed dtypes", op.f.Name)
		}
		od := out.Data().([]float32)
		if op.f.Grad32 != nil {
			op.f.Grad32(xd, yd, gd, od)
			break
		}
		for i, v := range xd {
			od[i] = float32(float64(gd[i]) * df(float64(v), float64(yd[i])))
		}
	case []float64:
		yd, ok1 := y.Data().([]float64)
		gd, ok2 := g.Data().([]float64)
		if !ok1 || !ok2 {
			return nil, errors.Errorf("%s gradient: mixed dtypes", op.f.Name)
		}
		od := out.Data().([]float64)
		for i, v := range xd {
			od[i] = gd[i] * df(v, yd[i])
		}
	default:
		return nil, errors.Errorf("%s gradient: unsupported dtype %v", op.f.Name, x.Dtype())
	}
	return out, nil
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
