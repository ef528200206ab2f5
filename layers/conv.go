package layers

import (
	"slices"
	"strings"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// ConvConfig is the configuration of Conv1D and Conv2D: the arguments of
// Keras's base Conv layer (channels-last). Per-axis fields take one value
// for every spatial axis, or one per axis; Config reports one per axis.
type ConvConfig struct {
	LayerConfig
	// Filters is the number of output channels (required, positive).
	Filters int `json:"filters" keras:"required"`
	// KernelSize is the kernel's size (nil: 1).
	KernelSize []int `json:"kernel_size" keras:"required"`
	WindowConfig
	// DilationRate is the dilation rate (default 1).
	DilationRate []int `json:"dilation_rate"`
	KernelConfig
}

// DefaultConvConfig is Keras's default configuration of a convolution
// (filters and kernel size unset): strides 1, "valid" padding, dilation
// rate 1, linear activation, a bias, glorot_uniform kernel and zeros bias.
func DefaultConvConfig() ConvConfig {
	return ConvConfig{WindowConfig: WindowConfig{Strides: []int{1}, Padding: "valid"},
		DilationRate: []int{1}, KernelConfig: defaultKernel("linear")}
}

// ConvOption is an option of NewConv1D and NewConv2D: WithName, a
// KernelOption, a WindowOption, WithKernelSize or WithDilation.
type ConvOption interface{ applyConv(*ConvConfig) }

func (o NameOption) applyConv(c *ConvConfig)   { o.applyLayer(&c.LayerConfig) }
func (o KernelOption) applyConv(c *ConvConfig) { o(&c.KernelConfig) }
func (o WindowOption) applyConv(c *ConvConfig) { o(&c.WindowConfig) }

// convOption is an option only the convolutions take.
type convOption func(*ConvConfig)

func (o convOption) applyConv(c *ConvConfig) { o(c) }

// WithKernelSize sets a convolution's kernel size: one value for every
// spatial axis, or one per axis (Keras's kernel_size as a tuple). It
// overrides the size given to the constructor, so a rectangular kernel is
// NewConv2D(16, 3, WithKernelSize(3, 5)).
func WithKernelSize(size ...int) ConvOption {
	return convOption(func(c *ConvConfig) { c.KernelSize = append([]int(nil), size...) })
}

// WithDilation sets a convolution's dilation rate: one value for every
// spatial axis, or one per axis.
func WithDilation(d ...int) ConvOption {
	return convOption(func(c *ConvConfig) { c.DilationRate = append([]int(nil), d...) })
}

// newConvConfig is the configuration NewConv1D and NewConv2D build.
func newConvConfig(filters, kernel int, opts []ConvOption) ConvConfig {
	cfg := DefaultConvConfig()
	cfg.Filters, cfg.KernelSize = filters, []int{kernel}
	return configure(cfg, opts, ConvOption.applyConv)
}

// conv is what Conv1D and Conv2D share: Keras's base Conv layer,
// channels-last, y = activation(conv(x, kernel) + bias).
type conv struct {
	graph.Base
	rank       int // spatial axes: 1 or 2
	cfg        ConvConfig
	activation ActivationFunc
	kernel     *graph.Weight
	bias       *graph.Weight
}

// convRankHints explain a missing channel axis, by spatial rank.
var convRankHints = map[int]string{
	1: "the input needs a channel axis last (batch, steps, channels): one feature per step is (steps, 1)",
	2: "the input needs a channel axis last (batch, height, width, channels): a grayscale image is (height, width, 1), e.g. Input(28, 28, 1), not Input(28, 28)",
}

func newConv(class string, rank int, cfg ConvConfig) conv {
	l := conv{Base: newBase(class, &cfg.LayerConfig), rank: rank}
	if cfg.Filters <= 0 {
		l.Fail(errors.Errorf("filters must be positive, got %d", cfg.Filters))
	}
	cfg.KernelSize = resolveAxes(&l.Base, "kernel size", cfg.KernelSize, rank)
	strides, err := ops.PerAxis("strides", cfg.Strides, rank)
	l.Fail(err)
	dilation, err := ops.PerAxis("dilation rate", cfg.DilationRate, rank)
	l.Fail(err)
	given := cfg.Padding
	cfg.Padding = strings.ToLower(given)
	valid := []string{"valid", "same"}
	if rank == 1 {
		valid = append(valid, "causal")
	}
	if !slices.Contains(valid, cfg.Padding) {
		l.Fail(errors.Errorf(`the padding argument must be one of "%s"; got %q`, strings.Join(valid, `", "`), given))
	}
	if strides != nil && dilation != nil {
		cfg.Strides, cfg.DilationRate = strides, dilation
		if slices.Max(strides) > 1 && slices.Max(dilation) > 1 {
			l.Fail(errors.Errorf("strides > 1 are not supported together with a dilation rate > 1 (got strides %v and dilation rate %v)", strides, dilation))
		}
	}
	act, err := Activation(cfg.Activation)
	l.Fail(err)
	l.activation = act
	cfg.KernelConfig = cfg.KernelConfig.withDefaults()
	l.cfg = cfg
	l.SetInputSpec(graph.InputSpec{NDim: rank + 2, RankHints: map[int]string{rank + 1: convRankHints[rank]}})
	return l
}

// Config returns the layer's configuration.
func (l *conv) Config() ConvConfig {
	c := l.cfg
	c.KernelSize = slices.Clone(c.KernelSize)
	c.Strides = slices.Clone(c.Strides)
	c.DilationRate = slices.Clone(c.DilationRate)
	return c
}

// Filters is the number of output channels.
func (l *conv) Filters() int { return l.cfg.Filters }

// KernelSize is the kernel's size, one value per spatial axis.
func (l *conv) KernelSize() []int { return slices.Clone(l.cfg.KernelSize) }

// Strides are the strides, one value per spatial axis.
func (l *conv) Strides() []int { return slices.Clone(l.cfg.Strides) }

// DilationRate is the dilation rate, one value per spatial axis.
func (l *conv) DilationRate() []int { return slices.Clone(l.cfg.DilationRate) }

// Padding is "valid", "same" or (Conv1D) "causal".
func (l *conv) Padding() string { return l.cfg.Padding }

// Kernel is the (k…, in channels, filters) weight (nil before the layer is
// built).
func (l *conv) Kernel() *graph.Weight { return l.kernel }

// Bias is the (filters,) weight, or nil without bias or before build.
func (l *conv) Bias() *graph.Weight { return l.bias }

func (l *conv) spec() ops.ConvSpec {
	return ops.ConvSpec{Strides: l.cfg.Strides, Dilation: l.cfg.DilationRate, Padding: l.cfg.Padding}
}

// Build implements graph.Layer: its input spec has made sure the input is
// (batch, spatial…, channels); it checks the channels, creates the kernel
// and bias the first time (fixing the channel count), and returns the
// output shape (spatial sizes as ops.ConvOutputLength computes them).
func (l *conv) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	s := in[0]
	c := s[l.rank]
	if c <= 0 {
		return nil, errors.Errorf("the channel dimension of the inputs should be defined and positive, found %d", c)
	}
	out := make(graph.Shape, l.rank+1)
	for i := 0; i < l.rank; i++ {
		n, k, st, d := s[i], l.cfg.KernelSize[i], l.cfg.Strides[i], l.cfg.DilationRate[i]
		if n == graph.Unknown {
			out[i] = graph.Unknown
			continue
		}
		o, _, _, err := ops.ConvOutputLength(n, k, st, d, l.cfg.Padding)
		if err != nil {
			dk := (k-1)*d + 1
			if n >= 1 && dk > n && l.cfg.Padding == "valid" {
				return nil, errors.Errorf("the kernel does not fit in the input: spatial axis %d has size %d, the kernel size %d (%d with dilation rate %d), so with padding \"valid\" the output size would be %d; use padding \"same\" or a smaller kernel",
					i+1, n, k, dk, d, n-dk+1)
			}
			return nil, errors.Wrapf(err, "spatial axis %d", i+1)
		}
		out[i] = o
	}
	f := l.cfg.Filters
	out[l.rank] = f
	if l.kernel == nil {
		ks := append(append(graph.Shape{}, l.cfg.KernelSize...), c, f)
		l.kernel = l.AddWeight("kernel", ks, l.cfg.KernelInitializer, l.cfg.KernelRegularizer, true)
		if l.cfg.UseBias {
			l.bias = l.AddWeight("bias", graph.Shape{f}, l.cfg.BiasInitializer, l.cfg.BiasRegularizer, true)
		}
		fixInputAxis(&l.Base, -1, c)
	}
	return []graph.Shape{out}, nil
}

// Emit implements graph.Layer: one node (ops.Conv1DBiasAct or
// ops.Conv2DBiasAct) for the convolution, the bias and a linear or relu
// activation; any other activation is one more node.
func (l *conv) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	k, err := ctx.Weight(l.kernel)
	if err != nil {
		return nil, err
	}
	var b graph.Node
	if l.bias != nil {
		if b, err = ctx.Weight(l.bias); err != nil {
			return nil, err
		}
	}
	// The convolution, the bias and a relu are one node.
	act, fused := fusedAct(l.cfg.Activation)
	var y graph.Node
	if l.rank == 1 {
		y, err = ops.Conv1DBiasAct(in[0], k, b, l.spec(), act)
	} else {
		y, err = ops.Conv2DBiasAct(in[0], k, b, l.spec(), act)
	}
	if err != nil {
		return nil, err
	}
	if !fused {
		if y, err = l.activation(y); err != nil {
			return nil, err
		}
	}
	return []graph.Node{y}, nil
}

// Conv2D is Keras's Conv2D, channels-last: input (batch, height, width,
// channels), kernel (kh, kw, channels, filters), bias (filters), output
// (batch, out_height, out_width, filters) with
// y = activation(conv(x, kernel) + bias). The convolution is TensorFlow's
// (a cross-correlation, the kernel is not flipped); "same" padding puts the
// odd padding cell at the bottom and right, as TensorFlow does. The kernel
// defaults to glorot_uniform with fans kh·kw·channels and kh·kw·filters,
// the bias to zeros.
type Conv2D struct{ conv }

// NewConv2D creates a Conv2D layer with the given number of filters and a
// square kernel of size kernel×kernel (WithKernelSize(kh, kw) for another
// shape). Options: WithName, WithKernelSize, WithStrides, WithPadding
// ("valid", the default, or "same"), WithDilation, WithActivation,
// WithoutBias, WithKernelInitializer, WithBiasInitializer,
// WithKernelRegularizer, WithBiasRegularizer. As tf.keras, strides > 1
// together with a dilation rate > 1 is an error.
func NewConv2D(filters, kernel int, opts ...ConvOption) *Conv2D {
	return NewConv2DFromConfig(newConvConfig(filters, kernel, opts))
}

// NewConv2DFromConfig creates a Conv2D layer from its configuration.
func NewConv2DFromConfig(cfg ConvConfig) *Conv2D { return &Conv2D{newConv("Conv2D", 2, cfg)} }

// Apply applies the layer to x and returns its output tensor.
func (l *Conv2D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// Conv1D is Keras's Conv1D, channels-last: input (batch, steps, channels),
// kernel (k, channels, filters), bias (filters), output (batch, out_steps,
// filters). Besides "valid" and "same" it takes "causal" padding: (k-1)·
// dilation zeros before the first step, so that output t sees only inputs
// up to t.
type Conv1D struct{ conv }

// NewConv1D creates a Conv1D layer with the given number of filters and
// kernel size. Options: as NewConv2D, and WithPadding also takes "causal".
func NewConv1D(filters, kernel int, opts ...ConvOption) *Conv1D {
	return NewConv1DFromConfig(newConvConfig(filters, kernel, opts))
}

// NewConv1DFromConfig creates a Conv1D layer from its configuration.
func NewConv1DFromConfig(cfg ConvConfig) *Conv1D { return &Conv1D{newConv("Conv1D", 1, cfg)} }

// Apply applies the layer to x and returns its output tensor.
func (l *Conv1D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// The Keras classes of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("Conv1D", DefaultConvConfig, NewConv1DFromConfig, (*Conv1D).Config)
	registerLayer("Conv2D", DefaultConvConfig, NewConv2DFromConfig, (*Conv2D).Config)
}
