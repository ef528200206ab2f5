package train

import (
	"slices"
	"strings"
	"testing"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
)

// trainableModel is Input(4) → Dense(8, name base) → BatchNormalization(bn)
// → Dense(3, softmax, name head), compiled with SGD, and 16 samples.
func trainableModel(t *testing.T) (*Model, [][]float64, []float64) {
	t.Helper()
	in := graph.Input(4)
	h := layers.NewDense(8, layers.WithName("base")).Apply(in)
	h = layers.NewBatchNormalization(layers.WithName("bn")).Apply(h)
	out := layers.NewDense(3, layers.WithActivation("softmax"), layers.WithName("head")).Apply(h)
	m, err := NewModel(in, out, Seed(3))
	if err != nil {
		t.Fatal(err)
	}
	x := make([][]float64, 16)
	y := make([]float64, 16)
	for i := range x {
		x[i] = []float64{float64(i%4) - 1.5, float64(i%3) * 0.5, float64(i%5) / 5, -float64(i % 2)}
		y[i] = float64(i % 3)
	}
	return m, x, y
}

// TestModelSetTrainable: freezing after Compile is refused until Compile
// runs again (Keras applies the change at the next compile); then the
// frozen layer's weights and the BatchNormalization's moving statistics
// stay bit for bit while the head trains; a fully frozen model is refused
// with "nothing to train"; Layer finds layers by name and lists them when
// it cannot; the trainable and non-trainable weight lists follow.
func TestModelSetTrainable(t *testing.T) {
	m, x, y := trainableModel(t)
	if got := len(m.TrainableWeights()); got != 6 { // base 2, bn gamma/beta, head 2
		t.Fatalf("%d trainable weights, want 6", got)
	}
	if err := m.Compile("sgd", "sparse_categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	base, err := m.Layer("base")
	if err != nil {
		t.Fatal(err)
	}
	bn, _ := m.Layer("bn")
	base.(graph.Trainability).SetTrainable(false)
	bn.(graph.Trainability).SetTrainable(false)
	if _, err := m.Fit(x, y, Epochs(1), Verbose(0)); err == nil || !strings.Contains(err.Error(), "weight base/kernel was frozen after Compile; call Compile again") {
		t.Fatalf("Fit after freezing without Compile: %v", err)
	}
	if _, err := m.TrainOnBatch(x, y); err == nil || !strings.Contains(err.Error(), "TrainOnBatch: weight base/kernel was frozen after Compile") {
		t.Fatalf("TrainOnBatch after freezing without Compile: %v", err)
	}
	if err := m.Compile("sgd", "sparse_categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	if got, want := len(m.NonTrainableWeights()), 6; got != want { // base 2, bn 4
		t.Fatalf("%d non-trainable weights, want %d", got, want)
	}
	before := m.GetWeights()
	if _, err := m.Fit(x, y, Epochs(2), BatchSize(4), Verbose(0)); err != nil {
		t.Fatal(err)
	}
	after := m.GetWeights()
	for i, w := range m.Weights() {
		frozen := !strings.HasPrefix(w.Name(), "head/")
		if same := slices.Equal(before[i].Float32s(), after[i].Float32s()); same != frozen {
			t.Errorf("weight %s unchanged %v after training, want %v", w.Name(), same, frozen)
		}
	}
	m.SetTrainable(false)
	if err := m.Compile("sgd", "sparse_categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(x, y, Verbose(0)); err == nil || !strings.Contains(err.Error(), "Fit: the model has nothing to train: every layer is frozen") {
		t.Fatalf("Fit of a frozen model: %v", err)
	}
	if _, err := m.Evaluate(x, y); err != nil { // evaluating a frozen model is fine
		t.Fatal(err)
	}
	m.SetTrainable(true)
	if _, err := m.Fit(x, y, Verbose(0)); err == nil || !strings.Contains(err.Error(), "was unfrozen after Compile") {
		t.Fatalf("Fit after unfreezing without Compile: %v", err)
	}
	if _, err := m.Layer("nope"); err == nil || !strings.Contains(err.Error(), `the model has no layer "nope" (its layers: `) || !strings.Contains(err.Error(), "base, bn, head") {
		t.Fatalf("Layer(nope): %v", err)
	}
}
