package train

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train/optimizers"
)

// resumeModel is a small model with dropout, batch normalization and
// shuffling, compiled with Adam (AMSGrad, clipping), in dt.
func resumeModel(t *testing.T, dt tensor.Dtype) *Model {
	t.Helper()
	return resumeModelWith(t, dt, resumeAdam)
}

// resumeAdam is resumeModel's optimizer; resumeNadam one with optimizer
// state beyond the slots (u_product) and a learning-rate schedule.
func resumeAdam() optimizers.Optimizer {
	return optimizers.Adam(optimizers.LR(0.01), optimizers.AMSGrad(), optimizers.ClipNorm(1))
}

func resumeNadam() optimizers.Optimizer {
	target := 0.02
	return optimizers.Nadam(optimizers.ClipNorm(1), optimizers.LRSchedule(optimizers.CosineDecay{
		InitialLearningRate: 0.001, DecaySteps: 10, Alpha: 0.1, WarmupTarget: &target, WarmupSteps: 3}))
}

// resumeModelWith is resumeModel compiled with the optimizer mk returns.
func resumeModelWith(t *testing.T, dt tensor.Dtype, mk func() optimizers.Optimizer) *Model {
	t.Helper()
	in := graph.Input(5)
	x := layers.NewDense(8, layers.WithActivation("relu")).Apply(in)
	x = layers.NewDropout(0.3).Apply(x)
	x = layers.NewBatchNormalization().Apply(x)
	out := layers.NewDense(3, layers.WithActivation("softmax")).Apply(x)
	m, err := NewModel(in, out, Seed(4), DType(dt))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(mk(), "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestResumeTrainingExactly trains 2 epochs, saves the model whole, loads it
// as a new model and trains 2 more (InitialEpoch 2): the weights are bit for
// bit those of 4 epochs in one run, in float32 and float64, with Adam and
// with Nadam driven by a CosineDecay schedule.
func TestResumeTrainingExactly(t *testing.T) {
	x, y := concurrencyData(60, 1)
	for _, c := range []struct {
		dt tensor.Dtype
		mk func() optimizers.Optimizer
	}{{tensor.Float32, resumeAdam}, {tensor.Float64, resumeAdam}, {tensor.Float32, resumeNadam}, {tensor.Float64, resumeNadam}} {
		dt := c.dt
		whole, first := wholeAndHalf(t, dt, x, y, c.mk)
		path := filepath.Join(t.TempDir(), "half.keras")
		if err := first.SaveModel(path); err != nil {
			t.Fatal(err)
		}
		second, err := LoadModel(path)
		if err != nil {
			t.Fatal(err)
		}
		if second.DType() != dt || second.Optimizer().Iterations() != first.Optimizer().Iterations() {
			t.Fatalf("%v: reloaded dtype %v, %d iterations (want %d)", dt, second.DType(), second.Optimizer().Iterations(), first.Optimizer().Iterations())
		}
		if _, err := second.Fit(x, y, Epochs(4), InitialEpoch(2), BatchSize(16), Verbose(0)); err != nil {
			t.Fatal(err)
		}
		want, got := whole.GetWeights(), second.GetWeights()
		for i := range want {
			if !sameValues(got[i], want[i]) {
				t.Errorf("%v: weight %s differs from the uninterrupted run", dt, whole.Weights()[i].Name())
			}
		}
	}
}

// wholeAndHalf trains one resumeModelWith mk 4 epochs and another 2.
func wholeAndHalf(t *testing.T, dt tensor.Dtype, x [][]float64, y []float64, mk func() optimizers.Optimizer) (whole, half *Model) {
	t.Helper()
	whole, half = resumeModelWith(t, dt, mk), resumeModelWith(t, dt, mk)
	if _, err := whole.Fit(x, y, Epochs(4), BatchSize(16), Verbose(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := half.Fit(x, y, Epochs(2), BatchSize(16), Verbose(0)); err != nil {
		t.Fatal(err)
	}
	return whole, half
}

// resumeChildEnv names, in the environment of the test binary run again
// by TestResumeInNewProcess, the model file to resume from and the file to
// save the result to (separated by a path-list separator).
const resumeChildEnv = "KERAGO_TEST_RESUME_CHILD"

// TestResumeInNewProcess is TestResumeTrainingExactly with the last two
// epochs in another process: the test binary runs again, loads the saved
// model, trains epochs 3 and 4 and saves it; the weights it saved are bit
// for bit those of 4 epochs in one run.
func TestResumeInNewProcess(t *testing.T) {
	if env := os.Getenv(resumeChildEnv); env != "" {
		resumeChild(t, filepath.SplitList(env))
		return
	}
	x, y := concurrencyData(60, 1)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		whole, first := wholeAndHalf(t, dt, x, y, resumeAdam)
		dir := t.TempDir()
		half, done := filepath.Join(dir, "half.keras"), filepath.Join(dir, "done.keras")
		if err := first.SaveModel(half); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestResumeInNewProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), resumeChildEnv+"="+strings.Join([]string{half, done}, string(filepath.ListSeparator)))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: the resuming process failed: %v\n%s", dt, err, out)
		}
		second, err := LoadModel(done)
		if err != nil {
			t.Fatal(err)
		}
		want, got := whole.GetWeights(), second.GetWeights()
		for i := range want {
			if !sameValues(got[i], want[i]) {
				t.Errorf("%v: weight %s differs from the uninterrupted run", dt, whole.Weights()[i].Name())
			}
		}
	}
}

// resumeChild is the other process of TestResumeInNewProcess: it resumes
// the model at paths[0] for epochs 3 and 4 and saves it to paths[1].
func resumeChild(t *testing.T, paths []string) {
	if len(paths) != 2 {
		t.Fatalf("%s=%v: want two paths", resumeChildEnv, paths)
	}
	x, y := concurrencyData(60, 1)
	m, err := LoadModel(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(x, y, Epochs(4), InitialEpoch(2), BatchSize(16), Verbose(0)); err != nil {
		t.Fatal(err)
	}
	if err := m.SaveModel(paths[1]); err != nil {
		t.Fatal(err)
	}
}

// sameValues reports whether two tensors hold bit-identical values.
func sameValues(a, b *tensor.Dense) bool {
	if a.Dtype() != b.Dtype() {
		return false
	}
	if a.Dtype() == tensor.Float64 {
		return slices.Equal(a.Float64s(), b.Float64s())
	}
	return slices.Equal(a.Float32s(), b.Float32s())
}
