package train

import (
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
)

// BenchmarkPredictMLP times one Predict call of 1 and of 32 samples on the
// bench's MLP (784 → Dense(128, relu) → Dense(10, softmax)): the fixed
// cost of a call beside the arithmetic.
func BenchmarkPredictMLP(b *testing.B) {
	in := graph.Input(784)
	x := layers.NewDense(128, layers.WithActivation("relu")).Apply(in)
	m, err := NewModel(in, layers.NewDense(10, layers.WithActivation("softmax")).Apply(x))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 32} {
		data := make([]float32, n*784)
		for i := range data {
			data[i] = float32(i%7) / 7
		}
		x := tensor.New(tensor.WithShape(n, 784), tensor.WithBacking(data))
		b.Run(map[int]string{1: "1", 32: "32"}[n], func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := m.Predict(x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPredictAllocations pins what a Predict call allocates once its
// program is compiled: the result (gorgonia's tensor.New makes 8
// allocations for a Dense: header, values, shape and strides through its
// int pools) plus the result's shape and the input shape's copy. The
// configuration, the input arrays and the sample indices come from a
// pooled scratch. Under the race detector sync.Pool drops items at random,
// so the bound is checked without it only.
func TestPredictAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool is randomized under the race detector")
	}
	in := graph.Input(784)
	m, err := NewModel(in, layers.NewDense(10, layers.WithActivation("softmax")).Apply(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 32} {
		x := tensor.New(tensor.WithShape(n, 784), tensor.WithBacking(make([]float32, n*784)))
		if _, err := m.Predict(x); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := m.Predict(x); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 10 {
			t.Errorf("Predict of %d samples: %.1f allocations per call, want at most 10", n, allocs)
		}
	}
}
