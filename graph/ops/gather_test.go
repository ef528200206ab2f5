package ops

import (
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// An embedding lookup with repeated indices (their gradients add up) and
// its mask.
var _ = registerExample(kernelExample{name: "gather", build: func(in *exampleInputs) ([]*G.Node, error) {
	idx := in.labels(4, in.n, 6)
	y, err := Gather(idx, in.x(4, 3), "embedding e")
	if err != nil {
		return nil, err
	}
	m, err := NotZero(idx)
	return []*G.Node{y, m}, err
}})

// TestGatherRejectsBadIndices checks that an index outside the table or
// not a whole number is an error naming its value and position.
func TestGatherRejectsBadIndices(t *testing.T) {
	table := convDense(tensor.Float64, tensor.Shape{3, 2}, []float64{1, 2, 3, 4, 5, 6})
	for _, c := range []struct {
		idx  []float64
		want string
	}{
		{[]float64{0, 3}, "embedding e: input value 3 at position 1 is not an index in [0, 3) (input_dim 3)"},
		{[]float64{0.5, 1}, "input value 0.5 at position 0"},
		{[]float64{-1, 1}, "input value -1 at position 0"},
	} {
		_, err := runKernel(gatherKernel{what: "embedding e"}, table, convDense(tensor.Float64, tensor.Shape{2}, c.idx))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("indices %v: got %v, want an error containing %q", c.idx, err, c.want)
		}
	}
	y, err := runKernel(gatherKernel{what: "embedding e"}, table, convDense(tensor.Float64, tensor.Shape{3}, []float64{2, 0, 2}))
	if err != nil {
		t.Fatal(err)
	}
	if got := Float64s(y); !slices.Equal(got, []float64{5, 6, 1, 2, 5, 6}) {
		t.Errorf("gather: %v", got)
	}
}
