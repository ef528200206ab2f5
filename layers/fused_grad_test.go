package layers

import (
	"testing"

	"github.com/kerago/kerago/graph"
)

// TestConvReluMaxPoolGradients checks by finite differences the gradient of
// a relu convolution followed by max pooling, where the pooling's gradient
// applies the relu's derivative and the convolution skips its own pass: with
// windows that tile the input exactly, that leave cells uncovered, that
// overlap, and with the convolution's output used twice (the relu pass is
// then kept).
func TestConvReluMaxPoolGradients(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []int
		pool graph.Layer
	}{
		{"exact 2x2", []int{7, 7, 2}, NewMaxPooling2D(2)},
		{"odd 2x2", []int{8, 7, 2}, NewMaxPooling2D(2)},
		{"overlapping 3/1", []int{6, 6, 1}, NewMaxPooling2D(3, WithStrides(1))},
		{"same padding", []int{6, 5, 1}, NewMaxPooling2D(2, WithPadding("same"))},
	} {
		in := graph.Input(c.in...)
		x := NewConv2D(3, 2, WithActivation("relu"), WithBiasInitializer(RandomUniform(-0.3, 0.3))).Apply(in)
		x = graph.Apply1(c.pool, x)
		gradCheck(t, c.name, in, NewDense(2, WithActivation("tanh")).Apply(NewFlatten().Apply(x)), 2, 21)
	}
	{
		in := graph.Input(6, 6, 1)
		conv := NewConv2D(3, 3, WithActivation("relu"), WithBiasInitializer(RandomUniform(-0.3, 0.3))).Apply(in)
		a := NewFlatten().Apply(NewMaxPooling2D(2).Apply(conv))
		b := NewGlobalAveragePooling2D().Apply(conv)
		err := graph.GradCheck{
			Inputs: []*graph.Tensor{in}, Outputs: []*graph.Tensor{a, b},
			Batch: 2, Feeds: [][]float64{randomValues(2*36, 22)},
			CheckInputs: true, Seed: 22,
		}.Run()
		if err != nil {
			t.Errorf("two consumers: %v", err)
		}
	}
	{
		in := graph.Input(8)
		x := NewDense(6, WithActivation("relu"), WithBiasInitializer(RandomUniform(-0.3, 0.3))).Apply(in)
		x = NewReshape([]int{6, 1}).Apply(x)
		x = NewMaxPooling1D(2).Apply(x)
		gradCheck(t, "dense relu → max pool 1-D", in, NewFlatten().Apply(x), 3, 23)
	}
}
