package layers

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// Dense is Keras's Dense: y = activation(x·W + b) on the last axis of an
// input of rank ≥ 1 (leading axes are kept). Kernel (in, units) defaults to
// glorot_uniform, bias (units) to zeros.
type Dense struct {
	graph.Base
	graph.PassMask
	units      int
	activation ActivationFunc
	cfg        *config
	err        error
	inDim      int
	kernel     *graph.Weight
	bias       *graph.Weight
}

// NewDense creates a Dense layer with the given number of units. Options:
// WithName, WithActivation, WithoutBias, WithKernelInitializer,
// WithBiasInitializer, WithKernelRegularizer, WithBiasRegularizer.
func NewDense(units int, opts ...Option) *Dense {
	c := newConfig("Dense", opts, "WithActivation", "WithoutBias", "WithKernelInitializer",
		"WithBiasInitializer", "WithKernelRegularizer", "WithBiasRegularizer")
	d := &Dense{Base: graph.NewBase("Dense", c.name), units: units, cfg: c, err: c.err}
	if units <= 0 {
		d.setErr(errors.Errorf("units must be positive, got %d", units))
	}
	act, err := Activation(c.activation)
	d.setErr(err)
	d.activation = act
	if c.kernelInit == nil {
		c.kernelInit = GlorotUniform()
	}
	if c.biasInit == nil {
		c.biasInit = Zeros()
	}
	return d
}

func (d *Dense) setErr(err error) {
	if d.err == nil && err != nil {
		d.err = err
	}
}

// Apply applies the layer to x and returns its output tensor.
func (d *Dense) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(d, x) }

// Units is the output size.
func (d *Dense) Units() int { return d.units }

// Kernel is the (in, units) weight (nil before the layer is built).
func (d *Dense) Kernel() *graph.Weight { return d.kernel }

// Bias is the (units,) weight, or nil without bias or before build.
func (d *Dense) Bias() *graph.Weight { return d.bias }

// Build implements graph.Layer.
func (d *Dense) Build(in []graph.Shape) ([]graph.Shape, error) {
	if d.err != nil {
		return nil, d.err
	}
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	s := in[0]
	if len(s) < 1 {
		return nil, errors.New("expected min_ndim=2 (batch and features), found ndim=1")
	}
	last := s[len(s)-1]
	if d.kernel == nil {
		d.inDim = last
		d.kernel = d.AddWeight("kernel", graph.Shape{last, d.units}, d.cfg.kernelInit, d.cfg.kernelReg, true)
		if d.cfg.useBias {
			d.bias = d.AddWeight("bias", graph.Shape{d.units}, d.cfg.biasInit, d.cfg.biasReg, true)
		}
	} else if last != d.inDim {
		return nil, errors.Errorf("expected axis -1 of input shape to have value %d but got shape %s", d.inDim, s)
	}
	out := s.Clone()
	out[len(out)-1] = d.units
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
	act, fused := fusedAct(d.cfg.activation)
	y, err := ops.Dense(x, k, b, act)
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 {
		outShape := shape.Clone()
		outShape[len(outShape)-1] = d.units
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
