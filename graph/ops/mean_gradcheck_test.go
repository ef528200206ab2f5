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
