package layers

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// Every error below comes back through graph.Apply, on the output tensor,
// naming the layer and its class, and stops graph.NewNetwork.

func TestUnknownActivation(t *testing.T) {
	valid := "valid activations: " + strings.Join(ActivationNames(), ", ")
	wantErr(t, NewDense(3, WithActivation("relux"), WithName("d_act")).Apply(graph.Input(4)),
		"layer d_act (Dense)", `unknown activation "relux"`, valid, "(input shape (None, 4))")
	wantErr(t, NewActivation("Relu", WithName("a_act")).Apply(graph.Input(4)),
		"layer a_act (Activation)", `unknown activation "Relu"`, valid)
	if _, err := Activation("nope"); err == nil {
		t.Error("Activation(nope) succeeded")
	}
	// "" is linear, as Keras's activation=None.
	if err := NewActivation("").Apply(graph.Input(2)).Err(); err != nil {
		t.Error(err)
	}
}

func TestDenseErrors(t *testing.T) {
	for _, u := range []int{0, -2} {
		wantErr(t, NewDense(u, WithName("d_units")).Apply(graph.Input(4)),
			"layer d_units (Dense)", "units must be positive, got "+strconv.Itoa(u))
	}
	d := NewDense(3, WithName("d_twice"))
	if err := d.Apply(graph.Input(4)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := d.Apply(graph.Input(2, 4)).Err(); err != nil {
		t.Errorf("a second application with the same last dim: %v", err)
	}
	wantErr(t, d.Apply(graph.Input(5)),
		"layer d_twice (Dense)", "expected axis -1 of input shape to have value 4 but got shape (None, 5)")
	wantErr(t, NewDense(2, WithName("d_rank")).Apply(graph.Input()),
		"layer d_rank (Dense)", "min_ndim=2", "(input shape (None,))")
}

func TestDropoutErrors(t *testing.T) {
	for _, c := range []struct {
		rate float64
		want string
	}{
		{1.5, "rate must be in [0, 1), got 1.5"},
		{1, "rate must be in [0, 1), got 1"},
		{-0.1, "rate must be in [0, 1), got -0.1"},
		{math.NaN(), "rate must be in [0, 1), got NaN"},
	} {
		wantErr(t, NewDropout(c.rate, WithName("do_rate")).Apply(graph.Input(3)), "layer do_rate (Dropout)", c.want)
	}
	wantErr(t, NewDropout(0.5, WithNoiseShape(1), WithName("do_rank")).Apply(graph.Input(3, 4)),
		"layer do_rank (Dropout)", "noise shape [1] (batch axis excluded) must have the input's rank 2")
	wantErr(t, NewDropout(0.5, WithNoiseShape(2, 4), WithName("do_bc")).Apply(graph.Input(3, 4)),
		"layer do_bc (Dropout)", "noise shape [2 4] is not broadcastable", "axis 1 has size 3", "(input shape (None, 3, 4))")
	wantErr(t, NewDropout(0.5, WithNoiseShape(-1, 4)).Apply(graph.Input(3, 4)), "(Dropout)", "noise shape [-1 4]")
}

// TestReshapeErrorsG16 covers docs/SEMANTICS.md §24.16 and the other bad targets.
func TestReshapeErrorsG16(t *testing.T) {
	wantErr(t, NewReshape([]int{5, -1}, WithName("r_div")).Apply(graph.Input(12)),
		"layer r_div (Reshape)", "cannot reshape input shape (None, 12) into target shape (5, -1)",
		"total size of new array must be unchanged")
	wantErr(t, NewReshape([]int{-1, -1}, WithName("r_two")).Apply(graph.Input(12)),
		"layer r_two (Reshape)", "target shape (-1, -1)", "only specify one unknown dimension")
	wantErr(t, NewReshape([]int{5, 2}, WithName("r_size")).Apply(graph.Input(3, 4)),
		"layer r_size (Reshape)", "cannot reshape input shape (None, 3, 4) into target shape (5, 2)",
		"12 elements per sample, the target has 10")
	wantErr(t, NewReshape([]int{0, 3}, WithName("r_zero")).Apply(graph.Input(3)),
		"layer r_zero (Reshape)", "target shape (0, 3): dims must be positive or -1, got 0")
	wantErr(t, NewReshape([]int{-2}).Apply(graph.Input(3)), "target shape (-2,)")
}

// TestErrorPropagation: the first error reaches NewNetwork and later layers
// carry it unchanged; applying a layer to nothing or to nil is an error, not a
// panic.
func TestErrorPropagation(t *testing.T) {
	in := graph.Input(12)
	x := NewReshape([]int{5, -1}, WithName("r_first")).Apply(in)
	y := NewDense(3).Apply(NewFlatten().Apply(x))
	wantErr(t, y, "layer r_first (Reshape)")
	_, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{y})
	if err == nil || !strings.Contains(err.Error(), "r_first") {
		t.Errorf("NewNetwork: %v", err)
	}
	wantErr(t, NewDense(2, WithName("d_nil")).Apply(nil), "layer d_nil (Dense)", "input 0 is nil")
	wantErr(t, NewDropout(0.2, WithName("do_nil")).Apply(nil), "do_nil")
	wantErr(t, NewFlatten(WithName("f_nil")).Apply(nil), "f_nil")
	wantErr(t, NewReshape([]int{1}, WithName("r_nil")).Apply(nil), "r_nil")
	wantErr(t, NewActivation("relu", WithName("a_nil")).Apply(nil), "a_nil")
}

// TestDefaultNames: Keras-style default names and classes.
func TestDefaultNames(t *testing.T) {
	for _, c := range []struct {
		l      graph.Layer
		prefix string
		class  string
	}{
		{NewDense(1), "dense", "Dense"},
		{NewDropout(0.1), "dropout", "Dropout"},
		{NewFlatten(), "flatten", "Flatten"},
		{NewReshape([]int{1}), "reshape", "Reshape"},
		{NewActivation("relu"), "activation", "Activation"},
	} {
		if !strings.HasPrefix(c.l.Name(), c.prefix) || c.l.Class() != c.class {
			t.Errorf("name %q class %q, want %s… %s", c.l.Name(), c.l.Class(), c.prefix, c.class)
		}
	}
	if n := NewFlatten(WithName("my_flatten")).Name(); n != "my_flatten" {
		t.Errorf("WithName: %q", n)
	}
}

// TestWeightlessLayersInBothModes: Dropout, Flatten, Reshape and Activation
// compile into training and inference programs of both dtypes.
func TestWeightlessLayersInBothModes(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		in := graph.Input(2, 6)
		x := NewDropout(0.5, WithNoiseShape(1, 0)).Apply(in)
		x = NewFlatten().Apply(x)
		x = NewReshape([]int{3, -1}).Apply(x)
		x = NewActivation("tanh").Apply(x)
		out := NewDense(2).Apply(x)
		net := newNet(t, in, out, dt, 1)
		for _, training := range []bool{false, true} {
			spec := graph.ProgramSpec{Training: training, Batch: 3}
			if training {
				spec = trainSpec(3, 1)
			}
			got, _ := runOnce(t, net, spec, randomValues(36, 1))
			if len(got) != 3*3*2 {
				t.Errorf("%v training=%v: %d outputs", dt, training, len(got))
			}
		}
	}
}
