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
	inputDim, outputDim int
	cfg                 *config
	err                 error
	embeddings          *graph.Weight
}

// NewEmbedding creates an Embedding layer. Options: WithName,
// WithEmbeddingsInitializer (default random_uniform(-0.05, 0.05)),
// WithEmbeddingsRegularizer, WithMaskZero.
func NewEmbedding(inputDim, outputDim int, opts ...Option) *Embedding {
	c := newConfig("Embedding", opts, "WithEmbeddingsInitializer", "WithEmbeddingsRegularizer", "WithMaskZero")
	e := &Embedding{Base: graph.NewBase("Embedding", c.name), inputDim: inputDim, outputDim: outputDim, cfg: c, err: c.err}
	if e.err == nil && (inputDim <= 0 || outputDim <= 0) {
		e.err = errors.Errorf("input_dim and output_dim must be positive, got %d and %d", inputDim, outputDim)
	}
	if c.kernelInit == nil {
		c.kernelInit = RandomUniform(-0.05, 0.05)
	}
	return e
}

// WithEmbeddingsInitializer sets Embedding's table initializer.
func WithEmbeddingsInitializer(init graph.Initializer) Option {
	return func(c *config) { c.mark("WithEmbeddingsInitializer"); c.kernelInit = init }
}

// WithEmbeddingsRegularizer adds a penalty on Embedding's table to the loss.
func WithEmbeddingsRegularizer(r graph.Regularizer) Option {
	return func(c *config) { c.mark("WithEmbeddingsRegularizer"); c.kernelReg = r }
}

// Apply applies the layer to x and returns its output tensor.
func (e *Embedding) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(e, x) }

// Embeddings is the (inputDim, outputDim) table (nil before build).
func (e *Embedding) Embeddings() *graph.Weight { return e.embeddings }

// MaskZero reports whether index 0 is padding.
func (e *Embedding) MaskZero() bool { return e.cfg.maskZero }

// Build implements graph.Layer.
func (e *Embedding) Build(in []graph.Shape) ([]graph.Shape, error) {
	if e.err != nil {
		return nil, e.err
	}
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	if len(in[0]) < 1 {
		return nil, errors.New("expected min_ndim=2 (batch and indices), found ndim=1")
	}
	if e.embeddings == nil {
		e.embeddings = e.AddWeight("embeddings", graph.Shape{e.inputDim, e.outputDim}, e.cfg.kernelInit, e.cfg.kernelReg, true)
	}
	return []graph.Shape{append(in[0].Clone(), e.outputDim)}, nil
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
func (e *Embedding) OutputMasked([]bool) []bool { return []bool{e.cfg.maskZero} }

// ComputeMask implements graph.MaskLayer: x ≠ 0 with mask_zero.
func (e *Embedding) ComputeMask(_ *graph.Context, in []graph.Node, _ []graph.Node) ([]graph.Node, error) {
	if !e.cfg.maskZero {
		return []graph.Node{nil}, nil
	}
	m, err := ops.NotZero(in[0])
	if err != nil {
		return nil, err
	}
	return []graph.Node{m}, nil
}
