package layers

import "github.com/kerago/kerago/graph"

// RecurrentConfig is the configuration SimpleRNN, GRU and LSTM share:
// Keras's arguments of its recurrent layers and their cells, but for the
// gate settings of GRU and LSTM (GRUConfig, LSTMConfig). A nil initializer
// stands for the default one.
type RecurrentConfig struct {
	LayerConfig
	// Units is the state size (required, positive).
	Units int `json:"units" keras:"required"`
	// KernelConfig's activation defaults to tanh here.
	KernelConfig
	// RecurrentInitializer initializes the recurrent kernel (default
	// orthogonal).
	RecurrentInitializer graph.Initializer `json:"recurrent_initializer"`
	// RecurrentRegularizer, if not nil, adds a penalty on the recurrent
	// kernel to the loss.
	RecurrentRegularizer graph.Regularizer `json:"recurrent_regularizer"`
	// ReturnSequences outputs every time step instead of the last one.
	ReturnSequences bool `json:"return_sequences"`
	// ReturnState adds the final states as outputs.
	ReturnState bool `json:"return_state"`
	// GoBackwards reads the input sequence backwards.
	GoBackwards bool `json:"go_backwards"`
	// Dropout is the input dropout rate, in [0, 1).
	Dropout float64 `json:"dropout"`
	// RecurrentDropout is the dropout rate on the recurrent state, in [0, 1).
	RecurrentDropout float64 `json:"recurrent_dropout"`
	// Implementation is kerago's, not a Keras argument (Keras 2's
	// "implementation" key is another setting): "auto" (the default),
	// "fused" or "unrolled", as WithImplementation describes.
	Implementation string `json:"kerago_implementation" keras:"kerago"`
}

// defaultRecurrent is Keras's default RecurrentConfig (units unset).
func defaultRecurrent() RecurrentConfig {
	return RecurrentConfig{KernelConfig: defaultKernel("tanh"), RecurrentInitializer: Orthogonal(),
		Implementation: implAuto}
}

// RecurrentOption sets a field of RecurrentConfig. SimpleRNN, GRU and LSTM
// take it.
type RecurrentOption func(*RecurrentConfig)

// RNNOption is an option every recurrent layer takes (WithName, a
// KernelOption or a RecurrentOption), for code that configures any of
// SimpleRNN, GRU and LSTM.
type RNNOption interface {
	SimpleRNNOption
	GRUOption
	LSTMOption
}

// RecurrentActivationOption is WithRecurrentActivation's type. GRU and LSTM
// take it.
type RecurrentActivationOption string

// WithRecurrentActivation sets the gate activation of GRU and LSTM
// ("sigmoid", the default, or "hard_sigmoid" as in Keras 2.2).
func WithRecurrentActivation(name string) RecurrentActivationOption {
	return RecurrentActivationOption(name)
}

// WithRecurrentInitializer sets the recurrent kernel's initializer (default
// orthogonal).
func WithRecurrentInitializer(i graph.Initializer) RecurrentOption {
	return func(c *RecurrentConfig) { c.RecurrentInitializer = i }
}

// WithRecurrentRegularizer adds a penalty on the recurrent kernel to the loss.
func WithRecurrentRegularizer(r graph.Regularizer) RecurrentOption {
	return func(c *RecurrentConfig) { c.RecurrentRegularizer = r }
}

// WithReturnSequences makes a recurrent layer output every time step
// (batch, time, units) instead of the last one.
func WithReturnSequences() RecurrentOption {
	return func(c *RecurrentConfig) { c.ReturnSequences = true }
}

// WithReturnState makes a recurrent layer also output its final states.
func WithReturnState() RecurrentOption {
	return func(c *RecurrentConfig) { c.ReturnState = true }
}

// WithGoBackwards makes a recurrent layer read its input sequence backwards
// (its sequence output is in processing order, as in Keras).
func WithGoBackwards() RecurrentOption {
	return func(c *RecurrentConfig) { c.GoBackwards = true }
}

// WithDropoutRate sets a recurrent layer's input dropout (Keras's dropout
// argument): one mask per sequence, training only.
func WithDropoutRate(rate float64) RecurrentOption {
	return func(c *RecurrentConfig) { c.Dropout = rate }
}

// WithRecurrentDropout sets the dropout on the recurrent state (Keras's
// recurrent_dropout): one mask per sequence, training only.
func WithRecurrentDropout(rate float64) RecurrentOption {
	return func(c *RecurrentConfig) { c.RecurrentDropout = rate }
}

// WithImplementation forces a recurrent layer's kernel: "fused" (one op for
// the whole sequence, kerago's CuDNNGRU/CuDNNLSTM on the CPU), "unrolled"
// (one set of graph nodes per step, the readable reference), or "auto" (the
// default: fused whenever the configuration allows).
func WithImplementation(impl string) RecurrentOption {
	return func(c *RecurrentConfig) { c.Implementation = impl }
}
