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

// SoftmaxLast is the softmax of x along its last axis as one node (computed
// stably in float64: the row's maximum is subtracted first); its gradient is
// one node, dx = y ⊙ (dy − Σ_row dy ⊙ y), from the output y. Unlike Softmax
// (any axis), both reuse their previous output and allocate nothing.
func SoftmaxLast(x *G.Node) (*G.Node, error) {
	dt := x.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Errorf("softmax: dtype %v not supported (float32 or float64)", dt)
	}
	if x.Dims() < 1 {
		return nil, errors.New("softmax: input is a scalar")
	}
	return G.ApplyOp(softmaxLastOp{dims: x.Dims(), dt: dt}, x)
}

type softmaxLastOp struct {
	dims int
	dt   tensor.Dtype
}

func (op softmaxLastOp) Arity() int { return 1 }
func (op softmaxLastOp) Type() hm.Type {
	t := G.TensorType{Dims: op.dims, Of: op.dt}
	return hm.NewFnType(t, t)
}
func (op softmaxLastOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("softmax: expected 1 input, got %d", len(in))
	}
	return shapeOf(in[0])
}
func (op softmaxLastOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of x's
// dtype and shape.
func (op softmaxLastOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op softmaxLastOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("softmax: expected 1 input, got %d", len(in))
	}
	x, ok := in[0].(*tensor.Dense)
	if !ok || x.Dtype() != op.dt || x.Dims() != op.dims {
		return nil, errors.Errorf("softmax: input is %v, expected a %d-D %v tensor", in[0], op.dims, op.dt)
	}
	x = contiguous(x)
	s := x.Shape()
	c := s[len(s)-1]
	out := outDense(prealloc, op.dt, s)
	switch op.dt {
	case tensor.Float32:
		softmaxRows(x.Float32s(), out.Float32s(), c)
	case tensor.Float64:
		softmaxRows(x.Float64s(), out.Float64s(), c)
	}
	return out, nil
}

// softmaxRows writes the softmax of every row of c values of x into y.
func softmaxRows[T convFloat](x, y []T, c int) {
	if c == 0 {
		return
	}
	for i := 0; i+c <= len(x); i += c {
		row, dst := x[i:i+c], y[i:i+c]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		sum := 0.0
		for j, v := range row {
			e := math.Exp(float64(v) - m)
			dst[j] = T(e)
			sum += e
		}
		inv := 1 / sum
		for j, v := range dst {
			dst[j] = T(float64(v) * inv)
		}
	}
}

func (op softmaxLastOp) ReturnsPtr() bool     { return false }
func (op softmaxLastOp) CallsExtern() bool    { return false }
func (op softmaxLastOp) OverwritesInput() int { return -1 }
func (op softmaxLastOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.softmaxlast.%d.%v", op.dims, op.dt)
}
func (op softmaxLastOp) Hashcode() uint32   { return hashOf(op) }
func (op softmaxLastOp) String() string     { return "SoftmaxLast" }
func (op softmaxLastOp) DiffWRT(int) []bool { return []bool{true} }
func (op softmaxLastOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(softmaxLastGradOp(op), out, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// softmaxLastGradOp computes dL/dx from (y, dL/dy).
type softmaxLastGradOp softmaxLastOp

func (op softmaxLastGradOp) Arity() int { return 2 }
func (op softmaxLastGradOp) Type() hm.Type {
	t := G.TensorType{Dims: op.dims, Of: op.dt}
	return hm.NewFnType(t, t, t)
}
func (op softmaxLastGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("softmax': expected 2 inputs, got %d", len(in))
	}
	return shapeOf(in[0])
}
func (op softmaxLastGradOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of y's
// dtype and shape.
func (op softmaxLastGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op softmaxLastGradOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("softmax': expected 2 inputs, got %d", len(in))
	}
	y, ok := in[0].(*tensor.Dense)
	if !ok || y.Dtype() != op.dt || y.Dims() != op.dims {
		return nil, errors.Errorf("softmax': output is %v, expected a %d-D %v tensor", in[0], op.dims, op.dt)
	}
	y = contiguous(y)
	s := y.Shape()
	c, n := s[len(s)-1], s.TotalSize()
	out := outDense(prealloc, op.dt, s)
	switch op.dt {
	case tensor.Float32:
		g, err := gradIn[float32](in[1], n, "softmax'")
		if err != nil {
			return nil, err
		}
		softmaxGradRows(y.Float32s(), g, out.Float32s(), c)
	case tensor.Float64:
		g, err := gradIn[float64](in[1], n, "softmax'")
		if err != nil {
			return nil, err
		}
		softmaxGradRows(y.Float64s(), g, out.Float64s(), c)
	}
	return out, nil
}

// softmaxGradRows writes y ⊙ (g − Σ_row g ⊙ y) for every row of c values.
func softmaxGradRows[T convFloat](y, g, dx []T, c int) {
	if c == 0 {
		return
	}
	for i := 0; i+c <= len(y); i += c {
		yr, gr, dr := y[i:i+c], g[i:i+c], dx[i:i+c]
		dot := 0.0
		for j, v := range yr {
			dot += float64(v) * float64(gr[j])
		}
		for j, v := range yr {
			dr[j] = T(float64(v) * (float64(gr[j]) - dot))
		}
	}
}

func (op softmaxLastGradOp) ReturnsPtr() bool     { return false }
func (op softmaxLastGradOp) CallsExtern() bool    { return false }
func (op softmaxLastGradOp) OverwritesInput() int { return -1 }
func (op softmaxLastGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.softmaxlast.grad.%d.%v", op.dims, op.dt)
}
func (op softmaxLastGradOp) Hashcode() uint32     { return hashOf(op) }
func (op softmaxLastGradOp) String() string       { return "SoftmaxLast'" }
func (op softmaxLastGradOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op softmaxLastGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.New("softmax: second derivatives are not implemented")
}
