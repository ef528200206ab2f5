package layers

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// Dot is Keras's Dot (docs/SEMANTICS.md §26.3): the batchwise dot product
// of its two inputs (apply it with Apply(x, y)), Keras's batch_dot. Axis ax
// of x is contracted with axis ay of y, sample by sample; the output has
// x's other axes followed by y's (batch axis excluded), or shape (1,) when
// none is left:
//
//	(d,) · (d,), axes 1                → (1,)
//	(m, k) · (k, p), axes (2, 1)       → (m, p)
//	(k, m) · (k, p), axes 1            → (m, p)
//	(m, k) · (p, k), axes 2 or -1      → (m, p)
//
// Axes count the batch axis as 0, which cannot be contracted; a negative
// axis counts from the end of its input. One axis serves both inputs.
// With normalize, each input is first l2-normalized along its dot axis
// (x·rsqrt(max(Σx², ε²)), ε = 1e-7, Keras's ops.normalize), so that the
// output is the cosine similarity.
//
// The product is one BatchMatMul node (graph/ops); an input whose dot axis
// is neither its first nor its last non-batch axis is transposed first.
// Masks: a masked input is accepted and the output carries no mask, as in
// Keras.
type Dot struct {
	graph.Base
	graph.ConsumeMask
	cfg DotConfig
}

// dotEpsilon is Keras's backend epsilon, which ops.normalize clamps the
// norm at (the squared norm at its square).
const dotEpsilon = 1e-7

// DotConfig is Dot's configuration: Keras's Dot arguments.
type DotConfig struct {
	LayerConfig
	// Axes is the dot axis of both inputs, or one per input (Keras's axes,
	// required there; default -1 here, as keras.layers.dot's).
	Axes Axes `json:"axes"`
	// Normalize l2-normalizes the inputs along their dot axes first
	// (default false).
	Normalize bool `json:"normalize"`
}

// DefaultDotConfig is Dot's default: the last axis of both inputs, no
// normalization.
func DefaultDotConfig() DotConfig { return DotConfig{Axes: Axes{-1}} }

// DotOption is an option of NewDot: WithName or WithNormalize.
type DotOption interface{ applyDot(*DotConfig) }

func (o NameOption) applyDot(c *DotConfig) { o.applyLayer(&c.LayerConfig) }

// dotOption is an option only Dot takes.
type dotOption func(*DotConfig)

func (o dotOption) applyDot(c *DotConfig) { o(c) }

// WithNormalize makes Dot l2-normalize its inputs along the dot axes
// (Keras's normalize=True): the output is the cosine similarity.
func WithNormalize() DotOption { return dotOption(func(c *DotConfig) { c.Normalize = true }) }

// NewDot creates a Dot layer contracting the given axes: one for both
// inputs or one per input (none: -1). Options: WithName, WithNormalize.
func NewDot(axes []int, opts ...DotOption) *Dot {
	cfg := DefaultDotConfig()
	if len(axes) > 0 {
		cfg.Axes = append(Axes(nil), axes...)
	}
	return NewDotFromConfig(configure(cfg, opts, DotOption.applyDot))
}

// NewDotFromConfig creates a Dot layer from its configuration.
func NewDotFromConfig(cfg DotConfig) *Dot {
	cfg.Axes = append(Axes(nil), cfg.Axes...)
	d := &Dot{Base: newBase("Dot", &cfg.LayerConfig), cfg: cfg}
	if n := len(cfg.Axes); n != 1 && n != 2 {
		d.Fail(errors.Errorf("axes must hold one integer or two, got %v", []int(cfg.Axes)))
	}
	return d
}

// Config returns the layer's configuration.
func (d *Dot) Config() DotConfig {
	c := d.cfg
	c.Axes = append(Axes(nil), c.Axes...)
	return c
}

// Apply applies the layer to its two inputs and returns its output tensor.
func (d *Dot) Apply(xs ...*graph.Tensor) *graph.Tensor { return graph.Apply1(d, xs...) }

// axes resolves the dot axes for inputs of ranks rx and ry (batch axis
// included).
func (d *Dot) axes(rx, ry int) (ax, ay int, err error) {
	ax, ay = d.cfg.Axes[0], d.cfg.Axes[len(d.cfg.Axes)-1]
	for i, r := range []int{rx, ry} {
		a := &ax
		if i == 1 {
			a = &ay
		}
		orig := *a
		if *a < 0 {
			*a += r
		}
		if *a < 0 || *a >= r {
			return 0, 0, errors.Errorf("axis %d does not exist for input %d of rank %d (batch axis included)", orig, i, r)
		}
		if *a == 0 {
			return 0, 0, errors.Errorf("axis %d of input %d is the batch axis, which cannot be contracted", orig, i)
		}
	}
	return ax, ay, nil
}

// Build implements graph.Layer: x's shape without its dot axis, then y's.
func (d *Dot) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("expects exactly 2 inputs, got %d", len(in))
	}
	x, y := in[0], in[1]
	ax, ay, err := d.axes(len(x)+1, len(y)+1)
	if err != nil {
		return nil, err
	}
	if !graph.SameDim(x[ax-1], y[ay-1]) {
		return nil, errors.Errorf("the dot axes differ in size: %d (axis %d of %s) and %d (axis %d of %s)", x[ax-1], ax, x, y[ay-1], ay, y)
	}
	return []graph.Shape{dotShape(x, y, ax, ay)}, nil
}

// dotShape is the output shape (batch axis excluded) for inputs x and y
// with dot axes ax and ay (batch axis included).
func dotShape(x, y graph.Shape, ax, ay int) graph.Shape {
	out := append(append(graph.Shape{}, x[:ax-1]...), x[ax:]...)
	out = append(append(out, y[:ay-1]...), y[ay:]...)
	if len(out) == 0 {
		out = graph.Shape{1}
	}
	return out
}

// Emit implements graph.Layer: the optional normalization, each input laid
// out as a batch of matrices, one BatchMatMul, and a reshape.
func (d *Dot) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	x, y := in[0], in[1]
	ax, ay, err := d.axes(x.Dims(), y.Dims())
	if err != nil {
		return nil, err
	}
	if d.cfg.Normalize {
		if x, err = ops.L2Normalize(x, ax, dotEpsilon*dotEpsilon); err != nil {
			return nil, err
		}
		if y, err = ops.L2Normalize(y, ay, dotEpsilon*dotEpsilon); err != nil {
			return nil, err
		}
	}
	xm, tx, err := asMatrices(x, ax, false)
	if err != nil {
		return nil, err
	}
	ym, ty, err := asMatrices(y, ay, true)
	if err != nil {
		return nil, err
	}
	p, err := ops.BatchMatMul(xm, ym, tx, ty)
	if err != nil {
		return nil, err
	}
	xs, ys := graph.Shape(x.Shape()[1:]), graph.Shape(y.Shape()[1:])
	out, err := G.Reshape(p, dotShape(xs, ys, ax, ay).WithBatch(ctx.Batch()))
	if err != nil {
		return nil, err
	}
	return []graph.Node{out}, nil
}

// asMatrices lays x out as a batch of matrices whose contracted axis, a, is
// the columns (rows with right, for the right operand), and says whether
// BatchMatMul must transpose them: a first non-batch axis is the rows of
// (N, K, rest), a last one the columns of (N, rest, K), and any other axis
// is moved to the end (or, with right, to axis 1) by a transpose.
func asMatrices(x graph.Node, a int, right bool) (graph.Node, bool, error) {
	s := x.Shape()
	r := len(s)
	k, rest := s[a], s.TotalSize()/(s[0]*s[a])
	switch {
	case a == 1 && (right || r > 2):
		m, err := G.Reshape(x, tensor.Shape{s[0], k, rest})
		return m, !right, err
	case a == r-1:
		m, err := G.Reshape(x, tensor.Shape{s[0], rest, k})
		return m, right, err
	}
	perm := []int{0}
	for i := 1; i < r; i++ {
		if i != a {
			perm = append(perm, i)
		}
	}
	perm = append(perm, a)
	t, err := G.Transpose(x, perm...)
	if err != nil {
		return nil, false, err
	}
	m, err := G.Reshape(t, tensor.Shape{s[0], rest, k})
	return m, right, err
}

// The Keras class of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("Dot", DefaultDotConfig, NewDotFromConfig, (*Dot).Config)
}
