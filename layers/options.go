package layers

import (
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
)

// Option configures a layer. Each layer accepts the options its Keras
// counterpart has; any other option makes the layer report an error.
type Option func(*config)

// config holds every option's value; set records which were given.
type config struct {
	set        map[string]bool
	err        error
	name       string
	activation string
	useBias    bool
	kernelInit graph.Initializer
	biasInit   graph.Initializer
	kernelReg  graph.Regularizer
	biasReg    graph.Regularizer
	noiseShape []int

	// Convolution and pooling (options_conv.go).
	strides  []int
	padding  string
	dilation []int
	keepDims bool

	// Normalization (options_norm.go).
	axis                               int
	momentum, epsilon                  float64
	noCenter, noScale                  bool
	betaInit, gammaInit                graph.Initializer
	movingMeanInit, movingVarianceInit graph.Initializer
	betaReg, gammaReg                  graph.Regularizer

	// Recurrent layers and wrappers (options_recurrent.go).
	recurrentActivation string
	recurrentInit       graph.Initializer
	recurrentReg        graph.Regularizer
	returnSequences     bool
	returnState         bool
	goBackwards         bool
	dropoutRate         float64
	recurrentDropout    float64
	resetAfter          bool
	unitForgetBias      bool
	implementation      string
	mergeMode           string
	maskZero            bool

	// extra holds options of a single layer type that have no field above.
	extra map[string]any
}

func (c *config) mark(opt string) { c.set[opt] = true }

func (c *config) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// newConfig applies opts over defaults and checks that only the options in
// allowed were used.
func newConfig(class string, opts []Option, allowed ...string) *config {
	c := &config{set: map[string]bool{}, activation: "linear", useBias: true,
		padding: "valid", axis: -1, momentum: 0.99, epsilon: 1e-3,
		recurrentActivation: "sigmoid", resetAfter: true, unitForgetBias: true,
		implementation: "auto", mergeMode: "concat", extra: map[string]any{}}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	ok := map[string]bool{"WithName": true}
	for _, a := range allowed {
		ok[a] = true
	}
	var bad []string
	for name := range c.set {
		if !ok[name] {
			bad = append(bad, name)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		valid := append([]string{"WithName"}, allowed...)
		sort.Strings(valid)
		c.fail(errors.Errorf("%s does not take option(s) %s; it takes %s", class, strings.Join(bad, ", "), strings.Join(valid, ", ")))
	}
	return c
}

// WithName names the layer (default: the class in snake case plus a counter).
func WithName(name string) Option {
	return func(c *config) { c.mark("WithName"); c.name = name }
}

// WithActivation sets the activation by its Keras name ("relu", "softmax", …).
func WithActivation(name string) Option {
	return func(c *config) { c.mark("WithActivation"); c.activation = name }
}

// WithoutBias is Keras's use_bias=False.
func WithoutBias() Option {
	return func(c *config) { c.mark("WithoutBias"); c.useBias = false }
}

// WithKernelInitializer sets the kernel initializer (see Initializer).
func WithKernelInitializer(init graph.Initializer) Option {
	return func(c *config) { c.mark("WithKernelInitializer"); c.kernelInit = init }
}

// WithBiasInitializer sets the bias initializer (see Initializer).
func WithBiasInitializer(init graph.Initializer) Option {
	return func(c *config) { c.mark("WithBiasInitializer"); c.biasInit = init }
}

// WithKernelRegularizer adds a penalty on the kernel to the loss.
func WithKernelRegularizer(r graph.Regularizer) Option {
	return func(c *config) { c.mark("WithKernelRegularizer"); c.kernelReg = r }
}

// WithBiasRegularizer adds a penalty on the bias to the loss.
func WithBiasRegularizer(r graph.Regularizer) Option {
	return func(c *config) { c.mark("WithBiasRegularizer"); c.biasReg = r }
}

// WithNoiseShape is Dropout's noise_shape: the mask's shape without the batch
// axis, where a 1 shares one mask value along that axis and 0 stands for
// "the input's size" (Keras's None).
func WithNoiseShape(shape ...int) Option {
	return func(c *config) { c.mark("WithNoiseShape"); c.noiseShape = append([]int(nil), shape...) }
}
