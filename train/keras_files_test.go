package train

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train/hdf5"
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
		sameWeights(t, fx.Name+" .keras", back, m)
		checkStrictKeras(t, path)
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
		sameWeights(t, fx.Name+" .weights.h5", fresh, m)
		if _, err := (hdf5.ReadOptions{Strict: true}).Open(wpath); err != nil {
			t.Errorf("%s: the .weights.h5 file kerago wrote fails the strict reader: %v", fx.Name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "mlp.keras")); err != nil {
		t.Error(err)
	}
}

// sameWeights fails unless got's weights equal want's bit for bit.
func sameWeights(t *testing.T, what string, got, want *Model) {
	t.Helper()
	gw, ww := got.GetWeights(), want.GetWeights()
	if len(gw) != len(ww) {
		t.Fatalf("%s: %d weights, want %d", what, len(gw), len(ww))
	}
	for i, w := range gw {
		if !w.Shape().Eq(ww[i].Shape()) || !reflect.DeepEqual(w.Data(), ww[i].Data()) {
			t.Errorf("%s: weight %d differs from the saved model's", what, i)
		}
	}
}

// checkStrictKeras opens the .keras archive at path and reads its
// model.weights.h5 with the strict HDF5 reader, which refuses anything
// Keras itself would not write.
func checkStrictKeras(t *testing.T, path string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	data, err := zipEntry(&zr.Reader, "model.weights.h5", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (hdf5.ReadOptions{Strict: true}).Read(bytes.NewReader(data), int64(len(data))); err != nil {
		t.Errorf("%s: model.weights.h5 fails the strict reader: %v", path, err)
	}
}

// TestWriteKerasSamples writes, when KERAGO_KERAS_SAMPLES names a folder,
// the files testdata/keras/check_keras_loads.py gives to real Keras: each
// fixture model and kerago-built models of other layers, as .keras and
// .weights.h5, with their inputs and kerago's predictions. Without the
// variable it only checks that the samples build and predict.
func TestWriteKerasSamples(t *testing.T) {
	dir := os.Getenv("KERAGO_KERAS_SAMPLES")
	for _, s := range kerasSamples(t) {
		preds, err := s.model.PredictAll(Multi(s.inputs...))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if dir == "" {
			continue
		}
		if err := s.model.SaveModel(filepath.Join(dir, s.name+".keras")); err != nil {
			t.Fatal(err)
		}
		if err := s.model.SaveWeights(filepath.Join(dir, s.name+".weights.h5")); err != nil {
			t.Fatal(err)
		}
		writeSampleJSON(t, filepath.Join(dir, s.name+".json"), s.inputs, preds)
	}
}

// kerasSample is a model with a batch of inputs, for real Keras to load.
type kerasSample struct {
	name   string
	model  *Model
	inputs []any
}

// kerasSamples are the fixture models (loaded from their .keras files) and
// models kerago builds of the layers the fixtures lack.
func kerasSamples(t *testing.T) []kerasSample {
	t.Helper()
	var out []kerasSample
	for _, fx := range kerasFixtures(t) {
		m, err := LoadModel(filepath.Join("../testdata/keras", fx.Name+".keras"))
		if err != nil {
			t.Fatal(err)
		}
		var ins []any
		for _, in := range fx.Inputs {
			ins = append(ins, fixtureArray(t, in.Shape, in.Data))
		}
		out = append(out, kerasSample{fx.Name, m, ins})
	}
	for _, b := range []func() (*graph.Tensor, *graph.Tensor, []int){sampleSequence, sampleText, sampleImage} {
		in, o, shape := b()
		m, err := NewModel(in, o, Name("kerago_"+in.Layer().Name()), Seed(5))
		if err != nil {
			t.Fatal(err)
		}
		x := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(sampleValues(shape, in.Layer().Name() == "tokens")))
		out = append(out, kerasSample{m.Name(), m, []any{x}})
	}
	return out
}

// sampleValues are values for a sample's inputs: token ids in [0, 6) with
// padding at the end of every other row, or numbers in [-1, 1).
func sampleValues(shape []int, tokens bool) []float32 {
	n := 1
	for _, d := range shape {
		n *= d
	}
	rng := rand.New(rand.NewPCG(11, 12))
	v := make([]float32, n)
	for i := range v {
		if tokens {
			v[i] = float32(1 + rng.IntN(5))
			if row, col := i/shape[1], i%shape[1]; row%2 == 1 && col >= shape[1]-row {
				v[i] = 0
			}
			continue
		}
		v[i] = float32(rng.Float64()*2 - 1)
	}
	return v
}

func sampleSequence() (*graph.Tensor, *graph.Tensor, []int) {
	in := graph.NamedInput("sequence", 12, 3)
	x := layers.NewConv1D(4, 3, layers.WithPadding("causal"), layers.WithActivation("relu")).Apply(in)
	x = layers.NewAveragePooling1D(2).Apply(x)
	x = layers.NewGRU(5, layers.WithResetAfter(false), layers.WithReturnSequences()).Apply(x)
	x = layers.NewLSTM(4, layers.WithReturnSequences(), layers.WithKernelRegularizer(layers.L2(1e-3))).Apply(x)
	x = layers.NewTimeDistributed(layers.NewDense(3, layers.WithActivation("tanh"))).Apply(x)
	x = layers.NewGlobalMaxPooling1D().Apply(x)
	return in, layers.NewDense(2, layers.WithActivation("sigmoid"), layers.WithKernelInitializer(layers.HeNormal())).Apply(x), []int{4, 12, 3}
}

func sampleText() (*graph.Tensor, *graph.Tensor, []int) {
	in := graph.NamedInput("tokens", 7)
	x := layers.NewEmbedding(6, 4, layers.WithMaskZero()).Apply(in)
	x = layers.NewBidirectional(layers.NewSimpleRNN(3, layers.WithReturnSequences()), layers.WithMergeMode("sum")).Apply(x)
	x = layers.NewLSTM(3, layers.WithReturnSequences(), layers.WithGoBackwards()).Apply(x)
	x = layers.NewGlobalAveragePooling1D().Apply(x)
	return in, layers.NewDense(3, layers.WithActivation("softmax")).Apply(x), []int{4, 7}
}

func sampleImage() (*graph.Tensor, *graph.Tensor, []int) {
	in := graph.NamedInput("picture", 8, 8, 2)
	x := layers.NewConv2D(3, 3, layers.WithPadding("same"), layers.WithStrides(2)).Apply(in)
	x = layers.NewBatchNormalization(layers.WithMomentum(0.9)).Apply(x)
	x = layers.NewActivation("elu").Apply(x)
	x = layers.NewMaxPooling2D(2, layers.WithPadding("same")).Apply(x)
	x = layers.NewFlatten().Apply(x)
	x = layers.NewReshape([]int{4, 3}).Apply(x)
	x = layers.NewUnitNormalization(nil).Apply(x)
	x = layers.NewDropout(0.25, layers.WithNoiseShape(1, 0)).Apply(x)
	x = layers.NewFlatten().Apply(x)
	return in, layers.NewDense(2, layers.WithoutBias()).Apply(x), []int{3, 8, 8, 2}
}

// writeSampleJSON writes a sample's inputs and kerago's predictions.
func writeSampleJSON(t *testing.T, path string, inputs []any, preds []*tensor.Dense) {
	t.Helper()
	arr := func(d *tensor.Dense) map[string]any {
		v := make([]float64, 0, d.Shape().TotalSize())
		for _, x := range d.Float32s() {
			v = append(v, float64(x))
		}
		return map[string]any{"shape": d.Shape(), "data": nest(v, d.Shape())}
	}
	var ins, outs []any
	for _, in := range inputs {
		ins = append(ins, arr(in.(*tensor.Dense)))
	}
	for _, p := range preds {
		outs = append(outs, arr(p))
	}
	b, err := json.Marshal(map[string]any{"inputs": ins, "outputs": outs})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// nest turns flat row-major values into nested lists of the given shape.
func nest(v []float64, shape []int) any {
	if len(shape) == 1 {
		return v
	}
	n := len(v) / shape[0]
	out := make([]any, shape[0])
	for i := range out {
		out[i] = nest(v[i*n:(i+1)*n], shape[1:])
	}
	return out
}

// projection is a layer of a program's own: x·W with W of shape (features,
// units), no bias. It implements layers.ConfigGetter so that it can be
// saved, and is registered as "testpkg>Projection".
type projection struct {
	graph.Base
	units  int
	kernel *graph.Weight
}

func newProjection(name string, units int) *projection {
	return &projection{Base: graph.NewBase("Projection", name), units: units}
}

func (p *projection) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 || len(in[0]) != 1 {
		return nil, fmt.Errorf("expects one (None, features) input, got %v", in)
	}
	if p.kernel == nil {
		p.kernel = p.AddWeight("kernel", graph.Shape{in[0][0], p.units}, layers.GlorotUniform(), nil, true)
	}
	return []graph.Shape{{p.units}}, nil
}

func (p *projection) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	w, err := ctx.Weight(p.kernel)
	if err != nil {
		return nil, err
	}
	y, err := ops.Dense(in[0], w, nil, ops.ActLinear)
	return []graph.Node{y}, err
}

func (p *projection) GetConfig() map[string]any { return map[string]any{"units": p.units} }

func registerProjection() {
	layers.Register("testpkg>Projection", func(raw json.RawMessage) (graph.Layer, error) {
		var cfg struct {
			Name  string `json:"name"`
			Units int    `json:"units"`
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, err
		}
		if cfg.Units <= 0 {
			return nil, fmt.Errorf("units must be positive, got %d", cfg.Units)
		}
		return newProjection(cfg.Name, cfg.Units), nil
	})
}

// TestCustomLayerSaveLoad saves a model with a layer of the program's own
// and loads it back through the registration: the same configuration and
// predictions; the file names the class by its registered name, and a
// layer that cannot say its configuration is an error naming what to add.
func TestCustomLayerSaveLoad(t *testing.T) {
	registerProjection()
	in := graph.Input(4)
	x := layers.NewDense(3, layers.WithActivation("relu")).Apply(in)
	out := graph.Apply1(newProjection("proj", 2), x)
	m, err := NewModel(in, out, Seed(3))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "custom.keras")
	if err := m.SaveModel(path); err != nil {
		t.Fatal(err)
	}
	cfg, err := m.KerasConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), `"registered_name":"testpkg>Projection"`) || !strings.Contains(string(cfg), `"units":2`) {
		t.Errorf("the configuration does not name the registered class and its units:\n%s", cfg)
	}
	back, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Layers()[2]; got.Class() != "Projection" || got.Name() != "proj" {
		t.Errorf("loaded layer %s (%s), want proj (Projection)", got.Name(), got.Class())
	}
	xs := tensor.New(tensor.WithShape(2, 4), tensor.WithBacking([]float32{1, 2, 3, 4, -1, 0.5, 2, 0}))
	want, err := m.Predict(xs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := back.Predict(xs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Data(), want.Data()) {
		t.Errorf("loaded model predicts %v, saved one %v", got.Data(), want.Data())
	}

	in2 := graph.Input(4)
	plain := &unsavable{Base: graph.NewBase("Unsavable", "")}
	m2, err := NewModel(in2, graph.Apply1(plain, in2))
	if err != nil {
		t.Fatal(err)
	}
	err = m2.SaveModel(filepath.Join(t.TempDir(), "bad.keras"))
	if err == nil || !strings.Contains(err.Error(), "GetConfig method and layers.Register") {
		t.Errorf("saving a layer without GetConfig: got %v", err)
	}
}

// unsavable is a layer with no configuration to save.
type unsavable struct{ graph.Base }

func (u *unsavable) Build(in []graph.Shape) ([]graph.Shape, error) { return in, nil }
func (u *unsavable) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) {
	return in, nil
}
