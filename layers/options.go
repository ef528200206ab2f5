package layers

import "github.com/kerago/kerago/graph"

// A layer's file holds its configuration struct (embedding the shared parts
// below for the arguments it shares with other layers), DefaultXConfig, its
// option interface XOption with one unexported method applyX, one-line applyX
// methods on the shared option kinds it takes (NameOption, KernelOption, …),
// an unexported func type for its own options, NewX (defaults, then
// configure), NewXFromConfig (checks, input specs), Config, Build and Emit.

// configure applies opts in order to cfg and returns it; nil options are
// skipped. apply is the family's method, e.g. DenseOption.applyDense.
func configure[O, C any](cfg C, opts []O, apply func(O, *C)) C {
	for _, o := range opts {
		if any(o) != nil {
			apply(o, &cfg)
		}
	}
	return cfg
}

// LayerConfig is what every layer's configuration has, as Keras's base
// Layer does: the layer's name.
type LayerConfig struct {
	// Name is the layer's name; "" picks the Keras default, the class in
	// snake case plus a counter (dense, dense_1, …). Config reports the name
	// the layer got.
	Name string `json:"name"`
}

// newBase names a layer of the given class after its configuration
// (graph.NewBase) and writes the name it got back into the configuration, so
// that Config reports it.
func newBase(class string, c *LayerConfig) graph.Base {
	b := graph.NewBase(class, c.Name)
	c.Name = b.Name()
	return b
}

// Option is an option every layer takes: WithName. Flatten, Reshape,
// Activation and TimeDistributed take no other; the other layers take their
// own option type (DenseOption, ConvOption, …), which WithName also
// implements.
type Option interface{ applyLayer(*LayerConfig) }

// NameOption is WithName's type; it implements every layer's option type.
type NameOption string

func (o NameOption) applyLayer(c *LayerConfig) { c.Name = string(o) }

// WithName names the layer (default: the class in snake case plus a counter).
func WithName(name string) NameOption { return NameOption(name) }

// AxisOption is WithAxis's type: BatchNormalization (its feature axis) and
// Concatenate (the axis it joins along) take it.
type AxisOption int

// WithAxis sets the axis a layer works along: BatchNormalization's feature
// axis, Concatenate's concatenation axis (default -1 for both). It counts
// the batch axis as 0, as Keras does, and negative values count from the
// end.
func WithAxis(axis int) AxisOption { return AxisOption(axis) }

// KernelConfig is the activation, kernel and bias configuration that Dense,
// Conv1D, Conv2D, SimpleRNN, GRU and LSTM share, with Keras's argument
// names. A nil initializer stands for the default one.
type KernelConfig struct {
	// Activation is the activation's Keras name ("relu", "softmax", …; ""
	// is linear).
	Activation string `json:"activation"`
	// UseBias adds a bias (default true).
	UseBias bool `json:"use_bias"`
	// KernelInitializer initializes the kernel (default glorot_uniform).
	KernelInitializer graph.Initializer `json:"kernel_initializer"`
	// BiasInitializer initializes the bias (default zeros).
	BiasInitializer graph.Initializer `json:"bias_initializer"`
	// KernelRegularizer, if not nil, adds a penalty on the kernel to the
	// loss.
	KernelRegularizer graph.Regularizer `json:"kernel_regularizer"`
	// BiasRegularizer, if not nil, adds a penalty on the bias to the loss.
	BiasRegularizer graph.Regularizer `json:"bias_regularizer"`
}

// defaultKernel is Keras's default KernelConfig with the given activation.
func defaultKernel(activation string) KernelConfig {
	return KernelConfig{Activation: activation, UseBias: true,
		KernelInitializer: GlorotUniform(), BiasInitializer: Zeros()}
}

// withDefaults returns k with a nil initializer replaced by the default.
func (k KernelConfig) withDefaults() KernelConfig {
	def := defaultKernel("")
	k.KernelInitializer = orDefault(k.KernelInitializer, def.KernelInitializer)
	k.BiasInitializer = orDefault(k.BiasInitializer, def.BiasInitializer)
	return k
}

// orDefault returns init, or def if init is nil.
func orDefault(init, def graph.Initializer) graph.Initializer {
	if init == nil {
		return def
	}
	return init
}

// KernelOption sets a field of KernelConfig. Dense, Conv1D, Conv2D,
// SimpleRNN, GRU and LSTM take it.
type KernelOption func(*KernelConfig)

// WithActivation sets the activation by its Keras name ("relu", "softmax", …).
func WithActivation(name string) KernelOption {
	return func(c *KernelConfig) { c.Activation = name }
}

// WithoutBias is Keras's use_bias=False.
func WithoutBias() KernelOption {
	return func(c *KernelConfig) { c.UseBias = false }
}

// WithKernelInitializer sets the kernel initializer (see Initializer).
func WithKernelInitializer(init graph.Initializer) KernelOption {
	return func(c *KernelConfig) { c.KernelInitializer = init }
}

// WithBiasInitializer sets the bias initializer (see Initializer).
func WithBiasInitializer(init graph.Initializer) KernelOption {
	return func(c *KernelConfig) { c.BiasInitializer = init }
}

// WithKernelRegularizer adds a penalty on the kernel to the loss.
func WithKernelRegularizer(r graph.Regularizer) KernelOption {
	return func(c *KernelConfig) { c.KernelRegularizer = r }
}

// WithBiasRegularizer adds a penalty on the bias to the loss.
func WithBiasRegularizer(r graph.Regularizer) KernelOption {
	return func(c *KernelConfig) { c.BiasRegularizer = r }
}
