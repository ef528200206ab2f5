package metrics

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// statsKernel is the one op every metric emits: it reduces its inputs (the
// targets and predictions, or per-sample values, then optionally the
// samples' weights) to a vector of size statistics. It has no gradient.
type statsKernel struct {
	name   string
	params []any
	size   int
	// check validates the inputs' shapes (weights excluded).
	check func(in []tensor.Shape) error
	// f adds the statistics of in (float64 views, weights last or nil)
	// into out (zeroed); shapes are the inputs' shapes.
	f  func(out []float64, in [][]float64, w []float64, shapes []tensor.Shape)
	sc *statsScratch
}

// statsScratch holds a stats node's float64 buffers, reused by every run.
type statsScratch struct {
	views  [][]float64
	in     [][]float64
	out    []float64
	shapes []tensor.Shape
}

func (k statsKernel) Name() string  { return k.name }
func (k statsKernel) Params() []any { return append([]any{k.size}, k.params...) }

// Shape checks the inputs (the last is the weights when the node has one
// more input than the metric's own) and returns (size,).
func (k statsKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if err := k.check(in[:k.arity(len(in))]); err != nil {
		return nil, err
	}
	if k.arity(len(in)) < len(in) {
		w := in[len(in)-1]
		if len(w) != 1 || w[0] != in[0][0] {
			return nil, errors.Errorf("%s: sample weights have shape %v; they must have shape (%d) (one per sample)", k.name, w, in[0][0])
		}
	}
	return tensor.Shape{k.size}, nil
}

// arity is the number of non-weight inputs of a node with n inputs.
func (k statsKernel) arity(n int) int {
	if n > 1 && k.params[0] == weighted {
		return n - 1
	}
	return n
}

// weighted marks (as the first param) a stats node fed sample weights.
const weighted = "weighted"

func (k statsKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	sc := k.sc
	if len(sc.views) < len(in) {
		sc.views = make([][]float64, len(in))
		sc.in = make([][]float64, len(in))
		sc.shapes = make([]tensor.Shape, len(in))
	}
	for i, t := range in {
		sc.in[i] = ops.Float64View(t, &sc.views[i])
		sc.shapes[i] = t.Shape()
	}
	n := k.arity(len(in))
	var w []float64
	if n < len(in) {
		w = sc.in[n]
	}
	if cap(sc.out) < k.size {
		sc.out = make([]float64, k.size)
	}
	res := sc.out[:k.size]
	clear(res)
	k.f(res, sc.in[:n], w, sc.shapes[:n])
	ops.StoreFloat64s(out, res)
	return nil
}

// applyStats inserts k over in and, when weight is not nil, the weights.
func applyStats(k statsKernel, weight graph.Node, in ...graph.Node) (graph.Node, error) {
	k.sc = &statsScratch{}
	k.params = append([]any{"unweighted"}, k.params...)
	if weight != nil {
		k.params[0] = weighted
		if weight.Dtype() != in[0].Dtype() {
			return nil, errors.Errorf("%s: sample weights are %v but the predictions %v", k.name, weight.Dtype(), in[0].Dtype())
		}
		in = append(in, weight)
	}
	out, err := ops.Apply(k, in...)
	return out, errors.Wrapf(err, "metric %s", k.name)
}

// sampleWeight is w[s], or 1 without weights.
func sampleWeight(w []float64, s int) float64 {
	if w == nil {
		return 1
	}
	return w[s]
}

// meanStats emits [Σ w·v, Σ w] of per-sample values v (batch,): the state
// of Keras's Mean metric for one batch.
func meanStats(name string, v, weight graph.Node) (graph.Node, error) {
	k := statsKernel{name: name, size: 2,
		check: func(in []tensor.Shape) error {
			if len(in[0]) != 1 {
				return errors.Errorf("%s: per-sample values have shape %v, want (batch)", name, in[0])
			}
			return nil
		},
		f: func(out []float64, in [][]float64, w []float64, _ []tensor.Shape) {
			for s, x := range in[0] {
				ws := sampleWeight(w, s)
				out[0] += ws * x
				out[1] += ws
			}
		}}
	return applyStats(k, weight, v)
}

// divNoNaN is a/b, or 0 when b is 0 (Keras's divide_no_nan).
func divNoNaN(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
