package layers

// WithStrides sets a convolution's or pooling layer's strides: one value for
// every spatial axis, or one per axis (Keras's strides; pooling defaults to
// its pool size).
func WithStrides(s ...int) Option {
	return func(c *config) { c.mark("WithStrides"); c.strides = append([]int(nil), s...) }
}

// WithPadding sets "valid" (the default) or "same" padding, as Keras's
// padding argument (Conv1D also takes "causal").
func WithPadding(p string) Option {
	return func(c *config) { c.mark("WithPadding"); c.padding = p }
}

// WithDilation sets a convolution's dilation rate: one value for every
// spatial axis, or one per axis.
func WithDilation(d ...int) Option {
	return func(c *config) { c.mark("WithDilation"); c.dilation = append([]int(nil), d...) }
}

// WithKeepDims keeps the reduced axes of global pooling as size 1 (Keras's
// keepdims=True).
func WithKeepDims() Option {
	return func(c *config) { c.mark("WithKeepDims"); c.keepDims = true }
}
