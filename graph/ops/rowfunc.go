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

// RowFunc is a per-sample function of targets and predictions evaluated row
// by row over the last axis, the shape of Keras's loss and metric functions:
// F reduces one row (the C values of the last axis) to a number, and a
// sample's value is the mean of its rows (one row for an output (N, C), T rows
// for (N, T, C)). Apply inserts it as one node of shape (N,) and, when DF is
// set, its gradient with respect to the predictions as one more node.
//
// Name identifies the function in graph hashes and error messages: two
// RowFuncs with the same Name are taken to be the same, so a parametrised
// function must put its parameters (from_logits, the clipping bounds) in its
// Name.
type RowFunc struct {
	Name string
	// Sparse says the targets hold one class index per row: y_true has
	// y_pred's shape without the last axis (or with a last axis of 1). The op
	// checks every index is an integer in [0, C) before calling F or DF,
	// which then get y = []float64{index}.
	Sparse bool
	// F returns the value of one row: y holds the row's C targets (or the
	// class index when Sparse), p its C predictions.
	F func(y, p []float64) float64
	// DF writes g·∂F/∂p into dp (C values, overwritten). Nil makes the
	// function non-differentiable (metrics): its node then lets gradients of
	// other nodes through the graph but contributes none.
	DF func(y, p []float64, g float64, dp []float64)
}

// Apply inserts f(yTrue, yPred) into yPred's graph: a node of shape (N,)
// holding each sample's mean row value. yPred must have a batch axis and a
// last axis; yTrue must have yPred's shape (or, when Sparse, yPred's shape
// without the last axis, or with a last axis of 1); both of yPred's dtype.
func (f *RowFunc) Apply(yTrue, yPred *G.Node) (*G.Node, error) {
	if f == nil || f.F == nil {
		return nil, errors.New("row function: no function given")
	}
	if err := f.checkShapes(yTrue.Shape(), yPred.Shape()); err != nil {
		return nil, err
	}
	if yTrue.Dtype() != yPred.Dtype() {
		return nil, errors.Errorf("%s: y_true is %v but y_pred is %v", f.Name, yTrue.Dtype(), yPred.Dtype())
	}
	dt := yPred.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Errorf("%s: dtype %v not supported (float32 or float64)", f.Name, dt)
	}
	return G.ApplyOp(rowOp{f: f, tdims: yTrue.Dims(), pdims: yPred.Dims(), dt: dt, sc: &rowScratch{}}, yTrue, yPred)
}

func (f *RowFunc) checkShapes(ts, ps tensor.Shape) error {
	if len(ps) < 2 {
		return errors.Errorf("%s: y_pred must have a batch axis and a last axis, got shape %v", f.Name, ps)
	}
	if ps.TotalSize() == 0 {
		return errors.Errorf("%s: y_pred has no elements (shape %v)", f.Name, ps)
	}
	if !f.Sparse {
		if !ts.Eq(ps) {
			return errors.Errorf("%s: y_true has shape %v, y_pred %v: they must be equal", f.Name, ts, ps)
		}
		return nil
	}
	lead := ps[:len(ps)-1]
	ok := len(ts) == len(lead)
	if len(ts) == len(ps) && ts[len(ts)-1] == 1 {
		ok = true
		ts = ts[:len(ts)-1]
	}
	for i := 0; ok && i < len(lead); i++ {
		ok = ts[i] == lead[i]
	}
	if !ok {
		return errors.Errorf("%s: y_true has shape %v; class indices for y_pred of shape %v need shape %v", f.Name, ts, ps, lead)
	}
	return nil
}

// rowOp computes the per-sample values.
type rowOp struct {
	f            *RowFunc
	tdims, pdims int
	dt           tensor.Dtype
	// sc holds the op's float64 buffers, reused by every run (nil: each
	// run allocates its own).
	sc *rowScratch
}

// rowScratch is the memory a row op reuses between runs: the float64
// views of float32 inputs, the output buffers and the layout.
type rowScratch struct {
	l                rowLayout
	y, p, g, out, dp []float64
}

// scratch returns the op's buffers, or new ones when it has none.
func (op rowOp) scratch() *rowScratch {
	if op.sc != nil {
		return op.sc
	}
	return &rowScratch{}
}

// grow returns (*buf)[:n], reallocating *buf when it is too short.
func grow(buf *[]float64, n int) []float64 {
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

// float64View returns v's elements as float64s without allocating when it
// can: a contiguous float64 tensor's own backing slice, or a float32
// tensor's elements converted into *buf.
func float64View(v G.Value, buf *[]float64) []float64 {
	if t, ok := v.(*tensor.Dense); ok && !t.IsScalar() && !t.RequiresIterator() {
		switch t.Dtype() {
		case tensor.Float64:
			return t.Float64s()
		case tensor.Float32:
			*buf = float64sInto(*buf, t.Float32s())
			return *buf
		}
	}
	return Float64s(v)
}

func (op rowOp) Arity() int { return 2 }
func (op rowOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: op.tdims, Of: op.dt}, G.TensorType{Dims: op.pdims, Of: op.dt}, G.TensorType{Dims: 1, Of: op.dt})
}
func (op rowOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("%s: expected 2 inputs, got %d", op.f.Name, len(in))
	}
	ps, err := shapeOf(in[1])
	if err != nil {
		return nil, err
	}
	if len(ps) < 1 {
		return nil, errors.Errorf("%s: y_pred has no batch axis", op.f.Name)
	}
	return tensor.Shape{ps[0]}, nil
}
func (op rowOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// output's dtype and shape.
func (op rowOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op rowOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	sc := op.scratch()
	l, err := op.layout(in, sc)
	if err != nil {
		return nil, err
	}
	out := grow(&sc.out, l.batch)
	for s := 0; s < l.batch; s++ {
		sum := 0.0
		for r := s * l.rowsPer; r < (s+1)*l.rowsPer; r++ {
			sum += op.f.F(l.yRow(r), l.p[r*l.c:(r+1)*l.c])
		}
		out[s] = sum / float64(l.rowsPer)
	}
	if d := reuseDense(prealloc, op.dt, tensor.Shape{l.batch}); d != nil {
		storeFloat64s(d, out)
		return d, nil
	}
	return newVector(op.dt, append([]float64(nil), out...)), nil
}
func (op rowOp) ReturnsPtr() bool     { return false }
func (op rowOp) CallsExtern() bool    { return false }
func (op rowOp) OverwritesInput() int { return -1 }
func (op rowOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.row.%s.%t.%d.%d.%v", op.f.Name, op.f.Sparse, op.tdims, op.pdims, op.dt)
}
func (op rowOp) Hashcode() uint32 { return hashOf(op) }
func (op rowOp) String() string   { return op.f.Name }

// DiffWRT: targets are data, never differentiated; predictions only when the
// function has a derivative.
func (op rowOp) DiffWRT(n int) []bool {
	out := make([]bool, n)
	if n == 2 {
		out[1] = op.f.DF != nil
	}
	return out
}
func (op rowOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.f.DF == nil {
		return nil, errors.Errorf("%s is not differentiable", op.f.Name)
	}
	if len(in) != 2 {
		return nil, errors.Errorf("%s: expected 2 inputs, got %d", op.f.Name, len(in))
	}
	gop := rowGradOp{rowOp: op, gdims: grad.Dims()}
	gop.sc = &rowScratch{}
	dp, err := G.ApplyOp(gop, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{nil, dp}, nil
}

// rowGradOp computes dL/dy_pred from (y_true, y_pred, dL/dout).
type rowGradOp struct {
	rowOp
	gdims int
}

func (op rowGradOp) Arity() int { return 3 }
func (op rowGradOp) Type() hm.Type {
	p := G.TensorType{Dims: op.pdims, Of: op.dt}
	var g hm.Type = G.TensorType{Dims: op.gdims, Of: op.dt}
	if op.gdims == 0 {
		g = op.dt
	}
	return hm.NewFnType(G.TensorType{Dims: op.tdims, Of: op.dt}, p, g, p)
}
func (op rowGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 3 {
		return nil, errors.Errorf("%s gradient: expected 3 inputs, got %d", op.f.Name, len(in))
	}
	return shapeOf(in[1])
}
func (op rowGradOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// predictions's dtype and shape.
func (op rowGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op rowGradOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 3 {
		return nil, errors.Errorf("%s gradient: expected 3 inputs, got %d", op.f.Name, len(in))
	}
	sc := op.scratch()
	l, err := op.layout(in[:2], sc)
	if err != nil {
		return nil, err
	}
	g := float64View(in[2], &sc.g)
	if len(g) != l.batch && len(g) != 1 {
		return nil, errors.Errorf("%s gradient: %d output gradients for %d samples", op.f.Name, len(g), l.batch)
	}
	dp := grow(&sc.dp, len(l.p))
	clear(dp)
	for s := 0; s < l.batch; s++ {
		gs := g[0]
		if len(g) > 1 {
			gs = g[s]
		}
		gs /= float64(l.rowsPer)
		for r := s * l.rowsPer; r < (s+1)*l.rowsPer; r++ {
			op.f.DF(l.yRow(r), l.p[r*l.c:(r+1)*l.c], gs, dp[r*l.c:(r+1)*l.c])
		}
	}
	if d := reuseDense(prealloc, op.dt, in[1].(tensor.Tensor).Shape()); d != nil {
		storeFloat64s(d, dp)
		return d, nil
	}
	return fromFloat64s(in[1], append([]float64(nil), dp...))
}
func (op rowGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.row.%s.%t.%d.%d.%d.%v.grad", op.f.Name, op.f.Sparse, op.tdims, op.pdims, op.gdims, op.dt)
}
func (op rowGradOp) Hashcode() uint32 { return hashOf(op) }
func (op rowGradOp) String() string   { return op.f.Name + "'" }

// The gradient op is not differentiated again.
func (op rowGradOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op rowGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.Errorf("%s: second derivatives are not implemented", op.f.Name)
}

// rowLayout is a (y_true, y_pred) pair viewed as rows of the last axis.
type rowLayout struct {
	y, p       []float64
	batch      int
	rowsPer    int // rows per sample
	c          int // row length
	sparse     bool
	labelBuf   [1]float64
	labelSlice []float64
}

func (l *rowLayout) yRow(r int) []float64 {
	if l.sparse {
		l.labelSlice[0] = l.y[r]
		return l.labelSlice
	}
	return l.y[r*l.c : (r+1)*l.c]
}

// layout checks the values' shapes (Do may be reached with values that do
// not match the nodes' declared shapes) and, for sparse functions, the class
// indices. The layout lives in sc, and so do the float64 copies of float32
// inputs.
func (op rowOp) layout(in []G.Value, sc *rowScratch) (*rowLayout, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("%s: expected 2 inputs, got %d", op.f.Name, len(in))
	}
	yt, ok1 := in[0].(tensor.Tensor)
	pt, ok2 := in[1].(tensor.Tensor)
	if !ok1 || !ok2 {
		return nil, errors.Errorf("%s: inputs must be tensors, got %T and %T", op.f.Name, in[0], in[1])
	}
	if err := op.f.checkShapes(yt.Shape(), pt.Shape()); err != nil {
		return nil, err
	}
	y, p := float64View(in[0], &sc.y), float64View(in[1], &sc.p)
	if y == nil || p == nil {
		return nil, errors.Errorf("%s: unsupported dtypes %v, %v (want float32 or float64)", op.f.Name, yt.Dtype(), pt.Dtype())
	}
	ps := pt.Shape()
	l := &sc.l
	*l = rowLayout{y: y, p: p, batch: ps[0], c: ps[len(ps)-1], sparse: op.f.Sparse}
	l.rowsPer = len(p) / l.c / l.batch
	l.labelSlice = l.labelBuf[:]
	if op.f.Sparse {
		for r, v := range y {
			if v != math.Trunc(v) || v < 0 || v >= float64(l.c) {
				return nil, errors.Errorf("%s: label %v of sample %d is not a class index in [0, %d)", op.f.Name, v, r/l.rowsPer, l.c)
			}
		}
	}
	return l, nil
}

// newVector builds a 1-D tensor of dtype dt holding data.
func newVector(dt tensor.Dtype, data []float64) G.Value {
	if dt == tensor.Float32 {
		d32 := make([]float32, len(data))
		for i, x := range data {
			d32[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(len(data)), tensor.WithBacking(d32))
	}
	return tensor.New(tensor.WithShape(len(data)), tensor.WithBacking(data))
}
