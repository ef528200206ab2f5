package layers

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// WithKernelSize sets a convolution's kernel size: one value for every
// spatial axis, or one per axis (Keras's kernel_size as a tuple). It
// overrides the size given to the constructor, so a rectangular kernel is
// NewConv2D(16, 3, WithKernelSize(3, 5)).
func WithKernelSize(size ...int) Option {
	return func(c *config) {
		c.mark("WithKernelSize")
		c.extra["kernelSize"] = append([]int(nil), size...)
	}
}

// convOptions are the options every convolution layer takes.
var convOptions = []string{"WithKernelSize", "WithStrides", "WithPadding", "WithDilation",
	"WithActivation", "WithoutBias", "WithKernelInitializer", "WithBiasInitializer",
	"WithKernelRegularizer", "WithBiasRegularizer"}

// conv is what Conv1D and Conv2D share: Keras's base Conv layer,
// channels-last, y = activation(conv(x, kernel) + bias).
type conv struct {
	graph.Base
	rank       int // spatial axes: 1 or 2
	filters    int
	kernelSize []int
	strides    []int
	dilation   []int
	padding    string
	activation ActivationFunc
	cfg        *config
	err        error
	inC        int
	kernel     *graph.Weight
	bias       *graph.Weight
}

func newConv(class string, rank, filters, kernel int, opts []Option) conv {
	c := newConfig(class, opts, convOptions...)
	l := conv{Base: graph.NewBase(class, c.name), rank: rank, filters: filters, cfg: c, err: c.err}
	if filters <= 0 {
		l.setErr(errors.Errorf("filters must be positive, got %d", filters))
	}
	ks := []int{kernel}
	if v, ok := c.extra["kernelSize"].([]int); ok {
		ks = v
	}
	var err error
	if l.kernelSize, err = perAxis("kernel size", ks, rank); err != nil {
		l.setErr(err)
	}
	if l.strides, err = perAxis("strides", c.strides, rank); err != nil {
		l.setErr(err)
	}
	if l.dilation, err = perAxis("dilation rate", c.dilation, rank); err != nil {
		l.setErr(err)
	}
	l.padding = strings.ToLower(c.padding)
	valid := []string{"valid", "same"}
	if rank == 1 {
		valid = append(valid, "causal")
	}
	known := false
	for _, v := range valid {
		known = known || v == l.padding
	}
	if !known {
		l.setErr(errors.Errorf(`the padding argument must be one of "%s"; got %q`, strings.Join(valid, `", "`), c.padding))
	}
	if l.strides != nil && l.dilation != nil {
		s, d := 1, 1
		for i := range l.strides {
			s, d = max(s, l.strides[i]), max(d, l.dilation[i])
		}
		if s > 1 && d > 1 {
			l.setErr(errors.Errorf("strides > 1 are not supported together with a dilation rate > 1 (got strides %v and dilation rate %v)", l.strides, l.dilation))
		}
	}
	act, err := Activation(c.activation)
	l.setErr(err)
	l.activation = act
	if c.kernelInit == nil {
		c.kernelInit = GlorotUniform()
	}
	if c.biasInit == nil {
		c.biasInit = Zeros()
	}
	return l
}

func (l *conv) setErr(err error) {
	if l.err == nil && err != nil {
		l.err = err
	}
}

// Filters is the number of output channels.
func (l *conv) Filters() int { return l.filters }

// KernelSize is the kernel's size, one value per spatial axis.
func (l *conv) KernelSize() []int { return append([]int(nil), l.kernelSize...) }

// Strides are the strides, one value per spatial axis.
func (l *conv) Strides() []int { return append([]int(nil), l.strides...) }

// DilationRate is the dilation rate, one value per spatial axis.
func (l *conv) DilationRate() []int { return append([]int(nil), l.dilation...) }

// Padding is "valid", "same" or (Conv1D) "causal".
func (l *conv) Padding() string { return l.padding }

// Kernel is the (k…, in channels, filters) weight (nil before the layer is
// built).
func (l *conv) Kernel() *graph.Weight { return l.kernel }

// Bias is the (filters,) weight, or nil without bias or before build.
func (l *conv) Bias() *graph.Weight { return l.bias }

func (l *conv) spec() ops.ConvSpec {
	return ops.ConvSpec{Strides: l.strides, Dilation: l.dilation, Padding: l.padding}
}

// Build implements graph.Layer: it checks the input is (batch, spatial…,
// channels), creates the kernel and bias the first time, and returns the
// output shape (spatial sizes as ops.ConvOutputLength computes them).
func (l *conv) Build(in []graph.Shape) ([]graph.Shape, error) {
	if l.err != nil {
		return nil, l.err
	}
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	s := in[0]
	if len(s) != l.rank+1 {
		msg := fmt.Sprintf("expected ndim=%d, found ndim=%d", l.rank+2, len(s)+1)
		if len(s) == l.rank {
			if l.rank == 2 {
				msg += "; the input needs a channel axis last (batch, height, width, channels): a grayscale image is (height, width, 1), e.g. Input(28, 28, 1), not Input(28, 28)"
			} else {
				msg += "; the input needs a channel axis last (batch, steps, channels): one feature per step is (steps, 1)"
			}
		}
		return nil, errors.New(msg)
	}
	c := s[l.rank]
	if c <= 0 {
		return nil, errors.Errorf("the channel dimension of the inputs should be defined and positive, found %d", c)
	}
	out := make(graph.Shape, l.rank+1)
	for i := 0; i < l.rank; i++ {
		n, k, st, d := s[i], l.kernelSize[i], l.strides[i], l.dilation[i]
		o, _, _, err := ops.ConvOutputLength(n, k, st, d, l.padding)
		if err != nil {
			dk := (k-1)*d + 1
			if n >= 1 && dk > n && l.padding == "valid" {
				return nil, errors.Errorf("the kernel does not fit in the input: spatial axis %d has size %d, the kernel size %d (%d with dilation rate %d), so with padding \"valid\" the output size would be %d; use padding \"same\" or a smaller kernel",
					i+1, n, k, dk, d, n-dk+1)
			}
			return nil, errors.Wrapf(err, "spatial axis %d", i+1)
		}
		out[i] = o
	}
	out[l.rank] = l.filters
	if l.kernel == nil {
		l.inC = c
		ks := append(append(graph.Shape{}, l.kernelSize...), c, l.filters)
		l.kernel = l.AddWeight("kernel", ks, l.cfg.kernelInit, l.cfg.kernelReg, true)
		if l.cfg.useBias {
			l.bias = l.AddWeight("bias", graph.Shape{l.filters}, l.cfg.biasInit, l.cfg.biasReg, true)
		}
	} else if c != l.inC {
		return nil, errors.Errorf("expected axis -1 of input shape to have value %d but got shape %s", l.inC, s)
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
	act, fused := fusedAct(l.cfg.activation)
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
func NewConv2D(filters, kernel int, opts ...Option) *Conv2D {
	return &Conv2D{newConv("Conv2D", 2, filters, kernel, opts)}
}

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
func NewConv1D(filters, kernel int, opts ...Option) *Conv1D {
	return &Conv1D{newConv("Conv1D", 1, filters, kernel, opts)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *Conv1D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }
