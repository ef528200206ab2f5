package ops

import (
	"fmt"
	"hash"
	"sync"

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
func (op biasAddOp) Do(in ...G.Value) (G.Value, error)                 { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of x's
// dtype and shape.
func (op biasAddOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op biasAddOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("bias add: expected 2 inputs, got %d", len(in))
	}
	x, ok1 := in[0].(*tensor.Dense)
	b, ok2 := in[1].(*tensor.Dense)
	if !ok1 || !ok2 {
		return nil, errors.New("bias add: inputs must be tensors")
	}
	x, b = contiguous(x), contiguous(b)
	if x.Dtype() != b.Dtype() {
		return nil, errors.Errorf("bias add: input is %v, bias %v", x.Dtype(), b.Dtype())
	}
	xs := x.Shape()
	if len(xs) == 0 || b.Shape().TotalSize() != xs[len(xs)-1] {
		return nil, errors.Errorf("bias add: bias shape %v does not match the last axis of %v", b.Shape(), xs)
	}
	switch x.Dtype() {
	case tensor.Float32:
		out := outDense(prealloc, x.Dtype(), xs)
		biasAdd(x.Float32s(), b.Float32s(), out.Float32s())
		return out, nil
	case tensor.Float64:
		out := outDense(prealloc, x.Dtype(), xs)
		biasAdd(x.Float64s(), b.Float64s(), out.Float64s())
		return out, nil
	}
	return nil, errors.Errorf("bias add: unsupported dtype %v", x.Dtype())
}

// biasAdd writes x + b, b added to every row of len(b) values.
func biasAdd[T float](x, b, out []T) {
	c := len(b)
	if c == 0 {
		return
	}
	rows := len(x) / c
	if serial(rows, len(x)) {
		biasAddRows(x, b, out, 0, rows)
		return
	}
	parallelRange(rows, len(x), func(lo, hi int) { biasAddRows(x, b, out, lo, hi) })
}

// biasAddRows is biasAdd over rows [lo, hi).
func biasAddRows[T float](x, b, out []T, lo, hi int) {
	c := len(b)
	for r := lo; r < hi; r++ {
		row, orow := x[r*c:(r+1)*c], out[r*c:(r+1)*c]
		row = row[:len(b)]
		for j, v := range b {
			orow[j] = row[j] + v
		}
	}
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
func (op sumToLastOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc (zeroed first) when it is a
// vector of the right dtype and size.
func (op sumToLastOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op sumToLastOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("bias gradient: expected 1 input, got %d", len(in))
	}
	x, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, errors.New("bias gradient: input must be a tensor")
	}
	x = contiguous(x)
	s := x.Shape()
	if len(s) == 0 {
		return nil, errors.New("bias gradient: input is a scalar")
	}
	c := s[len(s)-1]
	switch x.Dtype() {
	case tensor.Float32:
		out := outDense(prealloc, x.Dtype(), tensor.Shape{c})
		sumRows(x.Float32s(), out.Float32s())
		return out, nil
	case tensor.Float64:
		out := outDense(prealloc, x.Dtype(), tensor.Shape{c})
		sumRows(x.Float64s(), out.Float64s())
		return out, nil
	}
	return nil, errors.Errorf("bias gradient: unsupported dtype %v", x.Dtype())
}

// sumRows writes into out the sum of the rows of len(out) values of x,
// the rows split over goroutines (each summing its own into a partial sum,
// added up at the end) when there are enough of them.
func sumRows[T float](x, out []T) {
	clear(out)
	c := len(out)
	if c == 0 {
		return
	}
	rows := len(x) / c
	if serial(rows, len(x)) {
		sumRowsInto(x[:rows*c], out)
		return
	}
	var mu sync.Mutex
	parallelRange(rows, len(x), func(lo, hi int) {
		part := make([]T, c)
		sumRowsInto(x[lo*c:hi*c], part)
		mu.Lock()
		addRows(out, part)
		mu.Unlock()
	})
}

// sumRowsInto adds every row of len(out) values of x to out.
func sumRowsInto[T float](x, out []T) {
	c := len(out)
	for i := 0; i+c <= len(x); i += c {
		addRows(out, x[i:i+c])
	}
}

// addRows is out += row element-wise (len(row) ≥ len(out)), vectorised for
// float32 as convAdd.
func addRows[T float](out, row []T) {
	convAdd(out, row)
}

func (op sumToLastOp) ReturnsPtr() bool      { return false }
func (op sumToLastOp) CallsExtern() bool     { return false }
func (op sumToLastOp) OverwritesInput() int  { return -1 }
func (op sumToLastOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "kerago.sumtolast%d", op.dims) }
func (op sumToLastOp) Hashcode() uint32      { return hashOf(op) }
func (op sumToLastOp) String() string        { return "SumToLast" }
