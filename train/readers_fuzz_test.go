package train_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/train"
)

// savedKeras is the bytes of m saved as a .keras file.
func savedKeras(t testing.TB, m *train.Model) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.keras")
	if err := m.SaveModel(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// rezip rewrites a zip, giving the entry named name the contents body,
// deflated when deflate is set.
func rezip(t testing.TB, raw []byte, name string, body []byte, deflate bool) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	for _, f := range zr.File {
		data := body
		if f.Name != name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			if data, err = io.ReadAll(rc); err != nil {
				t.Fatal(err)
			}
		}
		method := zip.Store
		if deflate && f.Name == name {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestLoadModelBoundsAndChecks: a .keras whose weight entry decompresses to
// far more than the model's weights need is refused without inflating it
// all; a kerago.weights entry that is there but corrupt is an error, not
// silently skipped.
func TestLoadModelBoundsAndChecks(t *testing.T) {
	m := smallWeightsModel(t, tensor.Float64, 1)
	raw := savedKeras(t, m)
	bomb := rezip(t, raw, "model.weights.h5", make([]byte, 80<<20), true)
	if len(bomb) > 4<<20 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"bomb", bomb, "model.weights.h5 is larger than 67108928 bytes"},
		{"corrupt full weights", rezip(t, raw, "kerago.weights", []byte("KERAGO-WEIGHTS-2\n{}\n"), false), "LoadWeights: kerago.weights: you are trying to load a weight file containing 0 weights into a model with 2 weights"},
		{"huge kerago.json", rezip(t, raw, "kerago.json", make([]byte, 300<<20), true), "kerago.json is larger than 268436480 bytes"},
	}
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), "m.keras")
		if err := os.WriteFile(path, c.file, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := train.LoadModel(path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// FuzzLoadModel: no .keras file makes LoadModel panic (guard would report
// the panic as an internal error). Seeds: a float64 model's file (with
// kerago.json and kerago.weights) and a float32 one's.
func FuzzLoadModel(f *testing.F) {
	f.Add(savedKeras(f, smallWeightsModel(f, tensor.Float64, 1)))
	f.Add(savedKeras(f, smallWeightsModel(f, tensor.Float32, 1)))
	path := filepath.Join(f.TempDir(), "f.keras")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := train.LoadModel(path); err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
	})
}

// FuzzReadNPY: no file makes ReadNPY panic, and what it returns holds as
// many values as its shape says.
func FuzzReadNPY(f *testing.F) {
	f.Add(npyArray(1, npyDict("<f4", "False", "2, 3"), f4(6)))
	f.Add(npyArray(1, npyDict("<f4", "True", "2, 3, 4"), f4(24)))
	f.Add(npyArray(2, npyDict("<i8", "False", "3,"), make([]byte, 24)))
	path := filepath.Join(f.TempDir(), "f.npy")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := train.ReadNPY(path)
		switch {
		case err != nil && strings.Contains(err.Error(), "internal error"):
			t.Fatal(err)
		case err == nil && got.Shape().TotalSize() != got.DataSize():
			t.Fatalf("shape %v with %d values", got.Shape(), got.DataSize())
		}
	})
}
