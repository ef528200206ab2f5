package layers

import (
	"testing"

	"github.com/kerago/kerago/graph"
)

// TestDenseGradients checks Dense's gradients (kernel, bias and input) by
// finite differences for every activation, with and without bias. Inputs
// are at least 0.1 away from 0 and the bias is random, so no pre-activation
// sits on a kink.
func TestDenseGradients(t *testing.T) {
	for _, act := range ActivationNames() {
		for _, bias := range []bool{true, false} {
			opts := []DenseOption{WithActivation(act), WithBiasInitializer(RandomUniform(-0.5, 0.5))}
			name := act + " with bias"
			if !bias {
				opts = []DenseOption{WithActivation(act), WithoutBias()}
				name = act + " without bias"
			}
			in := graph.Input(5)
			gradCheck(t, name, in, NewDense(4, opts...).Apply(in), 3, 7)
		}
	}
}

// TestDense3DGradients checks Dense on a 3-D input (product on the last
// axis, leading axes kept), with a bias and a non-linear activation.
func TestDense3DGradients(t *testing.T) {
	for _, act := range []string{"linear", "tanh", "softmax"} {
		in := graph.Input(3, 4)
		out := NewDense(5, WithActivation(act), WithBiasInitializer(RandomUniform(-0.5, 0.5))).Apply(in)
		if !out.Shape().Equal(graph.Shape{3, 5}) {
			t.Fatalf("shape %v, want (None, 3, 5)", out.Shape())
		}
		gradCheck(t, "3-D "+act, in, out, 2, 8)
	}
}

// TestLayerGradients checks the gradient through Dropout (mask drawn once,
// training mode), Flatten, Reshape and the Activation layer.
func TestLayerGradients(t *testing.T) {
	{
		in := graph.Input(6)
		x := NewDropout(0.4).Apply(in)
		gradCheck(t, "Dropout→Dense", in, NewDense(3, WithActivation("tanh")).Apply(x), 4, 9)
	}
	{
		in := graph.Input(6)
		gradCheck(t, "Dropout alone", in, NewDropout(0.5).Apply(in), 4, 10)
	}
	{
		in := graph.Input(3, 4)
		x := NewDropout(0.5, WithNoiseShape(1, 0)).Apply(in)
		gradCheck(t, "Dropout noise shape", in, NewDense(2, WithActivation("sigmoid")).Apply(x), 3, 11)
	}
	{
		in := graph.Input(2, 3, 2)
		x := NewFlatten().Apply(in)
		gradCheck(t, "Flatten→Dense", in, NewDense(3, WithActivation("tanh")).Apply(x), 2, 12)
	}
	{
		in := graph.Input(12)
		x := NewReshape([]int{-1, 2, 2}).Apply(in)
		x = NewDense(3, WithActivation("elu")).Apply(x)
		gradCheck(t, "Reshape→Dense", in, x, 2, 13)
	}
	for _, act := range []string{"relu", "softmax", "gelu", "selu", "hard_sigmoid"} {
		in := graph.Input(2, 5)
		gradCheck(t, "Activation "+act, in, NewActivation(act).Apply(in), 3, 14)
	}
}

// TestRegularizerGradients checks that the penalties' gradients reach the
// kernel and the bias (large coefficients, so they dominate).
func TestRegularizerGradients(t *testing.T) {
	cases := map[string]graph.Regularizer{
		"L1": L1(0.5), "L2": L2(0.5), "L1L2": L1L2(0.3, 0.7),
	}
	for name, reg := range cases {
		in := graph.Input(4)
		out := NewDense(3, WithActivation("tanh"),
			WithBiasInitializer(RandomUniform(-0.5, 0.5)),
			WithKernelRegularizer(reg), WithBiasRegularizer(reg)).Apply(in)
		gradCheck(t, name, in, out, 2, 15)
	}
}
