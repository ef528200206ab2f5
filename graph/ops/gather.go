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
	if out.Dtype() == tensor.Float32 {
		o, w := out.Float32s(), in[0].Float32s()
		return eachIndex(in[1], vocab, k.what, func(i, r int) { copy(o[i*dim:(i+1)*dim], w[r*dim:(r+1)*dim]) })
	}
	o, w := out.Float64s(), in[0].Float64s()
	return eachIndex(in[1], vocab, k.what, func(i, r int) { copy(o[i*dim:(i+1)*dim], w[r*dim:(r+1)*dim]) })
}

// NoGradient: the indices get none.
func (k gatherKernel) NoGradient(i int) bool { return i == 1 }

func (k gatherKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dw, err := Apply(scatterAddKernel{what: k.what, table: in[0].Shape().Clone()}, grad, in[1])
	return G.Nodes{dw, nil}, err
}

// eachIndex checks, in order, that each value of x is an integer in
// [0, vocab) and calls f with its position and value; the first that is
// not is an error naming it. It reads x through its typed accessor (no
// copy, no allocation).
func eachIndex(x *tensor.Dense, vocab int, what string, f func(i, r int)) error {
	check := func(v float64, i int) (int, error) {
		if v != math.Trunc(v) || v < 0 || v >= float64(vocab) {
			return 0, errors.Errorf("%s: input value %v at position %d is not an index in [0, %d) (input_dim %d)", what, v, i, vocab, vocab)
		}
		return int(v), nil
	}
	if x.Dtype() == tensor.Float32 {
		for i, v := range x.Float32s() {
			r, err := check(float64(v), i)
			if err != nil {
				return err
			}
			f(i, r)
		}
		return nil
	}
	for i, v := range Float64s(x) {
		r, err := check(v, i)
		if err != nil {
			return err
		}
		f(i, r)
	}
	return nil
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
	d := k.table[1]
	if out.Dtype() == tensor.Float32 {
		o, g := out.Float32s(), in[0].Float32s()
		clear(o)
		return eachIndex(in[1], k.table[0], k.what, func(i, r int) { addRow(o[r*d:(r+1)*d], g[i*d:(i+1)*d]) })
	}
	o, g := out.Float64s(), in[0].Float64s()
	clear(o)
	return eachIndex(in[1], k.table[0], k.what, func(i, r int) { addRow(o[r*d:(r+1)*d], g[i*d:(i+1)*d]) })
}

// addRow adds src into row element-wise.
func addRow[T Float](row, src []T) {
	for j, v := range src {
		row[j] += v
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
