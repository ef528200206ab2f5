package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/train"
)

// predictModels are the models the predict workload serves: the training
// workloads' MLP and CNN, untrained (their weights do not change the cost).
var predictModels = []string{"mlp", "cnn"}

// runPredictBench measures Predict as a service sees it, for each of
// predictModels: the latency of single calls of 1 and of 32 samples over
// at least calls calls and at least predictMinTime of calls, at most
// predictMaxCalls (after a warm-up), as median and 99th percentile, with the
// allocations per call; then the throughput of 1, 2 and 4 goroutines
// sharing the model, each predicting 32 samples at a time for about
// window.
func runPredictBench(out io.Writer, calls int, window time.Duration) error {
	for _, name := range predictModels {
		w := workloads[name]
		m, err := w.model()
		if err != nil {
			return err
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for _, n := range []int{1, 32} {
			x, _ := w.data(n, rng)
			lat, allocs, err := predictLatencies(m, x, calls)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "workload=predict model=%s samples=%d calls=%d p50_us=%.1f p99_us=%.1f allocs_per_call=%d\n",
				name, n, len(lat), percentile(lat, 0.50), percentile(lat, 0.99), allocs)
		}
		x, _ := w.data(32, rng)
		for _, g := range []int{1, 2, 4} {
			sps, err := predictThroughput(m, x, g, window)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "workload=predict model=%s samples=32 goroutines=%d samples_per_s=%.1f\n", name, g, sps)
		}
	}
	return nil
}

// predictMinTime and predictMaxCalls bound the latency measurement of one
// case (torch_bench.py uses the same rule): a 99th percentile over a few
// thousand calls of a few microseconds moves with each stall of the VM.
const (
	predictMinTime  = time.Second
	predictMaxCalls = 50000
)

// predictLatencies times Predict calls on x (after calls/10 + 10 untimed
// ones): at least calls of them and at least predictMinTime of calls, at
// most predictMaxCalls, in microseconds; and counts the allocations per
// call.
func predictLatencies(m *train.Model, x *tensor.Dense, calls int) ([]float64, uint64, error) {
	for range calls/10 + 10 {
		if _, err := m.Predict(x); err != nil {
			return nil, 0, err
		}
	}
	lat := make([]float64, 0, predictMaxCalls)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	begin := time.Now()
	for len(lat) < predictMaxCalls && (len(lat) < calls || time.Since(begin) < predictMinTime) {
		start := time.Now()
		if _, err := m.Predict(x); err != nil {
			return nil, 0, err
		}
		lat = append(lat, float64(time.Since(start).Nanoseconds())/1e3)
	}
	runtime.ReadMemStats(&after)
	return lat, (after.Mallocs - before.Mallocs) / uint64(len(lat)), nil
}

// percentile is the q-quantile of v (nearest rank), v sorted in place.
func percentile(v []float64, q float64) float64 {
	slices.Sort(v)
	i := int(q*float64(len(v))+0.5) - 1
	return v[min(max(i, 0), len(v)-1)]
}

// predictThroughput runs goroutines goroutines, each predicting x on m
// in a loop for about window, and returns the samples predicted per second.
func predictThroughput(m *train.Model, x *tensor.Dense, goroutines int, window time.Duration) (float64, error) {
	var wg sync.WaitGroup
	counts := make([]int, goroutines)
	errs := make([]error, goroutines)
	start := time.Now()
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < window {
				if _, err := m.Predict(x); err != nil {
					errs[g] = err
					return
				}
				counts[g] += x.Shape()[0]
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	total := 0
	for g := range goroutines {
		if errs[g] != nil {
			return 0, errs[g]
		}
		total += counts[g]
	}
	return float64(total) / elapsed.Seconds(), nil
}
