package train_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago"
	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train"
	"github.com/kerago/kerago/train/optimizers"
)

// cancer returns the standardised breast-cancer split used by several tests.
func cancer(t testing.TB) (trX [][]float64, trY []int, teX [][]float64, teY []int) {
	t.Helper()
	d, err := kerago.BreastCancer()
	if err != nil {
		t.Fatal(err)
	}
	tr, te := d.Split(0.2, 7)
	kerago.Standardize(tr.X, te.X)
	return tr.X, tr.Y, te.X, te.Y
}

func cancerModel(t testing.TB, seed uint64) *train.Model {
	t.Helper()
	m, err := train.Sequential(graph.Input(30), []graph.Layer{
		layers.NewDense(8, layers.WithActivation("relu")),
		layers.NewDropout(0.2),
		layers.NewDense(1, layers.WithActivation("sigmoid")),
	}, train.Seed(seed))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(optimizers.Adam(optimizers.LR(3e-3)), "binary_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFitLearnsBreastCancer(t *testing.T) {
	trX, trY, teX, teY := cancer(t)
	m := cancerModel(t, 3)
	hist, err := m.Fit(trX, trY, train.Epochs(10), train.BatchSize(32), train.Verbose(0), train.ValidationSplit(0.1))
	if err != nil {
		t.Fatal(err)
	}
	if got := hist.Names; strings.Join(got, ",") != "loss,accuracy,val_loss,val_accuracy" {
		t.Fatalf("history names %v", got)
	}
	first, last := hist.Values["loss"][0], hist.Values["loss"][len(hist.Values["loss"])-1]
	if !(last < first) {
		t.Fatalf("loss did not decrease: %v → %v", first, last)
	}
	logs, err := m.Evaluate(teX, teY)
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := logs.Get("accuracy")
	if acc < 0.93 {
		t.Fatalf("test accuracy %.3f < 0.93 after 10 epochs", acc)
	}
}

func TestSameSeedSameHistory(t *testing.T) {
	trX, trY, _, _ := cancer(t)
	run := func() *train.History {
		m := cancerModel(t, 11)
		h, err := m.Fit(trX, trY, train.Epochs(3), train.BatchSize(16), train.Verbose(0), train.ValidationSplit(0.2))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	a, b := run(), run()
	for _, n := range a.Names {
		for i := range a.Values[n] {
			if math.Float64bits(a.Values[n][i]) != math.Float64bits(b.Values[n][i]) {
				t.Fatalf("%s[%d]: %v vs %v", n, i, a.Values[n][i], b.Values[n][i])
			}
		}
	}
	c := cancerModel(t, 12)
	h, err := c.Fit(trX, trY, train.Epochs(3), train.BatchSize(16), train.Verbose(0), train.ValidationSplit(0.2))
	if err != nil {
		t.Fatal(err)
	}
	if h.Values["loss"][2] == a.Values["loss"][2] {
		t.Fatal("a different seed gave the same history")
	}
}

func TestValidationSplitHoldsOutTheLastSamples(t *testing.T) {
	trX, trY, _, _ := cancer(t)
	m := cancerModel(t, 5)
	h, err := m.Fit(trX, trY, train.Epochs(1), train.Verbose(0), train.ValidationSplit(0.25))
	if err != nil {
		t.Fatal(err)
	}
	split := int(float64(len(trX)) * 0.75)
	logs, err := m.Evaluate(trX[split:], trY[split:])
	if err != nil {
		t.Fatal(err)
	}
	want, _ := logs.Get("loss")
	got, _ := h.Last("val_loss")
	if math.Abs(got-want) > 1e-6 {
		t.Fatalf("val_loss %v, evaluate on the last 25%% gives %v", got, want)
	}
}

func TestPredictPartialBatchesMatchWholeBatch(t *testing.T) {
	_, _, teX, _ := cancer(t)
	m := cancerModel(t, 2)
	x := teX[:70]
	a, err := m.Predict(x, train.BatchSize(32))
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Predict(x, train.BatchSize(70))
	if err != nil {
		t.Fatal(err)
	}
	if s := a.Shape(); s[0] != 70 || s[1] != 1 {
		t.Fatalf("shape %v", s)
	}
	av, bv := a.Data().([]float32), b.Data().([]float32)
	for i := range av {
		if math.Abs(float64(av[i]-bv[i])) > 1e-6 {
			t.Fatalf("sample %d: %v (batches of 32) vs %v (one batch)", i, av[i], bv[i])
		}
	}
	// Inference ignores dropout: the same input twice gives the same output.
	c, _ := m.Predict(x, train.BatchSize(32))
	for i, v := range c.Data().([]float32) {
		if v != av[i] {
			t.Fatalf("predict is not deterministic at %d", i)
		}
	}
}

func TestNaNLossStopsFitAndKeepsWeights(t *testing.T) {
	trX, trY, _, _ := cancer(t)
	m := cancerModel(t, 4)
	x := make([][]float64, 64)
	for i := range x {
		x[i] = append([]float64(nil), trX[i]...)
	}
	x[40][3] = math.NaN() // second batch of 32
	before := snapshot(m)
	// Fit refuses non-finite inputs outright unless allowed; allowed, the
	// step they poison is refused.
	_, err := m.Fit(x, trY[:64], train.Epochs(1), train.BatchSize(32), train.Verbose(0), train.Shuffle(false))
	if err == nil || !strings.Contains(err.Error(), "sample 40 holds NaN (at index 3 of the sample); pass AllowNonFinite() to train on it anyway") {
		t.Fatalf("want the input refused, got %v", err)
	}
	_, err = m.Fit(x, trY[:64], train.Epochs(1), train.BatchSize(32), train.Verbose(0), train.Shuffle(false), train.AllowNonFinite())
	if err == nil || !strings.Contains(err.Error(), "epoch 1, batch 2") || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("want an error naming epoch 1, batch 2 and NaN, got %v", err)
	}
	// The first batch's step happened; redo it alone to get the expected weights.
	ref := cancerModel(t, 4)
	if _, err := ref.Fit(x[:32], trY[:32], train.Epochs(1), train.BatchSize(32), train.Verbose(0), train.Shuffle(false)); err != nil {
		t.Fatal(err)
	}
	after, want := snapshot(m), snapshot(ref)
	for i := range after {
		for j := range after[i] {
			if after[i][j] != want[i][j] {
				t.Fatalf("weight %d[%d] = %v, want %v (the NaN step changed weights)", i, j, after[i][j], want[i][j])
			}
			if math.IsNaN(after[i][j]) {
				t.Fatal("NaN in weights")
			}
		}
	}
	_ = before
}

func snapshot(m *train.Model) [][]float64 {
	var out [][]float64
	for _, w := range m.Weights() {
		out = append(out, w.Float64s())
	}
	return out
}

// softmax3 is Dense(3, softmax) on four inputs, compiled with Adam and loss.
func softmax3(t *testing.T, loss string) *train.Model {
	t.Helper()
	m, err := train.Sequential(graph.Input(4), []graph.Layer{layers.NewDense(3, layers.WithActivation("softmax"))})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile("adam", loss); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestErrors(t *testing.T) {
	trX, trY, _, _ := cancer(t)
	expect := func(t *testing.T, err error, parts ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("want an error containing %q, got nil", parts)
		}
		for _, p := range parts {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not contain %q", err, p)
			}
		}
	}
	t.Run("shape mismatch names the layer", func(t *testing.T) {
		d := layers.NewDense(4, layers.WithName("first"))
		in := graph.Input(10)
		x := d.Apply(in)
		y := d.Apply(graph.Input(7))
		_, err := train.NewModel([]*graph.Tensor{in}, []*graph.Tensor{x, y})
		expect(t, err, "first", "(None, 7)", "10")
	})
	t.Run("fit before compile", func(t *testing.T) {
		m, err := train.Sequential(graph.Input(30), []graph.Layer{layers.NewDense(1)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Fit(trX, trY)
		expect(t, err, "compile")
	})
	m := cancerModel(t, 1)
	t.Run("unknown loss", func(t *testing.T) {
		expect(t, m.Compile("adam", "binary_crossentropyy"), "binary_crossentropyy", "binary_crossentropy")
	})
	t.Run("metric passed as loss", func(t *testing.T) {
		expect(t, m.Compile("adam", "sparse_categorical_accuracy"), "metric")
	})
	t.Run("unknown optimizer", func(t *testing.T) {
		expect(t, m.Compile("adabelief", "binary_crossentropy"), "adabelief", "adam")
	})
	t.Run("unknown metric", func(t *testing.T) {
		expect(t, m.Compile("adam", "binary_crossentropy", "acuracy"), "acuracy")
	})
	t.Run("invalid learning rate", func(t *testing.T) {
		expect(t, m.Compile(optimizers.Adam(optimizers.LR(-1)), "binary_crossentropy"), "-1")
	})
	m = cancerModel(t, 1)
	t.Run("sample counts differ", func(t *testing.T) {
		_, err := m.Fit(trX[:10], trY[:9], train.Verbose(0))
		expect(t, err, "10", "9")
	})
	t.Run("input shape", func(t *testing.T) {
		_, err := m.Fit([][]float64{{1, 2}}, []int{1}, train.Verbose(0))
		expect(t, err, "expected", "(30,)", "(2,)")
	})
	t.Run("wrong dtype", func(t *testing.T) {
		x := tensor.New(tensor.WithShape(2, 30), tensor.Of(tensor.Int))
		_, err := m.Fit(x, []int{0, 1}, train.Verbose(0))
		expect(t, err, "dtype", "float32")
	})
	t.Run("unsupported type", func(t *testing.T) {
		_, err := m.Fit([]string{"a"}, []int{0}, train.Verbose(0))
		expect(t, err, "[]string")
	})
	t.Run("fit options", func(t *testing.T) {
		_, err := m.Fit(trX, trY, train.BatchSize(0))
		expect(t, err, "batch size", "0")
		_, err = m.Fit(trX, trY, train.Epochs(-1))
		expect(t, err, "epochs", "-1")
		_, err = m.Fit(trX, trY, train.ValidationSplit(1.5))
		expect(t, err, "validation split", "1.5")
		_, err = m.Evaluate(trX, trY, train.Epochs(2))
		expect(t, err, "Evaluate", "Epochs")
	})
	t.Run("one-hot labels to the sparse loss", func(t *testing.T) {
		m := softmax3(t, "sparse_categorical_crossentropy")
		_, err := m.Fit([][]float64{{1, 2, 3, 4}, {4, 3, 2, 1}}, [][]float64{{0, 1, 0}, {1, 0, 0}}, train.Verbose(0))
		expect(t, err, "target", "(3,)")
	})
	t.Run("sparse labels to the categorical loss", func(t *testing.T) {
		m := softmax3(t, "categorical_crossentropy")
		_, err := m.Fit([][]float64{{1, 2, 3, 4}, {4, 3, 2, 1}}, []int{1, 2}, train.Verbose(0))
		expect(t, err, "target", "(3,)", "(1,)")
	})
	t.Run("predict wrong shape", func(t *testing.T) {
		_, err := m.Predict([][]float64{{1, 2, 3}})
		expect(t, err, "Predict", "(30,)", "(3,)")
	})
}

func TestProgressBarFormat(t *testing.T) {
	trX, trY, _, _ := cancer(t)
	m := cancerModel(t, 1)
	var buf bytes.Buffer
	_, err := m.Fit(trX[:100], trY[:100], train.Epochs(2), train.BatchSize(32), train.Output(&buf), train.ValidationSplit(0.2))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 || lines[0] != "Epoch 1/2" || lines[2] != "Epoch 2/2" {
		t.Fatalf("progress output:\n%s", buf.String())
	}
	re := regexp.MustCompile(`^3/3 \[==============================\] - \d+s \d+(s|ms|us)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$`)
	for _, l := range []string{lines[1], lines[3]} {
		if !re.MatchString(l) {
			t.Fatalf("epoch line %q does not match %v", l, re)
		}
	}
}

func TestSummary(t *testing.T) {
	m, err := train.Sequential(graph.Input(784), []graph.Layer{
		layers.NewDense(128, layers.WithActivation("relu"), layers.WithName("hidden")),
		layers.NewDense(10, layers.WithActivation("softmax"), layers.WithName("probs")),
	}, train.Name("mlp"))
	if err != nil {
		t.Fatal(err)
	}
	s := m.Summary()
	for _, want := range []string{`Model: "mlp"`, "hidden (Dense)", "(None, 128)", "100,480", "probs (Dense)", "1,290", "Total params: 101,770", "Trainable params: 101,770", "Non-trainable params: 0"} {
		if !strings.Contains(s, want) {
			t.Fatalf("summary lacks %q:\n%s", want, s)
		}
	}
	if m.CountParams() != 101770 {
		t.Fatalf("CountParams %d", m.CountParams())
	}
}

func TestSaveLoadWeights(t *testing.T) {
	_, _, teX, _ := cancer(t)
	a := cancerModel(t, 1)
	b := cancerModel(t, 2)
	path := filepath.Join(t.TempDir(), "w.kw")
	if err := a.SaveWeights(path); err != nil {
		t.Fatal(err)
	}
	if err := b.LoadWeights(path); err != nil {
		t.Fatal(err)
	}
	pa, _ := a.Predict(teX)
	pb, _ := b.Predict(teX)
	for i, v := range pa.Data().([]float32) {
		if pb.Data().([]float32)[i] != v {
			t.Fatalf("prediction %d differs after loading weights", i)
		}
	}
	// A truncated file is refused and changes nothing.
	raw, _ := os.ReadFile(path)
	bad := filepath.Join(t.TempDir(), "bad.kw")
	os.WriteFile(bad, raw[:len(raw)-9], 0o644)
	c := cancerModel(t, 3)
	before := snapshot(c)
	if err := c.LoadWeights(bad); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("want a truncation error, got %v", err)
	}
	for i, w := range snapshot(c) {
		for j := range w {
			if w[j] != before[i][j] {
				t.Fatal("a failed load changed weights")
			}
		}
	}
	// A model of another shape is refused.
	other, _ := train.Sequential(graph.Input(30), []graph.Layer{layers.NewDense(2)})
	if err := other.LoadWeights(path); err == nil || !strings.Contains(err.Error(), "4 weights into a model with 2") {
		t.Fatalf("want a count error, got %v", err)
	}
	// Saving into a missing directory fails without leaving files.
	if err := a.SaveWeights(filepath.Join(t.TempDir(), "no", "dir", "w.kw")); err == nil {
		t.Fatal("want an error for a missing directory")
	}
}

func TestMultiInputMultiOutput(t *testing.T) {
	a, b := graph.Input(3), graph.Input(2)
	ha := layers.NewDense(4, layers.WithActivation("tanh")).Apply(a)
	hb := layers.NewDense(4, layers.WithActivation("tanh")).Apply(b)
	both := layers.NewDense(4, layers.WithName("mix")).Apply(ha)
	out1 := layers.NewDense(1, layers.WithActivation("sigmoid"), layers.WithName("flag")).Apply(both)
	out2 := layers.NewDense(3, layers.WithActivation("softmax"), layers.WithName("kind")).Apply(hb)
	m, err := train.NewModel([]*graph.Tensor{a, b}, []*graph.Tensor{out1, out2}, train.Seed(9))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile("adam", []any{"binary_crossentropy", "sparse_categorical_crossentropy"}, "accuracy"); err != nil {
		t.Fatal(err)
	}
	want := "loss,flag_loss,kind_loss,flag_accuracy,kind_accuracy"
	if got := strings.Join(m.MetricsNames(), ","); got != want {
		t.Fatalf("metrics names %s, want %s", got, want)
	}
	xa := [][]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0}}
	xb := [][]float64{{1, 0}, {0, 1}, {1, 1}, {0, 0}}
	h, err := m.Fit(train.Multi(xa, xb), train.Multi([]int{1, 0, 1, 0}, []int{0, 1, 2, 0}), train.Epochs(2), train.Verbose(0))
	if err != nil {
		t.Fatal(err)
	}
	total := h.Values["loss"][1]
	parts := h.Values["flag_loss"][1] + h.Values["kind_loss"][1]
	if math.Abs(total-parts) > 1e-5 {
		t.Fatalf("loss %v is not the sum of the output losses %v", total, parts)
	}
	preds, err := m.PredictAll(train.Multi(xa, xb))
	if err != nil || len(preds) != 2 || preds[1].Shape()[1] != 3 {
		t.Fatalf("PredictAll: %v %v", preds, err)
	}
	if _, err := m.Predict(train.Multi(xa, xb)); err == nil {
		t.Fatal("Predict on a two-output model should point to PredictAll")
	}
}

func TestReportedLossIncludesRegularization(t *testing.T) {
	_, _, teX, teY := cancer(t)
	build := func(reg bool) *train.Model {
		var opts []layers.DenseOption
		if reg {
			opts = append(opts, layers.WithKernelRegularizer(layers.L2(0.01)))
		}
		m, err := train.Sequential(graph.Input(30), []graph.Layer{layers.NewDense(1, append(opts, layers.WithActivation("sigmoid"))...)}, train.Seed(5), train.DType(tensor.Float64))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Compile("adam", "binary_crossentropy"); err != nil {
			t.Fatal(err)
		}
		return m
	}
	plain, regd := build(false), build(true)
	penalty := 0.0
	for _, v := range regd.Weights()[0].Float64s() {
		penalty += 0.01 * v * v
	}
	a, err := plain.Evaluate(teX, teY)
	if err != nil {
		t.Fatal(err)
	}
	b, err := regd.Evaluate(teX, teY)
	if err != nil {
		t.Fatal(err)
	}
	la, _ := a.Get("loss")
	lb, _ := b.Get("loss")
	if math.Abs(lb-(la+penalty)) > 1e-12 {
		t.Fatalf("loss with l2 %v, want data loss %v + penalty %v", lb, la, penalty)
	}
}

func TestTrainOnBatchMatchesOneFitStep(t *testing.T) {
	trX, trY, _, _ := cancer(t)
	a, b := cancerModel(t, 8), cancerModel(t, 8)
	logs, err := a.TrainOnBatch(trX[:32], trY[:32])
	if err != nil {
		t.Fatal(err)
	}
	h, err := b.Fit(trX[:32], trY[:32], train.BatchSize(32), train.Shuffle(false), train.Verbose(0))
	if err != nil {
		t.Fatal(err)
	}
	l, _ := logs.Get("loss")
	if l != h.Values["loss"][0] {
		t.Fatalf("TrainOnBatch loss %v, Fit %v", l, h.Values["loss"][0])
	}
	wa, wb := snapshot(a), snapshot(b)
	for i := range wa {
		for j := range wa[i] {
			if wa[i][j] != wb[i][j] {
				t.Fatal("weights differ after one step")
			}
		}
	}
	if _, err := a.TrainOnBatch(trX[:3], trY[:2]); err == nil {
		t.Fatal("mismatched counts accepted")
	}
}

type lrProbe struct {
	train.BaseCallback
	m   *train.Model
	lrs []float64
}

func (p *lrProbe) OnTrainBegin(m *train.Model, _ train.Params) { p.m = m }
func (p *lrProbe) OnEpochEnd(int, train.Logs)                  { p.lrs = append(p.lrs, p.m.Optimizer().LearningRate()) }

func TestLearningRateScheduler(t *testing.T) {
	trX, trY, _, _ := cancer(t)
	m := cancerModel(t, 1)
	probe := &lrProbe{}
	sched := &train.LearningRateScheduler{Schedule: train.CosineDecay(0.01, 0.1, 4)}
	if _, err := m.Fit(trX[:64], trY[:64], train.Epochs(4), train.Verbose(0), train.Callbacks(sched, probe)); err != nil {
		t.Fatal(err)
	}
	want := []float64{0.01, 0.01 * (0.1 + 0.9*0.5*(1+math.Cos(math.Pi/4))), 0.01 * (0.1 + 0.9*0.5), 0.01 * (0.1 + 0.9*0.5*(1+math.Cos(3*math.Pi/4)))}
	for i, w := range want {
		if math.Abs(probe.lrs[i]-w) > 1e-15 {
			t.Fatalf("epoch %d: lr %v, want %v", i, probe.lrs[i], w)
		}
	}
}
