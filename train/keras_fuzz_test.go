package train

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzModelFromKerasConfig feeds model configurations (seeded with every
// fixture's and a few broken ones) to ModelFromKerasConfig: it may refuse
// them, but never through a panic (which guard would report as an internal
// error), and a configuration it accepts must write back (KerasConfig) to
// one it accepts again.
func FuzzModelFromKerasConfig(f *testing.F) {
	files, _ := filepath.Glob("../testdata/keras/*.json")
	for _, p := range files {
		fx := readFixtureConfig(f, p)
		f.Add(string(fx))
	}
	f.Add(`{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [null, 3]}}, {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}}`)
	f.Add(`{"class_name": "Functional", "config": {"name": "f", "layers": [], "input_layers": [], "output_layers": []}}`)
	f.Add(`{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "Dense", "config": {"name": "d", "units": 2, "batch_input_shape": [null, 4]}}]}}`)
	f.Fuzz(func(t *testing.T, cfg string) {
		if len(cfg) > 1<<16 {
			return
		}
		m, err := ModelFromKerasConfig([]byte(cfg))
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("panic: %v", err)
			}
			return
		}
		back, err := m.KerasConfig()
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("panic writing: %v", err)
			}
			return
		}
		if _, err := ModelFromKerasConfig(back); err != nil {
			t.Fatalf("a configuration read and written again is refused: %v\n%s", err, back)
		}
	})
}

// readFixtureConfig is the model_config of a fixture file.
func readFixtureConfig(f *testing.F, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	var fx struct {
		ModelConfig json.RawMessage `json:"model_config"`
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		f.Fatal(err)
	}
	return fx.ModelConfig
}
