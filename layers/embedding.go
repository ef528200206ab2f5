package layers

import (
	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// Embedding is Keras's Embedding: it maps integer indices in [0, inputDim),
// stored as floats in an input of any shape (batch, …), to rows of an
// (inputDim, outputDim) table: output (batch, …, outputDim). The table
// ("embeddings") defaults to random_uniform(-0.05, 0.05).
//
// The lookup is one node (a gather) and its gradient one node (a scatter-add
// into the rows used; repeated indices add up). An index that is not an
// integer in range makes the run fail with an error naming the layer.
//
// WithMaskZero makes index 0 padding: the output carries the mask x ≠ 0,
// which recurrent layers use to skip padded steps (index 0 still has a
// row, so the vocabulary needs inputDim = largest index + 1).
type Embedding struct {
	graph.Base
	cfg        EmbeddingConfig
	embeddings *graph.Weight
}

// EmbeddingConfig is Embedding's configuration: Keras's Embedding
// arguments. A nil initializer stands for the default one.
type EmbeddingConfig struct {
	LayerConfig
	// InputDim is the vocabulary size, largest index + 1 (required).
	InputDim int `json:"input_dim" keras:"required"`
	// OutputDim is the size of each vector (required).
	OutputDim int `json:"output_dim" keras:"required"`
	// EmbeddingsInitializer initializes the table (default
	// random_uniform(-0.05, 0.05)).
	EmbeddingsInitializer graph.Initializer `json:"embeddings_initializer"`
	// EmbeddingsRegularizer, if not nil, adds a penalty on the table to the
	// loss.
	EmbeddingsRegularizer graph.Regularizer `json:"embeddings_regularizer"`
	// MaskZero makes index 0 padding (default false).
	MaskZero bool `json:"mask_zero"`
}

// DefaultEmbeddingConfig is Keras's default Embedding configuration (sizes
// unset).
func DefaultEmbeddingConfig() EmbeddingConfig {
	return EmbeddingConfig{EmbeddingsInitializer: RandomUniform(-0.05, 0.05)}
}

// EmbeddingOption is an option of NewEmbedding: WithName,
// WithEmbeddingsInitializer, WithEmbeddingsRegularizer or WithMaskZero.
type EmbeddingOption interface{ applyEmbedding(*EmbeddingConfig) }

func (o NameOption) applyEmbedding(c *EmbeddingConfig) { o.applyLayer(&c.LayerConfig) }

// embeddingOption is an option only Embedding takes.
type embeddingOption func(*EmbeddingConfig)

func (o embeddingOption) applyEmbedding(c *EmbeddingConfig) { o(c) }

// NewEmbedding creates an Embedding layer. Options: WithName,
// WithEmbeddingsInitializer (default random_uniform(-0.05, 0.05)),
// WithEmbeddingsRegularizer, WithMaskZero.
func NewEmbedding(inputDim, outputDim int, opts ...EmbeddingOption) *Embedding {
	cfg := DefaultEmbeddingConfig()
	cfg.InputDim, cfg.OutputDim = inputDim, outputDim
	return NewEmbeddingFromConfig(configure(cfg, opts, EmbeddingOption.applyEmbedding))
}

// NewEmbeddingFromConfig creates an Embedding layer from its configuration.
func NewEmbeddingFromConfig(cfg EmbeddingConfig) *Embedding {
	e := &Embedding{Base: newBase("Embedding", &cfg.LayerConfig)}
	if cfg.InputDim <= 0 || cfg.OutputDim <= 0 {
		e.Fail(errors.Errorf("input_dim and output_dim must be positive, got %d and %d", cfg.InputDim, cfg.OutputDim))
	}
	cfg.EmbeddingsInitializer = orDefault(cfg.EmbeddingsInitializer, DefaultEmbeddingConfig().EmbeddingsInitializer)
	e.cfg = cfg
	e.SetInputSpec(graph.InputSpec{MinNDim: 2, Layout: "batch and indices"})
	return e
}

// Config returns the layer's configuration.
func (e *Embedding) Config() EmbeddingConfig { return e.cfg }

// WithEmbeddingsInitializer sets Embedding's table initializer.
func WithEmbeddingsInitializer(init graph.Initializer) EmbeddingOption {
	return embeddingOption(func(c *EmbeddingConfig) { c.EmbeddingsInitializer = init })
}

// WithEmbeddingsRegularizer adds a penalty on Embedding's table to the loss.
func WithEmbeddingsRegularizer(r graph.Regularizer) EmbeddingOption {
	return embeddingOption(func(c *EmbeddingConfig) { c.EmbeddingsRegularizer = r })
}

// WithMaskZero makes Embedding treat index 0 as padding and emit a mask.
func WithMaskZero() EmbeddingOption {
	return embeddingOption(func(c *EmbeddingConfig) { c.MaskZero = true })
}

// Apply applies the layer to x and returns its output tensor.
func (e *Embedding) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(e, x) }

// Embeddings is the (inputDim, outputDim) table (nil before build).
func (e *Embedding) Embeddings() *graph.Weight { return e.embeddings }

// MaskZero reports whether index 0 is padding.
func (e *Embedding) MaskZero() bool { return e.cfg.MaskZero }

// Build implements graph.Layer.
func (e *Embedding) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	c := e.cfg
	if e.embeddings == nil {
		e.embeddings = e.AddWeight("embeddings", graph.Shape{c.InputDim, c.OutputDim}, c.EmbeddingsInitializer, c.EmbeddingsRegularizer, true)
	}
	return []graph.Shape{append(in[0].Clone(), c.OutputDim)}, nil
}

// Emit implements graph.Layer.
func (e *Embedding) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	w, err := ctx.Weight(e.embeddings)
	if err != nil {
		return nil, err
	}
	x := in[0]
	y, err := ops.Gather(x, w, "embedding "+e.Name())
	if err != nil {
		return nil, err
	}
	return []graph.Node{y}, nil
}

// OutputMasked implements graph.MaskLayer: with mask_zero the output is
// masked. An input mask is not passed on.
func (e *Embedding) OutputMasked([]bool) []bool { return []bool{e.cfg.MaskZero} }

// ComputeMask implements graph.MaskLayer: x ≠ 0 with mask_zero.
func (e *Embedding) ComputeMask(_ *graph.Context, in []graph.Node, _ []graph.Node) ([]graph.Node, error) {
	if !e.cfg.MaskZero {
		return []graph.Node{nil}, nil
	}
	m, err := ops.NotZero(in[0])
	if err != nil {
		return nil, err
	}
	return []graph.Node{m}, nil
}

// The Keras class of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("Embedding", DefaultEmbeddingConfig, NewEmbeddingFromConfig, (*Embedding).Config)
}
