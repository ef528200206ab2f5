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
	return mapValues(in[0], func(x []float64, out []float64) {
		for i, v := range x {
			out[i] = op.f.F(v)
		}
	})
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
	x, y, g := Float64s(in[0]), Float64s(in[1]), Float64s(in[2])
	if len(x) != len(y) || len(x) != len(g) {
		return nil, errors.Errorf("%s gradient: sizes %d, %d, %d differ", op.f.Name, len(x), len(y), len(g))
	}
	return mapValues(in[0], func(_ []float64, out []float64) {
		for i := range out {
			out[i] = g[i] * op.f.DF(x[i], y[i])
		}
	})
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
