package layers

import (
	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// BatchNormalization is Keras's BatchNormalization with Keras 3 semantics:
//
//	y = gamma · (x − μ) / sqrt(σ² + epsilon) + beta
//
// per channel of the feature axis (WithAxis, default -1, the batch axis
// counting as 0 as in Keras). In training programs μ and σ² are the batch
// mean and biased variance over every other axis, and after each
// successful training step the moving statistics are updated once with
//
//	moving_mean     ← momentum·moving_mean     + (1−momentum)·μ
//	moving_variance ← momentum·moving_variance + (1−momentum)·σ²   (biased)
//
// (Keras 3 and tf.keras on 2-D input; Keras 2.2's zero-debiased, unbiased
// variant is not implemented). Inference programs normalize with the moving
// statistics and never change them.
//
// Weights, in Keras order: gamma (unless WithoutScale) and beta (unless
// WithoutCenter), trainable, then moving_mean and moving_variance, not
// trainable but saved with the model; each has shape (C,), C the input's
// size on the axis. BN(C=32) has 128 parameters, 64 of them non-trainable.
//
// Forward and backward are fused custom ops (one node each for the output
// and the input gradient; Gorgonia's BatchNorm is not used). A mask on the
// input is passed on, and, as in Keras 2, does not affect the statistics.
type BatchNormalization struct {
	graph.Base
	graph.PassMask
	cfg                *config
	err                error
	axis               int // as given (may be negative)
	channels           int
	gamma, beta        *graph.Weight
	movingMean, movVar *graph.Weight
}

// NewBatchNormalization creates a BatchNormalization layer. Options:
// WithName, WithAxis, WithMomentum, WithEpsilon, WithoutCenter,
// WithoutScale, WithBetaInitializer, WithGammaInitializer,
// WithMovingMeanInitializer, WithMovingVarianceInitializer,
// WithBetaRegularizer, WithGammaRegularizer.
func NewBatchNormalization(opts ...Option) *BatchNormalization {
	c := newConfig("BatchNormalization", opts, "WithAxis", "WithMomentum", "WithEpsilon",
		"WithoutCenter", "WithoutScale", "WithBetaInitializer", "WithGammaInitializer",
		"WithMovingMeanInitializer", "WithMovingVarianceInitializer",
		"WithBetaRegularizer", "WithGammaRegularizer")
	b := &BatchNormalization{Base: graph.NewBase("BatchNormalization", c.name), cfg: c, err: c.err, axis: c.axis}
	if b.err == nil && !(c.momentum >= 0 && c.momentum <= 1) {
		b.err = errors.Errorf("momentum must be in [0, 1], got %v", c.momentum)
	}
	if b.err == nil && !(c.epsilon > 0) {
		b.err = errors.Errorf("epsilon must be positive, got %v", c.epsilon)
	}
	if c.gammaInit == nil {
		c.gammaInit = Ones()
	}
	if c.betaInit == nil {
		c.betaInit = Zeros()
	}
	if c.movingMeanInit == nil {
		c.movingMeanInit = Zeros()
	}
	if c.movingVarianceInit == nil {
		c.movingVarianceInit = Ones()
	}
	return b
}

// Apply applies the layer to x and returns its output tensor.
func (b *BatchNormalization) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(b, x) }

// Axis is the feature axis as given (default -1).
func (b *BatchNormalization) Axis() int { return b.axis }

// Momentum is the moving statistics' momentum.
func (b *BatchNormalization) Momentum() float64 { return b.cfg.momentum }

// Epsilon is the variance epsilon.
func (b *BatchNormalization) Epsilon() float64 { return b.cfg.epsilon }

// Gamma is the (C,) scale weight (nil with WithoutScale or before build).
func (b *BatchNormalization) Gamma() *graph.Weight { return b.gamma }

// Beta is the (C,) offset weight (nil with WithoutCenter or before build).
func (b *BatchNormalization) Beta() *graph.Weight { return b.beta }

// MovingMean is the (C,) non-trainable moving mean (nil before build).
func (b *BatchNormalization) MovingMean() *graph.Weight { return b.movingMean }

// MovingVariance is the (C,) non-trainable moving variance (nil before
// build).
func (b *BatchNormalization) MovingVariance() *graph.Weight { return b.movVar }

// Build implements graph.Layer: it resolves the axis, creates the weights
// the first time, and returns the input shape.
func (b *BatchNormalization) Build(in []graph.Shape) ([]graph.Shape, error) {
	if b.err != nil {
		return nil, b.err
	}
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	s := in[0]
	rank := len(s) + 1
	a := b.axis
	if a < 0 {
		a += rank
	}
	if rank == 1 {
		return nil, errors.Errorf("axis %d does not exist: an input of shape %s has no feature axis to normalize", b.axis, s)
	}
	if a <= 0 || a >= rank {
		what := "does not exist"
		if a == 0 {
			what = "is the batch axis"
		}
		return nil, errors.Errorf("axis %d %s: an input of shape %s (rank %d) has feature axes 1…%d, or -%d…-1 from the end", b.axis, what, s, rank, rank-1, rank-1)
	}
	c := s[a-1]
	if b.movingMean == nil {
		b.channels = c
		cfg := b.cfg
		if !cfg.noScale {
			b.gamma = b.AddWeight("gamma", graph.Shape{c}, cfg.gammaInit, cfg.gammaReg, true)
		}
		if !cfg.noCenter {
			b.beta = b.AddWeight("beta", graph.Shape{c}, cfg.betaInit, cfg.betaReg, true)
		}
		b.movingMean = b.AddWeight("moving_mean", graph.Shape{c}, cfg.movingMeanInit, nil, false)
		b.movVar = b.AddWeight("moving_variance", graph.Shape{c}, cfg.movingVarianceInit, nil, false)
	} else if c != b.channels {
		return nil, errors.Errorf("expected axis %d of input shape to have value %d but got shape %s", b.axis, b.channels, s)
	}
	return []graph.Shape{s.Clone()}, nil
}

// Emit implements graph.Layer: batch statistics and moving-statistics
// updates in training programs, moving statistics in inference programs.
func (b *BatchNormalization) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	x := in[0]
	a := b.axis
	if a < 0 {
		a += x.Dims()
	}
	var gamma, beta graph.Node
	var err error
	if b.gamma != nil {
		if gamma, err = ctx.Weight(b.gamma); err != nil {
			return nil, err
		}
	}
	if b.beta != nil {
		if beta, err = ctx.Weight(b.beta); err != nil {
			return nil, err
		}
	}
	mm, err := ctx.Weight(b.movingMean)
	if err != nil {
		return nil, err
	}
	mv, err := ctx.Weight(b.movVar)
	if err != nil {
		return nil, err
	}
	if !ctx.Training() {
		y, err := ops.BatchNormInfer(x, mm, mv, gamma, beta, a, b.cfg.epsilon)
		if err != nil {
			return nil, err
		}
		return []graph.Node{y}, nil
	}
	y, err := ops.BatchNormTrain(x, gamma, beta, a, b.cfg.epsilon)
	if err != nil {
		return nil, err
	}
	newMean, err := ops.MovingStat(x, mm, a, b.cfg.momentum, false)
	if err != nil {
		return nil, err
	}
	newVar, err := ops.MovingStat(x, mv, a, b.cfg.momentum, true)
	if err != nil {
		return nil, err
	}
	if err := ctx.AddUpdate(b.movingMean, newMean); err != nil {
		return nil, err
	}
	if err := ctx.AddUpdate(b.movVar, newVar); err != nil {
		return nil, err
	}
	return []graph.Node{y}, nil
}
