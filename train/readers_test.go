package train_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train"
)

// smallWeightsModel is a Dense(3→2) model of dtype dt, seeded.
func smallWeightsModel(t testing.TB, dt tensor.Dtype, seed uint64) *train.Model {
	t.Helper()
	m, err := train.Sequential(graph.Input(3), []graph.Layer{layers.NewDense(2, layers.WithName("d"))}, train.DType(dt), train.Seed(seed))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// savedWeights is the bytes of m's weights in kerago's own format.
func savedWeights(t testing.TB, m *train.Model) []byte { return savedBytes(t, "w.kw", m.SaveWeights) }

// savedBytes is the bytes of the file save writes at a path named name.
func savedBytes(t testing.TB, name string, save func(path string) error) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := save(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// asVersion1 turns a version-2 weight file into the version-1 layout (no
// checksum), as kerago wrote before checksums.
func asVersion1(raw []byte) []byte {
	v1 := append([]byte(nil), raw[:len(raw)-4]...)
	copy(v1, "KERAGO-WEIGHTS-1\n")
	return v1
}

// loadBytes writes raw to a file and loads it into m.
func loadBytes(t testing.TB, m *train.Model, raw []byte) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.kw")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return m.LoadWeights(path)
}

// TestWeightFileChecksum: every one-byte change anywhere in a weight file
// (magic, header, values, checksum) is refused and leaves the model as it
// was; the untouched file loads bit for bit.
func TestWeightFileChecksum(t *testing.T) {
	src := smallWeightsModel(t, tensor.Float64, 1)
	raw := savedWeights(t, src)
	if !strings.HasPrefix(string(raw), "KERAGO-WEIGHTS-2\n") {
		t.Fatalf("file starts %q", raw[:17])
	}
	dst := smallWeightsModel(t, tensor.Float64, 2)
	before := snapshot(dst)
	loaded := 0
	for i := range raw {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := append([]byte(nil), raw...)
			bad[i] ^= flip
			if err := loadBytes(t, dst, bad); err == nil {
				loaded++
				t.Errorf("byte %d ^ %#x: loaded", i, flip)
				if err := dst.SetWeights(src.GetWeights()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if loaded == 0 && !reflect.DeepEqual(snapshot(dst), before) {
		t.Fatal("a refused file changed the weights")
	}
	// A change in the values is named as corruption.
	bad := append([]byte(nil), raw...)
	bad[len(bad)-10] ^= 1
	if err := loadBytes(t, dst, bad); err == nil || !strings.Contains(err.Error(), "the file is corrupt: its CRC-32C is") {
		t.Errorf("corrupt value: got %v", err)
	}
	if err := loadBytes(t, dst, raw); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snapshot(dst), snapshot(src)) {
		t.Fatal("the loaded weights differ from the saved ones")
	}
	// Missing checksum.
	if err := loadBytes(t, dst, raw[:len(raw)-2]); err == nil || !strings.Contains(err.Error(), "no checksum after the last weight") {
		t.Errorf("cut checksum: got %v", err)
	}
}

// TestWeightFileVersion1: files written before checksums still load.
func TestWeightFileVersion1(t *testing.T) {
	src := smallWeightsModel(t, tensor.Float64, 1)
	dst := smallWeightsModel(t, tensor.Float64, 2)
	if err := loadBytes(t, dst, asVersion1(savedWeights(t, src))); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snapshot(dst), snapshot(src)) {
		t.Fatal("a version-1 file loads other weights")
	}
}

// TestWeightFileValues: a file whose values are NaN, infinite or beyond a
// float32 model's range is refused, naming the weight and the index (a
// version-1 file has no checksum to catch them first).
func TestWeightFileValues(t *testing.T) {
	raw := asVersion1(savedWeights(t, smallWeightsModel(t, tensor.Float64, 1)))
	// The last 16 bytes are the bias (2 float64s); the 3×2 kernel is before.
	kernelAt := len(raw) - 16 - 6*8
	cases := []struct {
		dt   tensor.Dtype
		at   int
		v    float64
		want string
	}{
		{tensor.Float64, kernelAt + 8*4, math.NaN(), "weight 0 (d/kernel): value 4 is NaN; weights must be finite"},
		{tensor.Float32, len(raw) - 8, math.Inf(-1), "weight 1 (d/bias): value 1 is -Inf; weights must be finite"},
		{tensor.Float32, kernelAt, 1e300, "weight 0 (d/kernel): value 0 (1e+300) overflows float32, the model's dtype"},
	}
	for _, c := range cases {
		bad := append([]byte(nil), raw...)
		binary.LittleEndian.PutUint64(bad[c.at:], math.Float64bits(c.v))
		m := smallWeightsModel(t, c.dt, 3)
		before := snapshot(m)
		err := loadBytes(t, m, bad)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v into %v: got %v, want %q", c.v, c.dt, err, c.want)
		}
		if !reflect.DeepEqual(snapshot(m), before) {
			t.Errorf("%v: a refused file changed the weights", c.v)
		}
	}
}

// FuzzLoadWeights: no file makes LoadWeights (kerago's own format) panic,
// and a refused file leaves the model unchanged.
func FuzzLoadWeights(f *testing.F) {
	m := smallWeightsModel(f, tensor.Float32, 1)
	raw := savedWeights(f, m)
	f.Add(raw)
	f.Add(asVersion1(raw))
	fuzzLoad(f, m, "f.kw", m.LoadWeights)
}

// fuzzLoad fuzzes load on files named name: no file may make it panic
// (guard would report an internal error), and a refused file must leave
// m's weights as they were.
func fuzzLoad(f *testing.F, m *train.Model, name string, load func(path string) error) {
	path := filepath.Join(f.TempDir(), name)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		before := snapshot(m)
		err := load(path)
		switch {
		case err != nil && strings.Contains(err.Error(), "internal error"):
			t.Fatal(err)
		case err != nil && !reflect.DeepEqual(snapshot(m), before):
			t.Fatalf("refused (%v) but changed weights", err)
		}
	})
}

// savedKeras is the bytes of m saved as a .keras file.
func savedKeras(t testing.TB, m *train.Model) []byte { return savedBytes(t, "m.keras", m.SaveModel) }

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
