package layers

import "github.com/kerago/kerago/graph"

// WithRecurrentActivation sets the gate activation of GRU and LSTM
// ("sigmoid", the default, or "hard_sigmoid" as in Keras 2.2).
func WithRecurrentActivation(name string) Option {
	return func(c *config) { c.mark("WithRecurrentActivation"); c.recurrentActivation = name }
}

// WithRecurrentInitializer sets the recurrent kernel's initializer (default
// orthogonal).
func WithRecurrentInitializer(i graph.Initializer) Option {
	return func(c *config) { c.mark("WithRecurrentInitializer"); c.recurrentInit = i }
}

// WithRecurrentRegularizer adds a penalty on the recurrent kernel to the loss.
func WithRecurrentRegularizer(r graph.Regularizer) Option {
	return func(c *config) { c.mark("WithRecurrentRegularizer"); c.recurrentReg = r }
}

// WithReturnSequences makes a recurrent layer output every time step
// (batch, time, units) instead of the last one.
func WithReturnSequences() Option {
	return func(c *config) { c.mark("WithReturnSequences"); c.returnSequences = true }
}

// WithReturnState makes a recurrent layer also output its final states.
func WithReturnState() Option {
	return func(c *config) { c.mark("WithReturnState"); c.returnState = true }
}

// WithGoBackwards makes a recurrent layer read its input sequence backwards
// (its sequence output is in processing order, as in Keras).
func WithGoBackwards() Option {
	return func(c *config) { c.mark("WithGoBackwards"); c.goBackwards = true }
}

// WithDropoutRate sets a recurrent layer's input dropout (Keras's dropout
// argument): one mask per sequence, training only.
func WithDropoutRate(rate float64) Option {
	return func(c *config) { c.mark("WithDropoutRate"); c.dropoutRate = rate }
}

// WithRecurrentDropout sets the dropout on the recurrent state (Keras's
// recurrent_dropout): one mask per sequence, training only.
func WithRecurrentDropout(rate float64) Option {
	return func(c *config) { c.mark("WithRecurrentDropout"); c.recurrentDropout = rate }
}

// WithResetAfter chooses GRU's form: true (the default, TF2/Keras 3 and
// cuDNN) applies the reset gate after the recurrent product; false is
// Keras 2.2's form.
func WithResetAfter(on bool) Option {
	return func(c *config) { c.mark("WithResetAfter"); c.resetAfter = on }
}

// WithUnitForgetBias sets whether LSTM's forget-gate bias starts at 1
// (default true).
func WithUnitForgetBias(on bool) Option {
	return func(c *config) { c.mark("WithUnitForgetBias"); c.unitForgetBias = on }
}

// WithImplementation forces a recurrent layer's kernel: "fused" (one op for
// the whole sequence, kerago's CuDNNGRU/CuDNNLSTM on the CPU), "unrolled"
// (one set of graph nodes per step, the readable reference), or "auto" (the
// default: fused whenever the configuration allows).
func WithImplementation(impl string) Option {
	return func(c *config) { c.mark("WithImplementation"); c.implementation = impl }
}

// WithMergeMode sets how Bidirectional combines its two directions:
// "concat" (default), "sum", "mul", "ave" or "none" (two outputs).
func WithMergeMode(mode string) Option {
	return func(c *config) { c.mark("WithMergeMode"); c.mergeMode = mode }
}

// WithMaskZero makes Embedding treat index 0 as padding and emit a mask.
func WithMaskZero() Option {
	return func(c *config) { c.mark("WithMaskZero"); c.maskZero = true }
}
