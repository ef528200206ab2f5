package layers

import (
	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// Concatenate is Keras's Concatenate (docs/SEMANTICS.md §26.2): it joins
// its inputs (apply it with Apply(x1, x2, …), one or more) along an axis,
// which counts the batch axis as 0 (it cannot be the batch axis) and
// negative values from the end; the inputs must have one rank and agree on
// every other axis. It is one node forward and one per input backward
// (graph/ops.Concat).
//
// Masks (Keras 3): the output is masked when some input is. An unmasked
// input counts as unmasked at every step; along the time axis (axis 1) the
// masks are joined, along any later axis they are combined by logical OR.
// This takes inputs of rank 3 (batch, time, features), as Keras's
// compute_mask does.
type Concatenate struct {
	graph.Base
	cfg ConcatenateConfig
}

// ConcatenateConfig is Concatenate's configuration: Keras's Concatenate
// arguments.
type ConcatenateConfig struct {
	LayerConfig
	// Axis is the axis to join along (default -1, the last).
	Axis int `json:"axis"`
}

// DefaultConcatenateConfig is Keras's default: the last axis.
func DefaultConcatenateConfig() ConcatenateConfig { return ConcatenateConfig{Axis: -1} }

// ConcatenateOption is an option of NewConcatenate: WithName or WithAxis.
type ConcatenateOption interface{ applyConcatenate(*ConcatenateConfig) }

func (o NameOption) applyConcatenate(c *ConcatenateConfig) { o.applyLayer(&c.LayerConfig) }
func (o AxisOption) applyConcatenate(c *ConcatenateConfig) { c.Axis = int(o) }

// NewConcatenate creates a Concatenate layer. Options: WithName, WithAxis
// (default -1).
func NewConcatenate(opts ...ConcatenateOption) *Concatenate {
	return NewConcatenateFromConfig(configure(DefaultConcatenateConfig(), opts, ConcatenateOption.applyConcatenate))
}

// NewConcatenateFromConfig creates a Concatenate layer from its
// configuration.
func NewConcatenateFromConfig(cfg ConcatenateConfig) *Concatenate {
	return &Concatenate{Base: newBase("Concatenate", &cfg.LayerConfig), cfg: cfg}
}

// Config returns the layer's configuration.
func (c *Concatenate) Config() ConcatenateConfig { return c.cfg }

// Apply applies the layer to its inputs and returns its output tensor.
func (c *Concatenate) Apply(xs ...*graph.Tensor) *graph.Tensor { return graph.Apply1(c, xs...) }

// axis resolves the configured axis for inputs of rank dims (batch axis
// included).
func (c *Concatenate) axis(dims int) (int, error) {
	a := c.cfg.Axis
	if a < 0 {
		a += dims
	}
	switch {
	case a < 0 || a >= dims:
		return 0, errors.Errorf("axis %d does not exist for inputs of rank %d (batch axis included)", c.cfg.Axis, dims)
	case a == 0:
		return 0, errors.Errorf("axis %d is the batch axis, which cannot be concatenated", c.cfg.Axis)
	}
	return a, nil
}

// Build implements graph.Layer: the first input's shape, with the sizes on
// the axis added up.
func (c *Concatenate) Build(in []graph.Shape) ([]graph.Shape, error) {
	a, err := c.axis(len(in[0]) + 1)
	if err != nil {
		return nil, err
	}
	out := in[0].Clone()
	for i, s := range in[1:] {
		if len(s) != len(out) {
			return nil, errors.Errorf("input %d has shape %s, input 0 %s: the ranks differ", i+1, s, in[0])
		}
		for j, d := range s {
			if j+1 != a && !graph.SameDim(d, out[j]) {
				return nil, errors.Errorf("input %d has shape %s, input 0 %s: they differ on an axis other than the concatenation axis %d", i+1, s, in[0], c.cfg.Axis)
			}
		}
		if out[a-1] == graph.Unknown || s[a-1] == graph.Unknown {
			out[a-1] = graph.Unknown
		} else {
			out[a-1] += s[a-1]
		}
	}
	return []graph.Shape{out}, nil
}

// Emit implements graph.Layer: one concatenation node (none for one input).
func (c *Concatenate) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) {
	if len(in) == 1 {
		return in, nil
	}
	a, err := c.axis(in[0].Dims())
	if err != nil {
		return nil, err
	}
	y, err := ops.Concat(a, in...)
	if err != nil {
		return nil, err
	}
	return []graph.Node{y}, nil
}

// OutputMasked implements graph.MaskLayer: masked when some input is.
func (c *Concatenate) OutputMasked(in []bool) []bool {
	some := false
	for _, on := range in {
		some = some || on
	}
	return []bool{some}
}

// ComputeMask implements graph.MaskLayer (Keras 3's
// Concatenate.compute_mask): an unmasked input counts as all ones; along
// the time axis the masks are joined, along a later axis OR-ed.
func (c *Concatenate) ComputeMask(ctx *graph.Context, in []graph.Node, masks []graph.Node) ([]graph.Node, error) {
	some := false
	for _, m := range masks {
		some = some || m != nil
	}
	if !some {
		return []graph.Node{nil}, nil
	}
	a, err := c.axis(in[0].Dims())
	if err != nil {
		return nil, err
	}
	full := make([]graph.Node, len(in))
	for i, x := range in {
		s := x.Shape()
		if len(s) != 3 {
			return nil, errors.Errorf("masks are taken only on inputs of rank 3 (batch, time, features); input %d has shape %v", i, s)
		}
		m := masks[i]
		if m == nil {
			ones := make([]float64, s[0]*s[1])
			for j := range ones {
				ones[j] = 1
			}
			m = ctx.Const([]int{s[0], s[1]}, ones)
		} else if err := checkMask(m, s); err != nil {
			return nil, errors.Wrapf(err, "input %d", i)
		}
		if full[i], err = maskInGraph(ctx, m); err != nil {
			return nil, err
		}
	}
	if a != 1 {
		or, err := maskOr(full)
		return []graph.Node{or}, err
	}
	joined, err := ops.Concat(1, full...)
	return []graph.Node{joined}, err
}

// The Keras class of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("Concatenate", DefaultConcatenateConfig, NewConcatenateFromConfig, (*Concatenate).Config)
}
