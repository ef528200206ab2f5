package ops

import (
	"math"

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
	return Apply(rowKernel{f: f, sc: &rowScratch{}}, yTrue, yPred)
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

// rowKernel computes the per-sample values.
type rowKernel struct {
	f *RowFunc
	// sc holds the node's float64 buffers, reused by every run.
	sc *rowScratch
}

// rowScratch is the memory a row kernel reuses between runs: the float64
// views of float32 inputs, the output buffers and the layout.
type rowScratch struct {
	l                rowLayout
	y, p, g, out, dp []float64
}

// grow returns (*buf)[:n], reallocating *buf when it is too short.
func grow(buf *[]float64, n int) []float64 {
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

// float64View returns t's elements as float64s without allocating when it
// can: a float64 tensor's own backing slice, or a float32 tensor's elements
// converted into *buf.
func float64View(t *tensor.Dense, buf *[]float64) []float64 {
	if t.Dtype() == tensor.Float64 {
		return t.Float64s()
	}
	*buf = float64sInto(*buf, t.Float32s())
	return *buf
}

func (k rowKernel) Name() string  { return k.f.Name }
func (k rowKernel) Params() []any { return []any{k.f.Sparse} }
func (k rowKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if err := k.f.checkShapes(in[0], in[1]); err != nil {
		return nil, err
	}
	return tensor.Shape{in[1][0]}, nil
}

func (k rowKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	l, err := layoutOf(k.f, in[0], in[1], k.sc)
	if err != nil {
		return err
	}
	vals := grow(&k.sc.out, l.batch)
	for s := 0; s < l.batch; s++ {
		sum := 0.0
		for r := s * l.rowsPer; r < (s+1)*l.rowsPer; r++ {
			sum += k.f.F(l.yRow(r), l.p[r*l.c:(r+1)*l.c])
		}
		vals[s] = sum / float64(l.rowsPer)
	}
	storeFloat64s(out, vals)
	return nil
}

// NoGradient: targets are data, never differentiated; predictions only
// when the function has a derivative.
func (k rowKernel) NoGradient(i int) bool { return i == 0 || k.f.DF == nil }

func (k rowKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if k.f.DF == nil {
		return nil, errors.Errorf("%s is not differentiable", k.f.Name)
	}
	dp, err := Apply(rowGradKernel{f: k.f, sc: &rowScratch{}}, in[0], in[1], grad)
	return G.Nodes{nil, dp}, err
}

// rowGradKernel computes dL/dy_pred from (y_true, y_pred, dL/dout).
type rowGradKernel rowKernel

func (k rowGradKernel) Name() string  { return k.f.Name + "'" }
func (k rowGradKernel) Params() []any { return []any{k.f.Sparse} }
func (k rowGradKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if err := k.f.checkShapes(in[0], in[1]); err != nil {
		return nil, err
	}
	if n := in[2].TotalSize(); n != in[1][0] && n != 1 {
		return nil, errors.Errorf("%s gradient: %d output gradients for %d samples", k.f.Name, n, in[1][0])
	}
	return in[1], nil
}

func (k rowGradKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	l, err := layoutOf(k.f, in[0], in[1], k.sc)
	if err != nil {
		return err
	}
	g := float64View(in[2], &k.sc.g)
	dp := grow(&k.sc.dp, len(l.p))
	clear(dp)
	for s := 0; s < l.batch; s++ {
		gs := g[0]
		if len(g) > 1 {
			gs = g[s]
		}
		gs /= float64(l.rowsPer)
		for r := s * l.rowsPer; r < (s+1)*l.rowsPer; r++ {
			k.f.DF(l.yRow(r), l.p[r*l.c:(r+1)*l.c], gs, dp[r*l.c:(r+1)*l.c])
		}
	}
	storeFloat64s(out, dp)
	return nil
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

// layoutOf views (y_true, y_pred) as rows and, for sparse functions,
// checks the class indices. The layout lives in sc, and so do the float64
// copies of float32 inputs.
func layoutOf(f *RowFunc, yt, pt *tensor.Dense, sc *rowScratch) (*rowLayout, error) {
	y, p := float64View(yt, &sc.y), float64View(pt, &sc.p)
	ps := pt.Shape()
	l := &sc.l
	*l = rowLayout{y: y, p: p, batch: ps[0], c: ps[len(ps)-1], sparse: f.Sparse}
	l.rowsPer = len(p) / l.c / l.batch
	l.labelSlice = l.labelBuf[:]
	if f.Sparse {
		for r, v := range y {
			if v != math.Trunc(v) || v < 0 || v >= float64(l.c) {
				return nil, errors.Errorf("%s: label %v of sample %d is not a class index in [0, %d)", f.Name, v, r/l.rowsPer, l.c)
			}
		}
	}
	return l, nil
}
