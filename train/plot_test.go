package train_test

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/kerago/kerago/train"
)

func TestSavePlot(t *testing.T) {
	trX, trY, _, _ := cancer(t)
	m := cancerModel(t, 1)
	h, err := m.Fit(trX, trY, train.Epochs(3), train.Verbose(0), train.ValidationSplit(0.2))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "curves.png")
	if err := h.SavePlot(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 200 {
		t.Fatalf("image %v", b)
	}
	// Not all white: curves were drawn.
	colours := map[uint32]bool{}
	for y := 0; y < img.Bounds().Dy(); y += 3 {
		for x := 0; x < img.Bounds().Dx(); x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r<<16^g<<8^b] = true
		}
	}
	if len(colours) < 5 {
		t.Fatalf("only %d colours in the plot", len(colours))
	}
	if err := (&train.History{}).SavePlot(path); err == nil {
		t.Fatal("an empty history plotted")
	}
	if err := h.SavePlot(filepath.Join(t.TempDir(), "missing", "x.png")); err == nil {
		t.Fatal("a missing directory accepted")
	}
}
