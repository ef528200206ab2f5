package ops

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Gather looks up the rows of table (V, D) at indices (any shape, values
// whole numbers in [0, V)) as one node of shape indices' + (D,): Keras's
// Embedding. what names the caller in errors ("embedding emb"), which give
// the first bad index and its position. The gradient reaches the table
// only, as one node that adds each output row's gradient into its row.
func Gather(indices, table *G.Node, what string) (*G.Node, error) {
	return Apply(gatherKernel{what: what}, table, indices)
}

// gatherKernel takes (table, indices): the table first, so that the output
// has its dtype.
type gatherKernel struct{ what string }

func (k gatherKernel) Name() string  { return k.what }
func (k gatherKernel) Params() []any { return nil }
func (k gatherKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[0]) != 2 {
		return nil, errors.Errorf("%s: table shape %v, want (vocabulary, dimension)", k.what, in[0])
	}
	return append(in[1].Clone(), in[0][1]), nil
}

func (k gatherKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	vocab, dim := in[0].Shape()[0], in[0].Shape()[1]
	idx, err := indicesOf(in[1], vocab, k.what)
	if err != nil {
		return err
	}
	if out.Dtype() == tensor.Float32 {
		gatherRows(out.Float32s(), in[0].Float32s(), idx, dim)
	} else {
		gatherRows(out.Float64s(), in[0].Float64s(), idx, dim)
	}
	return nil
}

// NoGradient: the indices get none.
func (k gatherKernel) NoGradient(i int) bool { return i == 1 }

func (k gatherKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dw, err := Apply(scatterAddKernel{what: k.what, table: in[0].Shape().Clone()}, grad, in[1])
	return G.Nodes{dw, nil}, err
}

// indicesOf checks that every value of x is an integer in [0, vocab) and
// returns them.
func indicesOf(x *tensor.Dense, vocab int, what string) ([]int, error) {
	vals := Float64s(x)
	idx := make([]int, len(vals))
	for i, f := range vals {
		if f != math.Trunc(f) || f < 0 || f >= float64(vocab) {
			return nil, errors.Errorf("%s: input value %v at position %d is not an index in [0, %d) (input_dim %d)", what, f, i, vocab, vocab)
		}
		idx[i] = int(f)
	}
	return idx, nil
}

func gatherRows[T Float](out, w []T, idx []int, d int) {
	for i, r := range idx {
		copy(out[i*d:(i+1)*d], w[r*d:(r+1)*d])
	}
}

// scatterAddKernel is Gather's gradient: (dL/dout, indices) → dL/dtable,
// each output row's gradient added into its index's row.
type scatterAddKernel struct {
	what  string
	table tensor.Shape
}

func (k scatterAddKernel) Name() string  { return k.what + " gradient" }
func (k scatterAddKernel) Params() []any { return []any{k.table} }
func (k scatterAddKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].TotalSize() != in[1].TotalSize()*k.table[1] {
		return nil, errors.Errorf("%s gradient: shape %v for %d indices", k.what, in[0], in[1].TotalSize())
	}
	return k.table, nil
}

func (k scatterAddKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	idx, err := indicesOf(in[1], k.table[0], k.what)
	if err != nil {
		return err
	}
	if out.Dtype() == tensor.Float32 {
		scatterRows(out.Float32s(), in[0].Float32s(), idx, k.table[1])
	} else {
		scatterRows(out.Float64s(), in[0].Float64s(), idx, k.table[1])
	}
	return nil
}

// scatterRows sets out to zero, then adds row i of g into row idx[i].
func scatterRows[T Float](out, g []T, idx []int, d int) {
	clear(out)
	for i, r := range idx {
		row, src := out[r*d:(r+1)*d], g[i*d:(i+1)*d]
		for j, v := range src {
			row[j] += v
		}
	}
}

// NotZero is x ≠ 0 as 1s and 0s of x's dtype (the mask of
// Embedding(mask_zero=True)), with no gradient.
func NotZero(x *G.Node) (*G.Node, error) { return NotEqual(x, 0) }

// NotEqual is x ≠ v, element by element, as 1s and 0s of x's dtype (Keras's
// ops.not_equal with a number), with no gradient.
func NotEqual(x *G.Node, v float64) (*G.Node, error) { return Apply(notEqualKernel{v}, x) }

type notEqualKernel struct{ v float64 }

func (k notEqualKernel) Name() string                                  { return "NotEqual" }
func (k notEqualKernel) Params() []any                                 { return []any{k.v} }
func (k notEqualKernel) Shape(in []tensor.Shape) (tensor.Shape, error) { return in[0], nil }

func (k notEqualKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		notEqual(out.Float32s(), in[0].Float32s(), float32(k.v))
	} else {
		notEqual(out.Float64s(), in[0].Float64s(), k.v)
	}
	return nil
}

func notEqual[T Float](out, x []T, v T) {
	for i, e := range x {
		out[i] = 0
		if e != v {
			out[i] = 1
		}
	}
}
