package layers

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
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
	InputDim int `json:"input_dim"`
	// OutputDim is the size of each vector (required).
	OutputDim int `json:"output_dim"`
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
	y, err := G.ApplyOp(gatherOp{layer: e.Name(), vocab: e.cfg.InputDim, dim: e.cfg.OutputDim, idims: x.Dims(), dt: x.Dtype()}, x, w)
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
	m, err := G.ApplyOp(notZeroOp{dims: in[0].Dims(), dt: in[0].Dtype()}, in[0])
	if err != nil {
		return nil, err
	}
	return []graph.Node{m}, nil
}

// gatherOp: (indices (N, …), table (V, D)) → (N, …, D).
type gatherOp struct {
	layer      string
	vocab, dim int
	idims      int
	dt         tensor.Dtype
}

func (op gatherOp) Arity() int { return 2 }
func (op gatherOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: op.idims, Of: op.dt}, G.TensorType{Dims: 2, Of: op.dt}, G.TensorType{Dims: op.idims + 1, Of: op.dt})
}
func (op gatherOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeArg(in[0])
	if err != nil {
		return nil, err
	}
	return append(s, op.dim), nil
}

// indices checks every value is an integer in [0, vocab) and returns them.
func (op gatherOp) indices(v G.Value) ([]int, tensor.Shape, error) {
	x, err := denseArg(v, "embedding "+op.layer)
	if err != nil {
		return nil, nil, err
	}
	var vals []float64
	switch d := x.Data().(type) {
	case []float64:
		vals = d
	case []float32:
		vals = make([]float64, len(d))
		for i, f := range d {
			vals[i] = float64(f)
		}
	}
	idx := make([]int, len(vals))
	for i, f := range vals {
		if f != math.Trunc(f) || f < 0 || f >= float64(op.vocab) {
			return nil, nil, errors.Errorf("embedding %s: input value %v at position %d is not an index in [0, %d) (input_dim %d)", op.layer, f, i, op.vocab, op.vocab)
		}
		idx[i] = int(f)
	}
	return idx, x.Shape(), nil
}

func (op gatherOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("embedding %s: expected 2 inputs, got %d", op.layer, len(in))
	}
	idx, s, err := op.indices(in[0])
	if err != nil {
		return nil, err
	}
	w, err := denseArg(in[1], "embedding "+op.layer)
	if err != nil {
		return nil, err
	}
	if !w.Shape().Eq(tensor.Shape{op.vocab, op.dim}) {
		return nil, errors.Errorf("embedding %s: table shape %v, expected (%d, %d)", op.layer, w.Shape(), op.vocab, op.dim)
	}
	out := newTensor(w.Dtype(), append(s.Clone(), op.dim))
	switch wd := w.Data().(type) {
	case []float32:
		gatherRows(out.Data().([]float32), wd, idx, op.dim)
	case []float64:
		gatherRows(out.Data().([]float64), wd, idx, op.dim)
	}
	return out, nil
}
func gatherRows[T float32 | float64](out, w []T, idx []int, d int) {
	for i, r := range idx {
		copy(out[i*d:(i+1)*d], w[r*d:(r+1)*d])
	}
}
func (op gatherOp) ReturnsPtr() bool     { return false }
func (op gatherOp) CallsExtern() bool    { return false }
func (op gatherOp) OverwritesInput() int { return -1 }
func (op gatherOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.gather.%s.%d.%d.%d.%v", op.layer, op.vocab, op.dim, op.idims, op.dt)
}
func (op gatherOp) Hashcode() uint32   { return opHash(op) }
func (op gatherOp) String() string     { return "Gather(" + op.layer + ")" }
func (op gatherOp) DiffWRT(int) []bool { return []bool{false, true} }
func (op gatherOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dw, err := G.ApplyOp(scatterAddOp{op}, in[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{nil, dw}, nil
}

// scatterAddOp is gather's gradient: (indices, dL/dout) → dL/dtable, each
// output row's gradient added into its index's row.
type scatterAddOp struct{ g gatherOp }

func (op scatterAddOp) Arity() int { return 2 }
func (op scatterAddOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: op.g.idims, Of: op.g.dt}, G.TensorType{Dims: op.g.idims + 1, Of: op.g.dt}, G.TensorType{Dims: 2, Of: op.g.dt})
}
func (op scatterAddOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.g.vocab, op.g.dim}, nil
}
func (op scatterAddOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("embedding %s gradient: expected 2 inputs, got %d", op.g.layer, len(in))
	}
	idx, _, err := op.g.indices(in[0])
	if err != nil {
		return nil, err
	}
	g, err := denseArg(in[1], "embedding gradient")
	if err != nil {
		return nil, err
	}
	if g.Shape().TotalSize() != len(idx)*op.g.dim {
		return nil, errors.Errorf("embedding %s gradient: shape %v for %d indices", op.g.layer, g.Shape(), len(idx))
	}
	out := newTensor(g.Dtype(), tensor.Shape{op.g.vocab, op.g.dim})
	switch gd := g.Data().(type) {
	case []float32:
		scatterRows(out.Data().([]float32), gd, idx, op.g.dim)
	case []float64:
		scatterRows(out.Data().([]float64), gd, idx, op.g.dim)
	}
	return out, nil
}
func scatterRows[T float32 | float64](out, g []T, idx []int, d int) {
	for i, r := range idx {
		row, src := out[r*d:(r+1)*d], g[i*d:(i+1)*d]
		for j, v := range src {
			row[j] += v
		}
	}
}
func (op scatterAddOp) ReturnsPtr() bool      { return false }
func (op scatterAddOp) CallsExtern() bool     { return false }
func (op scatterAddOp) OverwritesInput() int  { return -1 }
func (op scatterAddOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "scatter."); op.g.WriteHash(h) }
func (op scatterAddOp) Hashcode() uint32      { return opHash(op) }
func (op scatterAddOp) String() string        { return "ScatterAdd(" + op.g.layer + ")" }

// notZeroOp is x ≠ 0 as 1/0 values of x's dtype, with no gradient.
type notZeroOp struct {
	dims int
	dt   tensor.Dtype
}

func (op notZeroOp) Arity() int { return 1 }
func (op notZeroOp) Type() hm.Type {
	t := G.TensorType{Dims: op.dims, Of: op.dt}
	return hm.NewFnType(t, t)
}
func (op notZeroOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeArg(in[0]) }
func (op notZeroOp) Do(in ...G.Value) (G.Value, error) {
	x, err := denseArg(in[0], "mask")
	if err != nil {
		return nil, err
	}
	out := newTensor(x.Dtype(), x.Shape())
	switch xd := x.Data().(type) {
	case []float32:
		notZero(out.Data().([]float32), xd)
	case []float64:
		notZero(out.Data().([]float64), xd)
	}
	return out, nil
}
func notZero[T float32 | float64](out, x []T) {
	for i, v := range x {
		if v != 0 {
			out[i] = 1
		}
	}
}
func (op notZeroOp) ReturnsPtr() bool      { return false }
func (op notZeroOp) CallsExtern() bool     { return false }
func (op notZeroOp) OverwritesInput() int  { return -1 }
func (op notZeroOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "kerago.notzero.%d.%v", op.dims, op.dt) }
func (op notZeroOp) Hashcode() uint32      { return opHash(op) }
func (op notZeroOp) String() string        { return "NotZero" }
func (op notZeroOp) DiffWRT(int) []bool    { return []bool{false} }
func (op notZeroOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return G.Nodes{nil}, nil
}
