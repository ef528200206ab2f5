package layers

import (
	"strings"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// Pooling layers, channels-last as Keras's default data_format:
//
//	MaxPooling1D, AveragePooling1D   (N, L, C)    → (N, L_out, C)
//	MaxPooling2D, AveragePooling2D   (N, H, W, C) → (N, H_out, W_out, C)
//	GlobalMaxPooling1D, GlobalAveragePooling1D   (N, T, C)    → (N, C)
//	GlobalMaxPooling2D, GlobalAveragePooling2D   (N, H, W, C) → (N, C)
//
// Window pooling follows TensorFlow: strides default to the pool size;
// "valid" padding gives ceil((n-k+1)/s) outputs per axis and drops what does
// not fit, "same" gives ceil(n/s) with pad_total = max(0, (out-1)·s + k - n)
// split as pad_before = pad_total/2 (the extra cell after). Padded cells are
// ignored: never a maximum, not counted in an average (a window at the edge
// averages only its valid cells). Max pooling's gradient goes to the first
// maximum of each window (row-major order) on ties. Each layer is one
// Gorgonia node forward and one backward (graph/ops.Pool, ops.GlobalPool),
// in float32 and float64.
//
// Masks: GlobalAveragePooling1D averages only the unmasked time steps,
// Σ_t x_t·m_t / Σ_t m_t (a sample whose mask is all zeros gets 0 where Keras
// gets 0/0 = NaN), and consumes the mask; GlobalMaxPooling1D accepts a masked
// input, ignores the mask (as Keras does: masked steps still take part in the
// maximum) and consumes it. The other pooling layers refuse masked inputs.

// WithPoolSize sets a pooling layer's window: one value for every spatial
// axis, or one per axis (WithPoolSize(3, 2) is a 3×2 window for the 2-D
// layers). It overrides the constructor's pool argument.
func WithPoolSize(size ...int) Option {
	return func(c *config) { c.mark("WithPoolSize"); c.extra["WithPoolSize"] = append([]int(nil), size...) }
}

// paddingMode lower-cases and checks a padding name ("valid" or "same").
func paddingMode(p string) (same bool, err error) {
	switch strings.ToLower(p) {
	case "valid":
		return false, nil
	case "same":
		return true, nil
	}
	return false, errors.Errorf(`the padding argument must be one of "valid", "same"; got %q`, p)
}

// pooling is what the four window-pooling layers share.
type pooling struct {
	graph.Base
	kind    ops.PoolKind
	axes    int // spatial axes: 1 or 2
	pool    []int
	strides []int
	padding string
	same    bool
	err     error
}

func newPooling(class string, kind ops.PoolKind, axes, pool int, opts []Option) pooling {
	c := newConfig(class, opts, "WithPoolSize", "WithStrides", "WithPadding")
	p := pooling{Base: graph.NewBase(class, c.name), kind: kind, axes: axes, err: c.err}
	size := []int{pool}
	if v, ok := c.extra["WithPoolSize"].([]int); ok {
		size = v
	}
	var err error
	if p.pool, err = perAxis("pool size", size, axes); err != nil {
		p.setErr(err)
		p.pool = nil
	}
	if c.set["WithStrides"] {
		if p.strides, err = perAxis("strides", c.strides, axes); err != nil {
			p.setErr(err)
			p.strides = nil
		}
	} else {
		p.strides = append([]int(nil), p.pool...) // Keras: strides=None ⇒ pool size
	}
	p.same, err = paddingMode(c.padding)
	p.setErr(err)
	p.padding = strings.ToLower(c.padding)
	return p
}

func (p *pooling) setErr(err error) {
	if p.err == nil && err != nil {
		p.err = err
	}
}

// PoolSize is the window, one value per spatial axis.
func (p *pooling) PoolSize() []int { return append([]int(nil), p.pool...) }

// Strides are the strides, one value per spatial axis.
func (p *pooling) Strides() []int { return append([]int(nil), p.strides...) }

// Padding is "valid" or "same".
func (p *pooling) Padding() string { return p.padding }

// Build implements graph.Layer.
func (p *pooling) Build(in []graph.Shape) ([]graph.Shape, error) {
	if p.err != nil {
		return nil, p.err
	}
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	s := in[0]
	if len(s) != p.axes+1 {
		return nil, errors.Errorf("expected ndim=%d, found ndim=%d", p.axes+2, len(s)+1)
	}
	out := s.Clone()
	for i := 0; i < p.axes; i++ {
		n, k, st := s[i], p.pool[i], p.strides[i]
		o, _ := ops.PoolOutputSize(n, k, st, p.same)
		if o <= 0 {
			return nil, errors.Errorf("computed output size would be zero or negative: axis %d has size %d, pool size %d, strides %d, padding %s",
				i+1, n, k, st, p.padding)
		}
		out[i] = o
	}
	if s[p.axes] <= 0 {
		return nil, errors.Errorf("the channel dimension of the inputs should be positive, got %d", s[p.axes])
	}
	return []graph.Shape{out}, nil
}

// Emit implements graph.Layer.
func (p *pooling) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) {
	y, err := ops.Pool(in[0], p.kind, p.pool, p.strides, p.same)
	if err != nil {
		return nil, err
	}
	return []graph.Node{y}, nil
}

// MaxPooling2D is Keras's MaxPooling2D on (N, H, W, C): the maximum of each
// window (padded cells are never the maximum).
type MaxPooling2D struct{ pooling }

// NewMaxPooling2D creates a MaxPooling2D layer with a pool×pool window.
// Options: WithName, WithPoolSize (rectangular windows), WithStrides
// (default: the pool size), WithPadding ("valid" or "same").
func NewMaxPooling2D(pool int, opts ...Option) *MaxPooling2D {
	return &MaxPooling2D{newPooling("MaxPooling2D", ops.PoolMax, 2, pool, opts)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *MaxPooling2D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// AveragePooling2D is Keras's AveragePooling2D on (N, H, W, C): the mean of
// each window's valid (unpadded) cells.
type AveragePooling2D struct{ pooling }

// NewAveragePooling2D creates an AveragePooling2D layer with a pool×pool
// window. Options: WithName, WithPoolSize (rectangular windows), WithStrides
// (default: the pool size), WithPadding ("valid" or "same").
func NewAveragePooling2D(pool int, opts ...Option) *AveragePooling2D {
	return &AveragePooling2D{newPooling("AveragePooling2D", ops.PoolAverage, 2, pool, opts)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *AveragePooling2D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// MaxPooling1D is Keras's MaxPooling1D on (N, L, C): the maximum of each
// window along the steps axis.
type MaxPooling1D struct{ pooling }

// NewMaxPooling1D creates a MaxPooling1D layer with a window of pool steps.
// Options: WithName, WithPoolSize, WithStrides (default: the pool size),
// WithPadding ("valid" or "same").
func NewMaxPooling1D(pool int, opts ...Option) *MaxPooling1D {
	return &MaxPooling1D{newPooling("MaxPooling1D", ops.PoolMax, 1, pool, opts)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *MaxPooling1D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// AveragePooling1D is Keras's AveragePooling1D on (N, L, C): the mean of
// each window's valid (unpadded) steps.
type AveragePooling1D struct{ pooling }

// NewAveragePooling1D creates an AveragePooling1D layer with a window of pool
// steps. Options: WithName, WithPoolSize, WithStrides (default: the pool
// size), WithPadding ("valid" or "same").
func NewAveragePooling1D(pool int, opts ...Option) *AveragePooling1D {
	return &AveragePooling1D{newPooling("AveragePooling1D", ops.PoolAverage, 1, pool, opts)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *AveragePooling1D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// globalPooling is what the four global pooling layers share.
type globalPooling struct {
	graph.Base
	kind     ops.PoolKind
	axes     int
	keepDims bool
	err      error
}

func newGlobalPooling(class string, kind ops.PoolKind, axes int, opts []Option) globalPooling {
	c := newConfig(class, opts, "WithKeepDims")
	return globalPooling{Base: graph.NewBase(class, c.name), kind: kind, axes: axes, keepDims: c.keepDims, err: c.err}
}

// KeepDims reports whether the reduced axes are kept as size 1.
func (p *globalPooling) KeepDims() bool { return p.keepDims }

// Build implements graph.Layer.
func (p *globalPooling) Build(in []graph.Shape) ([]graph.Shape, error) {
	if p.err != nil {
		return nil, p.err
	}
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	s := in[0]
	if len(s) != p.axes+1 {
		return nil, errors.Errorf("expected ndim=%d, found ndim=%d", p.axes+2, len(s)+1)
	}
	for i, d := range s {
		if d <= 0 {
			return nil, errors.Errorf("axis %d has size %d: nothing to pool", i+1, d)
		}
	}
	c := s[p.axes]
	if !p.keepDims {
		return []graph.Shape{{c}}, nil
	}
	out := make(graph.Shape, p.axes+1)
	for i := range out {
		out[i] = 1
	}
	out[p.axes] = c
	return []graph.Shape{out}, nil
}

// Emit implements graph.Layer. A mask on a GlobalAveragePooling1D input
// weights the average.
func (p *globalPooling) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	var (
		y   graph.Node
		err error
	)
	if m := ctx.InputMask(0); m != nil && p.kind == ops.PoolAverage && p.axes == 1 {
		y, err = ops.MaskedGlobalAveragePool(in[0], m, p.keepDims)
	} else {
		y, err = ops.GlobalPool(in[0], p.kind, p.keepDims)
	}
	if err != nil {
		return nil, err
	}
	return []graph.Node{y}, nil
}

// GlobalAveragePooling1D is Keras's GlobalAveragePooling1D: the mean over the
// steps of (N, T, C), giving (N, C) or, with WithKeepDims, (N, 1, C). With a
// mask (N, T) it is Σ_t x_t·m_t / Σ_t m_t (0 for a fully masked sample), and
// it consumes the mask.
type GlobalAveragePooling1D struct {
	globalPooling
	graph.ConsumeMask
}

// NewGlobalAveragePooling1D creates a GlobalAveragePooling1D layer. Options:
// WithName, WithKeepDims.
func NewGlobalAveragePooling1D(opts ...Option) *GlobalAveragePooling1D {
	return &GlobalAveragePooling1D{globalPooling: newGlobalPooling("GlobalAveragePooling1D", ops.PoolAverage, 1, opts)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *GlobalAveragePooling1D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// GlobalMaxPooling1D is Keras's GlobalMaxPooling1D: the maximum over the
// steps of (N, T, C), giving (N, C) or, with WithKeepDims, (N, 1, C). It
// accepts a masked input but ignores the mask, as Keras does (masked steps
// still take part in the maximum), and consumes it.
type GlobalMaxPooling1D struct {
	globalPooling
	graph.ConsumeMask
}

// NewGlobalMaxPooling1D creates a GlobalMaxPooling1D layer. Options:
// WithName, WithKeepDims.
func NewGlobalMaxPooling1D(opts ...Option) *GlobalMaxPooling1D {
	return &GlobalMaxPooling1D{globalPooling: newGlobalPooling("GlobalMaxPooling1D", ops.PoolMax, 1, opts)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *GlobalMaxPooling1D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// GlobalAveragePooling2D is Keras's GlobalAveragePooling2D: the mean over
// the spatial axes of (N, H, W, C), giving (N, C) or, with WithKeepDims,
// (N, 1, 1, C). Unlike Gorgonia's GlobalAveragePool2D it is channels-last
// and has a gradient.
type GlobalAveragePooling2D struct{ globalPooling }

// NewGlobalAveragePooling2D creates a GlobalAveragePooling2D layer. Options:
// WithName, WithKeepDims.
func NewGlobalAveragePooling2D(opts ...Option) *GlobalAveragePooling2D {
	return &GlobalAveragePooling2D{newGlobalPooling("GlobalAveragePooling2D", ops.PoolAverage, 2, opts)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *GlobalAveragePooling2D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// GlobalMaxPooling2D is Keras's GlobalMaxPooling2D: the maximum over the
// spatial axes of (N, H, W, C), giving (N, C) or, with WithKeepDims,
// (N, 1, 1, C).
type GlobalMaxPooling2D struct{ globalPooling }

// NewGlobalMaxPooling2D creates a GlobalMaxPooling2D layer. Options:
// WithName, WithKeepDims.
func NewGlobalMaxPooling2D(opts ...Option) *GlobalMaxPooling2D {
	return &GlobalMaxPooling2D{newGlobalPooling("GlobalMaxPooling2D", ops.PoolMax, 2, opts)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *GlobalMaxPooling2D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }
