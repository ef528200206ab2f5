package train

import (
	"runtime"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
)

// fitMemory trains a 784 → Dense(10, softmax) model for one epoch on a
// float32 array of rows×784 values (rows×3136 bytes) given by data, and
// returns the array's size and the bound on Fit's peak heap: the live heap
// before Fit (the array included) plus every byte Fit allocated, which the
// peak cannot exceed.
func fitMemory(tb testing.TB, rows int, data func(x *tensor.Dense, y []int) any) (arrayBytes, peakBound uint64) {
	tb.Helper()
	in := graph.Input(784)
	m, err := NewModel(in, layers.NewDense(10, layers.WithActivation("softmax")).Apply(in), Seed(1))
	if err != nil {
		tb.Fatal(err)
	}
	if err := m.Compile("adam", "sparse_categorical_crossentropy", "accuracy"); err != nil {
		tb.Fatal(err)
	}
	vals := make([]float32, rows*784)
	for i := range vals {
		vals[i] = float32(i%251) / 251
	}
	y := make([]int, rows)
	for i := range y {
		y[i] = i % 10
	}
	x := tensor.New(tensor.WithShape(rows, 784), tensor.WithBacking(vals))
	in2 := data(x, y)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := m.Fit(in2, nilIfDataset(in2, y), Epochs(1), BatchSize(256), Verbose(0)); err != nil {
		tb.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(vals)
	return uint64(len(vals) * 4), before.HeapAlloc + (after.TotalAlloc - before.TotalAlloc)
}

// nilIfDataset is the y Fit takes beside x: nil for a Dataset.
func nilIfDataset(x any, y []int) any {
	if _, ok := x.(*Dataset); ok {
		return nil
	}
	return y
}

// BenchmarkFitFloat32Memory trains one epoch on a 100 MB float32 array
// (32,000 × 784) and reports peak_heap/array: the bound on Fit's peak heap
// (live heap before, array included, plus all Fit allocated) over the
// array's size. float32 data stays float32, so it stays near 1.
func BenchmarkFitFloat32Memory(b *testing.B) {
	for range b.N {
		size, peak := fitMemory(b, 32000, func(x *tensor.Dense, _ []int) any { return x })
		b.ReportMetric(float64(peak)/float64(size), "peak_heap/array")
		b.ReportMetric(float64(size)/1e6, "array_MB")
	}
}
