package layers

// WindowConfig is the strides and padding configuration that the
// convolution and pooling layers share, with Keras's argument names.
type WindowConfig struct {
	// Strides are one value for every spatial axis, or one per axis
	// (convolutions default to 1; pooling layers to their pool size, nil).
	Strides []int `json:"strides"`
	// Padding is "valid" (the default) or "same"; Conv1D also takes
	// "causal".
	Padding string `json:"padding"`
}

// WindowOption sets a field of WindowConfig. Conv1D, Conv2D and the window
// pooling layers take it.
type WindowOption func(*WindowConfig)

// WithStrides sets a convolution's or pooling layer's strides: one value for
// every spatial axis, or one per axis (Keras's strides; pooling defaults to
// its pool size).
func WithStrides(s ...int) WindowOption {
	return func(c *WindowConfig) { c.Strides = append([]int(nil), s...) }
}

// WithPadding sets "valid" (the default) or "same" padding, as Keras's
// padding argument (Conv1D also takes "causal").
func WithPadding(p string) WindowOption {
	return func(c *WindowConfig) { c.Padding = p }
}
