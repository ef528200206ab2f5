package train

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"gorgonia.org/tensor"
)

// concurrencyData is n samples of resumeModel's 5 features, 3 classes,
// drawn from seed (the resume and service tests' training sets).
func concurrencyData(n int, seed uint64) ([][]float64, []float64) {
	rng := rand.New(rand.NewPCG(seed, 9))
	x := make([][]float64, n)
	y := make([]float64, n)
	for i := range x {
		x[i] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		y[i] = float64(rng.IntN(3))
	}
	return x, y
}

// TestConcurrentPredictionsEqualSerial predicts from 8 goroutines at once,
// each with its own sample counts: every result equals the serial one bit
// for bit.
func TestConcurrentPredictionsEqualSerial(t *testing.T) {
	m := resumeModel(t, tensor.Float32)
	x, _ := concurrencyData(40, 1)
	want := make([]*tensor.Dense, len(x)+1)
	for n := 1; n <= len(x); n++ {
		y, err := m.Predict(x[:n], BatchSize(8))
		if err != nil {
			t.Fatal(err)
		}
		want[n] = y
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 30 {
				n := 1 + (g*7+k*5)%len(x)
				y, err := m.Predict(x[:n], BatchSize(8))
				if err != nil {
					errs <- err.Error()
					return
				}
				if !reflect.DeepEqual(y.Data(), want[n].Data()) {
					errs <- "a concurrent prediction differs from the serial one"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestPredictSaveDuringFit predicts from 8 goroutines and saves the model
// from another while Fit trains it. Each Predict call sees one set of
// weights (the same sample, repeated across batches, gets the same output
// in every batch), saves write a model that loads, a second Fit is
// refused, and Compile is refused while training. Run it with -race.
func TestPredictSaveDuringFit(t *testing.T) {
	m := resumeModel(t, tensor.Float32)
	x, y := concurrencyData(192, 2)
	same := make([][]float64, 24) // one sample, three batches of 8
	for i := range same {
		same[i] = x[0]
	}
	dir := t.TempDir()
	stop := make(chan struct{})
	errs := make(chan string, 64)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				out, err := m.Predict(same, BatchSize(8))
				if err != nil {
					errs <- err.Error()
					return
				}
				d := out.Float32s()
				for i := 3; i < len(d); i++ {
					if d[i] != d[i%3] {
						errs <- "one Predict call saw two sets of weights"
						return
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			path := filepath.Join(dir, "snap.keras")
			if err := m.SaveModel(path); err != nil {
				errs <- err.Error()
				return
			}
			if _, err := LoadModel(path); err != nil {
				errs <- "a model saved during Fit does not load: " + err.Error()
				return
			}
		}
	}()
	started, checked := make(chan struct{}), make(chan struct{})
	fitDone := make(chan error, 1)
	go func() {
		_, err := m.Fit(x, y, Epochs(3), BatchSize(16), Verbose(0), Callbacks(&pauseOnce{started: started, resume: checked}))
		fitDone <- err
	}()
	<-started // Fit is between its first two steps
	if _, err := m.Fit(x, y, Verbose(0)); err == nil || !strings.Contains(err.Error(), "already training") {
		t.Errorf("a second concurrent Fit: got %v", err)
	}
	if err := m.Compile("adam", "mse"); err == nil || !strings.Contains(err.Error(), "is training") {
		t.Errorf("Compile during Fit: got %v", err)
	}
	close(checked)
	if err := <-fitDone; err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// pauseOnce signals started after Fit's first batch and waits for resume.
type pauseOnce struct {
	BaseCallback
	started, resume chan struct{}
	done            bool
}

func (p *pauseOnce) OnBatchEnd(int, Logs) {
	if !p.done {
		p.done = true
		close(p.started)
		<-p.resume
	}
}

// TestPredictManySizesBoundedMemory predicts every sample count from 1 to
// 400, 25 times over (10,000 predictions): the last partial batch is padded
// to a power of two, so the predict programs are those of batch sizes 32,
// 16, 8, 4, 2 and 1, and the heap after the last round is the heap after
// the first (within 1 MiB); no goroutine is left behind. Each prediction agrees with the rows of a
// prediction of all 400 samples within 1e-6 (not bit for bit: matrix
// products of different batch sizes may sum in different orders).
func TestPredictManySizesBoundedMemory(t *testing.T) {
	m := resumeModel(t, tensor.Float32)
	x, _ := concurrencyData(400, 7)
	all, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	goroutines := runtime.NumGoroutine()
	var first uint64
	const rounds = 25
	for round := range rounds {
		for n := 1; n <= len(x); n++ {
			y, err := m.Predict(x[:n])
			if err != nil {
				t.Fatal(err)
			}
			if round == 0 {
				for i, v := range y.Float32s() {
					if d := math.Abs(float64(v - all.Float32s()[i])); !(d <= 1e-6) {
						t.Fatalf("%d samples: output %d is %v, %v in the 400-sample prediction", n, i, v, all.Float32s()[i])
					}
				}
			}
		}
		if round == 0 {
			first = heap()
		}
	}
	last := heap()
	if last > first+1<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d rounds", first, last, rounds-1)
	}
	t.Logf("heap after round 1: %d bytes; after round %d: %d bytes", first, rounds, last)
	if got := m.predictProgs.len(); got != 6 {
		t.Errorf("%d predict programs, want 6 (batch sizes 32, 16, 8, 4, 2, 1)", got)
	}
	if g := runtime.NumGoroutine(); g > goroutines {
		t.Errorf("%d goroutines after predicting, %d before", g, goroutines)
	}
}
