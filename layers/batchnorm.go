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
	cfg                BatchNormalizationConfig
	gamma, beta        *graph.Weight
	movingMean, movVar *graph.Weight
}

// BatchNormalizationConfig is BatchNormalization's configuration: Keras's
// BatchNormalization arguments. A nil initializer stands for the default
// one.
type BatchNormalizationConfig struct {
	LayerConfig
	// Axis is the feature axis, the batch axis counting as 0 and negative
	// values from the end (default -1).
	Axis int `json:"axis"`
	// Momentum is the moving statistics' momentum, in [0, 1] (default 0.99).
	Momentum float64 `json:"momentum"`
	// Epsilon is the variance epsilon, positive (default 1e-3).
	Epsilon float64 `json:"epsilon"`
	// Center adds the beta offset (default true).
	Center bool `json:"center"`
	// Scale multiplies by the gamma factor (default true).
	Scale bool `json:"scale"`
	// BetaInitializer initializes beta (default zeros).
	BetaInitializer graph.Initializer `json:"beta_initializer"`
	// GammaInitializer initializes gamma (default ones).
	GammaInitializer graph.Initializer `json:"gamma_initializer"`
	// MovingMeanInitializer initializes the moving mean (default zeros).
	MovingMeanInitializer graph.Initializer `json:"moving_mean_initializer"`
	// MovingVarianceInitializer initializes the moving variance (default
	// ones).
	MovingVarianceInitializer graph.Initializer `json:"moving_variance_initializer"`
	// BetaRegularizer, if not nil, adds a penalty on beta to the loss.
	BetaRegularizer graph.Regularizer `json:"beta_regularizer"`
	// GammaRegularizer, if not nil, adds a penalty on gamma to the loss.
	GammaRegularizer graph.Regularizer `json:"gamma_regularizer"`
}

// DefaultBatchNormalizationConfig is Keras's default BatchNormalization
// configuration.
func DefaultBatchNormalizationConfig() BatchNormalizationConfig {
	return BatchNormalizationConfig{Axis: -1, Momentum: 0.99, Epsilon: 1e-3, Center: true, Scale: true,
		BetaInitializer: Zeros(), GammaInitializer: Ones(),
		MovingMeanInitializer: Zeros(), MovingVarianceInitializer: Ones()}
}

// withDefaults returns c with a nil initializer replaced by the default.
func (c BatchNormalizationConfig) withDefaults() BatchNormalizationConfig {
	def := DefaultBatchNormalizationConfig()
	c.BetaInitializer = orDefault(c.BetaInitializer, def.BetaInitializer)
	c.GammaInitializer = orDefault(c.GammaInitializer, def.GammaInitializer)
	c.MovingMeanInitializer = orDefault(c.MovingMeanInitializer, def.MovingMeanInitializer)
	c.MovingVarianceInitializer = orDefault(c.MovingVarianceInitializer, def.MovingVarianceInitializer)
	return c
}

// BatchNormalizationOption is an option of NewBatchNormalization: WithName,
// WithAxis, WithMomentum, WithEpsilon, WithoutCenter, WithoutScale, or one
// of its initializer and regularizer options.
type BatchNormalizationOption interface {
	applyBatchNormalization(*BatchNormalizationConfig)
}

func (o NameOption) applyBatchNormalization(c *BatchNormalizationConfig) {
	o.applyLayer(&c.LayerConfig)
}

// bnOption is an option only BatchNormalization takes.
type bnOption func(*BatchNormalizationConfig)

func (o bnOption) applyBatchNormalization(c *BatchNormalizationConfig) { o(c) }

func (o AxisOption) applyBatchNormalization(c *BatchNormalizationConfig) { c.Axis = int(o) }

// WithMomentum sets the momentum of the moving statistics (default 0.99).
func WithMomentum(m float64) BatchNormalizationOption {
	return bnOption(func(c *BatchNormalizationConfig) { c.Momentum = m })
}

// WithEpsilon sets the variance epsilon of normalization (default 1e-3).
func WithEpsilon(e float64) BatchNormalizationOption {
	return bnOption(func(c *BatchNormalizationConfig) { c.Epsilon = e })
}

// WithoutCenter is Keras's center=False: no beta offset.
func WithoutCenter() BatchNormalizationOption {
	return bnOption(func(c *BatchNormalizationConfig) { c.Center = false })
}

// WithoutScale is Keras's scale=False: no gamma factor.
func WithoutScale() BatchNormalizationOption {
	return bnOption(func(c *BatchNormalizationConfig) { c.Scale = false })
}

// WithBetaInitializer sets the beta (offset) initializer (default zeros).
func WithBetaInitializer(i graph.Initializer) BatchNormalizationOption {
	return bnOption(func(c *BatchNormalizationConfig) { c.BetaInitializer = i })
}

// WithGammaInitializer sets the gamma (scale) initializer (default ones).
func WithGammaInitializer(i graph.Initializer) BatchNormalizationOption {
	return bnOption(func(c *BatchNormalizationConfig) { c.GammaInitializer = i })
}

// WithMovingMeanInitializer sets the moving mean's initializer (default zeros).
func WithMovingMeanInitializer(i graph.Initializer) BatchNormalizationOption {
	return bnOption(func(c *BatchNormalizationConfig) { c.MovingMeanInitializer = i })
}

// WithMovingVarianceInitializer sets the moving variance's initializer
// (default ones).
func WithMovingVarianceInitializer(i graph.Initializer) BatchNormalizationOption {
	return bnOption(func(c *BatchNormalizationConfig) { c.MovingVarianceInitializer = i })
}

// WithBetaRegularizer adds a penalty on beta to the loss.
func WithBetaRegularizer(r graph.Regularizer) BatchNormalizationOption {
	return bnOption(func(c *BatchNormalizationConfig) { c.BetaRegularizer = r })
}

// WithGammaRegularizer adds a penalty on gamma to the loss.
func WithGammaRegularizer(r graph.Regularizer) BatchNormalizationOption {
	return bnOption(func(c *BatchNormalizationConfig) { c.GammaRegularizer = r })
}

// NewBatchNormalization creates a BatchNormalization layer. Options:
// WithName, WithAxis, WithMomentum, WithEpsilon, WithoutCenter,
// WithoutScale, WithBetaInitializer, WithGammaInitializer,
// WithMovingMeanInitializer, WithMovingVarianceInitializer,
// WithBetaRegularizer, WithGammaRegularizer.
func NewBatchNormalization(opts ...BatchNormalizationOption) *BatchNormalization {
	return NewBatchNormalizationFromConfig(configure(DefaultBatchNormalizationConfig(), opts,
		BatchNormalizationOption.applyBatchNormalization))
}

// NewBatchNormalizationFromConfig creates a BatchNormalization layer from
// its configuration.
func NewBatchNormalizationFromConfig(cfg BatchNormalizationConfig) *BatchNormalization {
	b := &BatchNormalization{Base: newBase("BatchNormalization", &cfg.LayerConfig)}
	if !(cfg.Momentum >= 0 && cfg.Momentum <= 1) {
		b.Fail(errors.Errorf("momentum must be in [0, 1], got %v", cfg.Momentum))
	}
	if !(cfg.Epsilon > 0) {
		b.Fail(errors.Errorf("epsilon must be positive, got %v", cfg.Epsilon))
	}
	b.cfg = cfg.withDefaults()
	return b
}

// Config returns the layer's configuration.
func (b *BatchNormalization) Config() BatchNormalizationConfig { return b.cfg }

// Apply applies the layer to x and returns its output tensor.
func (b *BatchNormalization) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(b, x) }

// Axis is the feature axis as given (default -1).
func (b *BatchNormalization) Axis() int { return b.cfg.Axis }

// Momentum is the moving statistics' momentum.
func (b *BatchNormalization) Momentum() float64 { return b.cfg.Momentum }

// Epsilon is the variance epsilon.
func (b *BatchNormalization) Epsilon() float64 { return b.cfg.Epsilon }

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
// the first time (fixing the size of the axis), and returns the input shape.
func (b *BatchNormalization) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	s := in[0]
	rank := len(s) + 1
	a := b.cfg.Axis
	if a < 0 {
		a += rank
	}
	if rank == 1 {
		return nil, errors.Errorf("axis %d does not exist: an input of shape %s has no feature axis to normalize", b.cfg.Axis, s)
	}
	if a <= 0 || a >= rank {
		what := "does not exist"
		if a == 0 {
			what = "is the batch axis"
		}
		return nil, errors.Errorf("axis %d %s: an input of shape %s (rank %d) has feature axes 1…%d, or -%d…-1 from the end", b.cfg.Axis, what, s, rank, rank-1, rank-1)
	}
	c := s[a-1]
	if b.movingMean == nil {
		cfg := b.cfg
		if cfg.Scale {
			b.gamma = b.AddWeight("gamma", graph.Shape{c}, cfg.GammaInitializer, cfg.GammaRegularizer, true)
		}
		if cfg.Center {
			b.beta = b.AddWeight("beta", graph.Shape{c}, cfg.BetaInitializer, cfg.BetaRegularizer, true)
		}
		b.movingMean = b.AddWeight("moving_mean", graph.Shape{c}, cfg.MovingMeanInitializer, nil, false)
		b.movVar = b.AddWeight("moving_variance", graph.Shape{c}, cfg.MovingVarianceInitializer, nil, false)
		fixInputAxis(&b.Base, cfg.Axis, c)
	}
	return []graph.Shape{s.Clone()}, nil
}

// Emit implements graph.Layer: batch statistics and moving-statistics
// updates in training programs, moving statistics in inference programs.
func (b *BatchNormalization) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	x := in[0]
	a := b.cfg.Axis
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
	if !ctx.Training() || !b.Trainable() { // Keras 3: a frozen layer normalizes with the moving statistics
		y, err := ops.BatchNormInfer(x, mm, mv, gamma, beta, a, b.cfg.Epsilon)
		if err != nil {
			return nil, err
		}
		return []graph.Node{y}, nil
	}
	y, err := ops.BatchNormTrain(x, gamma, beta, a, b.cfg.Epsilon)
	if err != nil {
		return nil, err
	}
	newMean, err := ops.MovingStat(x, mm, a, b.cfg.Momentum, false)
	if err != nil {
		return nil, err
	}
	newVar, err := ops.MovingStat(x, mv, a, b.cfg.Momentum, true)
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

// The Keras class of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("BatchNormalization", DefaultBatchNormalizationConfig, NewBatchNormalizationFromConfig, (*BatchNormalization).Config)
}
