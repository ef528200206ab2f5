package losses

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/graphtest"
)

var dtypes = []struct {
	dt         tensor.Dtype
	rtol, atol float64
}{
	{tensor.Float32, 1e-5, 1e-6},
	{tensor.Float64, 1e-9, 1e-12},
}

// run compiles the identity network on an input of predShape (batch axis
// first), feeds yPred and yTrue, and returns the per-sample losses and the
// cost (their mean). targetShape overrides the loss's target shape (batch
// axis included) when not nil.
func run(loss Loss, dt tensor.Dtype, predShape []int, yPred, yTrue []float64, targetShape []int) ([]float64, float64, error) {
	in := graph.Input(predShape[1:]...)
	net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{in})
	if err != nil {
		return nil, 0, err
	}
	if err := net.Initialise(dt, 1); err != nil {
		return nil, 0, err
	}
	batch := predShape[0]
	head := func(ctx *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
		ts := targetShape
		if ts == nil {
			s, err := loss.TargetShape(graph.Shape(predShape[1:]))
			if err != nil {
				return nil, nil, err
			}
			ts = s.WithBatch(batch)
		}
		y := ctx.Placeholder("y_true", ts)
		per, err := loss.PerSample(ctx, y, outs[0])
		if err != nil {
			return nil, nil, err
		}
		cost, err := G.Mean(per)
		if err != nil {
			return nil, nil, err
		}
		return cost, []graph.Node{per}, nil
	}
	p, err := net.RunOnce(graph.ProgramSpec{Batch: batch, Head: head}, [][]float64{yPred, yTrue})
	if err != nil {
		return nil, 0, err
	}
	return graph.Float64s(p.Reports()[0]), p.Cost(), nil
}

func newLoss(name string, logits bool) (Loss, error) {
	var opts []Option
	if logits {
		opts = append(opts, FromLogits())
	}
	switch name {
	case "binary_crossentropy":
		return BinaryCrossentropy(opts...), nil
	case "categorical_crossentropy":
		return CategoricalCrossentropy(opts...), nil
	case "sparse_categorical_crossentropy":
		return SparseCategoricalCrossentropy(opts...), nil
	case "mean_squared_error":
		return MeanSquaredError(), nil
	case "mean_absolute_error":
		return MeanAbsoluteError(), nil
	}
	return nil, errors.Errorf("no loss %q", name)
}

func near(got, want, rtol, atol float64) bool {
	return math.Abs(got-want) <= atol+rtol*math.Abs(want)
}

func checkValues(t *testing.T, what string, got, want []float64, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if !near(got[i], want[i], rtol, atol) {
			t.Errorf("%s[%d] = %.10g, want %.10g", what, i, got[i], want[i])
		}
	}
}

type goldenCase struct {
	Name       string               `json:"name"`
	Loss       string               `json:"loss"`
	FromLogits bool                 `json:"from_logits"`
	YTrueShape []int                `json:"y_true_shape"`
	YPredShape []int                `json:"y_pred_shape"`
	YTrue      []float64            `json:"y_true"`
	YPred      []float64            `json:"y_pred"`
	PerSample  map[string][]float64 `json:"per_sample"`
}

func loadGolden(t *testing.T) []goldenCase {
	t.Helper()
	raw, err := os.ReadFile("../testdata/golden/losses.json")
	if err != nil {
		t.Fatalf("reading golden values (regenerate with /usr/bin/python3 testdata/golden/gen_losses.py): %v", err)
	}
	var doc struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 10 {
		t.Fatalf("golden file holds %d cases, expected at least 10", len(doc.Cases))
	}
	return doc.Cases
}

// TestGolden compares every loss, on probabilities and logits (saturated
// probabilities, unnormalised inputs, logits of ±30 and ±100, sequence
// outputs), with PyTorch's values in float32 and float64.
func TestGolden(t *testing.T) {
	for _, c := range loadGolden(t) {
		for _, d := range dtypes {
			t.Run(fmt.Sprintf("%s/%v", c.Name, d.dt), func(t *testing.T) {
				loss, err := newLoss(c.Loss, c.FromLogits)
				if err != nil {
					t.Fatal(err)
				}
				want := c.PerSample[d.dt.String()]
				if want == nil {
					t.Fatalf("no %v values", d.dt)
				}
				per, cost, err := run(loss, d.dt, c.YPredShape, c.YPred, c.YTrue, nil)
				if err != nil {
					t.Fatal(err)
				}
				checkValues(t, "per-sample loss", per, want, d.rtol, d.atol)
				mean := 0.0
				for _, v := range want {
					mean += v / float64(len(want))
				}
				if !near(cost, mean, d.rtol, d.atol) {
					t.Errorf("cost %.10g, want the batch mean %.10g", cost, mean)
				}
			})
		}
	}
}

// TestKerasHandValues checks the hand-computed values of docs/SEMANTICS.md
// §24.5 and §24.6.
func TestKerasHandValues(t *testing.T) {
	cases := []struct {
		name         string
		loss         Loss
		shape        []int
		yPred, yTrue []float64
		want         float64
		only         string // "": both dtypes
	}{
		{"G5 bce", BinaryCrossentropy(), []int{1, 2}, []float64{0.9, 0.2}, []float64{1, 0}, 0.16425203, ""},
		{"G5 bce saturated float32", BinaryCrossentropy(), []int{1, 1}, []float64{1.0}, []float64{0}, 15.942385, "float32"},
		{"G5 bce saturated float64", BinaryCrossentropy(), []int{1, 1}, []float64{1.0}, []float64{0}, -math.Log(1e-7), "float64"},
		{"G5 bce logits z=0", BinaryCrossentropy(FromLogits()), []int{1, 1}, []float64{0}, []float64{1}, 0.693147, ""},
		{"G5 bce logits z=3", BinaryCrossentropy(FromLogits()), []int{1, 1}, []float64{3}, []float64{0}, 3.0485874, ""},
		{"G6 cce", CategoricalCrossentropy(), []int{1, 3}, []float64{0.2, 0.7, 0.1}, []float64{0, 1, 0}, 0.35667494, ""},
		{"G6 cce unnormalised", CategoricalCrossentropy(), []int{1, 3}, []float64{0.4, 1.4, 0.2}, []float64{0, 1, 0}, 0.35667494, ""},
		{"G6 sparse", SparseCategoricalCrossentropy(), []int{1, 3}, []float64{0.2, 0.7, 0.1}, []float64{1}, 0.35667494, ""},
		{"G6 sparse unnormalised", SparseCategoricalCrossentropy(), []int{1, 3}, []float64{0.4, 1.4, 0.2}, []float64{1}, 0.47000367, ""},
	}
	for _, c := range cases {
		for _, d := range dtypes {
			if c.only != "" && c.only != d.dt.String() {
				continue
			}
			per, _, err := run(c.loss, d.dt, c.shape, c.yPred, c.yTrue, nil)
			if err != nil {
				t.Fatalf("%s %v: %v", c.name, d.dt, err)
			}
			// The hand values carry 8 significant digits.
			if !near(per[0], c.want, 2e-7, 1e-7) {
				t.Errorf("%s %v: got %.9g, want %.9g", c.name, d.dt, per[0], c.want)
			}
		}
	}
}

// TestSparseLabelsWithTrailingOne accepts labels of shape (N, 1) as well as
// (N,), as Keras does.
func TestSparseLabelsWithTrailingOne(t *testing.T) {
	per, _, err := run(SparseCategoricalCrossentropy(), tensor.Float64, []int{2, 3}, []float64{0.2, 0.7, 0.1, 0.5, 0.25, 0.25}, []float64{1, 0}, []int{2, 1})
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, "loss", per, []float64{-math.Log(0.7), -math.Log(0.5)}, 1e-9, 0)
}

// gradCase is one loss on one input for the finite-difference check.
type gradCase struct {
	name         string
	loss         Loss
	shape        []int // batch axis first
	yPred, yTrue []float64
}

func gradCases() []gradCase {
	probs := []float64{0.3, 0.6, 0.2, 0.8, 0.45, 0.1, 0.7, 0.35, 0.9, 0.15, 0.55, 0.25}
	unnorm := []float64{0.3, 1.2, 0.2, 0.8, 0.45, 0.1, 0.7, 0.35, 1.9, 0.15, 0.55, 0.25}
	logits := []float64{0.3, -1.2, 2.0, 0.8, -0.45, 0.1, 3.5, -0.35, 1.9, -2.15, 0.55, 0.25}
	real := []float64{0.3, -1.2, 2.0, 0.8, -0.45, 0.1, 3.5, -0.35, 1.9, -2.15, 0.55, 0.25}
	binary := []float64{1, 0, 0.3, 1, 0, 1, 0, 0, 1, 1, 0.5, 0}
	onehot := []float64{0, 1, 0, 1, 0, 0, 0.2, 0.3, 0.5, 0, 0, 1}
	onehotSeq := []float64{0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0} // (2, 3, 2)
	labels := []float64{1, 0, 2, 2}
	labelsSeq := []float64{1, 0, 1, 1, 0, 0} // (2, 3) for C=2
	targets := []float64{0.1, -1, 2.5, 0.5, 0.5, 0.2, 3, 0, 1, -2, 0.4, 1}
	var out []gradCase
	for _, logit := range []bool{false, true} {
		var o []Option
		pred, cpred, tag := probs, unnorm, "probs"
		if logit {
			o, pred, cpred, tag = []Option{FromLogits()}, logits, logits, "logits"
		}
		out = append(out,
			gradCase{"bce/" + tag, BinaryCrossentropy(o...), []int{3, 4}, pred, binary},
			gradCase{"bce_seq/" + tag, BinaryCrossentropy(o...), []int{2, 3, 2}, pred, binary},
			gradCase{"cce/" + tag, CategoricalCrossentropy(o...), []int{4, 3}, cpred, onehot},
			gradCase{"cce_seq/" + tag, CategoricalCrossentropy(o...), []int{2, 3, 2}, cpred, onehotSeq},
			gradCase{"sparse/" + tag, SparseCategoricalCrossentropy(o...), []int{4, 3}, pred, labels},
			gradCase{"sparse_seq/" + tag, SparseCategoricalCrossentropy(o...), []int{2, 3, 2}, pred, labelsSeq},
		)
	}
	out = append(out,
		gradCase{"mse", MeanSquaredError(), []int{3, 4}, real, targets},
		gradCase{"mse_seq", MeanSquaredError(), []int{2, 3, 2}, real, targets},
		gradCase{"mae", MeanAbsoluteError(), []int{3, 4}, real, targets},
	)
	return out
}

// lossHead is the GradCheck head: y_true placeholder, cost = mean of the
// per-sample losses.
func lossHead(loss Loss) graph.Head {
	return func(ctx *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
		ts, err := loss.TargetShape(graph.Shape(outs[0].Shape()[1:]))
		if err != nil {
			return nil, nil, err
		}
		y := ctx.Placeholder("y_true", ts.WithBatch(ctx.Batch()))
		per, err := loss.PerSample(ctx, y, outs[0])
		if err != nil {
			return nil, nil, err
		}
		cost, err := G.Mean(per)
		return cost, nil, err
	}
}

// TestGradients checks d(mean loss)/d(y_pred) against central differences in
// float64 for every loss, on probabilities (inside the clipping bounds) and
// on logits, for (N, C) and (N, T, C) outputs.
func TestGradients(t *testing.T) {
	for _, c := range gradCases() {
		t.Run(c.name, func(t *testing.T) {
			in := graph.Input(c.shape[1:]...)
			n := 1
			for _, d := range c.shape {
				n *= d
			}
			err := graph.GradCheck{
				Inputs: []*graph.Tensor{in}, Outputs: []*graph.Tensor{in}, Batch: c.shape[0],
				Feeds: [][]float64{c.yPred[:n], c.yTrue[:n/c.shape[len(c.shape)-1]*targetWidth(c)]},
				Head:  lossHead(c.loss), CheckInputs: true, Seed: 1,
				ATol: 1e-8, RTol: 1e-5,
			}.Run()
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// targetWidth is the number of target values per row of the last axis.
func targetWidth(c gradCase) int {
	if c.loss.Name() == "sparse_categorical_crossentropy" {
		return 1
	}
	return c.shape[len(c.shape)-1]
}

// inputGradients runs a training program on the identity network and returns
// d(mean loss)/d(y_pred).
func inputGradients(loss Loss, dt tensor.Dtype, shape []int, yPred, yTrue []float64) ([]float64, error) {
	in := graph.Input(shape[1:]...)
	net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{in})
	if err != nil {
		return nil, err
	}
	if err := net.Initialise(dt, 1); err != nil {
		return nil, err
	}
	p, err := graph.NewProgram(net, graph.ProgramSpec{Training: true, Batch: shape[0], Head: lossHead(loss), InputGradients: true})
	if err != nil {
		return nil, err
	}
	if err := p.SetFeeds([][]float64{yPred, yTrue}); err != nil {
		return nil, err
	}
	if err := p.Run(true); err != nil {
		return nil, err
	}
	return graph.Float64s(p.InputGradients()[0]), nil
}

// TestClippedGradientIsZero: probabilities outside [1e-7, 1-1e-7] are clipped
// and get no gradient (TensorFlow's clip_by_value gradient), while the other
// elements do.
func TestClippedGradientIsZero(t *testing.T) {
	for _, loss := range []Loss{BinaryCrossentropy(), SparseCategoricalCrossentropy()} {
		y := []float64{0, 1, 0}
		if loss.Name() == "sparse_categorical_crossentropy" {
			y = []float64{1}
		}
		g, err := inputGradients(loss, tensor.Float64, []int{1, 3}, []float64{1.0, 0.0, 0.5}, y)
		if err != nil {
			t.Fatalf("%s: %v", loss.Name(), err)
		}
		if g[0] != 0 || g[1] != 0 || g[2] == 0 {
			t.Errorf("%s: gradient %v, want 0 for the clipped elements 0 and 1 only", loss.Name(), g)
		}
	}
}

// TestFloat32Gradients runs every gradient op in float32 and compares it
// with float64.
func TestFloat32Gradients(t *testing.T) {
	for _, c := range gradCases() {
		n := 1
		for _, d := range c.shape {
			n *= d
		}
		yTrue := c.yTrue[:n/c.shape[len(c.shape)-1]*targetWidth(c)]
		g64, err := inputGradients(c.loss, tensor.Float64, c.shape, c.yPred[:n], yTrue)
		if err != nil {
			t.Fatalf("%s float64: %v", c.name, err)
		}
		g32, err := inputGradients(c.loss, tensor.Float32, c.shape, c.yPred[:n], yTrue)
		if err != nil {
			t.Fatalf("%s float32: %v", c.name, err)
		}
		checkValues(t, c.name+" float32 gradient", g32, g64, 1e-4, 1e-6)
	}
}

// TestLogitsStayFinite: large logits give finite losses and gradients.
func TestLogitsStayFinite(t *testing.T) {
	z := []float64{1000, -1000, 0, -1000, 1000, 0}
	for _, c := range []struct {
		loss Loss
		y    []float64
		want float64 // per sample: 1000·2/3 + ln2/3 for BCE, 2000 otherwise
	}{
		{BinaryCrossentropy(FromLogits()), []float64{0, 1, 1, 1, 0, 0}, (2000 + math.Ln2) / 3},
		{CategoricalCrossentropy(FromLogits()), []float64{0, 1, 0, 1, 0, 0}, 2000},
		{SparseCategoricalCrossentropy(FromLogits()), []float64{1, 0}, 2000},
	} {
		for _, d := range dtypes {
			per, _, err := run(c.loss, d.dt, []int{2, 3}, z, c.y, nil)
			if err != nil {
				t.Fatal(err)
			}
			g, err := inputGradients(c.loss, d.dt, []int{2, 3}, z, c.y)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range append(per, g...) {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s %v: loss %v, gradient %v: not finite", c.loss.Name(), d.dt, per, g)
				}
			}
			checkValues(t, c.loss.Name()+" "+d.dt.String(), per, []float64{c.want, c.want}, d.rtol, d.atol)
		}
	}
}

func TestGet(t *testing.T) {
	for name, want := range map[string]string{
		"binary_crossentropy":             "binary_crossentropy",
		"bce":                             "binary_crossentropy",
		"categorical_crossentropy":        "categorical_crossentropy",
		"CategoricalCrossentropy":         "categorical_crossentropy",
		"sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
		"mse":                             "mean_squared_error",
		"mean_squared_error":              "mean_squared_error",
		"mae":                             "mean_absolute_error",
		"mean_absolute_error":             "mean_absolute_error",
	} {
		l, err := Get(name)
		if err != nil {
			t.Errorf("Get(%q): %v", name, err)
			continue
		}
		if l.Name() != want {
			t.Errorf("Get(%q).Name() = %q, want %q", name, l.Name(), want)
		}
	}
	if l, _ := Get("binary_crossentropy"); l.(*crossentropy).FromLogits() {
		t.Error("Get returns a loss on logits, want probabilities")
	}
	_, err := Get("crossentropy")
	graphtest.WantErr(t, "unknown name", err, `unknown loss "crossentropy"`, "binary_crossentropy", "sparse_categorical_crossentropy", "mse", "mean_absolute_error")
	_, err = Get("hinge")
	graphtest.WantErr(t, "unimplemented", err, `"hinge" is not implemented`)
	for metric, loss := range map[string]string{
		"sparse_categorical_accuracy": "sparse_categorical_crossentropy",
		"binary_accuracy":             "binary_crossentropy",
		"categorical_accuracy":        "categorical_crossentropy",
		"accuracy":                    "categorical_crossentropy",
		"acc":                         "binary_crossentropy",
	} {
		_, err := Get(metric)
		graphtest.WantErr(t, metric, err, fmt.Sprintf("%q is a metric, not a loss", metric), loss)
	}
}

func TestTargetShape(t *testing.T) {
	cases := []struct {
		loss   Loss
		output graph.Shape
		want   graph.Shape
	}{
		{BinaryCrossentropy(), graph.Shape{1}, graph.Shape{1}},
		{BinaryCrossentropy(FromLogits()), graph.Shape{5, 3}, graph.Shape{5, 3}},
		{CategoricalCrossentropy(), graph.Shape{10}, graph.Shape{10}},
		{SparseCategoricalCrossentropy(), graph.Shape{10}, graph.Shape{}},
		{SparseCategoricalCrossentropy(), graph.Shape{7, 10}, graph.Shape{7}},
		{MeanSquaredError(), graph.Shape{2, 3}, graph.Shape{2, 3}},
		{MeanAbsoluteError(), graph.Shape{1}, graph.Shape{1}},
		{Func("mine", nil), graph.Shape{4}, graph.Shape{4}},
	}
	for _, c := range cases {
		got, err := c.loss.TargetShape(c.output)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("%s.TargetShape(%v) = %v, %v; want %v", c.loss.Name(), c.output, got, err, c.want)
		}
	}
	_, err := CategoricalCrossentropy().TargetShape(graph.Shape{1})
	graphtest.WantErr(t, "cce on one unit", err, "categorical_crossentropy on an output of shape (None, 1): use binary_crossentropy")
	_, err = SparseCategoricalCrossentropy(FromLogits()).TargetShape(graph.Shape{4, 1})
	graphtest.WantErr(t, "sparse on one unit", err, "sparse_categorical_crossentropy on an output of shape (None, 4, 1): use binary_crossentropy")
	_, err = MeanSquaredError().TargetShape(graph.Shape{})
	graphtest.WantErr(t, "no last axis", err, "mean_squared_error needs an output with a last", "(None,)")
}

// TestShapeMismatch: y_true whose shape differs from what the loss needs is
// an error when the graph is built, never a panic at run time.
func TestShapeMismatch(t *testing.T) {
	cases := []struct {
		loss        Loss
		predShape   []int
		targetShape []int
		want        string
	}{
		{BinaryCrossentropy(), []int{2, 3}, []int{2, 1}, "y_true has shape (2, 1), y_pred (2, 3): they must be equal"},
		{CategoricalCrossentropy(), []int{2, 3}, []int{2, 2}, "y_true has shape (2, 2), y_pred (2, 3)"},
		{MeanSquaredError(), []int{2, 3}, []int{2}, "mean_squared_error: y_true has shape (2), y_pred (2, 3)"},
		{MeanAbsoluteError(), []int{2, 3}, []int{2, 3, 1}, "mean_absolute_error: y_true has shape (2, 3, 1)"},
		{SparseCategoricalCrossentropy(), []int{2, 3}, []int{2, 3}, "y_true has shape (2, 3); class indices for y_pred of shape (2, 3) need shape (2)"},
		{CategoricalCrossentropy(), []int{2, 1}, []int{2, 1}, "categorical_crossentropy on an output of shape (None, 1): use binary_crossentropy"},
	}
	for _, c := range cases {
		n := c.predShape[0] * c.predShape[1]
		m := 1
		for _, d := range c.targetShape {
			m *= d
		}
		_, _, err := run(c.loss, tensor.Float64, c.predShape, make([]float64, n), make([]float64, m), c.targetShape)
		graphtest.WantErr(t, c.loss.Name(), err, c.want)
	}
}

// TestBadLabelAtRunTime: an out-of-range sparse label reaching the graph is
// an error from Run, not a crash.
func TestBadLabelAtRunTime(t *testing.T) {
	for _, label := range []float64{3, -1, 0.5} {
		_, _, err := run(SparseCategoricalCrossentropy(), tensor.Float32, []int{2, 3}, []float64{0.2, 0.7, 0.1, 0.3, 0.3, 0.4}, []float64{0, label}, nil)
		graphtest.WantErr(t, fmt.Sprint("label ", label), err, fmt.Sprintf("label %v of sample 1 is not a class index in [0, 3)", label))
	}
}

func TestCheckTargets(t *testing.T) {
	ok := []struct {
		loss   Loss
		y      []float64
		output graph.Shape
	}{
		{BinaryCrossentropy(), []float64{0, 1, 0.25, 1}, graph.Shape{2}},
		{CategoricalCrossentropy(), []float64{0, 1, 0, 0.5, 0.5, 0}, graph.Shape{3}},
		{SparseCategoricalCrossentropy(), []float64{0, 2, 1, 2}, graph.Shape{3}},
		{SparseCategoricalCrossentropy(), []float64{0, 2, 1, 2}, graph.Shape{2, 3}},
		{MeanSquaredError(), []float64{-3, 1e6}, graph.Shape{1}},
	}
	for _, c := range ok {
		if err := c.loss.CheckTargets(c.y, c.output); err != nil {
			t.Errorf("%s.CheckTargets(%v): %v", c.loss.Name(), c.y, err)
		}
	}
	bad := []struct {
		loss   Loss
		y      []float64
		output graph.Shape
		want   []string
	}{
		{SparseCategoricalCrossentropy(), []float64{0, 2, 3, 1}, graph.Shape{3},
			[]string{"target 3 of sample 2 is not a class index", "integers in [0, 3)"}},
		{SparseCategoricalCrossentropy(), []float64{0, 1.5}, graph.Shape{3},
			[]string{"target 1.5 of sample 1"}},
		{SparseCategoricalCrossentropy(), []float64{0, 1, 0, 1, 0, -1}, graph.Shape{2, 3},
			[]string{"target -1 of sample 2"}},
		{SparseCategoricalCrossentropy(), []float64{0.05, 0.9, 0.05, 0.9, 0.05, 0.05}, graph.Shape{3},
			[]string{"target 0.05 of sample 0", "look one-hot encoded: use categorical_crossentropy"}},
		{SparseCategoricalCrossentropy(), []float64{math.NaN()}, graph.Shape{3},
			[]string{"target NaN of sample 0"}},
		{BinaryCrossentropy(), []float64{0, 1, 2, 0}, graph.Shape{2},
			[]string{"binary_crossentropy: target 2 of sample 1 (element 0) is not in [0, 1]"}},
		{BinaryCrossentropy(), []float64{-0.5}, graph.Shape{1},
			[]string{"target -0.5 of sample 0"}},
		{CategoricalCrossentropy(), []float64{0, 1, 0, 1, -1, 1}, graph.Shape{3},
			[]string{"categorical_crossentropy: target -1 of sample 1 (element 1) is not a finite non-negative value"}},
		{MeanAbsoluteError(), []float64{0, math.Inf(1)}, graph.Shape{1},
			[]string{"target +Inf of sample 1 (element 0) is not finite"}},
		{MeanSquaredError(), []float64{0, 1, 2}, graph.Shape{2},
			[]string{"3 target values are not a whole number of samples of shape (None, 2)"}},
		{CategoricalCrossentropy(), []float64{0, 1}, graph.Shape{1},
			[]string{"use binary_crossentropy"}},
	}
	for _, c := range bad {
		err := c.loss.CheckTargets(c.y, c.output)
		graphtest.WantErr(t, fmt.Sprintf("%s %v", c.loss.Name(), c.y), err, c.want...)
	}
}

// squaredError is a user loss equal to MSE; it returns (N, C), averaged over
// the last axis by Func when perElement, or (N,) otherwise.
func squaredError(perElement bool) func(*graph.Context, graph.Node, graph.Node) (graph.Node, error) {
	return func(ctx *graph.Context, yTrue, yPred graph.Node) (graph.Node, error) {
		d, err := G.Sub(yPred, yTrue)
		if err != nil {
			return nil, err
		}
		sq, err := G.Square(d)
		if err != nil {
			return nil, err
		}
		if perElement {
			return sq, nil
		}
		return G.Mean(sq, 1)
	}
}

func TestFunc(t *testing.T) {
	yPred := []float64{0.9, 0.2, 2.5, -0.5, -1, 1}
	yTrue := []float64{1, 0, 2, 0.5, -1, 3}
	want := []float64{0.1, 5.0 / 3}
	for _, d := range dtypes {
		for _, perElement := range []bool{false, true} {
			l := Func("my_mse", squaredError(perElement))
			if l.Name() != "my_mse" {
				t.Errorf("name %q", l.Name())
			}
			per, _, err := run(l, d.dt, []int{2, 3}, yPred, yTrue, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkValues(t, fmt.Sprintf("user loss %v per element %v", d.dt, perElement), per, want, 1e-6, 1e-7)
		}
	}
	in := graph.Input(3)
	err := graph.GradCheck{Inputs: []*graph.Tensor{in}, Outputs: []*graph.Tensor{in}, Batch: 2,
		Feeds: [][]float64{yPred, yTrue}, Head: lossHead(Func("my_mse", squaredError(true))), CheckInputs: true}.Run()
	if err != nil {
		t.Error(err)
	}

	_, _, err = run(Func("scalar", func(ctx *graph.Context, yTrue, yPred graph.Node) (graph.Node, error) {
		return G.Sum(yPred)
	}), tensor.Float64, []int{2, 3}, yPred, yTrue, nil)
	graphtest.WantErr(t, "scalar user loss", err, "loss scalar returned shape ()", "one value per sample, shape (2,)")
	_, _, err = run(Func("panics", func(ctx *graph.Context, yTrue, yPred graph.Node) (graph.Node, error) {
		panic("boom")
	}), tensor.Float64, []int{2, 3}, yPred, yTrue, nil)
	graphtest.WantErr(t, "panicking user loss", err, "loss panics panicked: boom")
	_, _, err = run(Func("fails", func(ctx *graph.Context, yTrue, yPred graph.Node) (graph.Node, error) {
		return nil, errors.New("no idea")
	}), tensor.Float64, []int{2, 3}, yPred, yTrue, nil)
	graphtest.WantErr(t, "failing user loss", err, "loss fails: no idea")
	_, _, err = run(Func("nil", nil), tensor.Float64, []int{2, 3}, yPred, yTrue, nil)
	graphtest.WantErr(t, "nil user loss", err, "loss nil has no function")
}
