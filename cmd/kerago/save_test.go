package main

import (
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/kerago/kerago/train"
)

// TestTrainSavePredict trains the cancer demo in process, saves it, exports
// the test part and predicts it with `kerago predict`: the file's
// predictions are the in-process model's, bit for bit, and their accuracy
// is the demo's test accuracy. It also runs `train --save` itself.
func TestTrainSavePredict(t *testing.T) {
	dir := t.TempDir()
	cfg := demoConfig{epochs: 3, batch: 32, lr: 1e-3, seed: 2}
	res, err := runCancer(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	model, x, labels, y := filepath.Join(dir, "m.keras"), filepath.Join(dir, "x.npy"), filepath.Join(dir, "labels.npy"), filepath.Join(dir, "y.npy")
	if err := res.model.SaveModel(model); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "export", "cancer", "--seed", "2", "--output", x, "--labels", labels); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "predict", model, "--input", x, "--output", y); err != nil {
		t.Fatal(err)
	}
	xs, err := train.ReadNPY(x)
	if err != nil {
		t.Fatal(err)
	}
	want, err := res.model.Predict(xs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := train.ReadNPY(y)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Data(), want.Data()) {
		t.Fatal("predictions from the saved file differ from the in-process model's")
	}
	lab, err := train.ReadNPY(labels)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, p := range got.Data().([]float32) {
		if (p > 0.5) == (lab.Float64s()[i] == 1) {
			right++
		}
	}
	// The demo's accuracy is a float32 running mean: equal to what it prints.
	if acc := float64(right) / float64(len(lab.Float64s())); math.Abs(acc-res.acc) > 1e-7 {
		t.Fatalf("accuracy of the predicted file %v, the demo's %v", acc, res.acc)
	}

	saved := filepath.Join(dir, "cli.keras")
	out, err := runCLI(t, "train", "cancer", "--epochs", "1", "--verbose", "0", "--save", saved)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "test_loss=") {
		t.Fatalf("train --save output %q", out)
	}
	if out, err := runCLI(t, "summary", saved); err != nil || !strings.Contains(out, "Total params: 513") {
		t.Fatalf("summary of the saved model: %v\n%s", err, out)
	}
}

// TestSaveAndExportErrors checks that --save is refused before training
// and export's flag errors.
func TestSaveAndExportErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"train", "cancer", "--save", filepath.Join(dir, "m.h5")}, "m.h5: want a .keras file"},
		{[]string{"train", "cancer", "--save", filepath.Join(dir, "no", "m.keras")}, "no directory " + filepath.Join(dir, "no")},
		{[]string{"export", "imagenet", "--output", "x.npy"}, "cancer, digits, fashion, mnist, words"},
		{[]string{"export", "cancer"}, "--output is required"},
		{[]string{"export", "cancer", "--split", "val", "--output", "x.npy"}, `--split "val": want test or train`},
		{[]string{"export", "cancer", "--output", "x.npy", "--labels", "y.txt"}, "--labels y.txt: the extension names no array format"},
	}
	for _, c := range cases {
		out, err := runCLI(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error containing %q", c.args, err, c.want)
		}
		if out != "" {
			t.Errorf("%v: printed %q before failing", c.args, out)
		}
	}
}

// TestExportDigits exports the digits training part as CSV: one row of 64
// values in [0, 1] per sample, and as many labels.
func TestExportDigits(t *testing.T) {
	dir := t.TempDir()
	x, y := filepath.Join(dir, "x.csv"), filepath.Join(dir, "y.csv")
	if _, err := runCLI(t, "export", "digits", "--split", "train", "--output", x, "--labels", y); err != nil {
		t.Fatal(err)
	}
	xs, _ := os.ReadFile(x)
	ys, _ := os.ReadFile(y)
	rows, labels := strings.Split(strings.TrimSpace(string(xs)), "\n"), strings.Split(strings.TrimSpace(string(ys)), "\n")
	if len(rows) != 1438 || len(labels) != len(rows) {
		t.Fatalf("%d rows, %d labels", len(rows), len(labels))
	}
	for _, v := range strings.Split(rows[0], ",") {
		if f, err := strconv.ParseFloat(v, 64); err != nil || f < 0 || f > 1 {
			t.Fatalf("row 0: value %q", v)
		}
	}
}

// TestTrainCheckpoint runs `train --checkpoint --reduce-lr`: the checkpoint
// is a model LoadModel reads, whose test loss is the best val_loss of the
// run printed (the test part is the validation data), and the progress
// shows the learning rate ReduceLROnPlateau logs.
func TestTrainCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "best.keras")
	out, err := runCLI(t, "train", "cancer", "--epochs", "3", "--verbose", "2", "--checkpoint", path, "--reduce-lr")
	if err != nil {
		t.Fatal(err)
	}
	best := math.Inf(1)
	for _, line := range strings.Split(out, "\n") {
		_, after, ok := strings.Cut(line, " - val_loss: ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(after)[0], 64)
		if err != nil {
			t.Fatal(err)
		}
		best = min(best, v)
		if !strings.Contains(line, "learning_rate: ") {
			t.Errorf("no learning rate in %q", line)
		}
	}
	m, err := train.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cancerData(demoConfig{seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	logs, err := m.Evaluate(s.teX, s.teY)
	if err != nil {
		t.Fatal(err)
	}
	if loss, _ := logs.Get("loss"); math.IsInf(best, 1) || math.Abs(loss-best) > 5e-5 {
		t.Errorf("the checkpoint's test loss %v, the best val_loss printed %v", loss, best)
	}
}
