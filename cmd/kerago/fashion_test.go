package main

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kerago/kerago/train"
)

// TestFashionTransfer runs the transfer demo as a user would, shortened to
// one epoch each: train and save the MNIST CNN, then `train fashion --from
// it --freeze-base`. The saved Fashion model's base (both convolutions and
// the BatchNormalization, moving statistics included) holds the MNIST
// model's weights bit for bit, counts as non-trainable in the summary, and
// the head trained; the output compares with training from scratch.
func TestFashionTransfer(t *testing.T) {
	dir := t.TempDir()
	mnist, fashion := filepath.Join(dir, "mnist.keras"), filepath.Join(dir, "fashion.keras")
	if _, err := runCLI(t, "train", "mnist", "--epochs", "1", "--verbose", "0", "--save", mnist); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "train", "fashion", "--from", mnist, "--freeze-base", "--epochs", "1", "--verbose", "0", "--save", fashion)
	if err != nil {
		t.Fatal(err)
	}
	compare := regexp.MustCompile(`(?m)^transfer \(MNIST base, frozen\): test_accuracy=0\.\d+ in [0-9.]+s \| from scratch: test_accuracy=0\.\d+ in [0-9.]+s \(1 epochs each\)$`)
	if !compare.MatchString(out) {
		t.Fatalf("no comparison line in:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lastLine.FindStringSubmatch(lines[len(lines)-1]) == nil {
		t.Fatalf("last line %q", lines[len(lines)-1])
	}
	src, err := train.LoadModel(mnist)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := train.LoadModel(fashion)
	if err != nil {
		t.Fatal(err)
	}
	sw, dw := src.GetWeights(), dst.GetWeights()
	base := 0
	for i, w := range src.Weights() {
		if strings.HasPrefix(w.Name(), "dense") {
			break
		}
		if !slices.Equal(sw[i].Float32s(), dw[i].Float32s()) {
			t.Errorf("base weight %s changed in the transfer", w.Name())
		}
		base += sw[i].Shape().TotalSize()
	}
	if base != 832+102528+512 { // conv 5·5·1·32+32, conv 5·5·32·128+128, BN 4·128
		t.Fatalf("base of %d values", base)
	}
	if s := dst.Summary(); !strings.Contains(s, "Non-trainable params: 103,872") {
		t.Errorf("summary does not count the frozen base as non-trainable:\n%s", s)
	}
	fresh, err := fashionModel("gap", 1) // the head as initialized (seed 1, the default)
	if err != nil {
		t.Fatal(err)
	}
	fw := fresh.GetWeights()
	if len(fw) != len(dw) {
		t.Fatalf("%d weights, want %d", len(dw), len(fw))
	}
	head := 0
	for i, w := range dst.Weights() {
		if !strings.HasPrefix(w.Name(), "dense") {
			continue
		}
		head++
		if slices.Equal(fw[i].Float32s(), dw[i].Float32s()) {
			t.Errorf("head weight %s did not train", w.Name())
		}
	}
	if head != 4 {
		t.Errorf("%d head weights, want 4 (two Dense layers)", head)
	}
}
