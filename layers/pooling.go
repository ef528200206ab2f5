package layers

import (
	"slices"
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

// PoolingConfig is the configuration of the window pooling layers
// (MaxPooling1D/2D, AveragePooling1D/2D): Keras's pooling arguments,
// channels-last. Per-axis fields take one value for every spatial axis, or
// one per axis; Config reports one per axis.
type PoolingConfig struct {
	LayerConfig
	// PoolSize is the window (default 2).
	PoolSize []int `json:"pool_size"`
	WindowConfig
}

// DefaultPoolingConfig is Keras's default pooling configuration: a window
// of 2, strides equal to the window (nil), "valid" padding.
func DefaultPoolingConfig() PoolingConfig {
	return PoolingConfig{PoolSize: []int{2}, WindowConfig: WindowConfig{Padding: "valid"}}
}

// PoolingOption is an option of the window pooling layers: WithName, a
// WindowOption or WithPoolSize.
type PoolingOption interface{ applyPooling(*PoolingConfig) }

func (o NameOption) applyPooling(c *PoolingConfig)   { o.applyLayer(&c.LayerConfig) }
func (o WindowOption) applyPooling(c *PoolingConfig) { o(&c.WindowConfig) }

// poolingOption is an option only the window pooling layers take.
type poolingOption func(*PoolingConfig)

func (o poolingOption) applyPooling(c *PoolingConfig) { o(c) }

// WithPoolSize sets a pooling layer's window: one value for every spatial
// axis, or one per axis (WithPoolSize(3, 2) is a 3×2 window for the 2-D
// layers). It overrides the constructor's pool argument.
func WithPoolSize(size ...int) PoolingOption {
	return poolingOption(func(c *PoolingConfig) { c.PoolSize = append([]int(nil), size...) })
}

// newPoolingConfig is the configuration the window pooling constructors
// build.
func newPoolingConfig(pool int, opts []PoolingOption) PoolingConfig {
	cfg := DefaultPoolingConfig()
	cfg.PoolSize = []int{pool}
	return configure(cfg, opts, PoolingOption.applyPooling)
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
	kind ops.PoolKind
	axes int // spatial axes: 1 or 2
	cfg  PoolingConfig
	same bool
}

func newPooling(class string, kind ops.PoolKind, axes int, cfg PoolingConfig) pooling {
	p := pooling{Base: newBase(class, &cfg.LayerConfig), kind: kind, axes: axes}
	cfg.PoolSize = resolveAxes(&p.Base, "pool size", cfg.PoolSize, axes)
	if cfg.Strides != nil {
		cfg.Strides = resolveAxes(&p.Base, "strides", cfg.Strides, axes)
	} else {
		cfg.Strides = slices.Clone(cfg.PoolSize) // Keras: strides=None ⇒ pool size
	}
	var err error
	p.same, err = paddingMode(cfg.Padding)
	p.Fail(err)
	cfg.Padding = strings.ToLower(cfg.Padding)
	p.cfg = cfg
	p.SetInputSpec(graph.InputSpec{NDim: axes + 2})
	return p
}

// Config returns the layer's configuration.
func (p *pooling) Config() PoolingConfig {
	c := p.cfg
	c.PoolSize = slices.Clone(c.PoolSize)
	c.Strides = slices.Clone(c.Strides)
	return c
}

// PoolSize is the window, one value per spatial axis.
func (p *pooling) PoolSize() []int { return slices.Clone(p.cfg.PoolSize) }

// Strides are the strides, one value per spatial axis.
func (p *pooling) Strides() []int { return slices.Clone(p.cfg.Strides) }

// Padding is "valid" or "same".
func (p *pooling) Padding() string { return p.cfg.Padding }

// Build implements graph.Layer.
func (p *pooling) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	s := in[0]
	out := s.Clone()
	for i := 0; i < p.axes; i++ {
		n, k, st := s[i], p.cfg.PoolSize[i], p.cfg.Strides[i]
		if n == graph.Unknown {
			out[i] = graph.Unknown
			continue
		}
		o, _ := ops.PoolOutputSize(n, k, st, p.same)
		if o <= 0 {
			return nil, errors.Errorf("computed output size would be zero or negative: axis %d has size %d, pool size %d, strides %d, padding %s",
				i+1, n, k, st, p.cfg.Padding)
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
	y, err := ops.Pool(in[0], p.kind, p.cfg.PoolSize, p.cfg.Strides, p.same)
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
func NewMaxPooling2D(pool int, opts ...PoolingOption) *MaxPooling2D {
	return NewMaxPooling2DFromConfig(newPoolingConfig(pool, opts))
}

// NewMaxPooling2DFromConfig creates a MaxPooling2D layer from its configuration.
func NewMaxPooling2DFromConfig(cfg PoolingConfig) *MaxPooling2D {
	return &MaxPooling2D{newPooling("MaxPooling2D", ops.PoolMax, 2, cfg)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *MaxPooling2D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// AveragePooling2D is Keras's AveragePooling2D on (N, H, W, C): the mean of
// each window's valid (unpadded) cells.
type AveragePooling2D struct{ pooling }

// NewAveragePooling2D creates an AveragePooling2D layer with a pool×pool
// window. Options: WithName, WithPoolSize (rectangular windows), WithStrides
// (default: the pool size), WithPadding ("valid" or "same").
func NewAveragePooling2D(pool int, opts ...PoolingOption) *AveragePooling2D {
	return NewAveragePooling2DFromConfig(newPoolingConfig(pool, opts))
}

// NewAveragePooling2DFromConfig creates an AveragePooling2D layer from its configuration.
func NewAveragePooling2DFromConfig(cfg PoolingConfig) *AveragePooling2D {
	return &AveragePooling2D{newPooling("AveragePooling2D", ops.PoolAverage, 2, cfg)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *AveragePooling2D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// MaxPooling1D is Keras's MaxPooling1D on (N, L, C): the maximum of each
// window along the steps axis.
type MaxPooling1D struct{ pooling }

// NewMaxPooling1D creates a MaxPooling1D layer with a window of pool steps.
// Options: WithName, WithPoolSize, WithStrides (default: the pool size),
// WithPadding ("valid" or "same").
func NewMaxPooling1D(pool int, opts ...PoolingOption) *MaxPooling1D {
	return NewMaxPooling1DFromConfig(newPoolingConfig(pool, opts))
}

// NewMaxPooling1DFromConfig creates a MaxPooling1D layer from its configuration.
func NewMaxPooling1DFromConfig(cfg PoolingConfig) *MaxPooling1D {
	return &MaxPooling1D{newPooling("MaxPooling1D", ops.PoolMax, 1, cfg)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *MaxPooling1D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// AveragePooling1D is Keras's AveragePooling1D on (N, L, C): the mean of
// each window's valid (unpadded) steps.
type AveragePooling1D struct{ pooling }

// NewAveragePooling1D creates an AveragePooling1D layer with a window of pool
// steps. Options: WithName, WithPoolSize, WithStrides (default: the pool
// size), WithPadding ("valid" or "same").
func NewAveragePooling1D(pool int, opts ...PoolingOption) *AveragePooling1D {
	return NewAveragePooling1DFromConfig(newPoolingConfig(pool, opts))
}

// NewAveragePooling1DFromConfig creates an AveragePooling1D layer from its configuration.
func NewAveragePooling1DFromConfig(cfg PoolingConfig) *AveragePooling1D {
	return &AveragePooling1D{newPooling("AveragePooling1D", ops.PoolAverage, 1, cfg)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *AveragePooling1D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// globalPooling is what the four global pooling layers share.
type globalPooling struct {
	graph.Base
	kind ops.PoolKind
	axes int
	cfg  GlobalPoolingConfig
}

// GlobalPoolingConfig is the configuration of the global pooling layers:
// Keras's global pooling arguments, channels-last.
type GlobalPoolingConfig struct {
	LayerConfig
	// KeepDims keeps the reduced axes as size 1 (default false).
	KeepDims bool `json:"keepdims"`
}

// DefaultGlobalPoolingConfig is Keras's default global pooling
// configuration: the reduced axes are dropped.
func DefaultGlobalPoolingConfig() GlobalPoolingConfig { return GlobalPoolingConfig{} }

// GlobalPoolingOption is an option of the global pooling layers: WithName or
// WithKeepDims.
type GlobalPoolingOption interface{ applyGlobalPooling(*GlobalPoolingConfig) }

func (o NameOption) applyGlobalPooling(c *GlobalPoolingConfig) { o.applyLayer(&c.LayerConfig) }

// globalPoolingOption is an option only the global pooling layers take.
type globalPoolingOption func(*GlobalPoolingConfig)

func (o globalPoolingOption) applyGlobalPooling(c *GlobalPoolingConfig) { o(c) }

// WithKeepDims keeps the reduced axes of global pooling as size 1 (Keras's
// keepdims=True).
func WithKeepDims() GlobalPoolingOption {
	return globalPoolingOption(func(c *GlobalPoolingConfig) { c.KeepDims = true })
}

// newGlobalPoolingConfig is the configuration the global pooling
// constructors build.
func newGlobalPoolingConfig(opts []GlobalPoolingOption) GlobalPoolingConfig {
	return configure(DefaultGlobalPoolingConfig(), opts, GlobalPoolingOption.applyGlobalPooling)
}

func newGlobalPooling(class string, kind ops.PoolKind, axes int, cfg GlobalPoolingConfig) globalPooling {
	p := globalPooling{Base: newBase(class, &cfg.LayerConfig), kind: kind, axes: axes}
	p.cfg = cfg
	p.SetInputSpec(graph.InputSpec{NDim: axes + 2})
	return p
}

// Config returns the layer's configuration.
func (p *globalPooling) Config() GlobalPoolingConfig { return p.cfg }

// KeepDims reports whether the reduced axes are kept as size 1.
func (p *globalPooling) KeepDims() bool { return p.cfg.KeepDims }

// Build implements graph.Layer.
func (p *globalPooling) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	s := in[0]
	for i, d := range s {
		if d <= 0 && d != graph.Unknown {
			return nil, errors.Errorf("axis %d has size %d: nothing to pool", i+1, d)
		}
	}
	c := s[p.axes]
	if !p.cfg.KeepDims {
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
		y, err = ops.MaskedGlobalAveragePool(in[0], m, p.cfg.KeepDims)
	} else {
		y, err = ops.GlobalPool(in[0], p.kind, p.cfg.KeepDims)
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
func NewGlobalAveragePooling1D(opts ...GlobalPoolingOption) *GlobalAveragePooling1D {
	return NewGlobalAveragePooling1DFromConfig(newGlobalPoolingConfig(opts))
}

// NewGlobalAveragePooling1DFromConfig creates a GlobalAveragePooling1D layer from its configuration.
func NewGlobalAveragePooling1DFromConfig(cfg GlobalPoolingConfig) *GlobalAveragePooling1D {
	return &GlobalAveragePooling1D{globalPooling: newGlobalPooling("GlobalAveragePooling1D", ops.PoolAverage, 1, cfg)}
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
func NewGlobalMaxPooling1D(opts ...GlobalPoolingOption) *GlobalMaxPooling1D {
	return NewGlobalMaxPooling1DFromConfig(newGlobalPoolingConfig(opts))
}

// NewGlobalMaxPooling1DFromConfig creates a GlobalMaxPooling1D layer from its configuration.
func NewGlobalMaxPooling1DFromConfig(cfg GlobalPoolingConfig) *GlobalMaxPooling1D {
	return &GlobalMaxPooling1D{globalPooling: newGlobalPooling("GlobalMaxPooling1D", ops.PoolMax, 1, cfg)}
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
func NewGlobalAveragePooling2D(opts ...GlobalPoolingOption) *GlobalAveragePooling2D {
	return NewGlobalAveragePooling2DFromConfig(newGlobalPoolingConfig(opts))
}

// NewGlobalAveragePooling2DFromConfig creates a GlobalAveragePooling2D layer from its configuration.
func NewGlobalAveragePooling2DFromConfig(cfg GlobalPoolingConfig) *GlobalAveragePooling2D {
	return &GlobalAveragePooling2D{newGlobalPooling("GlobalAveragePooling2D", ops.PoolAverage, 2, cfg)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *GlobalAveragePooling2D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// GlobalMaxPooling2D is Keras's GlobalMaxPooling2D: the maximum over the
// spatial axes of (N, H, W, C), giving (N, C) or, with WithKeepDims,
// (N, 1, 1, C).
type GlobalMaxPooling2D struct{ globalPooling }

// NewGlobalMaxPooling2D creates a GlobalMaxPooling2D layer. Options:
// WithName, WithKeepDims.
func NewGlobalMaxPooling2D(opts ...GlobalPoolingOption) *GlobalMaxPooling2D {
	return NewGlobalMaxPooling2DFromConfig(newGlobalPoolingConfig(opts))
}

// NewGlobalMaxPooling2DFromConfig creates a GlobalMaxPooling2D layer from its configuration.
func NewGlobalMaxPooling2DFromConfig(cfg GlobalPoolingConfig) *GlobalMaxPooling2D {
	return &GlobalMaxPooling2D{newGlobalPooling("GlobalMaxPooling2D", ops.PoolMax, 2, cfg)}
}

// Apply applies the layer to x and returns its output tensor.
func (l *GlobalMaxPooling2D) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }

// The Keras classes of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("MaxPooling1D", DefaultPoolingConfig, NewMaxPooling1DFromConfig, (*MaxPooling1D).Config)
	registerLayer("MaxPooling2D", DefaultPoolingConfig, NewMaxPooling2DFromConfig, (*MaxPooling2D).Config)
	registerLayer("AveragePooling1D", DefaultPoolingConfig, NewAveragePooling1DFromConfig, (*AveragePooling1D).Config)
	registerLayer("AveragePooling2D", DefaultPoolingConfig, NewAveragePooling2DFromConfig, (*AveragePooling2D).Config)
	registerLayer("GlobalAveragePooling1D", DefaultGlobalPoolingConfig, NewGlobalAveragePooling1DFromConfig, (*GlobalAveragePooling1D).Config)
	registerLayer("GlobalMaxPooling1D", DefaultGlobalPoolingConfig, NewGlobalMaxPooling1DFromConfig, (*GlobalMaxPooling1D).Config)
	registerLayer("GlobalAveragePooling2D", DefaultGlobalPoolingConfig, NewGlobalAveragePooling2DFromConfig, (*GlobalAveragePooling2D).Config)
	registerLayer("GlobalMaxPooling2D", DefaultGlobalPoolingConfig, NewGlobalMaxPooling2DFromConfig, (*GlobalMaxPooling2D).Config)
}
