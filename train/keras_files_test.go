package train

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// predictFixture predicts the fixture's inputs with m and compares the
// outputs with Keras's, within tol.
func predictFixture(t *testing.T, what string, m *Model, fx kerasFixture, tol float64) {
	t.Helper()
	var ins []any
	for _, in := range fx.Inputs {
		ins = append(ins, fixtureArray(t, in.Shape, in.Data))
	}
	got, err := m.PredictAll(Multi(ins...))
	if err != nil {
		t.Errorf("%s: predict: %v", what, err)
		return
	}
	if len(got) != len(fx.Outputs) {
		t.Errorf("%s: %d outputs, Keras %d", what, len(got), len(fx.Outputs))
		return
	}
	for i, o := range fx.Outputs {
		want := fixtureArray(t, o.Shape, o.Data).Float32s()
		g := got[i].Float32s()
		for j := range want {
			if d := math.Abs(float64(g[j] - want[j])); !(d <= tol) {
				t.Errorf("%s: output %s[%d] = %v, Keras %v (|diff| %.3g)", what, o.Name, j, g[j], want[j], d)
				break
			}
		}
	}
}

// TestLoadKerasFiles loads every fixture model from its .keras and legacy
// .h5 files, and from its configuration with the weights of its
// .weights.h5 and .npz files, and checks each predicts Keras's outputs
// within 1e-5 in float32.
func TestLoadKerasFiles(t *testing.T) {
	for _, fx := range kerasFixtures(t) {
		base := filepath.Join("../testdata/keras", fx.Name)
		for _, ext := range []string{".keras", ".h5"} {
			m, err := LoadModel(base + ext)
			if err != nil {
				t.Errorf("%s%s: %v", fx.Name, ext, err)
				continue
			}
			predictFixture(t, fx.Name+ext, m, fx, 1e-5)
		}
		for _, ext := range []string{".weights.h5", ".npz"} {
			m, err := ModelFromKerasConfig(fx.ModelConfig)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.LoadWeights(base + ext); err != nil {
				t.Errorf("%s%s: %v", fx.Name, ext, err)
				continue
			}
			predictFixture(t, fx.Name+ext, m, fx, 1e-5)
		}
	}
}

// TestSaveKerasFiles writes every fixture model as .keras and .weights.h5
// and reads them back: the same predictions, bit for bit.
func TestSaveKerasFiles(t *testing.T) {
	dir := t.TempDir()
	for _, fx := range kerasFixtures(t) {
		m, err := LoadModel(filepath.Join("../testdata/keras", fx.Name+".keras"))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fx.Name+".keras")
		if err := m.SaveModel(path); err != nil {
			t.Fatalf("%s: %v", fx.Name, err)
		}
		back, err := LoadModel(path)
		if err != nil {
			t.Fatalf("%s: reading back: %v", fx.Name, err)
		}
		predictFixture(t, fx.Name+" saved as .keras", back, fx, 1e-5)
		wpath := filepath.Join(dir, fx.Name+".weights.h5")
		if err := m.SaveWeights(wpath); err != nil {
			t.Fatal(err)
		}
		fresh, err := ModelFromKerasConfig(fx.ModelConfig, Seed(7))
		if err != nil {
			t.Fatal(err)
		}
		if err := fresh.LoadWeights(wpath); err != nil {
			t.Fatalf("%s: %v", fx.Name, err)
		}
		for i, w := range fresh.GetWeights() {
			if want := m.GetWeights()[i]; !w.Eq(want) {
				t.Errorf("%s: weight %d differs after .weights.h5", fx.Name, i)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "mlp.keras")); err != nil {
		t.Error(err)
	}
}
