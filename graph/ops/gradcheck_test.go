package ops_test

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
	"github.com/kerago/kerago/layers"
)

// TestMeanGradCheck compares Mean's gradient with central differences in
// float64: the cost is the mean of the outputs weighted by a fixed random
// tensor, through a Dense layer, with respect to its weights and inputs.
func TestMeanGradCheck(t *testing.T) {
	head := func(ctx *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
		rng := rand.New(rand.NewPCG(7, 7))
		o := outs[0]
		vals := make([]float64, o.Shape().TotalSize())
		for i := range vals {
			vals[i] = rng.Float64()*2 - 1
		}
		prod, err := G.HadamardProd(o, ctx.Const(o.Shape(), vals))
		if err != nil {
			return nil, nil, err
		}
		m, err := ops.Mean(prod)
		if err != nil {
			return nil, nil, err
		}
		return m, []graph.Node{m}, nil
	}
	in := graph.Input(3)
	out := layers.NewDense(4, layers.WithActivation("tanh")).Apply(in)
	err := graph.GradCheck{Inputs: []*graph.Tensor{in}, Outputs: []*graph.Tensor{out}, Batch: 2,
		Feeds: [][]float64{{0.3, -0.5, 0.7, 1.1, -0.2, 0.4}}, Head: head, CheckInputs: true, Seed: 3}.Run()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMinMaxGradCheck compares the gradients of Maximum and Minimum with
// central differences in float64, through a Dense layer whose output is
// compared with its own square: max(y, y² − 0.3) and min(y, y² − 0.3).
func TestMinMaxGradCheck(t *testing.T) {
	for name, f := range map[string]func(a, b *G.Node) (*G.Node, error){"maximum": ops.Maximum, "minimum": ops.Minimum} {
		in := graph.Input(3)
		d := layers.NewDense(4).Apply(in)
		out := layers.NewLambda(func(ctx *graph.Context, y graph.Node) (graph.Node, error) {
			sq, err := G.Square(y)
			if err != nil {
				return nil, err
			}
			other, err := G.Sub(sq, ctx.Scalar(0.3))
			if err != nil {
				return nil, err
			}
			return f(y, other)
		}).Apply(d)
		err := graph.GradCheck{Inputs: []*graph.Tensor{in}, Outputs: []*graph.Tensor{out}, Batch: 2,
			Feeds: [][]float64{{0.3, -0.5, 0.7, 1.1, -0.2, 0.4}}, CheckInputs: true, Seed: 5}.Run()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestBroadcastGradCheck compares BroadcastTo's gradient (a sum over the
// repeated axes) with central differences in float64, broadcasting a
// (N, 1, 3) input along its middle axis and a (N, 2, 1) one along its last.
func TestBroadcastGradCheck(t *testing.T) {
	for _, c := range []struct{ from, to []int }{{[]int{1, 3}, []int{4, 3}}, {[]int{2, 1}, []int{2, 5}}} {
		in := graph.Input(c.from...)
		out := layers.NewLambda(func(_ *graph.Context, x graph.Node) (graph.Node, error) {
			return ops.BroadcastTo(x, append([]int{x.Shape()[0]}, c.to...))
		}).Apply(in)
		feed := []float64{0.3, -0.5, 0.7, 1.1, -0.2, 0.4}[:2*c.from[0]*c.from[1]]
		err := graph.GradCheck{Inputs: []*graph.Tensor{in}, Outputs: []*graph.Tensor{out}, Batch: 2,
			Feeds: [][]float64{feed}, CheckInputs: true, Seed: 7}.Run()
		if err != nil {
			t.Errorf("%v → %v: %v", c.from, c.to, err)
		}
	}
}

// TestBatchMatMulGradCheck compares the gradients of the four forms of
// BatchMatMul with central differences in float64, with respect to both
// operands.
func TestBatchMatMulGradCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	feed := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.Float64()*2 - 1
		}
		return v
	}
	for _, f := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		as, bs := []int{2, 3}, []int{3, 4}
		if f[0] {
			as = []int{3, 2}
		}
		if f[1] {
			bs = []int{4, 3}
		}
		a, b := graph.Input(as...), graph.Input(bs...)
		out := layers.NewLambdaN(func(_ *graph.Context, in []graph.Node) (graph.Node, error) {
			return ops.BatchMatMul(in[0], in[1], f[0], f[1])
		}).Apply(a, b)
		err := graph.GradCheck{Inputs: []*graph.Tensor{a, b}, Outputs: []*graph.Tensor{out}, Batch: 2,
			Feeds: [][]float64{feed(12), feed(24)}, CheckInputs: true, Seed: 9}.Run()
		if err != nil {
			t.Errorf("trans %v: %v", f, err)
		}
	}
}
