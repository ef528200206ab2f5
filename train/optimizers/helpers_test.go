package optimizers_test

import (
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
)

// network builds Input(sizes[0]) -> Dense(sizes[1]) -> Dense(sizes[2]) …,
// initialised in dt, and returns its weights (kernel, bias, kernel, …).
func network(t testing.TB, dt tensor.Dtype, sizes ...int) []*graph.Weight {
	t.Helper()
	in := graph.Input(sizes[0])
	x := in
	for _, u := range sizes[1:] {
		x = layers.NewDense(u).Apply(x)
	}
	net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Initialise(dt, 1); err != nil {
		t.Fatal(err)
	}
	return net.Weights()
}

// set overwrites w's values.
func set(t testing.TB, w *graph.Weight, vals ...float64) {
	t.Helper()
	if err := w.SetFloat64s(vals); err != nil {
		t.Fatal(err)
	}
}

// grad makes a gradient for w from vals, in w's dtype.
func grad(w *graph.Weight, vals ...float64) *tensor.Dense {
	shape := []int(w.Value().Shape())
	if w.Value().Dtype() == tensor.Float32 {
		v32 := make([]float32, len(vals))
		for i, v := range vals {
			v32[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v32))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), vals...)))
}

// snapshot copies the values of ws.
func snapshot(ws []*graph.Weight) [][]float64 {
	out := make([][]float64, len(ws))
	for i, w := range ws {
		out[i] = w.Float64s()
	}
	return out
}

// closeTo reports whether got is within rtol·|want| + atol of want.
func closeTo(got, want, rtol, atol float64) bool {
	return math.Abs(got-want) <= rtol*math.Abs(want)+atol
}

func checkValues(t *testing.T, what string, got, want []float64, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !closeTo(got[i], want[i], rtol, atol) {
			t.Errorf("%s[%d] = %.15g, want %.15g (diff %.3g)", what, i, got[i], want[i], got[i]-want[i])
		}
	}
}

var dtypes = []tensor.Dtype{tensor.Float64, tensor.Float32}

// tolFor is the relative tolerance for hand-computed values in dt.
func tolFor(dt tensor.Dtype) float64 {
	if dt == tensor.Float32 {
		return 1e-6
	}
	return 0
}
