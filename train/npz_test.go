package train_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train"
)

// kerasDir holds files written by Keras 3.16: <name>.npz is
// np.savez(path, *model.get_weights()), <name>.json lists the weights in
// that order and Keras's predictions for fixed inputs.
const kerasDir = "../testdata/keras"

type kerasFixture struct {
	Weights []struct {
		Path  string `json:"path"`
		Shape []int  `json:"shape"`
	} `json:"weights"`
	Inputs []struct {
		Shape []int `json:"shape"`
		Data  any   `json:"data"`
	} `json:"inputs"`
	Outputs []struct {
		Shape []int `json:"shape"`
		Data  any   `json:"data"`
	} `json:"outputs"`
}

func readFixture(t testing.TB, name string) kerasFixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(kerasDir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx kerasFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	return fx
}

// flatten returns the numbers of a nested JSON list in order.
func flatten(v any) []float64 {
	if l, ok := v.([]any); ok {
		var out []float64
		for _, e := range l {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []float64{v.(float64)}
}

// kerasModels builds the fixtures' models by hand, with Keras's layer names.
var kerasModels = map[string]func() (*train.Model, error){
	"mlp": func() (*train.Model, error) {
		return train.Sequential(graph.Input(20), []graph.Layer{
			layers.NewDense(16, layers.WithName("hidden"), layers.WithActivation("relu")),
			layers.NewDropout(0.3, layers.WithName("dropout")),
			layers.NewDense(3, layers.WithName("probs"), layers.WithActivation("softmax")),
		}, train.Name("mlp"))
	},
	"gru_v1": func() (*train.Model, error) {
		return train.Sequential(graph.Input(6, 4), []graph.Layer{
			layers.NewGRU(5, layers.WithName("gru"), layers.WithResetAfter(false)),
			layers.NewDense(2, layers.WithName("out")),
		}, train.Name("gru_v1"))
	},
}

func kerasModel(t testing.TB, name string) *train.Model {
	t.Helper()
	m, err := kerasModels[name]()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestKerasNPZPredictsLikeKeras loads Keras's own get_weights() files and
// predicts Keras's outputs, which holds only if the weight order matches.
func TestKerasNPZPredictsLikeKeras(t *testing.T) {
	for _, name := range []string{"mlp", "gru_v1"} {
		t.Run(name, func(t *testing.T) {
			fx := readFixture(t, name)
			m := kerasModel(t, name)
			ws := m.Weights()
			if len(ws) != len(fx.Weights) {
				t.Fatalf("%d weights, Keras has %d", len(ws), len(fx.Weights))
			}
			for i, w := range ws {
				kw := fx.Weights[i]
				layer, leaf := strings.Split(w.Name(), "/")[0], w.Name()[strings.LastIndex(w.Name(), "/")+1:]
				if !strings.HasPrefix(kw.Path, name+"/"+layer+"/") || !strings.HasSuffix(kw.Path, "/"+leaf) || !w.Shape().Equal(kw.Shape) {
					t.Errorf("weight %d: kerago %s %v, Keras %s %v", i, w.Name(), w.Shape(), kw.Path, kw.Shape)
				}
			}
			if err := m.LoadWeights(filepath.Join(kerasDir, name+".npz")); err != nil {
				t.Fatal(err)
			}
			in := fx.Inputs[0]
			x := tensor.New(tensor.WithShape(in.Shape...), tensor.WithBacking(float32s(flatten(in.Data))))
			got, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			want := flatten(fx.Outputs[0].Data)
			if !slices.Equal([]int(got.Shape()), fx.Outputs[0].Shape) {
				t.Fatalf("output shape %v, Keras %v", got.Shape(), fx.Outputs[0].Shape)
			}
			for i, v := range got.Data().([]float32) {
				if math.Abs(float64(v)-want[i]) > 1e-5 {
					t.Fatalf("output %d: %v, Keras %v", i, v, want[i])
				}
			}
		})
	}
}

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// loadSaveLoad loads Keras's gru_v1.npz into src, saves src to a file named
// name and loads that into dst, returning the file's path.
func loadSaveLoad(t *testing.T, src, dst *train.Model, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	for _, step := range []func() error{
		func() error { return src.LoadWeights(filepath.Join(kerasDir, "gru_v1.npz")) },
		func() error { return src.SaveWeights(path) },
		func() error { return dst.LoadWeights(path) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestNPZRoundTripIsBitExact(t *testing.T) {
	a, b := kerasModel(t, "gru_v1"), kerasModel(t, "gru_v1")
	path := loadSaveLoad(t, b, a, "w.NPZ")
	if !reflect.DeepEqual(snapshot(a), snapshot(b)) {
		t.Fatal("weights differ after an NPZ round trip")
	}
	// The file is np.savez's layout: stored arr_<i>.npy entries.
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for i, f := range zr.File {
		if f.Name != fmt.Sprintf("arr_%d.npy", i) || f.Method != zip.Store {
			t.Errorf("entry %d: %s, method %d", i, f.Name, f.Method)
		}
	}
	// A float64 model loads Keras's float32 arrays exactly and saves them
	// back as the same float32 values.
	c, err := train.Sequential(graph.Input(6, 4), []graph.Layer{
		layers.NewGRU(5, layers.WithResetAfter(false)), layers.NewDense(2),
	}, train.DType(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	loadSaveLoad(t, c, a, "w64.npz")
	if !reflect.DeepEqual(snapshot(a), snapshot(b)) || !reflect.DeepEqual(snapshot(c), snapshot(b)) {
		t.Fatal("a float64 model does not keep Keras's values")
	}
	// A failed save is reported as the NPZ writer's.
	bad := filepath.Join(t.TempDir(), "no", "dir", "w.npz")
	if err := a.SaveWeights(bad); err == nil || !strings.Contains(err.Error(), "SaveWeightsNPZ") {
		t.Fatalf("want a SaveWeightsNPZ error, got %v", err)
	}
}

// TestGetSetWeights: copies out, Keras order, and conversion from float64.
func TestGetSetWeights(t *testing.T) {
	m := kerasModel(t, "mlp")
	ws := m.GetWeights()
	ws[0].Data().([]float32)[0] = 42
	if m.Weights()[0].Float64s()[0] == 42 {
		t.Fatal("GetWeights returned the model's own tensor")
	}
	w64 := make([]*tensor.Dense, len(ws))
	for i, w := range ws {
		w64[i] = tensor.New(tensor.WithShape(w.Shape()...), tensor.WithBacking(graph.Float64s(w)))
	}
	if err := m.SetWeights(w64); err != nil {
		t.Fatal(err)
	}
	if got := m.GetWeights()[0]; got.Dtype() != tensor.Float32 || got.Data().([]float32)[0] != 42 {
		t.Fatalf("SetWeights from float64: %v %v", got.Dtype(), got.Data().([]float32)[0])
	}
}

func TestSetWeightsErrors(t *testing.T) {
	good := kerasModel(t, "mlp").GetWeights()
	with := func(i int, t *tensor.Dense) []*tensor.Dense {
		ws := slices.Clone(good)
		ws[i] = t
		return ws
	}
	f64 := func(shape []int, vals ...float64) *tensor.Dense {
		backing := make([]float64, tensor.Shape(shape).TotalSize())
		copy(backing, vals)
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing))
	}
	cases := []struct {
		name string
		ws   []*tensor.Dense
		want string
	}{
		{"count", good[:3], "got 3 weights, the model has 4"},
		{"nil", with(1, nil), "weight 1 (hidden/bias): is nil, want shape [16]"},
		{"transposed", with(0, f64([]int{16, 20})), "weight 0 (hidden/kernel): has shape [16 20], want [20 16]"},
		{"dtype", with(3, tensor.New(tensor.WithShape(3), tensor.WithBacking([]int{1, 2, 3}))), "weight 3 (probs/bias): has dtype int, want float32 or float64"},
		{"NaN", with(3, f64([]int{3}, 0, math.NaN())), "weight 3 (probs/bias): value 1 is NaN"},
		{"Inf", with(2, f64([]int{16, 3}, 0, 0, math.Inf(-1))), "weight 2 (probs/kernel): value 2 is -Inf"},
		{"overflow", with(1, f64([]int{16}, 1e39)), "weight 1 (hidden/bias): value 0 (1e+39) overflows float32"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := kerasModel(t, "mlp")
			before := snapshot(m)
			err := m.SetWeights(c.ws)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if !reflect.DeepEqual(snapshot(m), before) {
				t.Fatal("a refused SetWeights changed weights")
			}
		})
	}
}

// npyArray is an NPY array of format major.0 with header dictionary dict.
func npyArray(major byte, dict string, data []byte) []byte {
	b := []byte{0x93, 'N', 'U', 'M', 'P', 'Y', major, 0}
	if major == 2 {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(dict)+1))
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(dict)+1))
	}
	return append(append(append(b, dict...), '\n'), data...)
}

func npyDict(descr, fortran, shape string) string {
	return fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }", descr, fortran, shape)
}

// f4 is n little-endian float32 values 0.25, 1.25, 2.25, ….
func f4(n int) []byte {
	var b []byte
	for i := range n {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(i)+0.25))
	}
	return b
}

type npzEntry struct {
	name string
	data []byte
}

// mlpEntries are valid NPZ entries for the mlp model.
func mlpEntries() []npzEntry {
	shapes := []string{"20, 16", "16,", "16, 3", "3,"}
	sizes := []int{320, 16, 48, 3}
	es := make([]npzEntry, 4)
	for i := range es {
		es[i] = npzEntry{fmt.Sprintf("arr_%d.npy", i), npyArray(1, npyDict("<f4", "False", shapes[i]), f4(sizes[i]))}
	}
	return es
}

// npzFile zips entries as np.savez does (stored).
func npzFile(es []npzEntry) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Store})
		if err != nil {
			panic(err)
		}
		w.Write(e.data)
	}
	zw.Close()
	return buf.Bytes()
}

// mlpWith is the mlp NPZ file with entry i's array replaced by data.
func mlpWith(i int, data []byte) []byte {
	es := mlpEntries()
	es[i].data = data
	return npzFile(es)
}

func TestLoadNPZErrors(t *testing.T) {
	good := npzFile(mlpEntries())
	es := mlpEntries()
	f64NaN := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(
		binary.LittleEndian.AppendUint64(nil, 0), 0), math.Float64bits(math.NaN()))
	v2Long := binary.LittleEndian.AppendUint32([]byte("\x93NUMPY\x02\x00"), 1<<20)
	crc := bytes.Clone(good)
	crc[bytes.LastIndex(crc, f4(3))+1] ^= 0x40
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"not a zip", []byte("not a zip file at all"), "not a readable NPZ (zip) file"},
		{"truncated zip", good[:len(good)/2], "not a readable NPZ (zip) file"},
		{"missing", npzFile(es[:3]), "missing entry arr_3.npy: the file has 3 arrays, the model has 4 weights"},
		{"extra", npzFile(append(mlpEntries(), npzEntry{"arr_4.npy", es[3].data})), "extra entry arr_4.npy: the model has 4 weights (arr_0 … arr_3)"},
		{"other name", npzFile(append(es[:3:3], npzEntry{"probs.npy", es[3].data})), `unexpected entry "probs.npy"`},
		{"leading zero", npzFile(append(es[:3:3], npzEntry{"arr_03.npy", es[3].data})), `unexpected entry "arr_03.npy"`},
		{"twice", npzFile(append(es[:3:3], es[0])), "entry arr_0.npy appears twice"},
		{"int dtype", mlpWith(3, npyArray(1, npyDict("<i4", "False", "3,"), f4(3))), `arr_3.npy (weight 3, probs/bias): dtype "<i4" is not supported (want '<f4' or '<f8'`},
		{"big endian", mlpWith(3, npyArray(1, npyDict(">f4", "False", "3,"), f4(3))), `dtype ">f4" is not supported`},
		{"shape", mlpWith(0, npyArray(1, npyDict("<f4", "False", "16, 20"), f4(320))), "arr_0.npy (weight 0, hidden/kernel): has shape [16 20], the model's weight has [20 16]"},
		{"short data", mlpWith(1, npyArray(1, npyDict("<f4", "False", "16,"), f4(15))), "arr_1.npy (weight 1, hidden/bias): shape [16] needs 64 bytes of data, the entry holds 60"},
		{"long data", mlpWith(1, npyArray(1, npyDict("<f4", "False", "16,"), f4(17))), "shape [16] needs 64 bytes of data, the entry holds 68"},
		{"overflow", mlpWith(1, npyArray(1, npyDict("<f4", "False", "4611686018427387904, 4"), nil)), "NPY shape (4611686018427387904, 4) is absurd: its size overflows"},
		{"larger than file", mlpWith(1, npyArray(1, npyDict("<f4", "False", "1000000000,"), nil)), "shape [1000000000] needs 4000000000 bytes of data, more than the whole file"},
		{"bad dims", mlpWith(1, npyArray(1, npyDict("<f4", "False", "16,,"), f4(16))), "NPY shape (16,,) is not a valid shape"},
		{"bad magic", mlpWith(1, append([]byte("\x93NUMPZ"), es[1].data[6:]...)), "arr_1.npy (weight 1, hidden/bias): not an NPY array (bad magic)"},
		{"format 3", mlpWith(1, npyArray(3, npyDict("<f4", "False", "16,"), f4(16))), "NPY format 3.0 is not supported"},
		{"long header", mlpWith(1, v2Long), "NPY header of 1048576 bytes is too long"},
		{"truncated header", mlpWith(1, es[1].data[:30]), "truncated NPY header"},
		{"key order", mlpWith(3, npyArray(1, "{'shape': (3,), 'descr': '<f4', 'fortran_order': False, }", f4(3))), "is not numpy's {'descr'"},
		{"checksum", crc, "arr_3.npy (weight 3, probs/bias): corrupt entry after the data: zip: checksum error"},
		{"f8 NaN", mlpWith(3, npyArray(1, npyDict("<f8", "False", "3,"), f64NaN)), "weight 3 (probs/bias): value 2 is NaN"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".npz")
			if err := os.WriteFile(path, c.file, 0o644); err != nil {
				t.Fatal(err)
			}
			m := kerasModel(t, "mlp")
			before := snapshot(m)
			err := m.LoadWeights(path)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v\nwant %q", err, c.want)
			}
			if !reflect.DeepEqual(snapshot(m), before) {
				t.Fatal("a refused load changed weights")
			}
		})
	}
}

// TestLoadNPZFloat64Arrays: '<f8' arrays (np.savez of float64 weights) and
// format 2.0 headers load, converted to the model's dtype.
func TestLoadNPZFloat64Arrays(t *testing.T) {
	es := mlpEntries()
	var vals []byte
	for i := range 3 {
		vals = binary.LittleEndian.AppendUint64(vals, math.Float64bits(float64(i)+0.5))
	}
	es[3].data = npyArray(2, npyDict("<f8", "False", "3,"), vals)
	path := filepath.Join(t.TempDir(), "w.npz")
	if err := os.WriteFile(path, npzFile(es), 0o644); err != nil {
		t.Fatal(err)
	}
	m := kerasModel(t, "mlp")
	if err := m.LoadWeightsNPZ(path); err != nil {
		t.Fatal(err)
	}
	if got := m.GetWeights()[3].Data().([]float32); !slices.Equal(got, []float32{0.5, 1.5, 2.5}) {
		t.Fatalf("probs/bias %v", got)
	}
	if got := m.GetWeights()[0].Data().([]float32)[:2]; !slices.Equal(got, []float32{0.25, 1.25}) {
		t.Fatalf("hidden/kernel starts %v", got)
	}
}

// FuzzLoadNPZ: no file makes LoadWeightsNPZ panic, and a refused file
// leaves the model unchanged. Seeds: train/testdata/fuzz/FuzzLoadNPZ.
func FuzzLoadNPZ(f *testing.F) {
	f.Add(npzFile(mlpEntries()))
	m := kerasModel(f, "mlp")
	fuzzLoad(f, m, "f.npz", m.LoadWeightsNPZ)
}

// TestSaveNPZRefusesFloat32Overflow: a float64 model's value beyond
// float32's range is an error, not an infinity in the file.
func TestSaveNPZRefusesFloat32Overflow(t *testing.T) {
	m, err := train.Sequential(graph.Input(2), []graph.Layer{layers.NewDense(1, layers.WithName("d"))}, train.DType(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	ws := m.GetWeights()
	ws[1].Data().([]float64)[0] = -1e300
	if err := m.SetWeights(ws); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "w.npz")
	err = m.SaveWeights(path)
	if err == nil || !strings.Contains(err.Error(), "SaveWeightsNPZ: weight 1 (d/bias): value 0 (-1e+300) overflows float32") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a failed save left a file: %v", err)
	}
}

// TestNPYFiles writes float32 and float64 arrays with WriteNPY and reads
// them back, reads an int32 file as float64, and refuses damaged files.
func TestNPYFiles(t *testing.T) {
	dir := t.TempDir()
	for _, backing := range []any{[]float32{1, 2.5, -3, 4, 5, 6}, []float64{1, 2.5, -3, 4, 5, 6}} {
		src := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(backing))
		path := filepath.Join(dir, "a.npy")
		if err := train.WriteNPY(path, src); err != nil {
			t.Fatal(err)
		}
		got, err := train.ReadNPY(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.Dtype() != src.Dtype() || !got.Shape().Eq(src.Shape()) || !reflect.DeepEqual(got.Data(), src.Data()) {
			t.Fatalf("read back %v %v %v, wrote %v", got.Dtype(), got.Shape(), got.Data(), src.Data())
		}
	}
	var ints []byte
	for _, v := range []int32{7, -1, 0, 42} {
		ints = binary.LittleEndian.AppendUint32(ints, uint32(v))
	}
	cases := []struct {
		name string
		file []byte
		err  string
	}{
		{"int32", npyArray(1, npyDict("<i4", "False", "2, 2"), ints), ""},
		{"short", npyArray(1, npyDict("<i4", "False", "2, 3"), ints), "shape [2 3] needs 24 bytes of data, the file holds 16"},
		{"bool", npyArray(1, npyDict("|b1", "False", "4,"), ints[:4]), `dtype "|b1" is not supported`},
		{"not npy", []byte("1,2,3\n"), "truncated NPY header"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name+".npy")
		if err := os.WriteFile(path, c.file, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := train.ReadNPY(path)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || got.Dtype() != tensor.Float64 || !slices.Equal(got.Float64s(), []float64{7, -1, 0, 42}) {
			t.Errorf("%s: %v %v", c.name, got, err)
		}
	}
	// Fortran order (numpy writes transposed arrays so): element (i, j, k)
	// of a (2, 3, 4) array is value i + 2j + 6k of the data.
	path := filepath.Join(dir, "fortran.npy")
	if err := os.WriteFile(path, npyArray(1, npyDict("<f4", "True", "2, 3, 4"), f4(24)), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := train.ReadNPY(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Shape().Eq(tensor.Shape{2, 3, 4}) {
		t.Fatalf("fortran: shape %v", got.Shape())
	}
	for i := range 2 {
		for j := range 3 {
			for k := range 4 {
				v, _ := got.At(i, j, k)
				if want := float32(i+2*j+6*k) + 0.25; v != want {
					t.Fatalf("fortran: (%d, %d, %d) = %v, want %v", i, j, k, v, want)
				}
			}
		}
	}
}

// TestWriteAtomicKeepsLinksAndModes writes through a symbolic link (the
// target changes, the link stays), over a 0600 file (it stays 0600), and
// refuses an empty path and a directory with a clear message.
func TestWriteAtomicKeepsLinksAndModes(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "target.csv"), filepath.Join(dir, "link.csv")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	write := func(s string) func(w io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := train.WriteAtomic(link, write("new")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced (%v)", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target holds %q, want new", b)
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
		t.Errorf("target mode %v, want 0600", st.Mode().Perm())
	}
	if err := train.WriteAtomic("", write("x")); err == nil || !strings.Contains(err.Error(), "the path is empty") {
		t.Errorf("empty path: got %v", err)
	}
	if err := train.WriteAtomic(dir, write("x")); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: got %v", err)
	}
	m, err := train.LoadModel("../testdata/keras/mlp.keras")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SaveWeights(""); err == nil || !strings.Contains(err.Error(), "the path is empty") {
		t.Errorf(`SaveWeights(""): got %v`, err)
	}
}
