package layers

import (
	"testing"

	"github.com/kerago/kerago/graph"
)

func TestDenseSmokeGrad(t *testing.T) {
	for _, act := range []string{"linear", "relu", "sigmoid", "softmax", "tanh"} {
		in := graph.Input(3)
		out := NewDense(4, WithActivation(act), WithKernelRegularizer(L1L2(0.01, 0.02))).Apply(in)
		feeds := [][]float64{{0.1, -0.2, 0.3, 0.4, 0.5, -0.6}}
		err := graph.GradCheck{Inputs: []*graph.Tensor{in}, Outputs: []*graph.Tensor{out}, Batch: 2, Feeds: feeds, CheckInputs: true, Seed: 3}.Run()
		if err != nil {
			t.Fatalf("%s: %v", act, err)
		}
	}
}
