package hdf5

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// kerasDir holds the Keras-written fixtures (see its README.md).
const kerasDir = "../../testdata/keras"

// fixture is one HDF5 fixture file's bytes.
type fixture struct {
	name  string // e.g. "mlp.h5", "mlp.keras/model.weights.h5"
	model string // e.g. "mlp"
	data  []byte
}

// legacy reports whether the fixture is a legacy Keras 2 full-model file.
func (f fixture) legacy() bool { return !strings.Contains(f.name, "weights.h5") }

// fixtures returns every HDF5 fixture: the *.h5 and *.weights.h5 files and
// the model.weights.h5 inside each *.keras zip.
func fixtures(t testing.TB) []fixture {
	t.Helper()
	var out []fixture
	h5, err := filepath.Glob(filepath.Join(kerasDir, "*.h5"))
	if err != nil || len(h5) == 0 {
		t.Fatalf("no fixtures in %s: %v", kerasDir, err)
	}
	for _, p := range h5 {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(p)
		model := strings.TrimSuffix(strings.TrimSuffix(base, ".h5"), ".weights")
		out = append(out, fixture{name: base, model: model, data: data})
	}
	zips, _ := filepath.Glob(filepath.Join(kerasDir, "*.keras"))
	for _, p := range zips {
		model := strings.TrimSuffix(filepath.Base(p), ".keras")
		out = append(out, fixture{name: model + ".keras/model.weights.h5", model: model, data: zipEntry(t, p, "model.weights.h5")})
	}
	return out
}

// zipEntry returns the bytes of one entry of a zip file.
func zipEntry(t testing.TB, path, name string) []byte {
	t.Helper()
	data, ok := zipEntries(t, path)[name]
	if !ok {
		t.Fatalf("%s has no %s", path, name)
	}
	return data
}

// zipEntries returns every entry of a zip file by name.
func zipEntries(t testing.TB, path string) map[string][]byte {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	out := map[string][]byte{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = data
	}
	return out
}

// npyArray is one float32 array of an .npz file, values as bits.
type npyArray struct {
	shape []int
	bits  []uint32
}

var npyShape = regexp.MustCompile(`'shape': \(([0-9, ]*)\)`)

// readNPZ reads the arrays arr_0 … arr_N of an np.savez file (NPY 1.0,
// '<f4', C order).
func readNPZ(t testing.TB, path string) []npyArray {
	t.Helper()
	entries := zipEntries(t, path)
	var out []npyArray
	for i := 0; ; i++ {
		data, ok := entries[fmt.Sprintf("arr_%d.npy", i)]
		if !ok {
			return out
		}
		out = append(out, parseNPY(t, data))
	}
}

// parseNPY parses a float32 little-endian NPY 1.0 array, in C order or
// (numpy's layout for transposed arrays) Fortran order.
func parseNPY(t testing.TB, b []byte) npyArray {
	t.Helper()
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" || b[6] != 1 {
		t.Fatalf("not an NPY 1.0 file")
	}
	hlen := int(binary.LittleEndian.Uint16(b[8:]))
	header := string(b[10 : 10+hlen])
	fortran := strings.Contains(header, "'fortran_order': True")
	if !strings.Contains(header, "'descr': '<f4'") || (!fortran && !strings.Contains(header, "'fortran_order': False")) {
		t.Fatalf("unexpected NPY header %q", header)
	}
	m := npyShape.FindStringSubmatch(header)
	if m == nil {
		t.Fatalf("no shape in NPY header %q", header)
	}
	a := npyArray{shape: []int{}}
	for _, s := range strings.Split(m[1], ",") {
		if s = strings.TrimSpace(s); s != "" {
			n, _ := strconv.Atoi(s)
			a.shape = append(a.shape, n)
		}
	}
	for p := b[10+hlen:]; len(p) >= 4; p = p[4:] {
		a.bits = append(a.bits, binary.LittleEndian.Uint32(p))
	}
	if fortran {
		a.bits = fortranToC(a.shape, a.bits)
	}
	return a
}

// fortranToC reorders column-major values of shape into row-major order.
func fortranToC(shape []int, f []uint32) []uint32 {
	c := make([]uint32, len(f))
	idx := make([]int, len(shape))
	for fi := range f {
		// idx is fi's multi-index, the first axis varying fastest.
		r := fi
		for k, d := range shape {
			idx[k], r = r%d, r/d
		}
		ci := 0
		for k, d := range shape {
			ci = ci*d + idx[k]
		}
		c[ci] = f[fi]
	}
	return c
}

// datasetArray converts a float32 dataset to an npyArray.
func datasetArray(d *Dataset) npyArray {
	a := npyArray{shape: d.Shape}
	for _, v := range d.Float32 {
		a.bits = append(a.bits, math.Float32bits(v))
	}
	return a
}

// readBytes reads a file held in memory.
func readBytes(data []byte, strict bool) (*File, error) {
	return ReadOptions{Strict: strict}.Read(bytes.NewReader(data), int64(len(data)))
}

// writeBytes writes f to memory.
func writeBytes(t testing.TB, f *File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// diffTrees returns the first difference between two trees ("" if none),
// comparing floats bit for bit and members in name order.
func diffTrees(path string, a, b *Group) string {
	if a.Name != b.Name {
		return fmt.Sprintf("%s: name %q vs %q", path, a.Name, b.Name)
	}
	if d := diffAttrs(path, a.Attrs, b.Attrs); d != "" {
		return d
	}
	am, bm := a.members(), b.members()
	if len(am) != len(bm) {
		return fmt.Sprintf("%s: %d members vs %d", path, len(am), len(bm))
	}
	for i := range am {
		p := objectPath(path, am[i].name)
		switch {
		case am[i].name != bm[i].name:
			return fmt.Sprintf("%s: member %q vs %q", path, am[i].name, bm[i].name)
		case (am[i].group == nil) != (bm[i].group == nil):
			return fmt.Sprintf("%s: group vs dataset", p)
		case am[i].group != nil:
			if d := diffTrees(p, am[i].group, bm[i].group); d != "" {
				return d
			}
		default:
			if d := diffDatasets(p, am[i].dataset, bm[i].dataset); d != "" {
				return d
			}
		}
	}
	return ""
}

func diffAttrs(path string, a, b []Attr) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%s: %d attributes vs %d", path, len(a), len(b))
	}
	for i := range a {
		va, vb := normValue(a[i].Value), normValue(b[i].Value)
		_, isStr := va.([]string)
		switch {
		case a[i].Name != b[i].Name:
			return fmt.Sprintf("%s: attribute %q vs %q", path, a[i].Name, b[i].Name)
		case !reflect.DeepEqual(va, vb):
			return fmt.Sprintf("%s: attribute %q: %#v vs %#v", path, a[i].Name, a[i].Value, b[i].Value)
		case isStr && a[i].Charset != b[i].Charset:
			return fmt.Sprintf("%s: attribute %q: charset %v vs %v", path, a[i].Name, a[i].Charset, b[i].Charset)
		}
	}
	return ""
}

// normValue makes attribute values comparable with DeepEqual: nil slices
// become empty ones, floats become bits, a scalar string stays apart from
// a 1-D array of one.
func normValue(v any) any {
	switch v := v.(type) {
	case string:
		return struct{ s string }{v}
	case []string:
		return append([]string{}, v...)
	case float64:
		return math.Float64bits(v)
	case []float64:
		bits := []uint64{}
		for _, f := range v {
			bits = append(bits, math.Float64bits(f))
		}
		return bits
	}
	return v
}

func diffDatasets(path string, a, b *Dataset) string {
	if fmt.Sprint(a.Shape) != fmt.Sprint(b.Shape) {
		return fmt.Sprintf("%s: shape %v vs %v", path, a.Shape, b.Shape)
	}
	if (a.Float64 == nil) != (b.Float64 == nil) || a.Len() != b.Len() {
		return fmt.Sprintf("%s: values differ in type or count", path)
	}
	for i := range a.Float32 {
		if math.Float32bits(a.Float32[i]) != math.Float32bits(b.Float32[i]) {
			return fmt.Sprintf("%s: value %d: %v vs %v", path, i, a.Float32[i], b.Float32[i])
		}
	}
	for i := range a.Float64 {
		if math.Float64bits(a.Float64[i]) != math.Float64bits(b.Float64[i]) {
			return fmt.Sprintf("%s: value %d: %v vs %v", path, i, a.Float64[i], b.Float64[i])
		}
	}
	return ""
}
