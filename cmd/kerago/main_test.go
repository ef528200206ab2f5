package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

var lastLine = regexp.MustCompile(`^test_loss=([0-9.]+) test_accuracy=([0-9.]+)$`)

// TestDemosReachTheirTargets runs both demos with their default flags, as
// the README's main job does, and checks the accuracy targets.
func TestDemosReachTheirTargets(t *testing.T) {
	for _, name := range []string{"cancer", "digits"} {
		out, err := runCLI(t, "train", name, "--verbose", "0")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		m := lastLine.FindStringSubmatch(lines[len(lines)-1])
		if m == nil {
			t.Fatalf("%s: last line %q is not test_loss=… test_accuracy=…", name, lines[len(lines)-1])
		}
		acc, _ := strconv.ParseFloat(m[2], 64)
		if acc < 0.95 {
			t.Fatalf("%s: test accuracy %v < 0.95", name, acc)
		}
	}
}

func TestVerboseOutputAndHistory(t *testing.T) {
	hist := filepath.Join(t.TempDir(), "h.csv")
	out, err := runCLI(t, "train", "cancer", "--epochs", "2", "--verbose", "1", "--history", hist, "--seed", "3", "--lr", "0.01", "--batch-size", "64")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Total params: 513", "Epoch 1/2", "Epoch 2/2", "8/8 [==============================]"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	csv, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if rows[0] != "epoch,loss,accuracy" || len(rows) != 3 {
		t.Fatalf("history CSV:\n%s", csv)
	}
}

func TestCLIErrors(t *testing.T) {
	if _, err := runCLI(t, "train", "imagenet"); err == nil || !strings.Contains(err.Error(), "cancer, digits") {
		t.Fatalf("unknown dataset: %v", err)
	}
	// Flags are checked before any work: nothing is printed.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--lr", "-1"}, "--lr must be a positive number, got -1"},
		{[]string{"--lr", "NaN"}, "--lr must be a positive number, got NaN"},
		{[]string{"--batch-size", "-3"}, "--batch-size must be positive, got -3"},
		{[]string{"--epochs", "-3"}, "--epochs must not be negative, got -3"},
		{[]string{"--verbose", "7"}, "--verbose must be 0, 1 or 2, got 7"},
		{[]string{"--head", "gmp"}, "--head applies to the mnist and fashion datasets only, not cancer"},
		{[]string{"--data", "/tmp"}, "--data applies to the mnist dataset only, not cancer"},
	} {
		out, err := runCLI(t, append([]string{"train", "cancer"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) || out != "" {
			t.Errorf("%v: got %v after printing %q, want %q before any output", c.args, err, out, c.want)
		}
	}
	if _, err := runCLI(t, "train"); err == nil {
		t.Fatal("missing dataset accepted")
	}
}

// TestMNISTHeads checks that --head swaps the head (the parameter counts the
// summary shows) and that an epoch runs; the accuracy target is checked by
// running the demo with its defaults.
func TestMNISTHeads(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a CNN")
	}
	for head, params := range map[string]string{"gap": "1,290", "flatten": "81,930"} {
		m, err := mnistModel(head, 1)
		if err != nil {
			t.Fatal(err)
		}
		if s := m.Summary(); !strings.Contains(s, params) {
			t.Fatalf("head %s: summary lacks the Dense parameter count %s:\n%s", head, params, s)
		}
	}
	if _, err := mnistModel("avg", 1); err == nil || !strings.Contains(err.Error(), "flatten, gap, gmp") {
		t.Fatalf("unknown head: %v", err)
	}
	out, err := runCLI(t, "train", "mnist", "--epochs", "1", "--verbose", "2", "--head", "gmp")
	if err != nil {
		t.Fatal(err)
	}
	if !lastLine.MatchString(strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])) {
		t.Fatalf("mnist output:\n%s", out)
	}
}

func TestWordsRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a recurrent model")
	}
	out, err := runCLI(t, "train", "words", "--epochs", "1", "--verbose", "0")
	if err != nil {
		t.Fatal(err)
	}
	m := lastLine.FindStringSubmatch(strings.TrimSpace(out))
	if m == nil {
		t.Fatalf("words output %q", out)
	}
	if acc, _ := strconv.ParseFloat(m[2], 64); acc < 0.6 {
		t.Fatalf("one epoch of words reached only %v", acc)
	}
}

func TestBench(t *testing.T) {
	out, err := runCLI(t, "bench", "--workload", "mlp", "--steps", "3")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^workload=mlp samples_per_s=[0-9.]+ ms_per_step=[0-9.]+ allocs_per_step=\d+ peak_heap_mb=[0-9.]+$`)
	if !re.MatchString(strings.TrimSpace(out)) {
		t.Fatalf("bench line %q", out)
	}
	if _, err := runCLI(t, "bench", "--workload", "rnn"); err == nil || !strings.Contains(err.Error(), "article, bigru, cnn, gru, lstm, mlp, predict") {
		t.Fatalf("unknown workload: %v", err)
	}
}

func TestBenchSoak(t *testing.T) {
	out, err := runCLI(t, "bench", "--workload", "mlp", "--soak", "--steps", "200")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^workload=mlp heap_mb_step_20=[0-9.]+ heap_mb_step_200=[0-9.]+ growth_pct=-?[0-9.]+$`)
	if !re.MatchString(strings.TrimSpace(out)) {
		t.Fatalf("soak line %q", out)
	}
}

// TestTrainInterrupted runs `kerago train` with a context that is already
// cancelled, as SIGINT cancels it: training stops before its first step,
// the command fails with context.Canceled (exit status 130), and neither
// --history nor --save leaves a file.
func TestTrainInterrupted(t *testing.T) {
	dir := t.TempDir()
	hist, model := filepath.Join(dir, "h.csv"), filepath.Join(dir, "m.keras")
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"train", "cancer", "--verbose", "0", "--history", hist, "--save", model})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := root.ExecuteContext(ctx)
	if !errors.Is(err, context.Canceled) || exitCode(err) != 130 {
		t.Fatalf("got %v (exit %d), want context.Canceled and exit 130", err, exitCode(err))
	}
	for _, p := range []string{hist, model} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists after the interrupt (%v)", p, err)
		}
	}
	if exitCode(errors.New("other")) != 1 {
		t.Error("other errors must exit 1")
	}
}
