package layers

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kerago/kerago/graph"
)

// kerasModelConfig is the part of a Keras model configuration these tests
// read: the layers.
type kerasModelConfig struct {
	Config struct {
		Layers []KerasObject `json:"layers"`
	} `json:"config"`
}

// fixtureLayers returns every layer object of the Keras-written model
// configurations in testdata/keras (their <name>.json files).
func fixtureLayers(t *testing.T) map[string][]KerasObject {
	t.Helper()
	files, err := filepath.Glob("../testdata/keras/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata/keras: %v", err)
	}
	out := map[string][]KerasObject{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var fixture struct {
			ModelConfig kerasModelConfig `json:"model_config"`
		}
		if err := json.Unmarshal(b, &fixture); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = fixture.ModelConfig.Config.Layers
	}
	return out
}

// TestDeserializeKerasLayers reads every layer of the Keras 3.16 fixtures
// (but the input layers and the NotEqual op, which the model loader
// handles), writes it back and reads that again: the configuration
// survives both ways.
func TestDeserializeKerasLayers(t *testing.T) {
	n := 0
	for file, objs := range fixtureLayers(t) {
		for _, obj := range objs {
			if obj.ClassName == "InputLayer" || obj.ClassName == "NotEqual" {
				continue
			}
			l, err := DeserializeLayer(obj)
			if err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			n++
			back, err := SerializeLayer(l, "float32")
			if err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			again, err := DeserializeLayer(back)
			if err != nil {
				t.Errorf("%s: reading back %s: %v", file, l.Name(), err)
				continue
			}
			if a, b := kerasConfigOf(t, l), kerasConfigOf(t, again); !reflect.DeepEqual(a, b) {
				t.Errorf("%s: %s changed through serialization:\n%#v\n%#v", file, l.Name(), a, b)
			}
		}
	}
	if n < 15 {
		t.Errorf("only %d layers read", n)
	}
}

// kerasConfigOf is the layer's Keras configuration as plain JSON values (wrapped
// layers by their own configuration).
func kerasConfigOf(t *testing.T, l graph.Layer) any {
	t.Helper()
	obj, err := SerializeLayer(l, "float32")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(obj.Config, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDeserializeLayerErrors checks that what kerago cannot honour is an
// error naming the layer, the class and the key, never a silent default.
func TestDeserializeLayerErrors(t *testing.T) {
	obj := func(class, cfg string) KerasObject {
		return KerasObject{Module: "keras.layers", ClassName: class, Config: json.RawMessage(cfg)}
	}
	for _, c := range []struct {
		obj  KerasObject
		want string
	}{
		{obj("Conv3D", `{"name": "c3"}`), "layer c3: unknown class Conv3D (kerago knows Activation"},
		{obj("Dense", `{"name": "d"}`), `layer d (Dense): missing key "units"`},
		{obj("Dense", `{"name": "d", "units": 3, "kernel_constraint": {"class_name": "MaxNorm", "config": {}}}`), "layer d (Dense): key kernel_constraint: kerago supports only null"},
		{obj("Dense", `{"name": "d", "units": 3, "shiny": 1, "glow": 2}`), "layer d (Dense): configuration keys kerago does not implement: glow, shiny"},
		{obj("Dense", `{"name": "d", "units": "three"}`), "layer d (Dense): key units: json: cannot unmarshal string"},
		{obj("Dense", `{"name": "d", "units": 3, "kernel_initializer": {"class_name": "Identity", "config": {}}}`), "key kernel_initializer: unknown initializer Identity"},
		{obj("Dense", `{"name": "d", "units": 3, "kernel_initializer": {"class_name": "RandomNormal", "config": {"mean": 0, "wobble": 1}}}`), `initializer RandomNormal: json: unknown field "wobble"`},
		{obj("Dense", `{"name": "d", "units": 3, "kernel_regularizer": {"class_name": "OrthogonalRegularizer", "config": {}}}`), "unknown regularizer OrthogonalRegularizer (L1, L2 or L1L2)"},
		{obj("Dense", `{"name": "d", "units": 3, "dtype": "mixed_float16"}`), `key dtype: dtype "mixed_float16" is not supported (float32 or float64)`},
		{obj("Dense", `{"name": "d", "units": 3, "trainable": 0}`), "key trainable: kerago supports only true or false, got 0"},
		{obj("Conv2D", `{"name": "c", "filters": 2, "kernel_size": 3, "data_format": "channels_first"}`), `key data_format: kerago supports only "channels_last" or null`},
		{obj("GRU", `{"name": "g", "units": 2, "zero_output_for_mask": true}`), "key zero_output_for_mask: kerago supports only false"},
		{obj("Dropout", `{"name": "dr", "rate": 0.5, "noise_shape": 3}`), "noise_shape must be null or a list of sizes"},
		{obj("Dense", `[1, 2]`), "layer of class Dense: config is not a JSON object"},
	} {
		_, err := DeserializeLayer(c.obj)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: got %v, want an error containing %q", c.obj.ClassName, c.obj.Config, err, c.want)
		}
	}
}

// TestKerasObjects checks the Keras forms of initializers, regularizers and
// the Dropout and Bidirectional settings whose Keras form differs from
// kerago's, both ways.
func TestKerasObjects(t *testing.T) {
	for _, init := range []graph.Initializer{GlorotUniform(), HeNormal(), Zeros(), Ones(), Constant(0.5),
		RandomUniform(-1, 2), RandomNormal(0.1, 0.2), TruncatedNormal(0, 0.3), Orthogonal(),
		VarianceScaling{3, "fan_out", "untruncated_normal"}} {
		obj, err := serializeInitializer(init)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(obj)
		back, err := deserializeInitializer(raw)
		if err != nil || back != init {
			t.Errorf("%#v: %s read back as %#v, %v", init, raw, back, err)
		}
	}
	for name, want := range map[string]graph.Initializer{`"glorot_uniform"`: GlorotUniform(), `"Orthogonal"`: Orthogonal(), `null`: nil} {
		if got, err := deserializeInitializer(json.RawMessage(name)); err != nil || got != want {
			t.Errorf("initializer %s: %#v, %v", name, got, err)
		}
	}
	for _, r := range []graph.Regularizer{L1(0.1), L2(0.2), L1L2(0.1, 0.3)} {
		obj, err := serializeRegularizer(r)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(obj)
		if back, err := deserializeRegularizer(raw); err != nil || back != r {
			t.Errorf("%#v: %s read back as %#v, %v", r, raw, back, err)
		}
	}
	if r, err := deserializeRegularizer(json.RawMessage(`"l2"`)); err != nil || r != L2(0.01) {
		t.Errorf(`regularizer "l2": %#v, %v`, r, err)
	}
	ns := NoiseShape{1, 0, 5}
	raw, _ := json.Marshal(ns)
	var back NoiseShape
	if string(raw) != "[null,1,null,5]" || json.Unmarshal(raw, &back) != nil || !reflect.DeepEqual(back, ns) {
		t.Errorf("noise shape %v: %s, read back %v", ns, raw, back)
	}
	for mode, js := range map[MergeMode]string{"none": "null", "concat": `"concat"`} {
		raw, _ := json.Marshal(mode)
		var back MergeMode
		if string(raw) != js || json.Unmarshal(raw, &back) != nil || back != mode {
			t.Errorf("merge mode %q: %s, read back %q", mode, raw, back)
		}
	}
}
