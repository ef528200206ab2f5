package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mean inserts the mean of all of x's elements as a scalar node, as
// Gorgonia's Mean does, in one op whose run allocates nothing: the scalar
// it returns belongs to the op, and its gradient dL/dx_i = g/N writes into
// its previous output. x must be a float32 or float64 tensor with at least
// one element; a scalar x is returned as it is.
func Mean(x *G.Node) (*G.Node, error) {
	if x.IsScalar() {
		return x, nil
	}
	dt := x.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Errorf("mean: dtype %v not supported (float32 or float64)", dt)
	}
	s := x.Shape()
	if s.TotalSize() == 0 {
		return nil, errors.Errorf("mean: %v has no elements (shape %v)", x.Name(), s)
	}
	return G.ApplyOp(&meanOp{shape: s.Clone(), dt: dt}, x)
}

// meanOp is the mean of a tensor's elements, summed in float64.
type meanOp struct {
	shape tensor.Shape
	dt    tensor.Dtype
	// The scalar result, owned by the op so that a run allocates nothing
	// (the executor reuses tensors only).
	res32 G.F32
	res64 G.F64
}

func (op *meanOp) Arity() int { return 1 }
func (op *meanOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: len(op.shape), Of: op.dt}, op.dt)
}
func (op *meanOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("mean: expected 1 input, got %d", len(in))
	}
	return tensor.ScalarShape(), nil
}
func (op *meanOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("mean: expected 1 input, got %d", len(in))
	}
	t, ok := in[0].(*tensor.Dense)
	if !ok || t.Dtype() != op.dt || !sameShape(t.Shape(), op.shape) {
		return nil, errors.Errorf("mean: input is %T %v, expected a %v tensor of shape %v", in[0], valueShape(in[0]), op.dt, op.shape)
	}
	t = contiguous(t)
	sum := 0.0
	switch op.dt {
	case tensor.Float32:
		d := t.Float32s()
		for _, v := range d {
			sum += float64(v)
		}
		op.res32 = G.F32(sum / float64(len(d)))
		return &op.res32, nil
	default:
		d := t.Float64s()
		for _, v := range d {
			sum += v
		}
		op.res64 = G.F64(sum / float64(len(d)))
		return &op.res64, nil
	}
}

// valueShape is v's shape, or nil when v has none.
func valueShape(v G.Value) tensor.Shape {
	if v == nil {
		return nil
	}
	return v.Shape()
}

func (op *meanOp) ReturnsPtr() bool     { return false }
func (op *meanOp) CallsExtern() bool    { return false }
func (op *meanOp) OverwritesInput() int { return -1 }
func (op *meanOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.mean.%v.%v", op.shape, op.dt)
}
func (op *meanOp) Hashcode() uint32 { return hashOf(op) }
func (op *meanOp) String() string   { return "Mean" }

func (op *meanOp) DiffWRT(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = true
	}
	return out
}
func (op *meanOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("mean: expected 1 input, got %d", len(in))
	}
	dx, err := G.ApplyOp(meanGradOp{shape: op.shape, dt: op.dt, gdims: grad.Dims()}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// meanGradOp computes dL/dx = g/N for every element of x from the mean's
// output gradient g (a scalar or a one-element tensor).
type meanGradOp struct {
	shape tensor.Shape
	dt    tensor.Dtype
	gdims int
}

func (op meanGradOp) Arity() int { return 1 }
func (op meanGradOp) Type() hm.Type {
	var g hm.Type = G.TensorType{Dims: op.gdims, Of: op.dt}
	if op.gdims == 0 {
		g = op.dt
	}
	return hm.NewFnType(g, G.TensorType{Dims: len(op.shape), Of: op.dt})
}
func (op meanGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("mean': expected 1 input, got %d", len(in))
	}
	return op.shape.Clone(), nil
}
func (op meanGradOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// mean's input dtype and shape.
func (op meanGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op meanGradOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("mean': expected 1 input, got %d", len(in))
	}
	g, ok := scalarFloat(in[0], op.dt)
	if !ok {
		return nil, errors.Errorf("mean': output gradient %T %v is not a one-element %v value", in[0], valueShape(in[0]), op.dt)
	}
	out := outDense(prealloc, op.dt, op.shape)
	n := op.shape.TotalSize()
	switch op.dt {
	case tensor.Float32:
		v := float32(g / float64(n))
		d := out.Float32s()
		for i := range d {
			d[i] = v
		}
	default:
		v := g / float64(n)
		d := out.Float64s()
		for i := range d {
			d[i] = v
		}
	}
	return out, nil
}

// scalarFloat reads a one-element value of dtype dt (a Gorgonia scalar or
// a tensor) without allocating.
func scalarFloat(v G.Value, dt tensor.Dtype) (float64, bool) {
	switch t := v.(type) {
	case *G.F32:
		return float64(*t), dt == tensor.Float32
	case *G.F64:
		return float64(*t), dt == tensor.Float64
	case *tensor.Dense:
		if t.Dtype() != dt || t.Shape().TotalSize() != 1 {
			return 0, false
		}
		switch dt {
		case tensor.Float32:
			if d := t.Float32s(); len(d) == 1 {
				return float64(d[0]), true
			}
		case tensor.Float64:
			if d := t.Float64s(); len(d) == 1 {
				return d[0], true
			}
		}
		switch s := t.ScalarValue().(type) {
		case float32:
			return float64(s), dt == tensor.Float32
		case float64:
			return s, dt == tensor.Float64
		}
	}
	return 0, false
}

func (op meanGradOp) ReturnsPtr() bool     { return false }
func (op meanGradOp) CallsExtern() bool    { return false }
func (op meanGradOp) OverwritesInput() int { return -1 }
func (op meanGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.mean.%v.%v.%d.grad", op.shape, op.dt, op.gdims)
}
func (op meanGradOp) Hashcode() uint32 { return hashOf(op) }
func (op meanGradOp) String() string   { return "Mean'" }

// The gradient op is not differentiated again.
func (op meanGradOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op meanGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.New("mean': second derivatives are not implemented")
}
