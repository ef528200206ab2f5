package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/train"
)

// fixtureDir holds Keras-written model files and their inputs and outputs.
const fixtureDir = "../../testdata/keras"

// fixtureNames are the fixtures the CLI tests use: every Keras-written
// model, functional_2io's two inputs and two outputs included.
var fixtureNames = []string{"mlp", "cnn", "bigru_text", "gru_v1", "l2norm_unit", "functional_2io", "nested", "frozen", "shared"}

// fixtureArray is one array of a fixture's <name>.json.
type fixtureArray struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
	Data  any    `json:"data"`
}

// values flattens the nested JSON data in C order.
func (a fixtureArray) values() []float64 {
	var out []float64
	var walk func(v any)
	walk = func(v any) {
		if l, ok := v.([]any); ok {
			for _, e := range l {
				walk(e)
			}
			return
		}
		out = append(out, v.(float64))
	}
	walk(a.Data)
	return out
}

// tensor is the array as float32.
func (a fixtureArray) tensor() *tensor.Dense {
	v := a.values()
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(a.Shape...), tensor.WithBacking(f))
}

// fixture reads testdata/keras/<name>.json's inputs and outputs.
func fixture(t *testing.T, name string) (inputs, outputs []fixtureArray) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtureDir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx struct{ Inputs, Outputs []fixtureArray }
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	return fx.Inputs, fx.Outputs
}

// int32NPY is an NPY file of int32 values of the given shape.
func int32NPY(vals []float64, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	dict := fmt.Sprintf("{'descr': '<i4', 'fortran_order': False, 'shape': (%s,), }", strings.Join(dims, ", "))
	dict += strings.Repeat(" ", 63-(10+len(dict))%64) + "\n"
	b := binary.LittleEndian.AppendUint16([]byte("\x93NUMPY\x01\x00"), uint16(len(dict)))
	b = append(b, dict...)
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, uint32(int32(v)))
	}
	return b
}

// writeInputs writes a fixture's inputs to dir as ext (".npy" or ".csv"):
// int32 inputs as int32 NPY files, the rest as float32.
func writeInputs(t *testing.T, dir string, inputs []fixtureArray, ext string) []string {
	t.Helper()
	var paths []string
	for _, in := range inputs {
		path := filepath.Join(dir, in.Name+ext)
		var err error
		switch {
		case ext == ".csv":
			err = writeOutput(path, in.tensor())
		case in.DType == "int32":
			err = os.WriteFile(path, int32NPY(in.values(), in.Shape), 0o644)
		default:
			err = train.WriteNPY(path, in.tensor())
		}
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

// TestPredictFixtures predicts every fixture's inputs from NPY and CSV
// files with `kerago predict`, writing NPY and CSV, and compares with
// Keras's outputs within 1e-5.
func TestPredictFixtures(t *testing.T) {
	for _, name := range fixtureNames {
		inputs, outputs := fixture(t, name)
		for _, ext := range []string{".npy", ".csv"} {
			dir := t.TempDir()
			ins := writeInputs(t, dir, inputs, ext)
			var outs []string
			for i := range outputs {
				outs = append(outs, filepath.Join(dir, fmt.Sprintf("y%d%s", i, ext)))
			}
			if _, err := runCLI(t, "predict", filepath.Join(fixtureDir, name+".keras"), "--input", strings.Join(ins, ","), "--output", strings.Join(outs, ","), "--batch-size", "3"); err != nil {
				t.Fatalf("%s %s: %v", name, ext, err)
			}
			for i, o := range outputs {
				got := readArray(t, outs[i], o.Shape)
				for j, w := range o.values() {
					if d := math.Abs(got[j] - w); !(d <= 1e-5) {
						t.Fatalf("%s %s: output %s[%d] = %v, Keras %v", name, ext, o.Name, j, got[j], w)
					}
				}
			}
		}
	}
}

// readArray reads an NPY or CSV output file as float64 values.
func readArray(t *testing.T, path string, shape []int) []float64 {
	t.Helper()
	var y *tensor.Dense
	var err error
	if strings.HasSuffix(path, ".csv") {
		y, err = readCSV(path, shape[1:])
	} else {
		y, err = train.ReadNPY(path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual([]int(y.Shape()), shape) {
		t.Fatalf("%s has shape %v, want %v", path, y.Shape(), shape)
	}
	return floats(y)
}

// floats is t's values as float64.
func floats(t *tensor.Dense) []float64 {
	if f, ok := t.Data().([]float64); ok {
		return f
	}
	out := make([]float64, t.Shape().TotalSize())
	for i, v := range t.Data().([]float32) {
		out[i] = float64(v)
	}
	return out
}

// TestPredictPrints checks the CSV printed without --output: one row per
// sample, the values as written to a file, and a CSV input with a header.
func TestPredictPrints(t *testing.T) {
	inputs, outputs := fixture(t, "mlp")
	dir := t.TempDir()
	in := writeInputs(t, dir, inputs, ".csv")[0]
	raw, _ := os.ReadFile(in)
	withHeader := filepath.Join(dir, "h.csv")
	os.WriteFile(withHeader, append([]byte(strings.Repeat("f,", 19)+"f\n"), raw...), 0o644)
	out, err := runCLI(t, "predict", filepath.Join(fixtureDir, "mlp.keras"), "--input", withHeader)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "y.csv"), []byte(out), 0o644)
	got := readArray(t, filepath.Join(dir, "y.csv"), outputs[0].Shape)
	for j, w := range outputs[0].values() {
		if math.Abs(got[j]-w) > 1e-5 {
			t.Fatalf("printed output[%d] = %v, Keras %v:\n%s", j, got[j], w, out)
		}
	}
}

// TestSummaryCommand prints the summary of a .keras and a legacy .h5 file.
func TestSummaryCommand(t *testing.T) {
	for _, file := range []string{"mlp.keras", "mlp.h5"} {
		out, err := runCLI(t, "summary", filepath.Join(fixtureDir, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`Model: "mlp"`, "hidden (Dense)", "(None, 16)", "Total params: 387"} {
			if !strings.Contains(out, want) {
				t.Fatalf("%s: summary lacks %q:\n%s", file, want, out)
			}
		}
	}
}

// predictFile predicts a fixture's inputs with the model (or, with arch,
// the weights) in path, loaded as the CLI loads it.
func predictFile(t *testing.T, path, arch string, inputs []fixtureArray) []*tensor.Dense {
	t.Helper()
	m, err := loadModel(path, arch)
	if err != nil {
		t.Fatal(err)
	}
	xs := make([]any, len(inputs))
	for i, in := range inputs {
		xs[i] = in.tensor()
	}
	ys, err := m.PredictAll(train.Multi(xs...))
	if err != nil {
		t.Fatal(err)
	}
	return ys
}

// TestConvertKeepsPredictions converts between every pair of formats: each
// fixture's .keras and legacy .h5 file to .keras, .weights.h5 and .npz, and
// each weights file so written (.weights.h5, .npz) to all three again
// through --model. The predictions stay the same, bit for bit.
func TestConvertKeepsPredictions(t *testing.T) {
	for _, name := range fixtureNames {
		inputs, _ := fixture(t, name)
		base := filepath.Join(fixtureDir, name)
		want := predictFile(t, base+".keras", "", inputs)
		dir := t.TempDir()
		check := func(what, path, arch string) {
			got := predictFile(t, path, arch, inputs)
			for i := range want {
				if !reflect.DeepEqual(got[i].Data(), want[i].Data()) {
					t.Fatalf("%s %s: output %d differs from %s.keras's", name, what, i, name)
				}
			}
		}
		for _, in := range []string{".keras", ".h5"} {
			for _, out := range []string{".keras", ".weights.h5", ".npz"} {
				dst := filepath.Join(dir, "from"+strings.ReplaceAll(in, ".", "_")+out)
				if _, err := runCLI(t, "convert", base+in, dst); err != nil {
					t.Fatalf("%s%s → %s: %v", name, in, out, err)
				}
				arch := ""
				if out != ".keras" {
					arch = base + ".keras"
				}
				check(in+" → "+out, dst, arch)
			}
		}
		for _, in := range []string{".weights.h5", ".npz"} {
			for _, out := range []string{".keras", ".weights.h5", ".npz"} {
				dst := filepath.Join(dir, "back"+strings.ReplaceAll(in, ".", "_")+out)
				if _, err := runCLI(t, "convert", filepath.Join(dir, "from_keras"+in), dst, "--model", base+".h5"); err != nil {
					t.Fatalf("%s%s → %s: %v", name, in, out, err)
				}
				arch := ""
				if out != ".keras" {
					arch = base + ".keras"
				}
				check(in+" → "+out, dst, arch)
			}
		}
	}
}

// TestModelCommandErrors checks the messages of bad predict, convert and
// summary invocations.
func TestModelCommandErrors(t *testing.T) {
	dir := t.TempDir()
	mlp := filepath.Join(fixtureDir, "mlp.keras")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	npy := func(name string, shape []int, vals []float32) string {
		p := filepath.Join(dir, name)
		if err := train.WriteNPY(p, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))); err != nil {
			t.Fatal(err)
		}
		return p
	}
	nan := make([]float32, 40)
	nan[25] = float32(math.NaN())
	cnn := npy("cnn.npy", []int{2, 12, 11, 1}, make([]float32, 264))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"predict", mlp, "--input", filepath.Join(dir, "none.npy")}, "none.npy: no such file"},
		{[]string{"predict", mlp, "--input", npy("wide.npy", []int{2, 21}, make([]float32, 42))}, "dim 1 is 21, want 20"},
		{[]string{"predict", filepath.Join(fixtureDir, "cnn.keras"), "--input", cnn}, "shape [2 12 11 1], the model input takes [2 12 12 1]: dim 2 is 11, want 12"},
		{[]string{"predict", mlp, "--input", npy("flat.npy", []int{40}, make([]float32, 40))}, "samples of 0 dims, the model input takes samples of shape [20]"},
		{[]string{"predict", mlp, "--input", npy("nan.npy", []int{2, 20}, nan)}, "sample 1, value 5 is not a finite number"},
		{[]string{"predict", mlp, "--input", write("x.csv", []byte(strings.Repeat("1,", 19)+"1\n"+strings.Repeat("1,", 10)+"x,"+strings.Repeat("1,", 8)+"1\n"))}, `line 2, column 11: "x" is not a finite number`},
		{[]string{"predict", mlp, "--input", write("empty.csv", []byte("a,b\n"))}, "holds no samples"},
		{[]string{"predict", mlp, "--input", write("empty.npy", int32NPY(nil, []int{0, 20}))}, "empty.npy holds no samples"},
		{[]string{"predict", mlp, "--input", write("x.txt", nil)}, "--input " + dir + "/x.txt: the extension names no array format"},
		{[]string{"predict", mlp, "--input", "a.npy,b.npy"}, `the model has 1 inputs (features), --input names 2 files`},
		{[]string{"predict", mlp, "--input", "a.npy", "--output", "y.json"}, "--output y.json: the extension names no array format"},
		{[]string{"predict", mlp, "--input", "a.npy", "--output", "y.npy,z.npy"}, "the model has 1 outputs (probs), --output names 2 files"},
		{[]string{"predict", mlp, "--input", "a.npy", "--batch-size", "0"}, "--batch-size must be positive"},
		{[]string{"convert", filepath.Join(fixtureDir, "mlp.npz"), filepath.Join(dir, "m.keras")}, "holds weights only: give the architecture with --model"},
		{[]string{"convert", mlp, filepath.Join(dir, "m.h5")}, "kerago writes .keras (whole model), .weights.h5 or .npz"},
		{[]string{"convert", filepath.Join(fixtureDir, "cnn.npz"), filepath.Join(dir, "m.keras"), "--model", mlp}, "LoadWeightsNPZ"},
		{[]string{"summary", filepath.Join(dir, "none.keras")}, "LoadModel " + dir + "/none.keras"},
	}
	for _, c := range cases {
		if _, err := runCLI(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error containing %q", c.args[:2], err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "m.keras")); !os.IsNotExist(err) {
		t.Errorf("a failed convert left m.keras behind: %v", err)
	}
}

// FuzzReadCSV: no CSV file makes readCSV panic; what it accepts holds
// whole samples of the asked shape, every value finite, and what it
// refuses is named by the file's path.
func FuzzReadCSV(f *testing.F) {
	f.Add("a,b,c,d\n1,2,3,4\n5,6,7,8\n")
	f.Add("1, 2, 3, 4\n")
	f.Add("1,2,3\n")
	f.Add("1,2,3,NaN\n")
	f.Add("\"1\",\"2\n\",3,4\n")
	f.Add("x,y,z,w\n")
	shape := graph.Shape{2, 2}
	path := filepath.Join(f.TempDir(), "f.csv")
	f.Fuzz(func(t *testing.T, data string) {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readCSV(path, shape)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("an error that does not name the file: %v", err)
			}
			return
		}
		if got.Shape()[0]*4 != got.DataSize() || !got.Shape()[1:].Eq(tensor.Shape{2, 2}) {
			t.Fatalf("shape %v with %d values", got.Shape(), got.DataSize())
		}
		for i, v := range got.Float64s() {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("value %d is %v", i, v)
			}
		}
	})
}
