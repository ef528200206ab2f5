package layers

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// DenseConfig is Dense's configuration: Keras's Dense arguments.
type DenseConfig struct {
	LayerConfig
	// Units is the output size (required, positive).
	Units int `json:"units" keras:"required"`
	KernelConfig
}

// DefaultDenseConfig is Keras's default Dense configuration (units unset):
// linear activation, a bias, glorot_uniform kernel and zeros bias.
func DefaultDenseConfig() DenseConfig { return DenseConfig{KernelConfig: defaultKernel("linear")} }

// DenseOption is an option of NewDense: WithName or a KernelOption.
type DenseOption interface{ applyDense(*DenseConfig) }

func (o NameOption) applyDense(c *DenseConfig)   { o.applyLayer(&c.LayerConfig) }
func (o KernelOption) applyDense(c *DenseConfig) { o(&c.KernelConfig) }

// Dense is Keras's Dense: y = activation(x·W + b) on the last axis of an
// input of rank ≥ 1 (leading axes are kept). Kernel (in, units) defaults to
// glorot_uniform, bias (units) to zeros.
type Dense struct {
	graph.Base
	graph.PassMask
	cfg        DenseConfig
	activation ActivationFunc
	inDim      int
	kernel     *graph.Weight
	bias       *graph.Weight
}

// NewDense creates a Dense layer with the given number of units. Options:
// WithName, WithActivation, WithoutBias, WithKernelInitializer,
// WithBiasInitializer, WithKernelRegularizer, WithBiasRegularizer.
func NewDense(units int, opts ...DenseOption) *Dense {
	cfg := DefaultDenseConfig()
	cfg.Units = units
	return NewDenseFromConfig(configure(cfg, opts, DenseOption.applyDense))
}

// NewDenseFromConfig creates a Dense layer from its configuration.
func NewDenseFromConfig(cfg DenseConfig) *Dense {
	d := &Dense{Base: newBase("Dense", &cfg.LayerConfig)}
	if cfg.Units <= 0 {
		d.Fail(errors.Errorf("units must be positive, got %d", cfg.Units))
	}
	act, err := Activation(cfg.Activation)
	d.Fail(err)
	d.activation = act
	cfg.KernelConfig = cfg.KernelConfig.withDefaults()
	d.cfg = cfg
	d.SetInputSpec(graph.InputSpec{MinNDim: 2, Layout: "batch and features"})
	return d
}

// Config returns the layer's configuration.
func (d *Dense) Config() DenseConfig { return d.cfg }

// Apply applies the layer to x and returns its output tensor.
func (d *Dense) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(d, x) }

// Units is the output size.
func (d *Dense) Units() int { return d.cfg.Units }

// Kernel is the (in, units) weight (nil before the layer is built).
func (d *Dense) Kernel() *graph.Weight { return d.kernel }

// Bias is the (units,) weight, or nil without bias or before build.
func (d *Dense) Bias() *graph.Weight { return d.bias }

// Build implements graph.Layer: it creates the kernel and bias the first
// time, fixing the input's last axis.
func (d *Dense) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	s := in[0]
	last, units := s[len(s)-1], d.cfg.Units
	if d.kernel == nil {
		d.inDim = last
		d.kernel = d.AddWeight("kernel", graph.Shape{last, units}, d.cfg.KernelInitializer, d.cfg.KernelRegularizer, true)
		if d.cfg.UseBias {
			d.bias = d.AddWeight("bias", graph.Shape{units}, d.cfg.BiasInitializer, d.cfg.BiasRegularizer, true)
		}
		fixInputAxis(&d.Base, -1, last)
	}
	out := s.Clone()
	out[len(out)-1] = units
	return []graph.Shape{out}, nil
}

// Emit implements graph.Layer.
func (d *Dense) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	x := in[0]
	shape := x.Shape()
	if x.Dims() != 2 {
		rows := shape.TotalSize() / d.inDim
		var err error
		if x, err = G.Reshape(x, []int{rows, d.inDim}); err != nil {
			return nil, err
		}
	}
	k, err := ctx.Weight(d.kernel)
	if err != nil {
		return nil, err
	}
	var b graph.Node
	if d.bias != nil {
		if b, err = ctx.Weight(d.bias); err != nil {
			return nil, err
		}
	}
	// The matrix product, the bias and a relu are one node.
	act, fused := fusedAct(d.cfg.Activation)
	y, err := ops.Dense(x, k, b, act)
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 {
		outShape := shape.Clone()
		outShape[len(outShape)-1] = d.cfg.Units
		if y, err = G.Reshape(y, outShape); err != nil {
			return nil, err
		}
	}
	if !fused {
		if y, err = d.activation(y); err != nil {
			return nil, err
		}
	}
	return []graph.Node{y}, nil
}

// The Keras class of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("Dense", DefaultDenseConfig, NewDenseFromConfig, (*Dense).Config)
}
