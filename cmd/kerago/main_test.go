package main

import (
	"bytes"
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
	if _, err := runCLI(t, "train", "cancer", "--lr", "-1", "--verbose", "0"); err == nil || !strings.Contains(err.Error(), "learning rate") {
		t.Fatalf("negative lr: %v", err)
	}
	if _, err := runCLI(t, "train", "cancer", "--batch-size", "-3", "--verbose", "0"); err == nil || !strings.Contains(err.Error(), "batch size") {
		t.Fatalf("negative batch: %v", err)
	}
	if _, err := runCLI(t, "train"); err == nil {
		t.Fatal("missing dataset accepted")
	}
}
