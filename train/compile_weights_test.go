package train_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/graphtest"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/metrics"
	"github.com/kerago/kerago/train"
	"github.com/kerago/kerago/train/optimizers"
)

// compileGolden is testdata/golden/compile.json (gen_compile.py: real
// Keras 3's evaluate of functional_2io, and PyTorch's SGD step).
type compileGolden struct {
	Evaluate evaluateGolden `json:"evaluate"`
	FitStep  struct {
		W0, B0, X    []float64
		Y            []float64
		SampleWeight []float64          `json:"sample_weight"`
		ClassWeight  map[string]float64 `json:"class_weight"`
		LR           float64            `json:"lr"`
		WithSW       goldenStep         `json:"with_sample_weight"`
		WithCW       goldenStep         `json:"with_class_weight"`
	} `json:"fit_step"`
}

type evaluateGolden struct {
	XA, XB, YP, YC, WP, WC []float64
	Results                []struct {
		Weighted  bool               `json:"weighted"`
		Logs      map[string]float64 `json:"logs"`
		NumpyLoss float64            `json:"numpy_loss"`
	} `json:"results"`
}

// data are the inputs and targets of functional_2io's golden samples.
func (e *evaluateGolden) data() (x, y any) {
	n := len(e.YC)
	return train.Multi(dense([]int{n, 8}, e.XA), dense([]int{n, 4}, e.XB)), train.Multi(dense([]int{n, 1}, e.YP), e.YC)
}

type goldenStep struct {
	Loss float64   `json:"loss"`
	W    []float64 `json:"W"`
	B    []float64 `json:"b"`
}

func loadCompileGolden(t *testing.T) *compileGolden {
	t.Helper()
	raw, err := os.ReadFile("../testdata/golden/compile.json")
	if err != nil {
		t.Fatalf("golden values (regenerate with testdata/golden/gen_compile.py): %v", err)
	}
	var g compileGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// twoOutputs is the Keras-written functional_2io model compiled as
// gen_compile.py compiles it in Keras.
func twoOutputs(t *testing.T) *train.Model {
	t.Helper()
	m, err := train.LoadModel("../testdata/keras/functional_2io.keras")
	if err != nil {
		t.Fatal(err)
	}
	err = m.Compile("sgd",
		map[string]any{"p": "binary_crossentropy", "c": "sparse_categorical_crossentropy"},
		map[string][]any{"p": {"accuracy", "auc"}, "c": {metrics.SparseTopKCategoricalAccuracy(metrics.K(2))}},
		train.LossWeights(map[string]float64{"p": 1, "c": 0.2}),
		train.WeightedMetrics(map[string][]any{"p": {"accuracy"}, "c": {"sparse_categorical_crossentropy"}}))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTwoOutputsAsKeras: per-output losses, loss weights, per-output and
// weighted metrics of a 2-output model give Keras 3's logs (names and
// values, batches of 3, 3 and 2), without and with per-output sample
// weights.
func TestTwoOutputsAsKeras(t *testing.T) {
	g := loadCompileGolden(t)
	e := g.Evaluate
	m := twoOutputs(t)
	x, y := e.data()
	for _, r := range e.Results {
		opts := []train.FitOption{train.BatchSize(3)}
		if r.Weighted {
			opts = append(opts, train.SampleWeight(train.Multi(e.WP, e.WC)))
		}
		logs, err := m.Evaluate(x, y, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if len(logs.Names) != len(r.Logs) {
			t.Errorf("weighted %v: logs %v, Keras's %v", r.Weighted, logs.Names, r.Logs)
		}
		for name, want := range r.Logs {
			got, ok := logs.Get(name)
			if !ok || math.Abs(got-want) > 2e-6*math.Max(1, math.Abs(want)) {
				t.Errorf("weighted %v: %s = %v (present %v), Keras %v", r.Weighted, name, got, ok, want)
			}
		}
		if got, _ := logs.Get("loss"); math.Abs(got-r.NumpyLoss) > 2e-6 {
			t.Errorf("weighted %v: loss %v, numpy %v", r.Weighted, got, r.NumpyLoss)
		}
	}
	want := []string{"loss", "p_loss", "c_loss", "p_accuracy", "p_auc", "c_sparse_top_k_categorical_accuracy", "p_weighted_accuracy", "c_sparse_categorical_crossentropy"}
	if got := m.MetricsNames(); !slices.Equal(got, want) {
		t.Errorf("MetricsNames %v, want %v", got, want)
	}
}

// softmaxModel is Input(4) → Dense(3, softmax) in float64 with the golden
// initial weights, compiled with SGD.
func softmaxModel(t *testing.T, g *compileGolden, ms ...any) *train.Model {
	t.Helper()
	m, err := train.Sequential(graph.Input(4), []graph.Layer{layers.NewDense(3, layers.WithActivation("softmax"))}, train.DType(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(optimizers.SGD(optimizers.LR(g.FitStep.LR)), "sparse_categorical_crossentropy", ms...); err != nil {
		t.Fatal(err)
	}
	if err := m.SetWeights([]*tensor.Dense{dense([]int{4, 3}, g.FitStep.W0), dense([]int{3}, g.FitStep.B0)}); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestWeightedFitStep: one SGD step with sample weights, and with class
// weights, gives PyTorch's loss Σ w·CE / batch and new weights.
func TestWeightedFitStep(t *testing.T) {
	g := loadCompileGolden(t)
	f := g.FitStep
	cw := map[int]float64{}
	for k, v := range f.ClassWeight {
		c, _ := strconv.Atoi(k)
		cw[c] = v
	}
	for _, c := range []struct {
		name string
		opt  train.FitOption
		want goldenStep
	}{{"sample weights", train.SampleWeight(f.SampleWeight), f.WithSW}, {"class weights", train.ClassWeight(cw), f.WithCW}} {
		m := softmaxModel(t, g)
		hist, err := m.Fit(dense([]int{6, 4}, f.X), f.Y, train.Epochs(1), train.BatchSize(6), train.Shuffle(false), train.Verbose(0), c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := hist.Values["loss"][0]; math.Abs(got-c.want.Loss) > 1e-12 {
			t.Errorf("%s: loss %v, PyTorch %v", c.name, got, c.want.Loss)
		}
		ws := m.GetWeights()
		for i, want := range [][]float64{c.want.W, c.want.B} {
			for j, v := range ws[i].Data().([]float64) {
				if math.Abs(v-want[j]) > 1e-12 {
					t.Fatalf("%s: weight %d[%d] = %v, PyTorch %v", c.name, i, j, v, want[j])
				}
			}
		}
	}
}

// TestWeightedMetricsUseWeights: with SampleWeight, a weighted metric is
// Σ w·v / Σ w and a plain one ignores the weights; the loss is Σ w·l / n.
// Sample weights of 2 on every sample double the loss and leave the
// weighted metric as it was.
func TestWeightedMetricsUseWeights(t *testing.T) {
	g := loadCompileGolden(t)
	f := g.FitStep
	m := softmaxModel(t, g, "accuracy", train.WeightedMetrics("accuracy", "sparse_categorical_crossentropy"))
	x := dense([]int{6, 4}, f.X)
	plain, err := m.Evaluate(x, f.Y)
	if err != nil {
		t.Fatal(err)
	}
	twos := []float64{2, 2, 2, 2, 2, 2}
	doubled, err := m.Evaluate(x, f.Y, train.SampleWeight(twos), train.BatchSize(4))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"loss", "accuracy", "weighted_accuracy", "sparse_categorical_crossentropy"}
	if !slices.Equal(plain.Names, want) {
		t.Fatalf("names %v, want %v", plain.Names, want)
	}
	for i, n := range plain.Names {
		factor := 1.0
		if n == "loss" {
			factor = 2
		}
		if math.Abs(doubled.Values[i]-factor*plain.Values[i]) > 1e-12 {
			t.Errorf("%s: %v with weights 2, %v without", n, doubled.Values[i], plain.Values[i])
		}
	}
	if l, _ := plain.Get("loss"); math.Abs(l-plain.Values[3]) > 1e-12 {
		t.Errorf("unweighted loss %v != cross-entropy metric %v", l, plain.Values[3])
	}
	weighted, err := m.Evaluate(x, f.Y, train.SampleWeight(f.SampleWeight))
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := weighted.Get("loss"); math.Abs(l-f.WithSW.Loss) > 1e-12 {
		t.Errorf("weighted loss %v, PyTorch %v", l, f.WithSW.Loss)
	}
	ce, _ := weighted.Get("sparse_categorical_crossentropy")
	sum := 0.0
	for _, w := range f.SampleWeight {
		sum += w
	}
	if math.Abs(ce-f.WithSW.Loss*6/sum) > 1e-12 {
		t.Errorf("weighted cross-entropy %v, want Σw·l/Σw = %v", ce, f.WithSW.Loss*6/sum)
	}
	if a, _ := weighted.Get("accuracy"); a != plain.Values[1] {
		t.Errorf("plain accuracy changed with weights: %v vs %v", a, plain.Values[1])
	}
}

// TestWeightErrors: bad weights and bad per-output compile arguments are
// refused, naming what was wrong.
func TestWeightErrors(t *testing.T) {
	g := loadCompileGolden(t)
	f := g.FitStep
	m := softmaxModel(t, g)
	x := dense([]int{6, 4}, f.X)
	fit := func(opts ...train.FitOption) error {
		_, err := m.Fit(x, f.Y, append([]train.FitOption{train.Verbose(0)}, opts...)...)
		return err
	}
	graphtest.WantErr(t, "short weights", fit(train.SampleWeight([]float64{1, 2})), "sample weights of output dense", "2 values for 6 samples")
	graphtest.WantErr(t, "negative weight", fit(train.SampleWeight([]float64{1, 1, -1, 1, 1, 1})), "sample weight -1 of sample 2", "finite and not negative")
	graphtest.WantErr(t, "NaN weight", fit(train.SampleWeight([]float64{1, 1, 1, math.NaN(), 1, 1})), "sample weight NaN of sample 3")
	graphtest.WantErr(t, "weights per sample", fit(train.SampleWeight(dense([]int{6, 2}, make([]float64, 12)))), "shape (2,) per sample", "one weight per sample")
	graphtest.WantErr(t, "both", fit(train.SampleWeight(f.SampleWeight), train.ClassWeight(map[int]float64{0: 2})), "SampleWeight or ClassWeight, not both")
	graphtest.WantErr(t, "class beyond", fit(train.ClassWeight(map[int]float64{3: 2})), "class 3", "has 3 classes (0 to 2)")
	graphtest.WantErr(t, "negative class weight", fit(train.ClassWeight(map[int]float64{1: -2})), "weight -2 of class 1", "finite and not negative")
	graphtest.WantErr(t, "validation weights", fit(train.ValidationData(x, f.Y, []float64{1})), "validation data", "1 values for 6 samples")
	_, err := m.Evaluate(x, f.Y, train.ClassWeight(map[int]float64{0: 1}))
	graphtest.WantErr(t, "class weights in Evaluate", err, "Evaluate does not take option ClassWeight")
	_, err = m.Evaluate(x, f.Y, train.SampleWeight(train.Multi(f.SampleWeight, f.SampleWeight)))
	graphtest.WantErr(t, "two arrays for one output", err, "2 sample weight arrays for a model with 1 outputs")

	two, err := train.LoadModel("../testdata/keras/functional_2io.keras")
	if err != nil {
		t.Fatal(err)
	}
	losses := map[string]any{"p": "binary_crossentropy", "c": "sparse_categorical_crossentropy"}
	graphtest.WantErr(t, "unknown output in losses", two.Compile("sgd", map[string]any{"p": "mse", "q": "mse"}), `loss names output "q"`, "outputs are p, c")
	graphtest.WantErr(t, "missing output in losses", two.Compile("sgd", map[string]any{"p": "mse"}), "no loss for output c")
	graphtest.WantErr(t, "unknown output in metrics", two.Compile("sgd", losses, map[string][]any{"x": {"mae"}}), `metrics names output "x"`, "outputs are p, c")
	graphtest.WantErr(t, "unknown output in loss weights", two.Compile("sgd", losses, train.LossWeights(map[string]float64{"pp": 1})), `LossWeights names output "pp"`)
	graphtest.WantErr(t, "loss weights list", two.Compile("sgd", losses, train.LossWeights([]float64{1})), "1 weights for a model with 2 outputs")
	graphtest.WantErr(t, "negative loss weight", two.Compile("sgd", losses, train.LossWeights([]float64{1, -1})), "weight -1 of output c")
	graphtest.WantErr(t, "lists of metrics", two.Compile("sgd", losses, [][]any{{"mae"}}), "1 lists for a model with 2 outputs")
	graphtest.WantErr(t, "misfit metric", two.Compile("sgd", losses, map[string][]any{"p": {"sparse_top_k_categorical_accuracy"}}), "metrics of output p", "k=5", "shape (None, 1)")
	graphtest.WantErr(t, "misfit weighted metric", two.Compile("sgd", losses, train.WeightedMetrics(map[string][]any{"c": {metrics.F1Score()}})), "WeightedMetrics of output c", "metric f1_score")
	if err := two.Compile("sgd", losses); err != nil {
		t.Fatal(err)
	}
	xx, yy := g.Evaluate.data()
	_, err = two.Fit(xx, yy, train.Verbose(0), train.ClassWeight(map[int]float64{0: 1}))
	graphtest.WantErr(t, "class weights with two outputs", err, "ClassWeight is only supported for models with a single output")
}

// TestCompileConfigSurvivesSaving: a model compiled per output with loss
// weights, metrics with options and weighted metrics, saved and loaded,
// has the same compile configuration: the same log names and values.
func TestCompileConfigSurvivesSaving(t *testing.T) {
	g := loadCompileGolden(t)
	e := g.Evaluate
	m := twoOutputs(t)
	x, y := e.data()
	sw := train.SampleWeight(train.Multi(e.WP, e.WC))
	before, err := m.Evaluate(x, y, sw)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "two.keras")
	if err := m.SaveModel(path); err != nil {
		t.Fatal(err)
	}
	back, err := train.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	after, err := back.Evaluate(x, y, sw)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before.Names, after.Names) || !slices.Equal(before.Values, after.Values) {
		t.Errorf("before saving %v, after loading %v", before, after)
	}
	// A metric made by a constructor with options keeps them: AUC with
	// the PR curve differs from the default ROC AUC on these data.
	m2 := twoOutputs(t)
	losses := map[string]any{"p": "binary_crossentropy", "c": "sparse_categorical_crossentropy"}
	if err := m2.Compile("adam", losses, [][]any{{metrics.AUC(metrics.Curve("PR"), metrics.NumThresholds(20), metrics.Named("pr"))}, {}},
		train.LossWeights([]float64{0.5, 2})); err != nil {
		t.Fatal(err)
	}
	before, err = m2.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.SaveModel(path); err != nil {
		t.Fatal(err)
	}
	if back, err = train.LoadModel(path); err != nil {
		t.Fatal(err)
	}
	if after, err = back.Evaluate(x, y); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before.Names, after.Names) || !slices.Equal(before.Values, after.Values) || !slices.Contains(after.Names, "p_pr") {
		t.Errorf("before saving %v, after loading %v", before, after)
	}
}

// TestValidationWeights: with ValidationSplit the sample weights are split
// with the samples, and ValidationData takes the validation weights: the
// val_ figures are those of Evaluate on the validation part with its
// weights. Class weights leave the validation data unweighted.
func TestValidationWeights(t *testing.T) {
	g := loadCompileGolden(t)
	f := g.FitStep
	x := dense([]int{6, 4}, f.X)
	xv := dense([]int{3, 4}, f.X[12:])
	for _, c := range []struct {
		name string
		opts []train.FitOption
		vw   []float64 // the validation weights, nil for none
	}{
		{"split", []train.FitOption{train.ValidationSplit(0.5), train.SampleWeight(f.SampleWeight)}, f.SampleWeight[3:]},
		{"data", []train.FitOption{train.ValidationData(xv, f.Y[3:], []float64{3, 0.5, 1})}, []float64{3, 0.5, 1}},
		{"class weights", []train.FitOption{train.ValidationSplit(0.5), train.ClassWeight(map[int]float64{1: 4})}, nil},
	} {
		m := softmaxModel(t, g, train.WeightedMetrics("accuracy", "sparse_categorical_crossentropy"))
		opts := append([]train.FitOption{train.Epochs(1), train.BatchSize(3), train.Shuffle(false), train.Verbose(0)}, c.opts...)
		hist, err := m.Fit(x, f.Y, opts...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var eopts []train.FitOption
		if c.vw != nil {
			eopts = append(eopts, train.SampleWeight(c.vw))
		}
		want, err := m.Evaluate(xv, f.Y[3:], eopts...)
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range want.Names {
			if got := hist.Values["val_"+n][0]; math.Abs(got-want.Values[i]) > 1e-12 {
				t.Errorf("%s: val_%s %v, Evaluate %v", c.name, n, got, want.Values[i])
			}
		}
		if c.vw != nil {
			plain, _ := m.Evaluate(xv, f.Y[3:])
			if l, _ := plain.Get("loss"); math.Abs(l-hist.Values["val_loss"][0]) < 1e-9 {
				t.Errorf("%s: the validation weights changed nothing (loss %v)", c.name, l)
			}
		}
	}
}

// TestVectorMetricLogs: a metric with several values logs one entry per
// value, "<name>[i]", each equal to the figure computed from the model's
// predictions; F1's macro average is their mean.
func TestVectorMetricLogs(t *testing.T) {
	g := loadCompileGolden(t)
	f := g.FitStep
	m, err := train.Sequential(graph.Input(4), []graph.Layer{layers.NewDense(3, layers.WithActivation("softmax"))}, train.DType(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	err = m.Compile("sgd", "categorical_crossentropy", metrics.F1Score(), metrics.F1Score(metrics.Average("macro"), metrics.Named("macro")),
		metrics.Precision(metrics.Thresholds(0.2, 0.5)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetWeights([]*tensor.Dense{dense([]int{4, 3}, f.W0), dense([]int{3}, f.B0)}); err != nil {
		t.Fatal(err)
	}
	x := dense([]int{6, 4}, f.X)
	onehot := make([]float64, 18)
	for i, c := range f.Y {
		onehot[3*i+int(c)] = 1
	}
	logs, err := m.Evaluate(x, dense([]int{6, 3}, onehot), train.BatchSize(4))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"loss", "f1_score[0]", "f1_score[1]", "f1_score[2]", "macro", "precision[0]", "precision[1]"}
	if !slices.Equal(logs.Names, want) {
		t.Fatalf("names %v, want %v", logs.Names, want)
	}
	pred, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	p := pred.Data().([]float64)
	mean := 0.0
	for c := range 3 {
		var tp, fp, fn float64
		for s := range 6 {
			top := p[3*s] <= p[3*s+c] && p[3*s+1] <= p[3*s+c] && p[3*s+2] <= p[3*s+c]
			switch {
			case top && onehot[3*s+c] == 1:
				tp++
			case top:
				fp++
			case onehot[3*s+c] == 1:
				fn++
			}
		}
		pr, rc := tp/(tp+fp+1e-7), tp/(tp+fn+1e-7)
		f1 := 2 * pr * rc / (pr + rc + 1e-7)
		mean += f1 / 3
		if got := logs.Values[1+c]; math.Abs(got-f1) > 1e-12 {
			t.Errorf("f1_score[%d] = %v, want %v", c, got, f1)
		}
	}
	if math.Abs(logs.Values[4]-mean) > 1e-12 {
		t.Errorf("macro F1 %v, mean of the classes' %v", logs.Values[4], mean)
	}
	for i, th := range []float64{0.2, 0.5} {
		var tp, pos float64
		for j, v := range p {
			if v > th {
				pos++
				tp += onehot[j]
			}
		}
		if got := logs.Values[5+i]; math.Abs(got-tp/pos) > 1e-12 {
			t.Errorf("precision[%d] = %v, want %v", i, got, tp/pos)
		}
	}
}
