package layers

import "github.com/kerago/kerago/graph"

// WithAxis sets the feature axis of BatchNormalization (default -1; it
// counts the batch axis as 0, as Keras does, and negative values count from
// the end).
func WithAxis(axis int) Option {
	return func(c *config) { c.mark("WithAxis"); c.axis = axis }
}

// WithMomentum sets the momentum of the moving statistics (default 0.99).
func WithMomentum(m float64) Option {
	return func(c *config) { c.mark("WithMomentum"); c.momentum = m }
}

// WithEpsilon sets the variance epsilon of normalization (default 1e-3).
func WithEpsilon(e float64) Option {
	return func(c *config) { c.mark("WithEpsilon"); c.epsilon = e }
}

// WithoutCenter is Keras's center=False: no beta offset.
func WithoutCenter() Option {
	return func(c *config) { c.mark("WithoutCenter"); c.noCenter = true }
}

// WithoutScale is Keras's scale=False: no gamma factor.
func WithoutScale() Option {
	return func(c *config) { c.mark("WithoutScale"); c.noScale = true }
}

// WithBetaInitializer sets the beta (offset) initializer (default zeros).
func WithBetaInitializer(i graph.Initializer) Option {
	return func(c *config) { c.mark("WithBetaInitializer"); c.betaInit = i }
}

// WithGammaInitializer sets the gamma (scale) initializer (default ones).
func WithGammaInitializer(i graph.Initializer) Option {
	return func(c *config) { c.mark("WithGammaInitializer"); c.gammaInit = i }
}

// WithMovingMeanInitializer sets the moving mean's initializer (default zeros).
func WithMovingMeanInitializer(i graph.Initializer) Option {
	return func(c *config) { c.mark("WithMovingMeanInitializer"); c.movingMeanInit = i }
}

// WithMovingVarianceInitializer sets the moving variance's initializer
// (default ones).
func WithMovingVarianceInitializer(i graph.Initializer) Option {
	return func(c *config) { c.mark("WithMovingVarianceInitializer"); c.movingVarianceInit = i }
}

// WithBetaRegularizer adds a penalty on beta to the loss.
func WithBetaRegularizer(r graph.Regularizer) Option {
	return func(c *config) { c.mark("WithBetaRegularizer"); c.betaReg = r }
}

// WithGammaRegularizer adds a penalty on gamma to the loss.
func WithGammaRegularizer(r graph.Regularizer) Option {
	return func(c *config) { c.mark("WithGammaRegularizer"); c.gammaReg = r }
}
