package hdf5

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// modelInfo is the part of a fixture's <model>.json the tests use.
type modelInfo struct {
	Name    string `json:"name"`
	Weights []struct {
		Path  string `json:"path"`
		Shape []int  `json:"shape"`
	} `json:"weights"`
}

func loadModelInfo(t *testing.T, model string) (modelInfo, []npyArray) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(kerasDir, model+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var info modelInfo
	if err := json.Unmarshal(data, &info); err != nil {
		t.Fatal(err)
	}
	arrays := readNPZ(t, filepath.Join(kerasDir, model+".npz"))
	if len(arrays) != len(info.Weights) {
		t.Fatalf("%s: %d npz arrays for %d weights", model, len(arrays), len(info.Weights))
	}
	return info, arrays
}

// TestFixturesRead reads every Keras-written file, in default and strict
// mode, and checks its tree against the model's weight list and values.
func TestFixturesRead(t *testing.T) {
	fs := fixtures(t)
	if len(fs) != 27 {
		t.Fatalf("%d fixtures, want 27 (9 models × .h5, .weights.h5, .keras)", len(fs))
	}
	for _, fx := range fs {
		t.Run(fx.name, func(t *testing.T) {
			f, err := readBytes(fx.data, false)
			if err != nil {
				t.Fatal(err)
			}
			strict, err := readBytes(fx.data, true)
			if err != nil {
				t.Fatalf("strict: %v", err)
			}
			if d := diffTrees("/", f.Root, strict.Root); d != "" {
				t.Fatalf("strict and default trees differ: %s", d)
			}
			info, arrays := loadModelInfo(t, fx.model)
			if fx.legacy() {
				checkLegacy(t, f, info, arrays)
			} else {
				checkWeights(t, f, info, arrays)
			}
		})
	}
}

// checkLegacy follows Keras's legacy loader: layer_names, then each
// layer's weight_names, in get_weights() order.
func checkLegacy(t *testing.T, f *File, info modelInfo, arrays []npyArray) {
	for _, name := range []string{"backend", "keras_version", "model_config"} {
		if v, ok := f.Root.Attr(name); !ok || v.(string) == "" {
			t.Errorf("root attribute %s = %#v", name, v)
		}
	}
	cfg, _ := f.Root.Attr("model_config")
	var config struct {
		ClassName string `json:"class_name"`
		Config    struct {
			Name string `json:"name"`
		} `json:"config"`
	}
	if err := json.Unmarshal([]byte(cfg.(string)), &config); err != nil || config.Config.Name != info.Name || config.ClassName == "" {
		t.Errorf("model_config: %v, %+v", err, config)
	}
	mw := f.Group("model_weights")
	names, _ := mw.Attr("layer_names")
	var got []npyArray
	var paths []string
	for _, layer := range names.([]string) {
		g := mw.Group(layer)
		if g == nil {
			t.Fatalf("layer %q has no group", layer)
		}
		wn, _ := g.Attr("weight_names")
		switch wn := wn.(type) {
		case []float64:
			if len(wn) != 0 {
				t.Errorf("layer %s: weight_names %v", layer, wn)
			}
		case []string:
			for _, w := range wn {
				d := g.Dataset(w)
				if d == nil {
					t.Fatalf("no dataset %s/%s", layer, w)
				}
				paths = append(paths, w)
				got = append(got, datasetArray(d))
			}
		default:
			t.Fatalf("layer %s: weight_names %#v", layer, wn)
		}
	}
	for i, w := range info.Weights {
		if i >= len(paths) || paths[i] != w.Path {
			t.Fatalf("weight %d: path %v, want %s", i, paths, w.Path)
		}
	}
	compareArrays(t, got, arrays)
}

// checkWeights checks a Keras 3 weights file: every vars group is named,
// and the datasets are the model's weights (Keras 3 orders them by layer
// key, so they are compared as a multiset).
func checkWeights(t *testing.T, f *File, info modelInfo, arrays []npyArray) {
	if len(f.Root.Attrs) != 0 {
		t.Errorf("root attributes %v", f.Root.Attrs)
	}
	if v, _ := f.Group("vars").Attr("name"); v != info.Name {
		t.Errorf("/vars name %#v, want %q", v, info.Name)
	}
	var got []npyArray
	err := f.Root.Walk(func(path string, g *Group, d *Dataset) error {
		if d != nil {
			got = append(got, datasetArray(d))
		} else if g.Name == "vars" {
			if v, ok := g.Attr("name"); !ok || v.(string) == "" {
				return fmt.Errorf("%s: name attribute %#v", path, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sortArrays(got)
	want := append([]npyArray{}, arrays...)
	sortArrays(want)
	compareArrays(t, got, want)
}

func sortArrays(as []npyArray) {
	sort.Slice(as, func(i, j int) bool { return fmt.Sprint(as[i]) < fmt.Sprint(as[j]) })
}

func compareArrays(t *testing.T, got, want []npyArray) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d datasets, want %d", len(got), len(want))
	}
	for i := range got {
		if fmt.Sprint(got[i].shape) != fmt.Sprint(want[i].shape) || fmt.Sprint(got[i].bits) != fmt.Sprint(want[i].bits) {
			t.Errorf("dataset %d: shape %v, want %v (or values differ)", i, got[i].shape, want[i].shape)
		}
	}
}

// TestFixturesRewrite writes each fixture's tree and reads it back, in
// strict mode: the same tree, and the same bytes when written twice.
func TestFixturesRewrite(t *testing.T) {
	for _, fx := range fixtures(t) {
		f, err := readBytes(fx.data, false)
		if err != nil {
			t.Fatal(err)
		}
		out := writeBytes(t, f)
		back, err := readBytes(out, true)
		if err != nil {
			t.Fatalf("%s rewritten: %v", fx.name, err)
		}
		if d := diffTrees("/", f.Root, back.Root); d != "" {
			t.Errorf("%s rewritten: %s", fx.name, d)
		}
		if again := writeBytes(t, back); string(again) != string(out) {
			t.Errorf("%s: writing the tree read back gives other bytes", fx.name)
		}
	}
}
