package ops

import (
	"fmt"
	"math"

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
	s := x.Shape()
	if axis < 0 || axis >= len(s) {
		return nil, errors.Errorf("batch norm: axis %d out of range for shape %v", axis, s)
	}
	if !(eps >= 0) {
		return nil, errors.Errorf("batch norm: epsilon must be ≥ 0, got %v", eps)
	}
	c := s[axis]
	k := bnKernel{axis: axis, eps: eps, training: training, hasGamma: gamma != nil, hasBeta: beta != nil}
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
		if v.n.Dtype() != x.Dtype() {
			return nil, errors.Errorf("batch norm: %s is %v, the input %v", v.name, v.n.Dtype(), x.Dtype())
		}
		in = append(in, v.n)
	}
	return Apply(k, in...)
}

// bnKernel is the fused batch-norm forward pass. Inputs: x, then (inference
// only) mean and variance, then gamma and beta when present.
type bnKernel struct {
	axis              int
	eps               float64
	training          bool
	hasGamma, hasBeta bool
}

func (op bnKernel) Params() []any {
	return []any{op.axis, op.eps, op.training, op.hasGamma, op.hasBeta}
}

func (op bnKernel) Name() string {
	if op.training {
		return fmt.Sprintf("BatchNormTrain(axis=%d)", op.axis)
	}
	return fmt.Sprintf("BatchNormInfer(axis=%d)", op.axis)
}

func (op bnKernel) Shape(in []tensor.Shape) (tensor.Shape, error) { return in[0], nil }

// bnInputs are a bnOp's inputs: x in its own dtype, the per-channel
// inputs (C values each, nil when absent) as float64.
type bnInputs[T Float] struct {
	x                           []T
	mean, variance, gamma, beta []float64
	shape                       tensor.Shape
}

// chanValues copies a per-channel input (len(dst) values) into dst.
func chanValues(d *tensor.Dense, dst []float64) {
	if d.Dtype() == tensor.Float32 {
		for i, x := range d.Float32s()[:len(dst)] {
			dst[i] = float64(x)
		}
		return
	}
	copy(dst, d.Float64s())
}

// bnUnpack reads the inputs of op (x first, then its per-channel inputs).
func bnUnpack[T Float](op bnKernel, in []*tensor.Dense) bnInputs[T] {
	b := bnInputs[T]{x: dataOf[T](in[0]), shape: in[0].Shape()}
	c := b.shape[op.axis]
	buf := make([]float64, (len(in)-1)*c)
	i := 1
	next := func() []float64 {
		v := buf[(i-1)*c : i*c]
		chanValues(in[i], v)
		i++
		return v
	}
	if !op.training {
		b.mean = next()
		b.variance = next()
	}
	if op.hasGamma {
		b.gamma = next()
	}
	if op.hasBeta {
		b.beta = next()
	}
	return b
}

// bnSums returns each channel's sum of x and, when mean is not nil, of
// (x − mean)².
func bnSums[T Float](x []T, outer, c, inner int, mean []float64) []float64 {
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
func bnStats[T Float](op bnKernel, b bnInputs[T]) (mean, rstd []float64) {
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
func bnMap[T Float](out []T, outer, c, inner int, f func(k, j int) T) {
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

func (op bnKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		bnForward[float32](op, out, in)
	} else {
		bnForward[float64](op, out, in)
	}
	return nil
}

func bnForward[T Float](op bnKernel, out *tensor.Dense, in []*tensor.Dense) {
	b := bnUnpack[T](op, in)
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
	x := b.x
	bnMap(dataOf[T](out), outer, c, inner, func(k, j int) T {
		return T(float64(x[k])*scale[j] + shift[j])
	})
}

// NoGradient: x, gamma and beta are differentiable; the given statistics
// are not.
func (op bnKernel) NoGradient(i int) bool { return !op.training && (i == 1 || i == 2) }

func (op bnKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	args := append(append(G.Nodes{}, in...), grad)
	res := make(G.Nodes, len(in))
	var err error
	if res[0], err = Apply(bnGradKernel{bn: op, wrt: bnWrtX}, args...); err != nil {
		return nil, err
	}
	i := 1
	if !op.training {
		i = 3
	}
	if op.hasGamma {
		if res[i], err = Apply(bnGradKernel{bn: op, wrt: bnWrtGamma}, args...); err != nil {
			return nil, err
		}
		i++
	}
	if op.hasBeta {
		if res[i], err = Apply(bnGradKernel{bn: op, wrt: bnWrtBeta}, args...); err != nil {
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

// bnGradKernel computes one gradient of bnKernel from the forward pass's
// inputs and dL/dy (the last input).
type bnGradKernel struct {
	bn  bnKernel
	wrt int
}

func (op bnGradKernel) Params() []any { return []any{op.bn.Params(), op.wrt} }
func (op bnGradKernel) Name() string {
	return fmt.Sprintf("%v'[%s]", op.bn.Name(), [...]string{"x", "gamma", "beta"}[op.wrt])
}

func (op bnGradKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	x, dy := in[0], in[len(in)-1]
	if dy.TotalSize() != x.TotalSize() {
		return nil, errors.Errorf("%v: gradient %v does not match the input %v", op.Name(), dy, x)
	}
	if op.wrt == bnWrtX {
		return x, nil
	}
	return tensor.Shape{x[op.bn.axis]}, nil
}

func (op bnGradKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		bnBackward[float32](op, out, in)
	} else {
		bnBackward[float64](op, out, in)
	}
	return nil
}

func bnBackward[T Float](op bnGradKernel, out *tensor.Dense, in []*tensor.Dense) {
	b := bnUnpack[T](op.bn, in[:len(in)-1])
	dy := dataOf[T](in[len(in)-1])
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
		storeFloat64s(out, sums)
		return
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
	if !op.bn.training {
		bnMap(dataOf[T](out), outer, c, inner, func(k, j int) T {
			return T(float64(dy[k]) * k1[j])
		})
		return
	}
	bnMap(dataOf[T](out), outer, c, inner, func(k, j int) T {
		return T(k1[j]*float64(dy[k]) + k2[j] + k3[j]*float64(x[k]))
	})
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
	return Apply(movingKernel{axis: axis, momentum: momentum, variance: variance}, x, moving)
}

// movingKernel is the moving-statistic update; it has no gradient.
type movingKernel struct {
	axis     int
	momentum float64
	variance bool
}

func (op movingKernel) Params() []any { return []any{op.axis, op.momentum, op.variance} }
func (op movingKernel) Name() string {
	if op.variance {
		return "MovingVariance"
	}
	return "MovingMean"
}
func (op movingKernel) Shape(in []tensor.Shape) (tensor.Shape, error) { return in[1], nil }

func (op movingKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		movingStat[float32](op, out, in)
	} else {
		movingStat[float64](op, out, in)
	}
	return nil
}

func movingStat[T Float](op movingKernel, out *tensor.Dense, in []*tensor.Dense) {
	b := bnUnpack[T](bnKernel{axis: op.axis, training: true}, in[:1])
	outer, c, inner := axisView(b.shape, op.axis)
	moving := make([]float64, c)
	chanValues(in[1], moving)
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
	storeFloat64s(out, stat)
}
