package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BiasAdd returns x + b with b (shape (C,)) added along x's last axis, as
// one node; its gradient with respect to b sums over every other axis.
func BiasAdd(x, b *G.Node) (*G.Node, error) {
	xs, bs := x.Shape(), b.Shape()
	if x.Dims() < 1 || b.Dims() != 1 || xs[len(xs)-1] != bs[0] {
		return nil, errors.Errorf("bias add: bias shape %v does not match the last axis of %v", bs, xs)
	}
	return G.ApplyOp(biasAddOp{dims: x.Dims(), dt: x.Dtype()}, x, b)
}

type biasAddOp struct {
	dims int
	dt   tensor.Dtype
}

func (op biasAddOp) Arity() int { return 2 }
func (op biasAddOp) Type() hm.Type {
	t := G.TensorType{Dims: op.dims, Of: op.dt}
	return hm.NewFnType(t, G.TensorType{Dims: 1, Of: op.dt}, t)
}
func (op biasAddOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]) }
func (op biasAddOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("bias add: expected 2 inputs, got %d", len(in))
	}
	x, ok1 := in[0].(tensor.Tensor)
	b, ok2 := in[1].(tensor.Tensor)
	if !ok1 || !ok2 {
		return nil, errors.New("bias add: inputs must be tensors")
	}
	out := tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(x.Shape().Clone()...))
	switch xd := x.Data().(type) {
	case []float32:
		bd, od := b.Data().([]float32), out.Data().([]float32)
		c := len(bd)
		for i := 0; i < len(xd); i += c {
			row, orow := xd[i:i+c], od[i:i+c]
			for j, v := range bd {
				orow[j] = row[j] + v
			}
		}
	case []float64:
		bd, od := b.Data().([]float64), out.Data().([]float64)
		c := len(bd)
		for i := 0; i < len(xd); i += c {
			row, orow := xd[i:i+c], od[i:i+c]
			for j, v := range bd {
				orow[j] = row[j] + v
			}
		}
	default:
		return nil, errors.Errorf("bias add: unsupported dtype %v", x.Dtype())
	}
	return out, nil
}
func (op biasAddOp) ReturnsPtr() bool      { return false }
func (op biasAddOp) CallsExtern() bool     { return false }
func (op biasAddOp) OverwritesInput() int  { return -1 }
func (op biasAddOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "kerago.biasadd%d", op.dims) }
func (op biasAddOp) Hashcode() uint32      { return hashOf(op) }
func (op biasAddOp) String() string        { return "BiasAdd" }
func (op biasAddOp) DiffWRT(int) []bool    { return []bool{true, true} }
func (op biasAddOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	db, err := G.ApplyOp(sumToLastOp{dims: op.dims, dt: op.dt}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{grad, db}, nil
}

// sumToLastOp sums a tensor over every axis but the last.
type sumToLastOp struct {
	dims int
	dt   tensor.Dtype
}

func (op sumToLastOp) Arity() int { return 1 }
func (op sumToLastOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: op.dims, Of: op.dt}, G.TensorType{Dims: 1, Of: op.dt})
}
func (op sumToLastOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[len(s)-1]}, nil
}
func (op sumToLastOp) Do(in ...G.Value) (G.Value, error) {
	x, ok := in[0].(tensor.Tensor)
	if !ok {
		return nil, errors.New("bias gradient: input must be a tensor")
	}
	s := x.Shape()
	c := s[len(s)-1]
	out := tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(c))
	switch xd := x.Data().(type) {
	case []float32:
		od := out.Data().([]float32)
		for i := 0; i < len(xd); i += c {
			for j, v := range xd[i : i+c] {
				od[j] += v
			}
		}
	case []float64:
		od := out.Data().([]float64)
		for i := 0; i < len(xd); i += c {
			for j, v := range xd[i : i+c] {
				od[j] += v
			}
		}
	default:
		return nil, errors.Errorf("bias gradient: unsupported dtype %v", x.Dtype())
	}
	return out, nil
}
func (op sumToLastOp) ReturnsPtr() bool      { return false }
func (op sumToLastOp) CallsExtern() bool     { return false }
func (op sumToLastOp) OverwritesInput() int  { return -1 }
func (op sumToLastOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "kerago.sumtolast%d", op.dims) }
func (op sumToLastOp) Hashcode() uint32      { return hashOf(op) }
func (op sumToLastOp) String() string        { return "SumToLast" }
