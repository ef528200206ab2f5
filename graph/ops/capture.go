package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Capture copies x's value into dst each time the machine computes x, and
// returns the inserted node (a scalar nobody needs to consume).
//
// Reading x.Value() after a run is unsafe in graphs with gradient nodes: the
// backward pass may reuse x's register. The copy made here happens while the
// value is still x's. dst must hold exactly as many elements as x, in x's
// dtype.
func Capture(x *G.Node, dst *tensor.Dense) (*G.Node, error) {
	if x.Shape().TotalSize() != dst.Shape().TotalSize() && !(x.IsScalar() && dst.Shape().TotalSize() == 1) {
		return nil, errors.Errorf("capture: node %v has shape %v, destination %v", x.Name(), x.Shape(), dst.Shape())
	}
	if x.Dtype() != dst.Dtype() {
		return nil, errors.Errorf("capture: node %v is %v, destination %v", x.Name(), x.Dtype(), dst.Dtype())
	}
	return G.ApplyOp(&captureOp{dst: dst, dims: x.Dims(), dt: x.Dtype()}, x)
}

type captureOp struct {
	dst  *tensor.Dense
	dims int
	dt   tensor.Dtype
	// The scalar result (always 0), owned by the op so that a run
	// allocates nothing.
	res32 G.F32
	res64 G.F64
}

func (op *captureOp) Arity() int { return 1 }
func (op *captureOp) Type() hm.Type {
	if op.dims == 0 {
		return hm.NewFnType(op.dt, op.dt)
	}
	return hm.NewFnType(G.TensorType{Dims: op.dims, Of: op.dt}, op.dt)
}
func (op *captureOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (op *captureOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("capture: expected 1 input, got %d", len(in))
	}
	if d, ok := in[0].(*tensor.Dense); ok && d.Dtype() == op.dst.Dtype() && !d.RequiresIterator() {
		// The common case, without the allocations of Data.
		switch op.dt {
		case tensor.Float32:
			copy(op.dst.Float32s(), d.Float32s())
			op.res32 = 0
			return &op.res32, nil
		case tensor.Float64:
			copy(op.dst.Float64s(), d.Float64s())
			op.res64 = 0
			return &op.res64, nil
		}
	}
	// Scalars (the value of a mean, say), also without Data.
	switch v := in[0].(type) {
	case *G.F32:
		if op.dt == tensor.Float32 && !op.dst.RequiresIterator() {
			if d := op.dst.Float32s(); len(d) == 1 {
				d[0] = float32(*v)
				op.res32 = 0
				return &op.res32, nil
			}
		}
	case *G.F64:
		if op.dt == tensor.Float64 && !op.dst.RequiresIterator() {
			if d := op.dst.Float64s(); len(d) == 1 {
				d[0] = float64(*v)
				op.res64 = 0
				return &op.res64, nil
			}
		}
	}
	switch dst := op.dst.Data().(type) {
	case []float32:
		switch v := in[0].(type) {
		case *G.F32:
			dst[0] = float32(*v)
		case tensor.Tensor:
			src, ok := v.Data().([]float32)
			if !ok {
				if s, ok := v.Data().(float32); ok {
					dst[0] = s
					break
				}
				return nil, errors.Errorf("capture: got %v data, want float32", v.Dtype())
			}
			copy(dst, src)
		default:
			return nil, errors.Errorf("capture: unsupported value %T", in[0])
		}
		op.res32 = 0
		return &op.res32, nil
	case []float64:
		switch v := in[0].(type) {
		case *G.F64:
			dst[0] = float64(*v)
		case tensor.Tensor:
			src, ok := v.Data().([]float64)
			if !ok {
				if s, ok := v.Data().(float64); ok {
					dst[0] = s
					break
				}
				return nil, errors.Errorf("capture: got %v data, want float64", v.Dtype())
			}
			copy(dst, src)
		default:
			return nil, errors.Errorf("capture: unsupported value %T", in[0])
		}
		op.res64 = 0
		return &op.res64, nil
	}
	return nil, errors.Errorf("capture: unsupported destination %v", op.dst.Dtype())
}

// UsePreallocDo is Do: the result is already the op's own scalar.
func (op *captureOp) UsePreallocDo(_ G.Value, in ...G.Value) (G.Value, error) {
	return op.Do(in...)
}

func (op *captureOp) ReturnsPtr() bool      { return false }
func (op *captureOp) CallsExtern() bool     { return false }
func (op *captureOp) OverwritesInput() int  { return -1 }
func (op *captureOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "kerago.capture%p", op) }
func (op *captureOp) Hashcode() uint32      { return hashOf(op) }
func (op *captureOp) String() string        { return "capture" }

// DiffWRT says the capture contributes no gradient; it exists so that
// Gorgonia's differentiation analysis accepts it as a side branch.
func (op *captureOp) DiffWRT(n int) []bool { return make([]bool, n) }

// SymDiff is never needed: the capture's output reaches no cost.
func (op *captureOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return G.Nodes{nil}, nil
}
