package train

import (
	"path/filepath"
	"runtime"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
)

// fitMemory trains a 784 → Dense(10, softmax) model for one epoch on a
// float32 array of rows×784 values (rows×3136 bytes) given to Fit as data
// makes it (dropArray: data wrote it to disk; it is dropped before Fit),
// and returns the array's size, the peak heap seen at batch ends, and a
// bound on the peak: the live heap before Fit (the array included, unless
// dropped) plus every byte Fit allocated, which the peak cannot exceed
// (tight when Fit allocates little; far above the peak when it streams,
// as the garbage of past batches is collected).
func fitMemory(tb testing.TB, rows int, data func(x *tensor.Dense, y []int) any, dropArray bool) (arrayBytes, peakHeap, bound uint64) {
	tb.Helper()
	in := graph.Input(784)
	m, err := NewModel(in, layers.NewDense(10, layers.WithActivation("softmax")).Apply(in), Seed(1))
	if err != nil {
		tb.Fatal(err)
	}
	if err := m.Compile("adam", "sparse_categorical_crossentropy", "accuracy"); err != nil {
		tb.Fatal(err)
	}
	in2, y, keep, size := memoryData(rows, data, dropArray)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := &heapPeak{}
	opts := []FitOption{Epochs(1), Verbose(0), Callbacks(peak)}
	if _, ok := in2.(*Dataset); !ok {
		opts = append(opts, BatchSize(256))
	}
	if _, err := m.Fit(in2, nilIfDataset(in2, y), opts...); err != nil {
		tb.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return size, max(peak.bytes, after.HeapAlloc), before.HeapAlloc + (after.TotalAlloc - before.TotalAlloc)
}

// memoryData makes fitMemory's array (rows×784 float32) and labels and
// hands them to data; keep is the array unless dropArray (a frame of its
// own, so that nothing else keeps the array alive).
func memoryData(rows int, data func(x *tensor.Dense, y []int) any, dropArray bool) (in any, y []int, keep any, size uint64) {
	vals := make([]float32, rows*784)
	for i := range vals {
		vals[i] = float32(i%251) / 251
	}
	y = make([]int, rows)
	for i := range y {
		y[i] = i % 10
	}
	in = data(tensor.New(tensor.WithShape(rows, 784), tensor.WithBacking(vals)), y)
	if !dropArray {
		keep = vals
	}
	return in, y, keep, uint64(len(vals) * 4)
}

// heapPeak records the largest heap (runtime's HeapAlloc: live objects and
// garbage not yet collected) seen at a batch's end.
type heapPeak struct {
	BaseCallback
	bytes uint64
}

// OnBatchEnd samples the heap.
func (h *heapPeak) OnBatchEnd(int, Logs) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.bytes = max(h.bytes, ms.HeapAlloc)
}

// nilIfDataset is the y Fit takes beside x: nil for a Dataset.
func nilIfDataset(x any, y []int) any {
	if _, ok := x.(*Dataset); ok {
		return nil
	}
	return y
}

// BenchmarkFitFloat32Memory trains one epoch on a 100 MB float32 array
// (32,000 × 784) and reports peak_heap/array, the largest heap seen at a
// batch's end over the array's size, and alloc_bound/array, the bound on
// the peak (live heap before Fit plus all it allocated) over the size. float32 data stays float32, so it stays near 1 for the
// array itself (arrays) and for a Dataset over it (dataset: batches are
// slices of it; shuffled: a 4096-sample shuffle buffer copies each batch).
// From an NPY file read lazily (npy) the array is never in memory: the
// figure is the heap Fit needs, over the size of the data it trained on.
func BenchmarkFitFloat32Memory(b *testing.B) {
	const rows = 32000
	cases := []struct {
		name string
		data func(tb testing.TB, x *tensor.Dense, y []int) any
	}{
		{"arrays", func(_ testing.TB, x *tensor.Dense, _ []int) any { return x }},
		{"dataset", func(_ testing.TB, x *tensor.Dense, y []int) any { return FromArrays(x, y, 256) }},
		{"shuffled", func(_ testing.TB, x *tensor.Dense, y []int) any {
			return FromArrays(x, y, 256).Shuffle(4096, 1).Prefetch(2)
		}},
		{"npy", func(tb testing.TB, x *tensor.Dense, y []int) any {
			dir := tb.TempDir()
			xp, yp := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
			labels := make([]float32, len(y))
			for i, v := range y {
				labels[i] = float32(v)
			}
			if err := WriteNPY(xp, x); err != nil {
				tb.Fatal(err)
			}
			if err := WriteNPY(yp, tensor.New(tensor.WithShape(len(y)), tensor.WithBacking(labels))); err != nil {
				tb.Fatal(err)
			}
			return FromNPY(xp, yp, 256)
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				size, peak, bound := fitMemory(b, rows, func(x *tensor.Dense, y []int) any { return c.data(b, x, y) }, c.name == "npy")
				b.ReportMetric(float64(peak)/float64(size), "peak_heap/array")
				b.ReportMetric(float64(bound)/float64(size), "alloc_bound/array")
				b.ReportMetric(float64(size)/1e6, "array_MB")
			}
		})
	}
}
