package train

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// kerasFixture is one of testdata/keras's <name>.json files: a model Keras
// wrote, its weights' order and shapes, a batch of inputs and Keras's
// predictions.
type kerasFixture struct {
	Name        string          `json:"name"`
	ModelConfig json.RawMessage `json:"model_config"`
	Weights     []struct {
		Path  string `json:"path"`
		Shape []int  `json:"shape"`
	} `json:"weights"`
	Inputs []struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
		Data  any    `json:"data"`
	} `json:"inputs"`
	Outputs []struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
		Data  any    `json:"data"`
	} `json:"outputs"`
}

func kerasFixtures(t *testing.T) []kerasFixture {
	t.Helper()
	files, err := filepath.Glob("../testdata/keras/*.json")
	if err != nil || len(files) < 6 {
		t.Fatalf("fixtures in testdata/keras: %v, %v", files, err)
	}
	var out []kerasFixture
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var fx kerasFixture
		if err := json.Unmarshal(b, &fx); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, fx)
	}
	return out
}

// TestModelFromKerasConfig rebuilds every fixture model from Keras's
// configuration and checks its weights, in order, against the shapes Keras
// lists for get_weights().
func TestModelFromKerasConfig(t *testing.T) {
	for _, fx := range kerasFixtures(t) {
		m, err := ModelFromKerasConfig(fx.ModelConfig)
		if err != nil {
			t.Errorf("%s: %v", fx.Name, err)
			continue
		}
		if m.Name() != fx.Name {
			t.Errorf("%s: model named %q", fx.Name, m.Name())
		}
		ws := m.Weights()
		if len(ws) != len(fx.Weights) {
			t.Errorf("%s: %d weights, Keras has %d", fx.Name, len(ws), len(fx.Weights))
			continue
		}
		for i, w := range ws {
			if !slices.Equal([]int(w.Shape()), fx.Weights[i].Shape) {
				t.Errorf("%s: weight %d %s has shape %v, Keras's %s %v", fx.Name, i, w.Name(), w.Shape(), fx.Weights[i].Path, fx.Weights[i].Shape)
			}
		}
		if len(m.Network().Inputs()) != len(fx.Inputs) || len(m.Network().Outputs()) != len(fx.Outputs) {
			t.Errorf("%s: %d inputs and %d outputs, Keras has %d and %d", fx.Name, len(m.Network().Inputs()), len(m.Network().Outputs()), len(fx.Inputs), len(fx.Outputs))
		}
	}
}

// TestModelFromKerasConfigErrors checks the errors for configurations
// kerago cannot rebuild, each naming what is wrong.
func TestModelFromKerasConfigErrors(t *testing.T) {
	for _, c := range []struct{ cfg, want string }{
		{`[1]`, "not a Keras model"},
		{`{"class_name": "Subclassed", "config": {}}`, "class Subclassed is not supported (Sequential or Functional)"},
		{`{"class_name": "Sequential", "config": {"name": "s", "layers": []}}`, "a Sequential model with no layers"},
		{`{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [null, 3, null]}}, {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}}`, "weight d/kernel would have shape [None 2]: an input axis it depends on is None"},
		{`{"class_name": "Functional", "config": {"name": "f", "layers": [{"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2}, "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["nowhere", 0, 0]}}], "kwargs": {}}]}], "input_layers": [], "output_layers": ["d", 0, 0]}}`, "layer d: input from layer nowhere, which the configuration does not have"},
		{`{"class_name": "Functional", "config": {"name": "f", "layers": [{"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_shape": [null, 3]}, "inbound_nodes": []}, {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2}, "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}], "kwargs": {"training": true, "scale": 2}}]}], "input_layers": ["x", 0, 0], "output_layers": ["d", 0, 0]}}`, `keyword argument "scale" is not supported`},
		{`{"class_name": "Functional", "config": {"name": "f", "layers": [{"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_shape": [null, 3]}, "inbound_nodes": []}, {"class_name": "Conv9D", "name": "c", "config": {"name": "c"}, "inbound_nodes": []}], "input_layers": ["x", 0, 0], "output_layers": ["x", 0, 0]}}`, "layer c: unknown class Conv9D"},
		{`{"class_name": "Functional", "config": {"name": "f", "layers": [{"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_shape": [null, 3]}, "inbound_nodes": []}], "input_layers": ["x", 0, 0], "output_layers": ["y", 0, 0]}}`, "output_layers: input from layer y, which the configuration does not have"},
	} {
		_, err := ModelFromKerasConfig([]byte(c.cfg))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant an error containing %q", c.cfg, err, c.want)
		}
	}
}

// TestKerasConfigRoundTrip writes every fixture model's configuration back
// as Keras 3's Functional form, rebuilds it, and checks that the two models
// have the same layers, weights and predictions (the same weight values
// copied across).
func TestKerasConfigRoundTrip(t *testing.T) {
	for _, fx := range kerasFixtures(t) {
		m1, err := ModelFromKerasConfig(fx.ModelConfig)
		if err != nil {
			t.Errorf("%s: %v", fx.Name, err)
			continue
		}
		raw, err := m1.KerasConfig()
		if err != nil {
			t.Errorf("%s: KerasConfig: %v", fx.Name, err)
			continue
		}
		m2, err := ModelFromKerasConfig(raw, Seed(99))
		if err != nil {
			t.Errorf("%s: reading back %s: %v", fx.Name, raw, err)
			continue
		}
		w1, w2 := m1.Weights(), m2.Weights()
		if len(w1) != len(w2) {
			t.Errorf("%s: %d weights, then %d", fx.Name, len(w1), len(w2))
			continue
		}
		for i := range w1 {
			if w1[i].Name() != w2[i].Name() {
				t.Errorf("%s: weight %d is %s, then %s", fx.Name, i, w1[i].Name(), w2[i].Name())
			}
			if err := w2[i].SetFloat64s(w1[i].Float64s()); err != nil {
				t.Fatal(err)
			}
		}
		var ins []any
		for _, in := range fx.Inputs {
			ins = append(ins, fixtureArray(t, in.Shape, in.Data))
		}
		p1, err := m1.PredictAll(Multi(ins...))
		if err != nil {
			t.Errorf("%s: predict: %v", fx.Name, err)
			continue
		}
		p2, err := m2.PredictAll(Multi(ins...))
		if err != nil {
			t.Errorf("%s: predict after the round trip: %v", fx.Name, err)
			continue
		}
		for i := range p1 {
			if !slices.Equal(p1[i].Float32s(), p2[i].Float32s()) {
				t.Errorf("%s: output %d differs after the round trip", fx.Name, i)
			}
		}
	}
}

// fixtureArray is a fixture's nested JSON list as a float32 tensor.
func fixtureArray(t *testing.T, shape []int, data any) *tensor.Dense {
	t.Helper()
	var flat []float32
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case float64:
			flat = append(flat, float32(x))
		default:
			t.Fatalf("fixture value %v (%T)", v, v)
		}
	}
	walk(data)
	n := 1
	for _, d := range shape {
		n *= d
	}
	if len(flat) != n {
		t.Fatalf("fixture array has %d values for shape %v", len(flat), shape)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(flat))
}
