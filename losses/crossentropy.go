package losses

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// Epsilon is Keras's K.epsilon(): probabilities are clipped to
// [Epsilon, 1-Epsilon] (both bounds rounded to the graph's dtype) before
// their logarithm is taken.
const Epsilon = 1e-7

// Option configures a cross-entropy loss.
type Option func(*options)

type options struct {
	fromLogits bool
}

// FromLogits makes a cross-entropy loss take logits (pre-sigmoid or
// pre-softmax values) instead of probabilities, as Keras's from_logits=True:
// the loss is then computed in a numerically stable form and never clipped.
func FromLogits() Option { return func(o *options) { o.fromLogits = true } }

func newOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// crossentropy is one of the three cross-entropy losses.
type crossentropy struct {
	name       string
	kind       ceKind
	fromLogits bool
}

type ceKind int

const (
	binaryCE ceKind = iota
	categoricalCE
	sparseCE
)

// BinaryCrossentropy is Keras's binary_crossentropy: per element
// -(y·log p + (1-y)·log(1-p)) with p clipped to [1e-7, 1-1e-7] (the clipped
// elements get no gradient), or with FromLogits
// max(z,0) - z·y + log(1+exp(-|z|)); then the mean over the last axis.
// Targets have the output's shape, with values in [0, 1].
func BinaryCrossentropy(opts ...Option) Loss {
	return &crossentropy{name: "binary_crossentropy", kind: binaryCE, fromLogits: newOptions(opts).fromLogits}
}

// CategoricalCrossentropy is Keras's categorical_crossentropy: -Σ y·log p over
// the last axis, with p first renormalised to sum to 1 over the last axis and
// then clipped to [1e-7, 1-1e-7]; with FromLogits, -Σ y·log softmax(z)
// through log-sum-exp. Targets (one-hot or any non-negative weights) have the
// output's shape; an output whose last axis is 1 is refused (use
// BinaryCrossentropy).
func CategoricalCrossentropy(opts ...Option) Loss {
	return &crossentropy{name: "categorical_crossentropy", kind: categoricalCE, fromLogits: newOptions(opts).fromLogits}
}

// SparseCategoricalCrossentropy is Keras's sparse_categorical_crossentropy:
// targets are class indices (integers stored as floats) of shape
// output[:-1]; the loss is -log softmax(z)[label] with z the logits
// (FromLogits) or z = log(clip(p, 1e-7, 1-1e-7)) for probabilities, which
// equals -log p[label] for normalised p (Keras's behaviour on unnormalised
// inputs is kept).
func SparseCategoricalCrossentropy(opts ...Option) Loss {
	return &crossentropy{name: "sparse_categorical_crossentropy", kind: sparseCE, fromLogits: newOptions(opts).fromLogits}
}

// Name implements Loss.
func (l *crossentropy) Name() string { return l.name }

// FromLogits reports whether the loss takes logits.
func (l *crossentropy) FromLogits() bool { return l.fromLogits }

// TargetShape implements Loss.
func (l *crossentropy) TargetShape(output graph.Shape) (graph.Shape, error) {
	if err := needLastAxis(l.name, output); err != nil {
		return nil, err
	}
	if l.kind != binaryCE && output[len(output)-1] == 1 {
		return nil, errors.Errorf("%s on an output of shape %v: use binary_crossentropy (a one-unit output has a single class)", l.name, output)
	}
	if l.kind == sparseCE {
		return output[:len(output)-1].Clone(), nil
	}
	return output.Clone(), nil
}

// CheckTargets implements Loss.
func (l *crossentropy) CheckTargets(y []float64, output graph.Shape) error {
	ts, err := targetShape(l, y, output)
	if err != nil {
		return err
	}
	size := ts.Size()
	switch l.kind {
	case binaryCE:
		return eachTarget(l.name, y, ts, "not in [0, 1]", func(v float64) bool { return v >= 0 && v <= 1 })
	case categoricalCE:
		return eachTarget(l.name, y, ts, "not a finite non-negative value (targets are one-hot or class probabilities)",
			func(v float64) bool { return v >= 0 && !math.IsInf(v, 1) })
	case sparseCE:
		c := output[len(output)-1]
		for i, v := range y {
			if v != math.Trunc(v) || v < 0 || v >= float64(c) {
				msg := "%s: target %v of sample %d is not a class index: labels must be integers in [0, %d)"
				if looksOneHot(y, c) {
					msg += "; the targets look one-hot encoded: use categorical_crossentropy, or pass class indices"
				}
				return errors.Errorf(msg, l.name, v, i/size, c)
			}
		}
	}
	return nil
}

// looksOneHot reports whether y reads as rows of c values in [0, 1] that
// each sum to 1 (one-hot or label-smoothed targets).
func looksOneHot(y []float64, c int) bool {
	if c < 2 || len(y) == 0 || len(y)%c != 0 {
		return false
	}
	for r := 0; r < len(y); r += c {
		s := 0.0
		for _, v := range y[r : r+c] {
			if !(v >= 0 && v <= 1) {
				return false
			}
			s += v
		}
		if math.Abs(s-1) > 1e-3 {
			return false
		}
	}
	return true
}

// PerSample implements Loss.
func (l *crossentropy) PerSample(ctx *graph.Context, yTrue, yPred graph.Node) (graph.Node, error) {
	if err := checkPred(l, yTrue, yPred); err != nil {
		return nil, err
	}
	lo, hi := clipBounds(ctx.DType())
	f := &ops.RowFunc{Name: l.name}
	if l.fromLogits {
		f.Name += "(from_logits)"
	}
	switch {
	case l.kind == binaryCE && l.fromLogits:
		f.F, f.DF = bceLogits, bceLogitsGrad
	case l.kind == binaryCE:
		f.F, f.DF = bceProbs(lo, hi)
	case l.kind == categoricalCE && l.fromLogits:
		f.F, f.DF = cceLogits, cceLogitsGrad
	case l.kind == categoricalCE:
		f.F, f.DF = cceProbs(lo, hi)
	case l.fromLogits:
		f.Sparse = true
		f.F, f.DF = sparseLogits, sparseLogitsGrad
	default:
		f.Sparse = true
		f.F, f.DF = sparseProbs(lo, hi)
	}
	return f.Apply(yTrue, yPred)
}

// clipBounds are [ε, 1-ε] rounded to dt, as Keras computes them in floatx.
func clipBounds(dt tensor.Dtype) (lo, hi float64) {
	if dt == tensor.Float32 {
		return float64(float32(Epsilon)), float64(float32(1 - Epsilon))
	}
	return Epsilon, 1 - Epsilon
}

func clip(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// inside reports whether clipping leaves v unchanged, so that the gradient
// flows (TensorFlow's clip_by_value gradient).
func inside(v, lo, hi float64) bool { return v >= lo && v <= hi }

func bceProbs(lo, hi float64) (func(y, p []float64) float64, func(y, p []float64, g float64, dp []float64)) {
	f := func(y, p []float64) float64 {
		s := 0.0
		for j, pj := range p {
			c := clip(pj, lo, hi)
			s -= y[j]*math.Log(c) + (1-y[j])*math.Log(1-c)
		}
		return s / float64(len(p))
	}
	df := func(y, p []float64, g float64, dp []float64) {
		g /= float64(len(p))
		for j, pj := range p {
			if !inside(pj, lo, hi) {
				dp[j] = 0
				continue
			}
			dp[j] = g * ((1-y[j])/(1-pj) - y[j]/pj)
		}
	}
	return f, df
}

func bceLogits(y, z []float64) float64 {
	s := 0.0
	for j, zj := range z {
		s += math.Max(zj, 0) - zj*y[j] + math.Log1p(math.Exp(-math.Abs(zj)))
	}
	return s / float64(len(z))
}

func bceLogitsGrad(y, z []float64, g float64, dz []float64) {
	g /= float64(len(z))
	for j, zj := range z {
		dz[j] = g * (sigmoid(zj) - y[j])
	}
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

func cceProbs(lo, hi float64) (func(y, p []float64) float64, func(y, p []float64, g float64, dp []float64)) {
	f := func(y, p []float64) float64 {
		sum := 0.0
		for _, pj := range p {
			sum += pj
		}
		s := 0.0
		for j, pj := range p {
			s -= y[j] * math.Log(clip(pj/sum, lo, hi))
		}
		return s
	}
	df := func(y, p []float64, g float64, dp []float64) {
		sum := 0.0
		for _, pj := range p {
			sum += pj
		}
		// a_j = dL/dq_j with q = p/Σp; dL/dp_k = (a_k - Σ_j a_j q_j) / Σp.
		dot := 0.0
		for j, pj := range p {
			q := pj / sum
			if inside(q, lo, hi) {
				dp[j] = -y[j] / q
			} else {
				dp[j] = 0
			}
			dot += dp[j] * q
		}
		for j := range dp {
			dp[j] = g * (dp[j] - dot) / sum
		}
	}
	return f, df
}

// logSumExp is log Σ exp(z), computed around the maximum.
func logSumExp(z []float64) float64 {
	m := math.Inf(-1)
	for _, v := range z {
		if v > m {
			m = v
		}
	}
	if math.IsInf(m, 0) {
		return m
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

func cceLogits(y, z []float64) float64 {
	lse := logSumExp(z)
	s := 0.0
	for j, zj := range z {
		s += y[j] * (lse - zj)
	}
	return s
}

func cceLogitsGrad(y, z []float64, g float64, dz []float64) {
	lse := logSumExp(z)
	ysum := 0.0
	for _, v := range y {
		ysum += v
	}
	for j, zj := range z {
		dz[j] = g * (math.Exp(zj-lse)*ysum - y[j])
	}
}

func sparseLogits(y, z []float64) float64 {
	return logSumExp(z) - z[int(y[0])]
}

func sparseLogitsGrad(y, z []float64, g float64, dz []float64) {
	lse := logSumExp(z)
	for j, zj := range z {
		dz[j] = g * math.Exp(zj-lse)
	}
	dz[int(y[0])] -= g
}

func sparseProbs(lo, hi float64) (func(y, p []float64) float64, func(y, p []float64, g float64, dp []float64)) {
	// z = log(clip(p)); L = log Σ exp(z) - z[label] = log Σ clip(p) - log clip(p[label]).
	f := func(y, p []float64) float64 {
		sum := 0.0
		for _, pj := range p {
			sum += clip(pj, lo, hi)
		}
		return math.Log(sum) - math.Log(clip(p[int(y[0])], lo, hi))
	}
	df := func(y, p []float64, g float64, dp []float64) {
		sum := 0.0
		for _, pj := range p {
			sum += clip(pj, lo, hi)
		}
		label := int(y[0])
		for j, pj := range p {
			if !inside(pj, lo, hi) {
				dp[j] = 0
				continue
			}
			d := 1 / sum
			if j == label {
				d -= 1 / pj
			}
			dp[j] = g * d
		}
	}
	return f, df
}
