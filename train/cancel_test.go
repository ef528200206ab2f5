package train

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train/optimizers"
)

// onBatch calls f after each batch.
type onBatch struct {
	BaseCallback
	f func(batch int)
}

func (o *onBatch) OnBatchEnd(b int, _ Logs) { o.f(b) }

// onEpoch counts OnEpochEnd calls.
type onEpoch struct {
	BaseCallback
	n int
}

func (o *onEpoch) OnEpochEnd(int, Logs) { o.n++ }

// TestStopTrainingAfterBatch stops Fit from a callback after its first
// batch: one step is taken (of 12 per epoch), the epoch still ends
// (validation, OnEpochEnd, a History entry) and Fit returns.
func TestStopTrainingAfterBatch(t *testing.T) {
	m := resumeModel(t, tensor.Float32)
	x, y := concurrencyData(192, 3)
	ends := &onEpoch{}
	stop := &onBatch{f: func(int) { m.StopTraining() }}
	hist, err := m.Fit(x, y, Epochs(5), BatchSize(16), Verbose(0), ValidationSplit(0.25), Callbacks(stop, ends))
	if err != nil {
		t.Fatal(err)
	}
	if it := m.Optimizer().Iterations(); it != 1 {
		t.Errorf("%d steps taken after StopTraining at the first batch, want 1", it)
	}
	if ends.n != 1 || len(hist.Epochs) != 1 {
		t.Errorf("OnEpochEnd called %d times, %d epochs in the History; want 1 and 1", ends.n, len(hist.Epochs))
	}
	if len(hist.Values["val_loss"]) != 1 {
		t.Error("the stopped epoch has no validation loss")
	}
}

// TestContextCancelsFit cancels Fit's context after 3 batches of epoch 2:
// Fit returns an error wrapping context.Canceled, the weights are bit for
// bit those of a run stopped after the same 15 steps, and the History
// holds epoch 1.
func TestContextCancelsFit(t *testing.T) {
	x, y := concurrencyData(192, 4)
	ref := resumeModel(t, tensor.Float32)
	refSteps := 0
	stop := &onBatch{f: func(int) {
		if refSteps++; refSteps == 15 {
			ref.StopTraining()
		}
	}}
	if _, err := ref.Fit(x, y, Epochs(4), BatchSize(16), Verbose(0), Callbacks(stop)); err != nil {
		t.Fatal(err)
	}
	m := resumeModel(t, tensor.Float32)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	steps := 0
	cb := &onBatch{f: func(int) {
		if steps++; steps == 15 {
			cancel()
		}
	}}
	hist, err := m.Fit(x, y, Epochs(4), BatchSize(16), Verbose(0), Context(ctx), Callbacks(cb))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit after cancel: got %v, want context.Canceled", err)
	}
	if it := m.Optimizer().Iterations(); it != 15 {
		t.Errorf("%d steps taken, want 15", it)
	}
	if len(hist.Epochs) != 1 {
		t.Errorf("%d epochs in the History, want 1", len(hist.Epochs))
	}
	for i, w := range ref.GetWeights() {
		if !sameValues(m.GetWeights()[i], w) {
			t.Errorf("weight %s differs from the run of 15 steps", m.Weights()[i].Name())
		}
	}
}

// TestContextCancelsPredictAndEvaluate checks that a done context stops
// Predict and Evaluate with its error.
func TestContextCancelsPredictAndEvaluate(t *testing.T) {
	m := resumeModel(t, tensor.Float32)
	x, y := concurrencyData(64, 5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Predict(x, Context(ctx)); !errors.Is(err, context.Canceled) {
		t.Errorf("Predict: got %v", err)
	}
	if _, err := m.Evaluate(x, y, Context(ctx)); !errors.Is(err, context.Canceled) {
		t.Errorf("Evaluate: got %v", err)
	}
	if _, err := m.Predict(x, Context(context.Background())); err != nil {
		t.Errorf("Predict with a live context: %v", err)
	}
}

// TestOverflowingStepStopsFit trains with a learning rate that overflows
// float32 in the first step: Fit fails naming epoch 1, batch 1 and the
// weight, and every weight is exactly what it was before Fit.
func TestOverflowingStepStopsFit(t *testing.T) {
	m := resumeModel(t, tensor.Float32)
	if err := m.Compile(optimizers.SGD(optimizers.LR(1e38)), "mse"); err != nil {
		t.Fatal(err)
	}
	x, _ := concurrencyData(64, 6)
	y := make([][]float64, len(x)) // targets far from softmax outputs: gradients of about 1e5
	for i := range y {
		y[i] = []float64{1e6, -1e6, 1e6}
	}
	before := m.GetWeights()
	_, err := m.Fit(x, y, Epochs(2), BatchSize(16), Verbose(0))
	if err == nil || !strings.Contains(err.Error(), "epoch 1, batch 1") || !strings.Contains(err.Error(), "the step would make") {
		t.Fatalf("got %v", err)
	}
	for i, w := range m.GetWeights() {
		if !sameValues(w, before[i]) {
			t.Errorf("weight %s changed by the refused step", m.Weights()[i].Name())
		}
	}
}

// TestNonFiniteInputsRefused checks that Predict and Evaluate refuse NaN
// and ±Inf inputs, naming the input, sample and value, unless
// AllowNonFinite is given.
func TestNonFiniteInputsRefused(t *testing.T) {
	m := resumeModel(t, tensor.Float32)
	x, y := concurrencyData(8, 8)
	x[2][1] = math.NaN()
	x[5][0] = math.Inf(-1)
	name := m.Network().Inputs()[0].Layer().Name()
	_, err := m.Predict(x)
	if err == nil || !strings.Contains(err.Error(), "Predict: input "+name+", sample 2 holds NaN (at index 1 of the sample); pass AllowNonFinite() to predict it anyway") {
		t.Errorf("Predict: got %v", err)
	}
	_, err = m.Evaluate(x[3:], y[3:])
	if err == nil || !strings.Contains(err.Error(), "sample 2 holds -Inf (at index 0") {
		t.Errorf("Evaluate: got %v", err)
	}
	if _, err := m.Predict(x, AllowNonFinite()); err != nil {
		t.Errorf("Predict with AllowNonFinite: %v", err)
	}
	if _, err := m.Evaluate(x, y, AllowNonFinite()); err != nil {
		t.Errorf("Evaluate with AllowNonFinite: %v", err)
	}
}

// BenchmarkPredictInputCheck measures Predict on 256 samples of a
// 784-128-10 MLP with and without the non-finite input check.
func BenchmarkPredictInputCheck(b *testing.B) {
	in := graph.Input(784)
	out := layers.NewDense(10).Apply(layers.NewDense(128, layers.WithActivation("relu")).Apply(in))
	m, err := NewModel(in, out)
	if err != nil {
		b.Fatal(err)
	}
	x := tensor.New(tensor.WithShape(256, 784), tensor.WithBacking(make([]float32, 256*784)))
	for _, c := range []struct {
		name string
		opts []FitOption
	}{{"checked", nil}, {"unchecked", []FitOption{AllowNonFinite()}}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				if _, err := m.Predict(x, c.opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestInputChecks checks inputs that used to pass silently or fail with
// "internal error": ValidationSplit(NaN), a nil callback, Predict on zero
// samples, and one tensor listed twice as a model input.
func TestInputChecks(t *testing.T) {
	m := resumeModel(t, tensor.Float32)
	x, y := concurrencyData(16, 9)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"ValidationSplit(NaN)", fitErr(m, x, y, ValidationSplit(math.NaN())), "validation split must be in [0, 1), got NaN"},
		{"Callbacks(nil)", fitErr(m, x, y, Callbacks(nil)), "Fit: callback 0 is nil"},
		{"Predict on (0, 5)", predictErr(m, tensor.New(tensor.WithShape(0, 5), tensor.Of(tensor.Float32))), "Predict: no samples"},
	}
	in := graph.Input(5)
	_, err := NewModel([]*graph.Tensor{in, in}, layers.NewDense(1).Apply(in))
	cases = append(cases, struct {
		name string
		err  error
		want string
	}{"input twice", err, "input 1 (" + in.Layer().Name() + ") is listed twice"})
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, c.err, c.want)
		}
	}
}

func fitErr(m *Model, x, y any, opts ...FitOption) error {
	_, err := m.Fit(x, y, append(opts, Verbose(0))...)
	return err
}

func predictErr(m *Model, x any) error {
	_, err := m.Predict(x)
	return err
}

// TestEarlyStopping: a Monitor Fit never logs is an error listing what it
// logs; with a MinDelta no later epoch can beat, Patience 2 stops after
// epoch 3, and RestoreBestWeights puts back the weights of epoch 1 (bit for
// bit those of a one-epoch run).
func TestEarlyStopping(t *testing.T) {
	x, y := concurrencyData(96, 10)
	m := resumeModel(t, tensor.Float32)
	_, err := m.Fit(x, y, Epochs(3), Verbose(0), Callbacks(&EarlyStopping{Monitor: "val_loss"}))
	if err == nil || !strings.Contains(err.Error(), `Monitor "val_loss" is never logged by this Fit; it logs loss, accuracy`) {
		t.Errorf("unlogged monitor: got %v", err)
	}
	ref := resumeModel(t, tensor.Float32)
	if _, err := ref.Fit(x, y, Epochs(1), BatchSize(16), Verbose(0)); err != nil {
		t.Fatal(err)
	}
	m = resumeModel(t, tensor.Float32)
	es := &EarlyStopping{Monitor: "loss", MinDelta: 1e9, Patience: 2, RestoreBestWeights: true}
	hist, err := m.Fit(x, y, Epochs(10), BatchSize(16), Verbose(0), Callbacks(es))
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Epochs) != 3 || es.StoppedEpoch != 2 {
		t.Errorf("%d epochs run, stopped at %d; want 3 and 2", len(hist.Epochs), es.StoppedEpoch)
	}
	for i, w := range ref.GetWeights() {
		if !sameValues(m.GetWeights()[i], w) {
			t.Errorf("weight %s is not the best epoch's", m.Weights()[i].Name())
		}
	}
}
