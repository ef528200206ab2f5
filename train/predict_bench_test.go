package train

import (
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
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
// int pools) plus the result's shape. The
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
		if allocs > 9 {
			t.Errorf("Predict of %d samples: %.1f allocations per call, want at most 9", n, allocs)
		}
	}
}

// TestPredictInto checks that PredictInto writes what Predict returns (one
// batch, several batches with a partial last one, and a Dataset), that in
// steady state it allocates nothing, and that a dst of the wrong type or
// shape, a nil dst or a model of two outputs is refused without writing.
func TestPredictInto(t *testing.T) {
	in := graph.Input(784)
	m, err := NewModel(in, layers.NewDense(10, layers.WithActivation("softmax")).Apply(in))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 32, 70} {
		xs := make([]float32, n*784)
		for i := range xs {
			xs[i] = float32(rng.NormFloat64())
		}
		x := tensor.New(tensor.WithShape(n, 784), tensor.WithBacking(xs))
		want, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		dst := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(n, 10))
		if err := m.PredictInto(dst, x); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(dst.Float32s(), want.Float32s()) {
			t.Fatalf("%d samples: PredictInto differs from Predict", n)
		}
		ds := FromArrays(x, nil, 16)
		clear(dst.Float32s())
		if err := m.PredictInto(dst, ds); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(dst.Float32s(), want.Float32s()) {
			t.Fatalf("%d samples from a Dataset: PredictInto differs from Predict", n)
		}
		if n == 32 && !raceEnabled {
			allocs := testing.AllocsPerRun(200, func() {
				if err := m.PredictInto(dst, x); err != nil {
					t.Fatal(err)
				}
			})
			if allocs > 0 {
				t.Errorf("PredictInto of %d samples: %.1f allocations per call, want none", n, allocs)
			}
		}
	}
	x := tensor.New(tensor.WithShape(3, 784), tensor.WithBacking(make([]float32, 3*784)))
	for _, c := range []struct {
		dst  *tensor.Dense
		want string
	}{
		{tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(4, 10)), "PredictInto: dst has shape (4, 10), the prediction has shape (3, 10)"},
		{tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(3, 5, 2)), "PredictInto: dst has shape (3, 5, 2), the prediction has shape (3, 10)"},
		{tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(3, 10)), "PredictInto: dst holds float64, the model predicts float32"},
		{nil, "PredictInto: dst is nil"},
	} {
		var before []float32
		if c.dst != nil && c.dst.Dtype() == tensor.Float32 {
			for i := range c.dst.Float32s() {
				c.dst.Float32s()[i] = 7
			}
			before = slices.Clone(c.dst.Float32s())
		}
		err := m.PredictInto(c.dst, x)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error containing %q", err, c.want)
		}
		if before != nil && !slices.Equal(before, c.dst.Float32s()) {
			t.Errorf("%q: dst written", c.want)
		}
	}
	a, b := graph.Input(4), graph.Input(4)
	two, err := NewModel([]*graph.Tensor{a, b}, []*graph.Tensor{layers.NewDense(2).Apply(a), layers.NewDense(2).Apply(b)})
	if err != nil {
		t.Fatal(err)
	}
	err = two.PredictInto(tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(1, 2)), nil)
	if err == nil || !strings.Contains(err.Error(), "PredictInto: the model has 2 outputs; use PredictAll") {
		t.Errorf("two outputs: got %v", err)
	}
}

// TestPredictIntoConvAllocations pins PredictInto's allocations on a
// convolutional model (conv, max pooling, global pooling, dense) at 1 and
// 32 samples: none in steady state, the parallel pooling included (with
// more than one processor).
func TestPredictIntoConvAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool is randomized under the race detector")
	}
	in := graph.Input(28, 28, 1)
	x := layers.NewConv2D(32, 3, layers.WithActivation("relu")).Apply(in)
	x = layers.NewMaxPooling2D(2).Apply(x)
	x = layers.NewConv2D(64, 3, layers.WithActivation("relu")).Apply(x)
	x = layers.NewGlobalAveragePooling2D().Apply(x)
	m, err := NewModel(in, layers.NewDense(10, layers.WithActivation("softmax")).Apply(x))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 32} {
		xt := tensor.New(tensor.WithShape(n, 28, 28, 1), tensor.WithBacking(make([]float32, n*784)))
		dst := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(n, 10))
		for range 50 { // the pools of both processors filled
			if err := m.PredictInto(dst, xt); err != nil {
				t.Fatal(err)
			}
		}
		// Counted by hand: testing.AllocsPerRun runs at GOMAXPROCS 1,
		// where the parallel loops take their serial path. Without
		// collections meanwhile, which empty the sync.Pools the scratch
		// comes from.
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		// A sync.Pool misses now and then when the goroutine moves to
		// another processor (often when other tests load the machine), so
		// the best of 20 rounds of 10 calls counts: an allocation in every
		// call shows in every round.
		const rounds, calls = 20, 10
		best := uint64(math.MaxUint64)
		for range rounds {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range calls {
				if err := m.PredictInto(dst, xt); err != nil {
					t.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			best = min(best, after.Mallocs-before.Mallocs)
		}
		if best > 1 {
			t.Errorf("PredictInto of %d images: %d allocations in the best of %d rounds of %d calls, want none", n, best, rounds, calls)
		}
	}
}
