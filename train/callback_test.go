package train

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train/optimizers"
)

// recorder is a LambdaCallback that writes down every hook it is called at.
func recorder(events *[]string) *LambdaCallback {
	add := func(format string, a ...any) { *events = append(*events, fmt.Sprintf(format, a...)) }
	return &LambdaCallback{
		TrainBegin:        func(*Model, Params) { add("train_begin") },
		TrainEnd:          func(Logs) { add("train_end") },
		EpochBegin:        func(e int) { add("epoch_begin %d", e) },
		EpochEnd:          func(e int, _ Logs) { add("epoch_end %d", e) },
		TrainBatchBegin:   func(b int) { add("train_batch_begin %d", b) },
		BatchEnd:          func(b int, _ Logs) { add("train_batch_end %d", b) },
		TestBegin:         func(_ *Model, p Params) { add("test_begin %d steps", p.Steps) },
		TestBatchBegin:    func(b int) { add("test_batch_begin %d", b) },
		TestBatchEnd:      func(b int, _ Logs) { add("test_batch_end %d", b) },
		TestEnd:           func(Logs) { add("test_end") },
		PredictBegin:      func(_ *Model, p Params) { add("predict_begin %d steps", p.Steps) },
		PredictBatchBegin: func(b int) { add("predict_batch_begin %d", b) },
		PredictBatchEnd:   func(b int) { add("predict_batch_end %d", b) },
		PredictEnd:        func() { add("predict_end") },
	}
}

// TestCallbackHookOrder: Fit, Evaluate and Predict call the hooks in Keras
// 3's order (trainer.fit, evaluate, predict): each epoch's training batches,
// then the validation pass's test hooks, then on_epoch_end; the validation
// pass's end logs are the epoch's "val_" values.
func TestCallbackHookOrder(t *testing.T) {
	x, y := concurrencyData(7, 1)
	m := resumeModel(t, tensor.Float64)
	var events []string
	rec := recorder(&events)
	var testEnd Logs
	rec.TestEnd = func(l Logs) { events = append(events, "test_end"); testEnd = l }
	hist, err := m.Fit(x[:4], y[:4], Epochs(2), BatchSize(2), Verbose(0), ValidationData(x[4:], y[4:]), Callbacks(rec))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	want = append(want, "train_begin")
	for e := range 2 {
		want = append(want, fmt.Sprintf("epoch_begin %d", e))
		for b := range 2 {
			want = append(want, fmt.Sprintf("train_batch_begin %d", b), fmt.Sprintf("train_batch_end %d", b))
		}
		want = append(want, "test_begin 2 steps")
		for b := range 2 {
			want = append(want, fmt.Sprintf("test_batch_begin %d", b), fmt.Sprintf("test_batch_end %d", b))
		}
		want = append(want, "test_end", fmt.Sprintf("epoch_end %d", e))
	}
	want = append(want, "train_end")
	if !slices.Equal(events, want) {
		t.Errorf("Fit's hooks:\n%s\nwant\n%s", strings.Join(events, "\n"), strings.Join(want, "\n"))
	}
	if v, _ := hist.Last("val_loss"); v != testEnd.Values[0] {
		t.Errorf("val_loss %v, the test end's loss %v", v, testEnd.Values[0])
	}

	events = nil
	logs, err := m.Evaluate(x, y, BatchSize(3), Callbacks(rec))
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"test_begin 3 steps"}
	for b := range 3 {
		want = append(want, fmt.Sprintf("test_batch_begin %d", b), fmt.Sprintf("test_batch_end %d", b))
	}
	want = append(want, "test_end")
	if !slices.Equal(events, want) || !slices.Equal(testEnd.Values, logs.Values) {
		t.Errorf("Evaluate's hooks %q (end logs %v, results %v), want %q", events, testEnd, logs, want)
	}

	events = nil
	if _, err := m.Predict(x, BatchSize(4), Callbacks(rec)); err != nil {
		t.Fatal(err)
	}
	want = []string{"predict_begin 2 steps", "predict_batch_begin 0", "predict_batch_end 0", "predict_batch_begin 1", "predict_batch_end 1", "predict_end"}
	if !slices.Equal(events, want) {
		t.Errorf("Predict's hooks %q, want %q", events, want)
	}
}

// TestEvaluatePredictProgressBar: Verbose(1) prints Keras 3's bar, with the
// values for Evaluate and without for Predict; Verbose(2) one line; the
// default prints nothing.
func TestEvaluatePredictProgressBar(t *testing.T) {
	x, y := concurrencyData(10, 1)
	m := resumeModel(t, tensor.Float32)
	for _, c := range []struct {
		verbose int
		predict bool
		want    string
	}{
		{1, false, `^4/4 ━{20} \d+s \d+(us|ms|s)/step - loss: \d+\.\d{4} - accuracy: \d\.\d{4}\n$`},
		{2, false, `^4/4 - \d+s - \d+(us|ms|s)/step - loss: \d+\.\d{4} - accuracy: \d\.\d{4}\n$`},
		{1, true, `^4/4 ━{20} \d+s \d+(us|ms|s)/step\n$`},
		{-1, false, `^$`},
		{-1, true, `^$`},
	} {
		var buf bytes.Buffer
		opts := []FitOption{BatchSize(3), Output(&buf)}
		if c.verbose >= 0 {
			opts = append(opts, Verbose(c.verbose))
		}
		var err error
		if c.predict {
			_, err = m.Predict(x, opts...)
		} else {
			_, err = m.Evaluate(x, y, opts...)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(c.want).MatchString(buf.String()) {
			t.Errorf("verbose %d, predict %v: printed %q, want %s", c.verbose, c.predict, buf.String(), c.want)
		}
	}
}

// nanModel is a linear float64 model trained by SGD on the mean squared
// error, and data whose samples 2 and 3 (the second batch of 2, unshuffled)
// give an infinite loss.
func nanModel(t *testing.T) (*Model, [][]float64, []float64) {
	t.Helper()
	in := graph.Input(2)
	m, err := NewModel(in, layers.NewDense(1).Apply(in), DType(tensor.Float64), Seed(3))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(optimizers.SGD(optimizers.LR(0.01)), "mse"); err != nil {
		t.Fatal(err)
	}
	x := [][]float64{{1, 2}, {3, 4}, {1e200, 1e200}, {1e200, 1e200}, {1, 1}, {2, 2}}
	return m, x, []float64{1, 2, 3, 4, 5, 6}
}

// TestTerminateOnNaN: without it an infinite loss is an error; with it Fit
// stops cleanly at that batch, its epoch's loss is not finite, and the
// weights are those after the last good step (batch 1's).
func TestTerminateOnNaN(t *testing.T) {
	m, x, y := nanModel(t)
	if _, err := m.Fit(x, y, Epochs(3), BatchSize(2), Shuffle(false), Verbose(0)); err == nil || !strings.Contains(err.Error(), "Fit: epoch 1, batch 2: the loss is +Inf") {
		t.Errorf("without TerminateOnNaN: %v", err)
	}
	ref, _, _ := nanModel(t)
	if _, err := ref.Fit(x[:2], y[:2], Epochs(1), BatchSize(2), Shuffle(false), Verbose(0)); err != nil {
		t.Fatal(err)
	}
	m, _, _ = nanModel(t)
	var out bytes.Buffer
	tn := &TerminateOnNaN{Out: &out}
	hist, err := m.Fit(x, y, Epochs(3), BatchSize(2), Shuffle(false), Verbose(0), Callbacks(tn))
	if err != nil {
		t.Fatal(err)
	}
	loss, _ := hist.Last("loss")
	if len(hist.Epochs) != 1 || tn.StoppedBatch != 1 || !math.IsInf(loss, 1) || out.String() != "Batch 1: Invalid loss, terminating training\n" {
		t.Errorf("%d epochs, stopped at batch %d, loss %v, printed %q", len(hist.Epochs), tn.StoppedBatch, loss, out.String())
	}
	for i, w := range ref.GetWeights() {
		if !sameValues(m.GetWeights()[i], w) {
			t.Errorf("weight %d is not that of the last good step", i)
		}
	}
}

// TestBackupAndRestoreResumesExactly: a Fit of 5 epochs cancelled after
// epoch 3 (by a callback), then run again — on the same model, and on a
// fresh one built the same way, as after a crash — ends with the weights
// and optimizer state of an uninterrupted 5-epoch run, bit for bit, in
// float32 and float64 (shuffling, dropout and Adam's slots included), and
// with Nadam driven by a learning-rate schedule (which the restore leaves
// to follow the iterations); the backup is gone at the end.
func TestBackupAndRestoreResumesExactly(t *testing.T) {
	x, y := concurrencyData(60, 1)
	for _, c := range []struct {
		dt tensor.Dtype
		mk func() optimizers.Optimizer
	}{{tensor.Float32, resumeAdam}, {tensor.Float64, resumeAdam}, {tensor.Float32, resumeNadam}} {
		dt, resumeModel := c.dt, func(t *testing.T, dt tensor.Dtype) *Model { return resumeModelWith(t, dt, c.mk) }
		whole := resumeModel(t, dt)
		if _, err := whole.Fit(x, y, Epochs(5), BatchSize(16), Verbose(0)); err != nil {
			t.Fatal(err)
		}
		for _, fresh := range []bool{false, true} {
			dir := filepath.Join(t.TempDir(), "backup")
			m := resumeModel(t, dt)
			ctx, cancel := context.WithCancel(context.Background())
			stop := &LambdaCallback{EpochEnd: func(e int, _ Logs) {
				if e == 2 {
					cancel()
				}
			}}
			_, err := m.Fit(x, y, Epochs(5), BatchSize(16), Verbose(0), Context(ctx), Callbacks(&BackupAndRestore{Dir: dir}, stop))
			if err == nil || !strings.Contains(err.Error(), "cancelled before epoch 4") {
				t.Fatalf("the interrupted Fit: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "epoch-3.keras")); err != nil {
				t.Fatalf("no backup of epoch 3: %v", err)
			}
			if fresh {
				m = resumeModel(t, dt)
			}
			hist, err := m.Fit(x, y, Epochs(5), BatchSize(16), Verbose(0), Callbacks(&BackupAndRestore{Dir: dir}))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(hist.Epochs, []int{3, 4}) {
				t.Errorf("%v fresh %v: resumed epochs %v, want [3 4]", dt, fresh, hist.Epochs)
			}
			for i, w := range whole.GetWeights() {
				if !sameValues(m.GetWeights()[i], w) {
					t.Errorf("%v fresh %v: weight %s differs from the uninterrupted run", dt, fresh, whole.Weights()[i].Name())
				}
			}
			if m.Optimizer().Iterations() != whole.Optimizer().Iterations() {
				t.Errorf("%v fresh %v: %d iterations, want %d", dt, fresh, m.Optimizer().Iterations(), whole.Optimizer().Iterations())
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%v fresh %v: the backup is still there after training (%v)", dt, fresh, err)
			}
		}
	}
}

// TestBackupAndRestoreKeepsAndRefuses: KeepBackup leaves the last epoch's
// backup, a Fit of as many epochs then runs none, and a backup record that
// is not one is an error naming the file.
func TestBackupAndRestoreKeepsAndRefuses(t *testing.T) {
	x, y := concurrencyData(20, 1)
	dir := t.TempDir()
	m := resumeModel(t, tensor.Float32)
	if _, err := m.Fit(x, y, Epochs(2), Verbose(0), Callbacks(&BackupAndRestore{Dir: dir, KeepBackup: true})); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(names) != 2 || filepath.Base(names[0]) != "epoch-2.keras" || filepath.Base(names[1]) != backupMetadata {
		t.Errorf("backup files %v", names)
	}
	hist, err := resumeModel(t, tensor.Float32).Fit(x, y, Epochs(2), Verbose(0), Callbacks(&BackupAndRestore{Dir: dir}))
	if err != nil || len(hist.Epochs) != 0 {
		t.Errorf("Fit after a complete backup: %v epochs, %v", hist.Epochs, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, backupMetadata), []byte(`{"epoch": 1, "model": "../x.keras"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = resumeModel(t, tensor.Float32).Fit(x, y, Epochs(2), Verbose(0), Callbacks(&BackupAndRestore{Dir: dir}))
	if err == nil || !strings.Contains(err.Error(), "training_metadata.json is not a backup record") {
		t.Errorf("a bad record: %v", err)
	}
}

// TestCSVLogger: the file holds each epoch's row as the epoch ends (read
// from a callback after CSVLogger's), Keras's header (epoch, then the names
// sorted) and History's values; Append continues it without a second
// header.
func TestCSVLogger(t *testing.T) {
	x, y := concurrencyData(20, 1)
	path := filepath.Join(t.TempDir(), "log.csv")
	var rowsSeen []int
	peek := &LambdaCallback{EpochEnd: func(int, Logs) {
		b, _ := os.ReadFile(path)
		rowsSeen = append(rowsSeen, strings.Count(string(b), "\n"))
	}}
	m := resumeModel(t, tensor.Float64)
	hist, err := m.Fit(x, y, Epochs(2), Verbose(0), ValidationSplit(0.25), Callbacks(&CSVLogger{Filename: path, Separator: ";"}, peek))
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	want.WriteString("epoch;accuracy;loss;val_accuracy;val_loss\n")
	for i, e := range hist.Epochs {
		fmt.Fprintf(&want, "%d", e)
		for _, n := range []string{"accuracy", "loss", "val_accuracy", "val_loss"} {
			want.WriteString(";" + csvValue(hist.Values[n][i]))
		}
		want.WriteString("\n")
	}
	if _, err := m.Fit(x, y, Epochs(3), InitialEpoch(2), Verbose(0), Callbacks(&CSVLogger{Filename: path, Separator: ";", Append: true})); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	lines := strings.Split(string(got), "\n")
	if !strings.HasPrefix(string(got), want.String()) || len(lines) != 5 || !strings.HasPrefix(lines[3], "2;") || !strings.HasSuffix(lines[3], ";NA;NA") {
		t.Errorf("log:\n%s\nwant it to start with\n%s\nand one appended row for epoch 2 without validation", got, want.String())
	}
	if !slices.Equal(rowsSeen, []int{2, 3}) {
		t.Errorf("lines in the file at each epoch's end: %v, want [2 3]", rowsSeen)
	}
}

// TestModelCheckpointInFit: the best val_loss model is saved (to a name
// holding the epoch and the value) and loads back with its weights; a save
// that fails stops Fit with the error.
func TestModelCheckpointInFit(t *testing.T) {
	x, y := concurrencyData(30, 1)
	dir := t.TempDir()
	mc := &ModelCheckpoint{FilePath: filepath.Join(dir, "sub", "m-{epoch:02d}-{val_loss:.3f}.keras"), SaveBestOnly: true}
	m := resumeModel(t, tensor.Float64)
	hist, err := m.Fit(x, y, Epochs(3), Verbose(0), ValidationSplit(0.3), Callbacks(mc))
	if err != nil {
		t.Fatal(err)
	}
	if len(mc.Saved) == 0 {
		t.Fatal("nothing saved")
	}
	vl := hist.Values["val_loss"]
	best := slices.Index(vl, slices.Min(vl))
	last := mc.Saved[len(mc.Saved)-1]
	if want := filepath.Join(dir, "sub", fmt.Sprintf("m-%02d-%.3f.keras", best+1, vl[best])); last != want {
		t.Errorf("last save %s, want %s", last, want)
	}
	back, err := LoadModel(last)
	if err != nil {
		t.Fatal(err)
	}
	if best == len(vl)-1 {
		for i, w := range m.GetWeights() {
			if !sameValues(back.GetWeights()[i], w) {
				t.Errorf("weight %d differs from the saved model's", i)
			}
		}
	}
	blocked := filepath.Join(dir, "blocked.keras")
	if err := os.Mkdir(blocked, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = resumeModel(t, tensor.Float64).Fit(x, y, Epochs(3), Verbose(0), Callbacks(&ModelCheckpoint{FilePath: blocked}))
	if err == nil || !strings.Contains(err.Error(), "Fit: epoch 1: ModelCheckpoint: epoch 1: SaveModel") {
		t.Errorf("a save into a directory: %v", err)
	}
}

// TestReduceLROnPlateauInFit: with a MinDelta no epoch beats, Patience 0
// halves the rate after every epoch but the first; each epoch's logs (and
// so History) hold the rate in force during it, as Keras 3's.
func TestReduceLROnPlateauInFit(t *testing.T) {
	x, y := concurrencyData(20, 1)
	m := resumeModel(t, tensor.Float64)
	r := &ReduceLROnPlateau{Monitor: "loss", Factor: 0.5, MinDelta: 1e9}
	hist, err := m.Fit(x, y, Epochs(3), Verbose(0), Callbacks(r))
	if err != nil {
		t.Fatal(err)
	}
	if got := hist.Values["learning_rate"]; !slices.Equal(got, []float64{0.01, 0.01, 0.005}) || m.Optimizer().LearningRate() != 0.0025 {
		t.Errorf("logged rates %v, final %v; want [0.01 0.01 0.005] and 0.0025", got, m.Optimizer().LearningRate())
	}
}

// TestRateCallbacksRefuseSchedules: ReduceLROnPlateau and
// LearningRateScheduler stop Fit before the first step on an optimizer
// whose learning rate follows a schedule (Keras refuses to set it too),
// leaving the weights as they were.
func TestRateCallbacksRefuseSchedules(t *testing.T) {
	x, y := concurrencyData(20, 1)
	for _, cb := range []Callback{NewReduceLROnPlateau(), &LearningRateScheduler{Schedule: CosineDecay(0.01, 0.1, 3)}} {
		m := resumeModelWith(t, tensor.Float32, resumeNadam)
		before := m.GetWeights()
		_, err := m.Fit(x, y, Epochs(3), Verbose(0), ValidationData(x, y), Callbacks(cb))
		if err == nil || !strings.Contains(err.Error(), "the optimizer's learning rate follows the schedule CosineDecay and cannot be set") {
			t.Fatalf("%T: %v", cb, err)
		}
		for i, w := range m.GetWeights() {
			if !sameValues(w, before[i]) {
				t.Fatalf("%T: weight %d changed", cb, i)
			}
		}
	}
}

// TestPythonFloat: pythonFloat writes what Python's str(float) writes.
func TestPythonFloat(t *testing.T) {
	for v, want := range map[float64]string{1: "1.0", 0.1: "0.1", 0.69314718055994529: "0.6931471805599453", 1e-5: "1e-05", 1.5e-4: "0.00015",
		1e16: "1e+16", 123456789.0: "123456789.0", -2.5: "-2.5", math.NaN(): "nan", math.Inf(-1): "-inf", 0: "0.0"} {
		if got := pythonFloat(v); got != want {
			t.Errorf("pythonFloat(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestProgressBarRedraw: on a terminal an evaluation's bar is redrawn in
// place ("\r", Keras 3's bar with the part not done in thin lines, the ETA)
// and ends with the final line padded over the longer one before it.
func TestProgressBarRedraw(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgressBar(&buf, 1)
	p.dynamic = true
	p.OnTestBegin(nil, Params{Steps: 3})
	p.OnTestBatchEnd(0, Logs{Names: []string{"loss"}, Values: []float64{0.5}})
	first := buf.String()
	p.OnTestEnd(Logs{Names: []string{"loss"}, Values: []float64{0.25}})
	if !regexp.MustCompile(`^\r1/3 ━{6}─{14} \d+s \d+(us|ms|s)/step - loss: 0\.5000$`).MatchString(first) {
		t.Errorf("first draw %q", first)
	}
	rest := strings.TrimPrefix(buf.String(), first)
	if !regexp.MustCompile(`^\r3/3 ━{20} \d+s \d+(us|ms|s)/step - loss: 0\.2500 *\n$`).MatchString(rest) {
		t.Errorf("final draw %q", rest)
	}
}
