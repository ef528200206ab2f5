package layers

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// The element-wise merge layers (docs/SEMANTICS.md §26.1), Keras 3's Merge
// family: Add, Subtract, Multiply, Average, Maximum and Minimum combine a
// list of inputs (apply them with Apply(x1, x2, …); Subtract takes exactly
// two, the others one or more) element by element.
//
// Shapes: the inputs' shapes (batch axis excluded) are aligned from the
// end, and on each axis the sizes must be equal or 1 (a 1 is repeated):
// (3, 4) with (1, 4) or with (4,) gives (3, 4), as Keras's
// _compute_elemwise_op_output_shape. An input of lower rank gets axes of
// size 1 inserted after the batch axis, as Keras's expand_dims(x, 1).
//
// Masks (Keras 3): the output is masked when every input is, by the
// logical OR of the input masks. Add, Subtract and Average ignore masks in
// their values. Maximum and Minimum take, at each masked time step of an
// input, the running result instead of the input's value (an input masked
// there does not take part; where every input is masked the first input's
// value stays). Multiply takes 1 for a masked input's values, and when
// every input is masked sets the output to 0 where all of them are. These
// value rules take masked inputs of rank 3 (batch, time, features) with the
// output's shape, as Keras's do.

// MergeConfig is the configuration of the element-wise merge layers: Keras's
// Merge layers take no argument besides the standard ones.
type MergeConfig struct {
	LayerConfig
}

// DefaultMergeConfig is Keras's default merge configuration.
func DefaultMergeConfig() MergeConfig { return MergeConfig{} }

// mergeFunc combines the inputs, all broadcast to the output's full shape;
// masks[i] is input i's mask expanded to that shape, or nil (always nil
// unless the layer uses masks in its values).
type mergeFunc func(ctx *graph.Context, xs, masks []graph.Node) (graph.Node, error)

// mergeTraits mark what sets a merge layer apart besides its function.
type mergeTraits int

const (
	// twoInputs makes the layer take exactly two inputs (Subtract).
	twoInputs mergeTraits = 1
	// maskedValues makes Emit expand the input masks for the function.
	maskedValues mergeTraits = 2
)

// merge is what the element-wise merge layers share: Keras's Merge.
type merge struct {
	graph.Base
	cfg    MergeConfig
	fn     mergeFunc
	traits mergeTraits
}

func newMerge(class string, cfg MergeConfig, fn mergeFunc, traits mergeTraits) merge {
	return merge{Base: newBase(class, &cfg.LayerConfig), cfg: cfg, fn: fn, traits: traits}
}

// Config returns the layer's configuration.
func (m *merge) Config() MergeConfig { return m.cfg }

// mergeShape is the shape of an element-wise combination of inputs of the
// given shapes (batch axis excluded): aligned from the end, each axis equal
// or 1.
func mergeShape(in []graph.Shape) (graph.Shape, error) {
	out := in[0].Clone()
	for i, s := range in[1:] {
		long, short := out, s
		if len(s) > len(out) {
			long, short = s, out
		}
		res := long.Clone()
		off := len(long) - len(short)
		for j, d := range short {
			switch e := long[off+j]; {
			case e == graph.Unknown || d == graph.Unknown:
				res[off+j] = graph.Unknown
			case e == d || d == 1:
			case e == 1:
				res[off+j] = d
			default:
				return nil, errors.Errorf("input %d of shape %s cannot be merged with shape %s: sizes must be equal or 1 on each axis, aligned from the end",
					i+1, s, out)
			}
		}
		out = res
	}
	return out, nil
}

// Build implements graph.Layer: the inputs' broadcast shape.
func (m *merge) Build(in []graph.Shape) ([]graph.Shape, error) {
	if m.traits&twoInputs != 0 && len(in) != 2 {
		return nil, errors.Errorf("expects exactly 2 inputs, got %d", len(in))
	}
	out, err := mergeShape(in)
	if err != nil {
		return nil, err
	}
	return []graph.Shape{out}, nil
}

// Emit implements graph.Layer: the inputs broadcast to the output's shape,
// then combined.
func (m *merge) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	shapes := make([]graph.Shape, len(in))
	for i, x := range in {
		shapes[i] = graph.Shape(x.Shape()[1:])
	}
	s, err := mergeShape(shapes)
	if err != nil {
		return nil, err
	}
	full := tensor.Shape(s.WithBatch(ctx.Batch()))
	xs := make([]graph.Node, len(in))
	masks := make([]graph.Node, len(in))
	for i, x := range in {
		if xs[i], err = broadcastNode(x, full); err != nil {
			return nil, err
		}
		if masks[i], err = m.valueMask(ctx, i, x, full); err != nil {
			return nil, err
		}
	}
	y, err := m.fn(ctx, xs, masks)
	if err != nil {
		return nil, err
	}
	return []graph.Node{y}, nil
}

// broadcastNode brings x to the full shape: axes of size 1 inserted after
// the batch axis up to its rank, then repeated where it has size 1.
func broadcastNode(x graph.Node, full tensor.Shape) (graph.Node, error) {
	s := x.Shape()
	if len(s) < len(full) {
		r := tensor.Shape{s[0]}
		for len(r) < len(full)-len(s)+1 {
			r = append(r, 1)
		}
		var err error
		if x, err = G.Reshape(x, append(r, s[1:]...)); err != nil {
			return nil, err
		}
	}
	return ops.BroadcastTo(x, full)
}

// valueMask is input i's mask expanded to the full output shape, when the
// layer uses masks in its values and the input has one; nil otherwise.
// Keras broadcasts a (batch, time) mask over the last axis only, so the
// input must be (batch, time, features) with the output's shape.
func (m *merge) valueMask(ctx *graph.Context, i int, x graph.Node, full tensor.Shape) (graph.Node, error) {
	mask := ctx.InputMask(i)
	if m.traits&maskedValues == 0 || mask == nil {
		return nil, nil
	}
	if !sameDims(x.Shape(), full) || len(full) != 3 {
		return nil, errors.Errorf("masked input %d has shape %v: %s takes masks only on inputs of rank 3 (batch, time, features) with the output's shape %v",
			i, x.Shape(), m.Class(), full)
	}
	if err := checkMask(mask, full); err != nil {
		return nil, errors.Wrapf(err, "input %d", i)
	}
	return expandMask(ctx, mask, full[2])
}

// sameDims reports whether a and b have the same axes.
func sameDims(a, b tensor.Shape) bool { return graph.Shape(a).Equal(graph.Shape(b)) }

// checkMask checks that mask is (batch, time) for an input of full shape s.
func checkMask(mask graph.Node, s tensor.Shape) error {
	if ms := mask.Shape(); len(ms) != 2 || len(s) < 2 || ms[0] != s[0] || ms[1] != s[1] {
		return errors.Errorf("mask of shape %v does not match the (batch, time) axes of shape %v", ms, s)
	}
	return nil
}

// OutputMasked implements graph.MaskLayer: masked when every input is.
func (m *merge) OutputMasked(in []bool) []bool {
	all := len(in) > 0
	for _, on := range in {
		all = all && on
	}
	return []bool{all}
}

// ComputeMask implements graph.MaskLayer: the OR of the input masks when
// every input has one (Keras 3's Merge.compute_mask).
func (m *merge) ComputeMask(ctx *graph.Context, _ []graph.Node, masks []graph.Node) ([]graph.Node, error) {
	in := make([]graph.Node, len(masks))
	for i, mask := range masks {
		if mask == nil {
			return []graph.Node{nil}, nil
		}
		var err error
		if in[i], err = maskInGraph(ctx, mask); err != nil {
			return nil, err
		}
	}
	or, err := maskOr(in)
	return []graph.Node{or}, err
}

// maskOr is the element-wise OR (maximum) of masks of one shape, nodes of
// one graph.
func maskOr(masks []graph.Node) (graph.Node, error) {
	return fold(masks, func(a, b graph.Node) (graph.Node, error) {
		if !sameDims(a.Shape(), b.Shape()) {
			return nil, errors.Errorf("masks of shapes %v and %v cannot be combined", a.Shape(), b.Shape())
		}
		return ops.Maximum(a, b)
	})
}

// where is m ? a : b element-wise for a 0/1 mask m of a's shape, and b of
// that shape or, if nil, 1: m ⊙ a + (1 − m) ⊙ b, exact for m ∈ {0, 1}.
func where(ctx *graph.Context, m, a, b graph.Node) (graph.Node, error) {
	ma, err := G.HadamardProd(m, a)
	if err != nil {
		return nil, err
	}
	nb, err := G.Sub(ctx.Scalar(1), m)
	if err != nil {
		return nil, err
	}
	if b != nil {
		if nb, err = G.HadamardProd(nb, b); err != nil {
			return nil, err
		}
	}
	return G.Add(ma, nb)
}

// fold combines xs left to right with f.
func fold(xs []graph.Node, f func(a, b graph.Node) (graph.Node, error)) (graph.Node, error) {
	out := xs[0]
	for _, x := range xs[1:] {
		var err error
		if out, err = f(out, x); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Add is Keras's Add: the element-wise sum of its inputs.
type Add struct{ merge }

// NewAdd creates an Add layer. Options: WithName.
func NewAdd(opts ...Option) *Add {
	return NewAddFromConfig(configureMerge(opts))
}

// NewAddFromConfig creates an Add layer from its configuration.
func NewAddFromConfig(cfg MergeConfig) *Add {
	return &Add{newMerge("Add", cfg, func(_ *graph.Context, xs, _ []graph.Node) (graph.Node, error) {
		return fold(xs, addNodes)
	}, 0)}
}

// Apply applies the layer to its inputs and returns its output tensor.
func (l *Add) Apply(xs ...*graph.Tensor) *graph.Tensor { return graph.Apply1(l, xs...) }

func addNodes(a, b graph.Node) (graph.Node, error) { return G.Add(a, b) }

// configureMerge is the merge configuration opts give.
func configureMerge(opts []Option) MergeConfig {
	cfg := DefaultMergeConfig()
	cfg.LayerConfig = configure(cfg.LayerConfig, opts, Option.applyLayer)
	return cfg
}

// Subtract is Keras's Subtract: its first input minus its second (exactly
// two inputs).
type Subtract struct{ merge }

// NewSubtract creates a Subtract layer. Options: WithName.
func NewSubtract(opts ...Option) *Subtract {
	return NewSubtractFromConfig(configureMerge(opts))
}

// NewSubtractFromConfig creates a Subtract layer from its configuration.
func NewSubtractFromConfig(cfg MergeConfig) *Subtract {
	return &Subtract{newMerge("Subtract", cfg, func(_ *graph.Context, xs, _ []graph.Node) (graph.Node, error) {
		return G.Sub(xs[0], xs[1])
	}, twoInputs)}
}

// Apply applies the layer to its two inputs and returns its output tensor.
func (l *Subtract) Apply(xs ...*graph.Tensor) *graph.Tensor { return graph.Apply1(l, xs...) }

// Multiply is Keras's Multiply: the element-wise product of its inputs.
type Multiply struct{ merge }

// NewMultiply creates a Multiply layer. Options: WithName.
func NewMultiply(opts ...Option) *Multiply {
	return NewMultiplyFromConfig(configureMerge(opts))
}

// NewMultiplyFromConfig creates a Multiply layer from its configuration.
func NewMultiplyFromConfig(cfg MergeConfig) *Multiply {
	return &Multiply{newMerge("Multiply", cfg, multiply, maskedValues)}
}

// Apply applies the layer to its inputs and returns its output tensor.
func (l *Multiply) Apply(xs ...*graph.Tensor) *graph.Tensor { return graph.Apply1(l, xs...) }

// multiply is Keras 3's Multiply._merge_function: masked values count as 1,
// and with every input masked the output is 0 where all of them are.
func multiply(ctx *graph.Context, xs, masks []graph.Node) (graph.Node, error) {
	all := true
	in := make([]graph.Node, len(xs))
	for i, x := range xs {
		in[i] = x
		if masks[i] == nil {
			all = false
			continue
		}
		var err error
		if in[i], err = where(ctx, masks[i], x, nil); err != nil {
			return nil, err
		}
	}
	out, err := fold(in, func(a, b graph.Node) (graph.Node, error) { return G.HadamardProd(a, b) })
	if err != nil || !all {
		return out, err
	}
	or, err := maskOr(masks)
	if err != nil {
		return nil, err
	}
	return G.HadamardProd(out, or)
}

// Average is Keras's Average: the element-wise mean of its inputs.
type Average struct{ merge }

// NewAverage creates an Average layer. Options: WithName.
func NewAverage(opts ...Option) *Average {
	return NewAverageFromConfig(configureMerge(opts))
}

// NewAverageFromConfig creates an Average layer from its configuration.
func NewAverageFromConfig(cfg MergeConfig) *Average {
	return &Average{newMerge("Average", cfg, func(ctx *graph.Context, xs, _ []graph.Node) (graph.Node, error) {
		sum, err := fold(xs, addNodes)
		if err != nil {
			return nil, err
		}
		return G.Div(sum, ctx.Scalar(float64(len(xs))))
	}, 0)}
}

// Apply applies the layer to its inputs and returns its output tensor.
func (l *Average) Apply(xs ...*graph.Tensor) *graph.Tensor { return graph.Apply1(l, xs...) }

// Maximum is Keras's Maximum: the element-wise maximum of its inputs. The
// gradient of a tie goes to the earlier input, as TensorFlow's does.
type Maximum struct{ merge }

// NewMaximum creates a Maximum layer. Options: WithName.
func NewMaximum(opts ...Option) *Maximum {
	return NewMaximumFromConfig(configureMerge(opts))
}

// NewMaximumFromConfig creates a Maximum layer from its configuration.
func NewMaximumFromConfig(cfg MergeConfig) *Maximum {
	return &Maximum{newMerge("Maximum", cfg, extremum(ops.Maximum), maskedValues)}
}

// Apply applies the layer to its inputs and returns its output tensor.
func (l *Maximum) Apply(xs ...*graph.Tensor) *graph.Tensor { return graph.Apply1(l, xs...) }

// Minimum is Keras's Minimum: the element-wise minimum of its inputs. The
// gradient of a tie goes to the earlier input, as TensorFlow's does.
type Minimum struct{ merge }

// NewMinimum creates a Minimum layer. Options: WithName.
func NewMinimum(opts ...Option) *Minimum {
	return NewMinimumFromConfig(configureMerge(opts))
}

// NewMinimumFromConfig creates a Minimum layer from its configuration.
func NewMinimumFromConfig(cfg MergeConfig) *Minimum {
	return &Minimum{newMerge("Minimum", cfg, extremum(ops.Minimum), maskedValues)}
}

// Apply applies the layer to its inputs and returns its output tensor.
func (l *Minimum) Apply(xs ...*graph.Tensor) *graph.Tensor { return graph.Apply1(l, xs...) }

// extremum is Keras 3's Merge._apply_merge_op_and_or_mask with pick
// (ops.Maximum or ops.Minimum): at each step a masked element of the next
// input is replaced by the running result, and a masked element of the
// running result (while every input so far is masked) by the next input.
func extremum(pick func(a, b graph.Node) (graph.Node, error)) mergeFunc {
	return func(ctx *graph.Context, xs, masks []graph.Node) (graph.Node, error) {
		out, om := xs[0], masks[0]
		for i, x := range xs[1:] {
			m := masks[i+1]
			var err error
			if m != nil {
				if x, err = where(ctx, m, x, out); err != nil {
					return nil, err
				}
			}
			if om != nil {
				if out, err = where(ctx, om, out, x); err != nil {
					return nil, err
				}
			}
			if m != nil && om != nil {
				om, err = ops.Maximum(om, m)
			} else {
				om = nil
			}
			if err != nil {
				return nil, err
			}
			if out, err = pick(out, x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

// The Keras classes of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("Add", DefaultMergeConfig, NewAddFromConfig, (*Add).Config)
	registerLayer("Subtract", DefaultMergeConfig, NewSubtractFromConfig, (*Subtract).Config)
	registerLayer("Multiply", DefaultMergeConfig, NewMultiplyFromConfig, (*Multiply).Config)
	registerLayer("Average", DefaultMergeConfig, NewAverageFromConfig, (*Average).Config)
	registerLayer("Maximum", DefaultMergeConfig, NewMaximumFromConfig, (*Maximum).Config)
	registerLayer("Minimum", DefaultMergeConfig, NewMinimumFromConfig, (*Minimum).Config)
}
