package train

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
)

// noneDimsCases are the models of testdata/keras/none_dims, saved by Keras
// with None axes besides the batch, and Keras's predictions for inputs of
// several concrete shapes (gen.py there writes them).
type noneDimsCases struct {
	Models []struct {
		Name  string         `json:"name"`
		Cases []kerasFixture `json:"cases"`
	} `json:"models"`
}

func loadNoneDims(t *testing.T) noneDimsCases {
	t.Helper()
	b, err := os.ReadFile("../testdata/keras/none_dims/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var c noneDimsCases
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Models) != 2 {
		t.Fatalf("%d models in cases.json, want 2", len(c.Models))
	}
	return c
}

// TestNoneDimsPredict loads models whose inputs have None axes (text of any
// length; images of any size) and predicts Keras's outputs for each
// concrete shape, one program per shape; saved and loaded again, the model
// keeps its None axes and its predictions.
func TestNoneDimsPredict(t *testing.T) {
	for _, md := range loadNoneDims(t).Models {
		path := filepath.Join("../testdata/keras/none_dims", md.Name+".keras")
		m, err := LoadModel(path)
		if err != nil {
			t.Fatalf("%s: %v", md.Name, err)
		}
		if in := m.Network().Inputs()[0].Shape(); in.Known() {
			t.Fatalf("%s: input shape %s has no None axis", md.Name, in)
		}
		for _, c := range md.Cases {
			c.Name = md.Name
			predictFixture(t, md.Name+" "+sampleShape(c.Inputs[0].Shape[1:]), m, c, 1e-5)
		}
		if got := m.predictProgs.len(); got != len(md.Cases) {
			t.Errorf("%s: %d predict programs after %d input shapes", md.Name, got, len(md.Cases))
		}
		saved := filepath.Join(t.TempDir(), md.Name+".keras")
		if err := m.SaveModel(saved); err != nil {
			t.Fatal(err)
		}
		back, err := LoadModel(saved)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := back.Network().Inputs()[0].Shape(), m.Network().Inputs()[0].Shape(); !got.Equal(want) {
			t.Errorf("%s: saved and loaded, input shape %s, want %s", md.Name, got, want)
		}
		for _, c := range md.Cases {
			predictFixture(t, md.Name+" saved and loaded", back, c, 1e-5)
		}
	}
}

// TestNoneDimsSummaryAndErrors checks that the summary shows None axes, that
// data of the wrong rank is refused, and that a None axis a weight depends
// on is an error naming the weight.
func TestNoneDimsSummaryAndErrors(t *testing.T) {
	m, err := LoadModel("../testdata/keras/none_dims/conv_none.keras")
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Summary(); !strings.Contains(s, "(None, None, None, 2)") || !strings.Contains(s, "(None, None, None, 3)") {
		t.Errorf("summary does not show the None axes:\n%s", s)
	}
	x := tensor.New(tensor.WithShape(2, 8, 2), tensor.Of(tensor.Float32))
	if _, err := m.Predict(x); err == nil || !strings.Contains(err.Error(), "expected image to have shape (None, None, 2)") {
		t.Errorf("rank-3 images: got %v", err)
	}
	in := graph.Input(graph.Unknown, 3)
	_, err = Sequential(in, []graph.Layer{layers.NewFlatten(), layers.NewDense(4)})
	if err == nil || !strings.Contains(err.Error(), "kernel would have shape [None 4]") {
		t.Errorf("Dense after Flatten of a None axis: got %v", err)
	}
}

// TestNoneDimsProgramCacheBounded predicts texts of many lengths: the
// predict programs stay within maxPrograms, the most recent kept.
func TestNoneDimsProgramCacheBounded(t *testing.T) {
	m, err := LoadModel("../testdata/keras/none_dims/text_none.keras")
	if err != nil {
		t.Fatal(err)
	}
	for steps := 1; steps <= maxPrograms+4; steps++ {
		x := tensor.New(tensor.WithShape(2, steps), tensor.WithBacking(make([]float32, 2*steps)))
		for i := range steps {
			x.Float32s()[i] = float32(1 + i%19)
		}
		y, err := m.Predict(x)
		if err != nil {
			t.Fatalf("%d steps: %v", steps, err)
		}
		if !y.Shape().Eq(tensor.Shape{2, 3}) {
			t.Fatalf("%d steps: output shape %v", steps, y.Shape())
		}
	}
	if got := m.predictProgs.len(); got != maxPrograms {
		t.Errorf("%d predict programs held, want the bound %d", got, maxPrograms)
	}
	if !m.predictProgs.has(keyOf(2, []graph.Shape{{maxPrograms + 4}})) {
		t.Error("the most recent program was evicted")
	}
}

// TestNoneDimsFit trains the text model on sequences of one length and
// evaluates it on another: each shape gets its programs, and training
// lowers the loss.
func TestNoneDimsFit(t *testing.T) {
	m, err := LoadModel("../testdata/keras/none_dims/text_none.keras")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile("adam", "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	data := func(n, steps int) (*tensor.Dense, *tensor.Dense) {
		x := make([]float32, n*steps)
		y := make([]float32, n)
		for i := range n {
			y[i] = float32(i % 3)
			for j := range steps {
				x[i*steps+j] = float32(1 + int(y[i])*6 + (i+j)%6)
			}
		}
		return tensor.New(tensor.WithShape(n, steps), tensor.WithBacking(x)), tensor.New(tensor.WithShape(n), tensor.WithBacking(y))
	}
	x, y := data(60, 7)
	vx, vy := data(30, 11)
	lb := evalLoss(t, m, vx, vy)
	if _, err := m.Fit(x, y, Epochs(5), BatchSize(16), Verbose(0)); err != nil {
		t.Fatal(err)
	}
	if la := evalLoss(t, m, vx, vy); !(la < lb) {
		t.Errorf("loss on 11-step sequences %v after training on 7-step ones, %v before", la, lb)
	}
}

// len is the number of keys held.
func (c *programCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.idle)
}

// has reports whether key is held.
func (c *programCache) has(key programKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.idle[key]
	return ok
}
