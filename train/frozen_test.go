package train

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
)

// TestFrozenLayers loads the Keras-written `frozen` fixture (Dense and
// BatchNormalization with trainable=False) and trains it: the frozen
// layers' weights, BatchNormalization's moving statistics included (a
// frozen BatchNormalization runs in inference mode, as in Keras 3), stay
// bit for bit; the head's change. The summary counts the frozen weights as
// non-trainable, and the configuration written back says trainable false.
func TestFrozenLayers(t *testing.T) {
	m, err := LoadModel("../testdata/keras/frozen.keras")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers() {
		if want := l.Name() != "base" && l.Name() != "bn"; graph.IsTrainable(l) != want {
			t.Errorf("layer %s: trainable %v, want %v", l.Name(), graph.IsTrainable(l), want)
		}
	}
	if s := m.Summary(); !strings.Contains(s, "Trainable params: 21") || !strings.Contains(s, "Non-trainable params: 60") {
		t.Errorf("summary:\n%s", s)
	}
	cfg, err := m.KerasConfig()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(cfg), `"trainable":false`); n != 2 {
		t.Errorf("%d layers written with trainable false, want 2:\n%s", n, cfg)
	}
	if err := m.Compile("adam", "sparse_categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([][]float64, 32)
	y := make([]float64, 32)
	for i := range x {
		x[i] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		y[i] = float64(i % 3)
	}
	before := m.GetWeights()
	if _, err := m.Fit(x, y, Epochs(2), BatchSize(8), Verbose(0)); err != nil {
		t.Fatal(err)
	}
	after := m.GetWeights()
	for i, w := range m.Weights() {
		frozen := strings.HasPrefix(w.Name(), "base/") || strings.HasPrefix(w.Name(), "bn/")
		if same := slices.Equal(before[i].Float32s(), after[i].Float32s()); same != frozen {
			t.Errorf("weight %s: unchanged %v after training, want %v", w.Name(), same, frozen)
		}
	}
}

// evalLoss is m's Evaluate loss on (x, y).
func evalLoss(t *testing.T, m *Model, x, y any) float64 {
	t.Helper()
	logs, err := m.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := logs.Get("loss")
	return v
}

// TestFrozenLayerNoPenalty checks that a frozen layer's regularizer adds
// nothing to the loss, as Keras regularizes trainable weights only.
func TestFrozenLayerNoPenalty(t *testing.T) {
	build := func(freeze bool) *Model {
		in := graph.Input(3)
		d := layers.NewDense(2, layers.WithKernelRegularizer(layers.L2(10)), layers.WithKernelInitializer(layers.Ones()))
		if freeze {
			d.SetTrainable(false)
		}
		out := layers.NewDense(1, layers.WithKernelInitializer(layers.Ones())).Apply(d.Apply(in))
		m, err := NewModel(in, out)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Compile("sgd", "mse"); err != nil {
			t.Fatal(err)
		}
		return m
	}
	x, y := [][]float64{{1, 2, 3}}, []float64{0}
	// (1+2+3)·2 = 12 → squared error 144; the penalty is 10·6 = 60.
	if got := evalLoss(t, build(false), x, y); got != 204 {
		t.Errorf("trainable: loss %v, want 144 + 60", got)
	}
	if got := evalLoss(t, build(true), x, y); got != 144 {
		t.Errorf("frozen: loss %v, want 144 with no penalty", got)
	}
}
