package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/backend"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train"
	"github.com/kerago/kerago/train/optimizers"
)

// workload is one standard training benchmark: a model, its batch size and
// its random data.
type workload struct {
	batch int
	about string
	model func() (*train.Model, error)
	data  func(n int, rng *rand.Rand) (x *tensor.Dense, y []float64)
	loss  string
}

var workloads = map[string]workload{
	"mlp": {batch: 128, about: "784 → Dense(128, relu) → Dense(10, softmax)", loss: "sparse_categorical_crossentropy",
		model: func() (*train.Model, error) {
			in := graph.Input(784)
			x := layers.NewDense(128, layers.WithActivation("relu")).Apply(in)
			return train.NewModel(in, layers.NewDense(10, layers.WithActivation("softmax")).Apply(x))
		},
		data: func(n int, rng *rand.Rand) (*tensor.Dense, []float64) {
			return randomX(rng, n, 784), randomLabels(rng, n, 10)
		}},
	"cnn": {batch: 64, about: "28×28×1 → Conv2D(32,3,relu) → MaxPooling2D(2) → Conv2D(64,3,relu) → GlobalAveragePooling2D → Dense(10, softmax)", loss: "sparse_categorical_crossentropy",
		model: func() (*train.Model, error) {
			in := graph.Input(28, 28, 1)
			x := layers.NewConv2D(32, 3, layers.WithActivation("relu")).Apply(in)
			x = layers.NewMaxPooling2D(2).Apply(x)
			x = layers.NewConv2D(64, 3, layers.WithActivation("relu")).Apply(x)
			x = layers.NewGlobalAveragePooling2D().Apply(x)
			return train.NewModel(in, layers.NewDense(10, layers.WithActivation("softmax")).Apply(x))
		},
		data: func(n int, rng *rand.Rand) (*tensor.Dense, []float64) {
			return randomX(rng, n, 28, 28, 1), randomLabels(rng, n, 10)
		}},
	"gru": {batch: 64, about: "GRU(64) over 50 steps × 32 features → Dense(1, sigmoid)", loss: "binary_crossentropy",
		model: func() (*train.Model, error) {
			in := graph.Input(50, 32)
			x := layers.NewGRU(64).Apply(in)
			return train.NewModel(in, layers.NewDense(1, layers.WithActivation("sigmoid")).Apply(x))
		},
		data: func(n int, rng *rand.Rand) (*tensor.Dense, []float64) {
			return randomX(rng, n, 50, 32), randomLabels(rng, n, 2)
		}},
	"bigru": {batch: 64, about: "Bidirectional(GRU(64)) over 50 steps × 32 features → Dense(1, sigmoid)", loss: "binary_crossentropy",
		model: func() (*train.Model, error) {
			in := graph.Input(50, 32)
			x := layers.NewBidirectional(layers.NewGRU(64)).Apply(in)
			return train.NewModel(in, layers.NewDense(1, layers.WithActivation("sigmoid")).Apply(x))
		},
		data: func(n int, rng *rand.Rand) (*tensor.Dense, []float64) {
			return randomX(rng, n, 50, 32), randomLabels(rng, n, 2)
		}},
	"lstm": {batch: 64, about: "LSTM(64) over 50 steps × 32 features → Dense(1, sigmoid)", loss: "binary_crossentropy",
		model: func() (*train.Model, error) {
			in := graph.Input(50, 32)
			x := layers.NewLSTM(64).Apply(in)
			return train.NewModel(in, layers.NewDense(1, layers.WithActivation("sigmoid")).Apply(x))
		},
		data: func(n int, rng *rand.Rand) (*tensor.Dense, []float64) {
			return randomX(rng, n, 50, 32), randomLabels(rng, n, 2)
		}},
	"article": {batch: 64, about: "the seed article's model: 40 token ids < 5000 → Embedding(5000, 64) → Bidirectional(GRU(128, return_sequences)) → Lambda(l2-normalize) → GlobalMaxPooling1D → Dense(10, softmax)",
		loss: "sparse_categorical_crossentropy", model: articleModel,
		data: func(n int, rng *rand.Rand) (*tensor.Dense, []float64) {
			return randomTokens(rng, n, 40, 5000), randomLabels(rng, n, 10)
		}},
}

// articleModel is the model of the article kerago grew from.
func articleModel() (*train.Model, error) {
	in := graph.Input(40)
	x := layers.NewEmbedding(5000, 64).Apply(in)
	x = layers.NewBidirectional(layers.NewGRU(128, layers.WithReturnSequences())).Apply(x)
	x = layers.NewLambda(func(_ *graph.Context, x graph.Node) (graph.Node, error) { return backend.L2Normalize(x, -1) }).Apply(x)
	x = layers.NewGlobalMaxPooling1D().Apply(x)
	return train.NewModel(in, layers.NewDense(10, layers.WithActivation("softmax")).Apply(x))
}

// randomTokens is n sequences of steps token ids in [1, vocab).
func randomTokens(rng *rand.Rand, n, steps, vocab int) *tensor.Dense {
	data := make([]float32, n*steps)
	for i := range data {
		data[i] = float32(1 + rng.IntN(vocab-1))
	}
	return tensor.New(tensor.WithShape(n, steps), tensor.WithBacking(data))
}

func randomX(rng *rand.Rand, n int, shape ...int) *tensor.Dense {
	size := n
	for _, d := range shape {
		size *= d
	}
	data := make([]float32, size)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return tensor.New(tensor.WithShape(append([]int{n}, shape...)...), tensor.WithBacking(data))
}

func randomLabels(rng *rand.Rand, n, classes int) []float64 {
	y := make([]float64, n)
	for i := range y {
		y[i] = float64(rng.IntN(classes))
	}
	return y
}

// workloadNames are the bench workloads, sorted.
func workloadNames() []string { return slices.Sorted(maps.Keys(workloads)) }

func benchCommand() *cobra.Command {
	var name, cpuProfile string
	var steps, threads int
	var soak bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure training throughput and prediction latency on standard workloads (random data, Adam)",
		Long: "Trains each training workload for --steps steps after a warm-up (repeated as epochs over the same batches\n" +
			"until the measurement lasts at least a second) and prints one line per workload:\n" +
			"workload=mlp samples_per_s=… ms_per_step=… allocs_per_step=… peak_heap_mb=…\n" +
			"The predict workload times Predict calls of 1 and of 32 samples on the mlp and cnn models (at least\n" +
			"40×--steps calls and a second of calls, at most 50,000)\n" +
			"(workload=predict model=mlp samples=1 calls=… p50_us=… p99_us=… allocs_per_call=…), then the throughput\n" +
			"of 1, 2 and 4 goroutines sharing one model for --steps×20 ms each (… goroutines=2 samples_per_s=…).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			names := append(workloadNames(), "predict")
			if name != "all" {
				if _, ok := workloads[name]; !ok && name != "predict" {
					return fmt.Errorf("unknown workload %q; valid workloads: all, %s", name, strings.Join(names, ", "))
				}
				names = []string{name}
			}
			if soak && !cmd.Flags().Changed("steps") {
				steps = 10000
			}
			if steps <= 0 {
				return fmt.Errorf("--steps must be positive, got %d", steps)
			}
			if threads <= 0 {
				return fmt.Errorf("--threads must be positive, got %d", threads)
			}
			if err := checkOutputPath("--cpuprofile", cpuProfile); err != nil {
				return err
			}
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			if soak {
				return runSoak(cmd.OutOrStdout(), slices.DeleteFunc(names, func(n string) bool { return n == "predict" }), steps)
			}
			for _, n := range names {
				var err error
				if n == "predict" {
					err = runPredictBench(cmd.OutOrStdout(), 40*steps, time.Duration(steps)*20*time.Millisecond)
				} else {
					err = runWorkload(cmd.OutOrStdout(), n, workloads[n], steps)
				}
				if err != nil {
					return fmt.Errorf("workload %s: %w", n, err)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "workload", "all", "workload to run: all, "+strings.Join(append(workloadNames(), "predict"), ", "))
	f.IntVar(&steps, "steps", 50, "measured training steps per workload (after 5 warm-up steps)")
	f.IntVar(&threads, "threads", runtime.NumCPU(), "threads to use (GOMAXPROCS)")
	f.BoolVar(&soak, "soak", false, "train --steps steps (default 10000 with --soak) cycling over 100 batches and print the live heap after 10 % of the steps and at the end")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	return cmd
}

// heapPeak records the largest live heap seen at the end of a batch.
type heapPeak struct {
	train.BaseCallback
	sample []metrics.Sample
	peak   uint64
}

func newHeapPeak() *heapPeak {
	return &heapPeak{sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
}

func (h *heapPeak) OnBatchEnd(int, train.Logs) {
	metrics.Read(h.sample)
	if v := h.sample[0].Value.Uint64(); v > h.peak {
		h.peak = v
	}
}

// benchMinTime is the least time a training workload's figure measures
// (torch_bench.py uses the same rule).
const benchMinTime = time.Second

func runWorkload(out io.Writer, name string, w workload, steps int) error {
	m, err := w.model()
	if err != nil {
		return err
	}
	if err := m.Compile(optimizers.Adam(), w.loss); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const warm = 5
	// Warm-up: compiles the training program and sizes the optimizer state.
	wx, wy := w.data(w.batch*warm, rng)
	if _, err := m.Fit(wx, wy, train.BatchSize(w.batch), train.Shuffle(false), train.Verbose(0)); err != nil {
		return err
	}
	x, y := w.data(w.batch*steps, rng)
	// One pass over the steps batches; if it took under benchMinTime, the
	// measurement is that many passes again (epochs over the same data),
	// so that a fast workload is not a few milliseconds at the mercy of
	// one stall of the machine.
	epochs := 1
	var elapsed time.Duration
	var peak *heapPeak
	var before, after runtime.MemStats
	for {
		runtime.GC()
		peak = newHeapPeak()
		runtime.ReadMemStats(&before)
		start := time.Now()
		if _, err := m.Fit(x, y, train.Epochs(epochs), train.BatchSize(w.batch), train.Shuffle(false), train.Verbose(0), train.Callbacks(peak)); err != nil {
			return err
		}
		elapsed = time.Since(start)
		runtime.ReadMemStats(&after)
		if epochs > 1 || elapsed >= benchMinTime {
			break
		}
		epochs = int(math.Ceil(float64(benchMinTime) / float64(elapsed)))
	}
	total := steps * epochs
	fmt.Fprintf(out, "workload=%s samples_per_s=%.1f ms_per_step=%.2f allocs_per_step=%d peak_heap_mb=%.1f\n",
		name, float64(total*w.batch)/elapsed.Seconds(), elapsed.Seconds()*1e3/float64(total),
		(after.Mallocs-before.Mallocs)/uint64(total), float64(peak.peak)/(1<<20))
	return nil
}

// heapAt records the live heap (after a collection) at given step counts.
type heapAt struct {
	train.BaseCallback
	steps int
	at    map[int]uint64
}

func (h *heapAt) OnBatchEnd(int, train.Logs) {
	h.steps++
	if _, ok := h.at[h.steps]; ok {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.at[h.steps] = ms.HeapAlloc
	}
}

// runSoak trains each workload for steps steps over 100 batches of data
// (epochs of 100 steps) and prints the live heap after a tenth of the steps
// and after all of them: a leak shows as growth.
func runSoak(out io.Writer, names []string, steps int) error {
	for _, name := range names {
		w := workloads[name]
		m, err := w.model()
		if err != nil {
			return err
		}
		if err := m.Compile(optimizers.Adam(), w.loss); err != nil {
			return err
		}
		x, y := w.data(w.batch*100, rand.New(rand.NewPCG(1, 2)))
		early := max(steps/10, 1)
		h := &heapAt{at: map[int]uint64{early: 0, steps: 0}}
		epochs := (steps + 99) / 100
		if _, err := m.Fit(x, y, train.Epochs(epochs), train.BatchSize(w.batch), train.Verbose(0), train.Callbacks(h)); err != nil {
			return err
		}
		a, b := float64(h.at[early])/(1<<20), float64(h.at[steps])/(1<<20)
		fmt.Fprintf(out, "workload=%s heap_mb_step_%d=%.1f heap_mb_step_%d=%.1f growth_pct=%.1f\n", name, early, a, steps, b, 100*(b-a)/a)
	}
	return nil
}
