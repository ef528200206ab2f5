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

// axisView splits a shape around one axis: the tensor is read as
// (outer, n, inner) with the axis in the middle, element (o, c, i) at
// (o·n + c)·inner + i.
func axisView(s tensor.Shape, axis int) (outer, n, inner int) {
	outer, inner = 1, 1
	for i, d := range s {
		switch {
		case i < axis:
			outer *= d
		case i > axis:
			inner *= d
		}
	}
	return outer, s[axis], inner
}

// BatchNormTrain normalizes x with its batch statistics, as Keras's
// BatchNormalization does in training: over every axis but axis (a
// non-negative axis of x's full shape, batch axis included) it computes the
// mean μ and the biased variance σ² of each channel and returns
// gamma·(x−μ)/sqrt(σ²+eps) + beta as one node. gamma and beta have shape
// (C,), C = x's size on axis; either may be nil (scale=False, center=False).
// The gradient with respect to x is one node (the standard batch-norm
// backward pass through the batch statistics); those of gamma and beta are
// one node each.
func BatchNormTrain(x, gamma, beta *G.Node, axis int, eps float64) (*G.Node, error) {
	return batchNorm(x, nil, nil, gamma, beta, axis, eps, true)
}

// BatchNormInfer normalizes x with given statistics (the moving mean and
// variance, shape (C,)): gamma·(x−mean)/sqrt(variance+eps) + beta, as one
// node. It is differentiable with respect to x, gamma and beta, not the
// statistics.
func BatchNormInfer(x, mean, variance, gamma, beta *G.Node, axis int, eps float64) (*G.Node, error) {
	if mean == nil || variance == nil {
		return nil, errors.New("batch norm: inference needs the mean and the variance")
	}
	return batchNorm(x, mean, variance, gamma, beta, axis, eps, false)
}

func batchNorm(x, mean, variance, gamma, beta *G.Node, axis int, eps float64, training bool) (*G.Node, error) {
	dt := x.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Errorf("batch norm: dtype %v not supported (float32 or float64)", dt)
	}
	s := x.Shape()
	if axis < 0 || axis >= len(s) {
		return nil, errors.Errorf("batch norm: axis %d out of range for shape %v", axis, s)
	}
	if !(eps >= 0) {
		return nil, errors.Errorf("batch norm: epsilon must be ≥ 0, got %v", eps)
	}
	c := s[axis]
	op := bnOp{axis: axis, dims: len(s), eps: eps, training: training, hasGamma: gamma != nil, hasBeta: beta != nil, dt: dt}
	in := []*G.Node{x}
	for _, v := range []struct {
		name string
		n    *G.Node
	}{{"mean", mean}, {"variance", variance}, {"gamma", gamma}, {"beta", beta}} {
		if v.n == nil {
			continue
		}
		if v.n.Dims() != 1 || v.n.Shape()[0] != c {
			return nil, errors.Errorf("batch norm: %s has shape %v, want (%d) for input %v on axis %d", v.name, v.n.Shape(), c, s, axis)
		}
		if v.n.Dtype() != dt {
			return nil, errors.Errorf("batch norm: %s is %v, the input %v", v.name, v.n.Dtype(), dt)
		}
		in = append(in, v.n)
	}
	return G.ApplyOp(op, in...)
}

// bnOp is the fused batch-norm forward op. Inputs: x, then (inference only)
// mean and variance, then gamma and beta when present.
type bnOp struct {
	axis, dims        int
	eps               float64
	training          bool
	hasGamma, hasBeta bool
	dt                tensor.Dtype
}

func (op bnOp) Arity() int {
	n := 1
	if !op.training {
		n += 2
	}
	if op.hasGamma {
		n++
	}
	if op.hasBeta {
		n++
	}
	return n
}

func (op bnOp) types() []hm.Type {
	ts := []hm.Type{G.TensorType{Dims: op.dims, Of: op.dt}}
	for i := 1; i < op.Arity(); i++ {
		ts = append(ts, G.TensorType{Dims: 1, Of: op.dt})
	}
	return ts
}

func (op bnOp) Type() hm.Type {
	ts := append(op.types(), G.TensorType{Dims: op.dims, Of: op.dt})
	return hm.NewFnType(ts...)
}
func (op bnOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]) }

// bnInputs are a bnOp's inputs: x in its own dtype, the per-channel
// inputs (C values each, nil when absent) as float64.
type bnInputs[T float] struct {
	x                           []T
	mean, variance, gamma, beta []float64
	shape                       tensor.Shape
}

// chanValues copies a per-channel input into dst (its len(dst) values) and
// reports whether it held exactly that many.
func chanValues(v G.Value, dst []float64) bool {
	if d, ok := v.(*tensor.Dense); ok && !d.RequiresIterator() {
		switch d.Dtype() {
		case tensor.Float32:
			src := d.Float32s()
			if len(src) != len(dst) {
				return false
			}
			for i, x := range src {
				dst[i] = float64(x)
			}
			return true
		case tensor.Float64:
			src := d.Float64s()
			if len(src) != len(dst) {
				return false
			}
			copy(dst, src)
			return true
		}
	}
	src := Float64s(v)
	if len(src) != len(dst) {
		return false
	}
	copy(dst, src)
	return true
}

// bnX returns the op's x input as a contiguous dense tensor of dtype dt.
func bnX(op fmt.Stringer, in []G.Value, dims int, dt tensor.Dtype) (*tensor.Dense, error) {
	if len(in) == 0 {
		return nil, errors.Errorf("%v: no input", op)
	}
	xt, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("%v: input must be a dense tensor, got %T", op, in[0])
	}
	if len(xt.Shape()) != dims {
		return nil, errors.Errorf("%v: input shape %v, expected %d dims", op, xt.Shape(), dims)
	}
	if xt.Dtype() != dt {
		return nil, errors.Errorf("%v: input is %v, built for %v", op, xt.Dtype(), dt)
	}
	return contiguous(xt), nil
}

func bnUnpack[T float](op bnOp, in []G.Value) (bnInputs[T], error) {
	var b bnInputs[T]
	if len(in) != op.Arity() {
		return b, errors.Errorf("%v: expected %d inputs, got %d", op, op.Arity(), len(in))
	}
	xt, err := bnX(op, in, op.dims, op.dt)
	if err != nil {
		return b, err
	}
	b.shape = xt.Shape()
	if op.axis >= len(b.shape) {
		return b, errors.Errorf("%v: input shape %v, expected %d dims", op, b.shape, op.dims)
	}
	c := b.shape[op.axis]
	b.x = denseData[T](xt)
	buf := make([]float64, (len(in)-1)*c)
	i := 1
	next := func() ([]float64, error) {
		v := buf[(i-1)*c : i*c]
		if !chanValues(in[i], v) {
			return nil, errors.Errorf("%v: per-channel input %d does not have %d values", op, i, c)
		}
		i++
		return v, nil
	}
	if !op.training {
		if b.mean, err = next(); err != nil {
			return b, err
		}
		if b.variance, err = next(); err != nil {
			return b, err
		}
	}
	if op.hasGamma {
		if b.gamma, err = next(); err != nil {
			return b, err
		}
	}
	if op.hasBeta {
		if b.beta, err = next(); err != nil {
			return b, err
		}
	}
	return b, nil
}

// bnSums returns each channel's sum of x and, when mean is not nil, of
// (x − mean)².
func bnSums[T float](x []T, outer, c, inner int, mean []float64) []float64 {
	out := make([]float64, c)
	if inner == 1 {
		for o := 0; o < outer; o++ {
			row := x[o*c:][:c]
			if mean == nil {
				for j, v := range row {
					out[j] += float64(v)
				}
				continue
			}
			for j, v := range row {
				d := float64(v) - mean[j]
				out[j] += d * d
			}
		}
		return out
	}
	for o := 0; o < outer; o++ {
		for j := 0; j < c; j++ {
			s := 0.0
			if mean == nil {
				for _, v := range x[(o*c+j)*inner:][:inner] {
					s += float64(v)
				}
			} else {
				mu := mean[j]
				for _, v := range x[(o*c+j)*inner:][:inner] {
					d := float64(v) - mu
					s += d * d
				}
			}
			out[j] += s
		}
	}
	return out
}

// bnStats returns each channel's mean and 1/sqrt(variance+eps): from the
// batch in training, from the given statistics in inference.
func bnStats[T float](op bnOp, b bnInputs[T]) (mean, rstd []float64) {
	outer, c, inner := axisView(b.shape, op.axis)
	if !op.training {
		mean = make([]float64, c)
		rstd = make([]float64, c)
		copy(mean, b.mean)
		for j, v := range b.variance {
			rstd[j] = 1 / math.Sqrt(v+op.eps)
		}
		return mean, rstd
	}
	m := float64(outer * inner)
	mean = bnSums(b.x, outer, c, inner, nil)
	for j := range mean {
		mean[j] /= m
	}
	rstd = bnSums(b.x, outer, c, inner, mean)
	for j := range rstd {
		rstd[j] = 1 / math.Sqrt(rstd[j]/m+op.eps)
	}
	return mean, rstd
}

// bnMap writes out[k] = f(k, j) for every element k of channel j of a
// tensor read as (outer, c, inner), in parallel for large tensors.
func bnMap[T float](out []T, outer, c, inner int, f func(k, j int) T) {
	parallelRange(outer, len(out), func(lo, hi int) {
		for o := lo; o < hi; o++ {
			for j := 0; j < c; j++ {
				base := (o*c + j) * inner
				for k := base; k < base+inner; k++ {
					out[k] = f(k, j)
				}
			}
		}
	})
}

func (op bnOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of x's
// dtype and shape.
func (op bnOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op bnOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	switch op.dt {
	case tensor.Float32:
		return bnForward[float32](op, prealloc, in)
	case tensor.Float64:
		return bnForward[float64](op, prealloc, in)
	}
	return nil, errors.Errorf("%v: unsupported dtype %v", op, op.dt)
}

func bnForward[T float](op bnOp, prealloc G.Value, in []G.Value) (G.Value, error) {
	b, err := bnUnpack[T](op, in)
	if err != nil {
		return nil, err
	}
	mean, rstd := bnStats(op, b)
	outer, c, inner := axisView(b.shape, op.axis)
	scale, shift := make([]float64, c), make([]float64, c)
	for j := range scale {
		scale[j], shift[j] = rstd[j], -mean[j]*rstd[j]
		if b.gamma != nil {
			scale[j] *= b.gamma[j]
			shift[j] *= b.gamma[j]
		}
		if b.beta != nil {
			shift[j] += b.beta[j]
		}
	}
	out := outDense(prealloc, op.dt, b.shape)
	x := b.x
	bnMap(denseData[T](out), outer, c, inner, func(k, j int) T {
		return T(float64(x[k])*scale[j] + shift[j])
	})
	return out, nil
}

func (op bnOp) ReturnsPtr() bool     { return false }
func (op bnOp) CallsExtern() bool    { return false }
func (op bnOp) OverwritesInput() int { return -1 }
func (op bnOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.batchnorm(axis=%d,dims=%d,eps=%v,train=%v,gamma=%v,beta=%v,%v)",
		op.axis, op.dims, op.eps, op.training, op.hasGamma, op.hasBeta, op.dt)
}
func (op bnOp) Hashcode() uint32 { return hashOf(op) }
func (op bnOp) String() string {
	if op.training {
		return fmt.Sprintf("BatchNormTrain(axis=%d)", op.axis)
	}
	return fmt.Sprintf("BatchNormInfer(axis=%d)", op.axis)
}

// DiffWRT: x, gamma and beta are differentiable; the given statistics are
// not.
func (op bnOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = op.training || i == 0 || i >= 3
	}
	return d
}

func (op bnOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	args := append(append(G.Nodes{}, in...), grad)
	res := make(G.Nodes, len(in))
	var err error
	if res[0], err = G.ApplyOp(bnGradOp{bn: op, wrt: bnWrtX}, args...); err != nil {
		return nil, err
	}
	i := 1
	if !op.training {
		i = 3
	}
	if op.hasGamma {
		if res[i], err = G.ApplyOp(bnGradOp{bn: op, wrt: bnWrtGamma}, args...); err != nil {
			return nil, err
		}
		i++
	}
	if op.hasBeta {
		if res[i], err = G.ApplyOp(bnGradOp{bn: op, wrt: bnWrtBeta}, args...); err != nil {
			return nil, err
		}
	}
	return res, nil
}

const (
	bnWrtX = iota
	bnWrtGamma
	bnWrtBeta
)

// bnGradOp computes one gradient of bnOp from the forward op's inputs and
// dL/dy (the last input).
type bnGradOp struct {
	bn  bnOp
	wrt int
}

func (op bnGradOp) Arity() int { return op.bn.Arity() + 1 }
func (op bnGradOp) Type() hm.Type {
	x := G.TensorType{Dims: op.bn.dims, Of: op.bn.dt}
	ts := append(op.bn.types(), x)
	if op.wrt == bnWrtX {
		ts = append(ts, x)
	} else {
		ts = append(ts, G.TensorType{Dims: 1, Of: op.bn.dt})
	}
	return hm.NewFnType(ts...)
}
func (op bnGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	if op.wrt == bnWrtX {
		return s, nil
	}
	if op.bn.axis >= len(s) {
		return nil, errors.Errorf("%v: axis %d out of range for %v", op, op.bn.axis, s)
	}
	return tensor.Shape{s[op.bn.axis]}, nil
}
func (op bnGradOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// gradient's dtype and shape.
func (op bnGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op bnGradOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != op.Arity() {
		return nil, errors.Errorf("%v: expected %d inputs, got %d", op, op.Arity(), len(in))
	}
	switch op.bn.dt {
	case tensor.Float32:
		return bnBackward[float32](op, prealloc, in)
	case tensor.Float64:
		return bnBackward[float64](op, prealloc, in)
	}
	return nil, errors.Errorf("%v: unsupported dtype %v", op, op.bn.dt)
}

func bnBackward[T float](op bnGradOp, prealloc G.Value, in []G.Value) (G.Value, error) {
	b, err := bnUnpack[T](op.bn, in[:len(in)-1])
	if err != nil {
		return nil, err
	}
	dyt, ok := in[len(in)-1].(*tensor.Dense)
	if !ok || dyt.Dtype() != op.bn.dt || dyt.Shape().TotalSize() != len(b.x) {
		return nil, errors.Errorf("%v: gradient %v does not match the input %v %v", op, in[len(in)-1], b.shape, op.bn.dt)
	}
	dy := denseData[T](contiguous(dyt))
	mean, rstd := bnStats(op.bn, b)
	outer, c, inner := axisView(b.shape, op.bn.axis)
	x := b.x
	// Per-channel sums of dy and dy·x̂.
	sumDy := make([]float64, c)
	sumDyXh := make([]float64, c)
	for o := 0; o < outer; o++ {
		for j := 0; j < c; j++ {
			base := (o*c + j) * inner
			mu, r := mean[j], rstd[j]
			s, sx := 0.0, 0.0
			xs := x[base : base+inner]
			for i, g := range dy[base : base+inner] {
				gf := float64(g)
				s += gf
				sx += gf * (float64(xs[i]) - mu) * r
			}
			sumDy[j] += s
			sumDyXh[j] += sx
		}
	}
	switch op.wrt {
	case bnWrtBeta, bnWrtGamma:
		sums := sumDy
		if op.wrt == bnWrtGamma {
			sums = sumDyXh
		}
		out := outDense(prealloc, op.bn.dt, tensor.Shape{c})
		storeFloat64s(out, sums)
		return out, nil
	}
	m := float64(outer * inner)
	k1 := make([]float64, c) // dx = k1·dy (+ k2 + k3·x for training)
	k2 := make([]float64, c)
	k3 := make([]float64, c)
	for j := range k1 {
		g := 1.0
		if b.gamma != nil {
			g = b.gamma[j]
		}
		r := rstd[j]
		if !op.bn.training {
			k1[j] = g * r
			continue
		}
		// dx = γ·r/m · (m·dy − Σdy − x̂·Σ(dy·x̂)), x̂ = (x−μ)·r
		k := g * r / m
		k1[j] = k * m
		k3[j] = -k * sumDyXh[j] * r
		k2[j] = -k*sumDy[j] - k3[j]*mean[j]
	}
	out := outDense(prealloc, op.bn.dt, b.shape)
	if !op.bn.training {
		bnMap(denseData[T](out), outer, c, inner, func(k, j int) T {
			return T(float64(dy[k]) * k1[j])
		})
		return out, nil
	}
	bnMap(denseData[T](out), outer, c, inner, func(k, j int) T {
		return T(k1[j]*float64(dy[k]) + k2[j] + k3[j]*float64(x[k]))
	})
	return out, nil
}

func (op bnGradOp) ReturnsPtr() bool     { return false }
func (op bnGradOp) CallsExtern() bool    { return false }
func (op bnGradOp) OverwritesInput() int { return -1 }
func (op bnGradOp) WriteHash(h hash.Hash) {
	op.bn.WriteHash(h)
	fmt.Fprintf(h, ".grad%d", op.wrt)
}
func (op bnGradOp) Hashcode() uint32 { return hashOf(op) }
func (op bnGradOp) String() string {
	return fmt.Sprintf("%v'[%s]", op.bn, [...]string{"x", "gamma", "beta"}[op.wrt])
}

// MovingStat returns momentum·moving + (1−momentum)·stat, the Keras 3
// update of a batch-norm moving statistic, as one node of moving's shape
// (C,): stat is the batch mean of x over every axis but axis, or, with
// variance set, its biased variance. It has no gradient: its value is meant
// for a state update, not for the cost.
func MovingStat(x, moving *G.Node, axis int, momentum float64, variance bool) (*G.Node, error) {
	s := x.Shape()
	if axis < 0 || axis >= len(s) {
		return nil, errors.Errorf("moving statistic: axis %d out of range for shape %v", axis, s)
	}
	if moving.Dims() != 1 || moving.Shape()[0] != s[axis] {
		return nil, errors.Errorf("moving statistic: shape %v, want (%d) for input %v on axis %d", moving.Shape(), s[axis], s, axis)
	}
	if x.Dtype() != moving.Dtype() {
		return nil, errors.Errorf("moving statistic: input is %v, the statistic %v", x.Dtype(), moving.Dtype())
	}
	return G.ApplyOp(movingOp{axis: axis, dims: len(s), momentum: momentum, variance: variance, dt: x.Dtype()}, x, moving)
}

type movingOp struct {
	axis, dims int
	momentum   float64
	variance   bool
	dt         tensor.Dtype
}

func (op movingOp) Arity() int { return 2 }
func (op movingOp) Type() hm.Type {
	v := G.TensorType{Dims: 1, Of: op.dt}
	return hm.NewFnType(G.TensorType{Dims: op.dims, Of: op.dt}, v, v)
}
func (op movingOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in[1]) }
func (op movingOp) Do(in ...G.Value) (G.Value, error)                 { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of the
// statistic's dtype and shape.
func (op movingOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op movingOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("%v: expected 2 inputs, got %d", op, len(in))
	}
	switch op.dt {
	case tensor.Float32:
		return movingStat[float32](op, prealloc, in)
	case tensor.Float64:
		return movingStat[float64](op, prealloc, in)
	}
	return nil, errors.Errorf("%v: unsupported dtype %v", op, op.dt)
}

func movingStat[T float](op movingOp, prealloc G.Value, in []G.Value) (G.Value, error) {
	bn := bnOp{axis: op.axis, dims: op.dims, training: true, dt: op.dt}
	b, err := bnUnpack[T](bn, in[:1])
	if err != nil {
		return nil, err
	}
	outer, c, inner := axisView(b.shape, op.axis)
	moving := make([]float64, c)
	if !chanValues(in[1], moving) {
		return nil, errors.Errorf("%v: the moving statistic does not have %d values", op, c)
	}
	mean := bnSums(b.x, outer, c, inner, nil)
	m := float64(outer * inner)
	for j := range mean {
		mean[j] /= m
	}
	stat := mean
	if op.variance {
		stat = bnSums(b.x, outer, c, inner, mean)
		for j := range stat {
			stat[j] /= m
		}
	}
	for j := range stat {
		stat[j] = op.momentum*moving[j] + (1-op.momentum)*stat[j]
	}
	out := outDense(prealloc, op.dt, tensor.Shape{c})
	storeFloat64s(out, stat)
	return out, nil
}

func (op movingOp) ReturnsPtr() bool     { return false }
func (op movingOp) CallsExtern() bool    { return false }
func (op movingOp) OverwritesInput() int { return -1 }
func (op movingOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.movingstat(axis=%d,dims=%d,m=%v,var=%v,%v)", op.axis, op.dims, op.momentum, op.variance, op.dt)
}
func (op movingOp) Hashcode() uint32 { return hashOf(op) }
func (op movingOp) String() string {
	if op.variance {
		return "MovingVariance"
	}
	return "MovingMean"
}

// DiffWRT says the op contributes no gradient.
func (op movingOp) DiffWRT(n int) []bool { return make([]bool, n) }

// SymDiff is never needed: the op's output reaches no cost.
func (op movingOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return make(G.Nodes, len(in)), nil
}
