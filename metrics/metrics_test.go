package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/graphtest"
	"github.com/kerago/kerago/graph/ops"
)

var dtypes = []tensor.Dtype{tensor.Float32, tensor.Float64}

// shift is a test layer with one trainable weight: y = x + b, b of shape (C,).
type shift struct {
	graph.Base
	b *graph.Weight
}

type fill float64

func (f fill) Fill(dst []float64, _ graph.Shape, _ *rand.Rand) error {
	for i := range dst {
		dst[i] = float64(f)
	}
	return nil
}

func newShift() *shift { return &shift{Base: graph.NewBase("Shift", "")} }

func (l *shift) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 || len(in[0]) == 0 {
		return nil, errors.New("shift needs one input with a last axis")
	}
	if l.b == nil {
		l.b = l.AddWeight("b", graph.Shape{in[0][len(in[0])-1]}, fill(0.01), nil, true)
	}
	return []graph.Shape{in[0]}, nil
}

func (l *shift) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	b, err := ctx.Weight(l.b)
	if err != nil {
		return nil, err
	}
	y, err := ops.BiasAdd(in[0], b)
	return []graph.Node{y}, err
}

// mseHead is a cost that reaches the weights, for training programs.
func mseHead(ctx *graph.Context, yTrue, yPred graph.Node) (graph.Node, error) {
	d, err := G.Sub(yPred, yTrue)
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(d)
	if err != nil {
		return nil, err
	}
	return G.Mean(sq)
}

// evalMetric computes m's statistics on yPred (shape predShape, batch axis
// first) and yTrue (shape targetShape), with the sample weights w unless
// nil. With training, the program is a training program whose cost (an
// MSE on a separate target) reaches a trainable weight, so gorgonia.Grad
// runs over a graph holding the metric node.
func evalMetric(m Metric, dt tensor.Dtype, predShape, targetShape []int, yPred, yTrue []float64, training bool, w ...float64) ([]float64, error) {
	in := graph.Input(predShape[1:]...)
	out := in
	if training {
		out = graph.Apply1(newShift(), in)
	}
	net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
	if err != nil {
		return nil, err
	}
	if err := net.Initialise(dt, 1); err != nil {
		return nil, err
	}
	head := func(ctx *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
		y := ctx.Placeholder("y_true", targetShape)
		var wn graph.Node
		if w != nil {
			wn = ctx.Placeholder("sample_weight", predShape[:1])
		}
		per, err := m.Stats(ctx, y, outs[0], wn)
		if err != nil {
			return nil, nil, err
		}
		if !training {
			return nil, []graph.Node{per}, nil
		}
		z := ctx.Placeholder("y_regression", predShape)
		cost, err := mseHead(ctx, z, outs[0])
		return cost, []graph.Node{per}, err
	}
	feeds := [][]float64{yPred, yTrue}
	if w != nil {
		feeds = append(feeds, w)
	}
	if training {
		// The shift layer adds 0.01: feed yPred-0.01 so that the metric sees yPred.
		shifted := make([]float64, len(yPred))
		for i, v := range yPred {
			shifted[i] = v - 0.01
		}
		feeds = [][]float64{shifted, yTrue}
		if w != nil {
			feeds = append(feeds, w)
		}
		feeds = append(feeds, make([]float64, len(yPred)))
	}
	p, err := net.RunOnce(graph.ProgramSpec{Training: training, Batch: predShape[0], Head: head}, feeds)
	if err != nil {
		return nil, err
	}
	if training && len(p.Gradients()) != 1 {
		return nil, errors.Errorf("expected one weight gradient, got %d", len(p.Gradients()))
	}
	return graph.Float64s(p.Reports()[0]), nil
}

func checkValues(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-6 {
			t.Errorf("%s: got %v, want %v", what, got, want)
			return
		}
	}
}

// TestAccuracyValues covers docs/SEMANTICS.md §24.3 and §24.4, ties, thresholds, sequence
// outputs and (N, 1) labels, in float32 and float64, in inference and in
// training programs (where the metric shares the graph with the gradient).
func TestAccuracyValues(t *testing.T) {
	cases := []struct {
		name                   string
		m                      Metric
		predShape, targetShape []int
		yPred, yTrue, want     []float64
	}{
		{"G3 binary", BinaryAccuracy(), []int{1, 4}, []int{1, 4},
			[]float64{0.7, 0.5, 0.49, 0.2}, []float64{1, 0, 1, 0}, []float64{0.75}},
		{"binary threshold", BinaryAccuracy(), []int{4, 1}, []int{4, 1},
			[]float64{0.5, 0.5000001, 0.99, 0.01}, []float64{1, 1, 0, 0}, []float64{0, 1, 0, 1}},
		{"G4 categorical", CategoricalAccuracy(), []int{2, 3}, []int{2, 3},
			[]float64{0.1, 0.9, 0.8, 0.05, 0.95, 0}, []float64{0, 0, 1, 0, 1, 0}, []float64{0, 1}},
		{"categorical ties pick the first", CategoricalAccuracy(), []int{2, 3}, []int{2, 3},
			[]float64{0.4, 0.4, 0.2, 0.4, 0.4, 0.2}, []float64{1, 0, 0, 0, 1, 0}, []float64{1, 0}},
		{"G4 sparse", SparseCategoricalAccuracy(), []int{2, 3}, []int{2},
			[]float64{0.1, 0.9, 0.8, 0.05, 0.95, 0}, []float64{2, 1}, []float64{0, 1}},
		{"G4 sparse (N,1) labels", SparseCategoricalAccuracy(), []int{2, 3}, []int{2, 1},
			[]float64{0.1, 0.9, 0.8, 0.05, 0.95, 0}, []float64{2, 1}, []float64{0, 1}},
		{"sparse ties pick the first", SparseCategoricalAccuracy(), []int{2, 3}, []int{2},
			[]float64{0.3, 0.3, 0.3, 0.1, 0.5, 0.5}, []float64{0, 2}, []float64{1, 0}},
		{"sparse sequence", SparseCategoricalAccuracy(), []int{2, 2, 3}, []int{2, 2},
			[]float64{0.1, 0.8, 0.1, 0.6, 0.3, 0.1, 0.2, 0.2, 0.6, 0.1, 0.1, 0.8}, []float64{1, 1, 2, 0}, []float64{0.5, 0.5}},
		{"categorical sequence", CategoricalAccuracy(), []int{1, 2, 2}, []int{1, 2, 2},
			[]float64{0.1, 0.9, 0.6, 0.4}, []float64{0, 1, 1, 0}, []float64{1}},
		{"binary multi-label", BinaryAccuracy(), []int{2, 2, 2}, []int{2, 2, 2},
			[]float64{0.9, 0.1, 0.9, 0.9, 0.2, 0.2, 0.6, 0.4}, []float64{1, 0, 1, 0, 1, 1, 1, 1}, []float64{0.75, 0.25}},
	}
	for _, c := range cases {
		for _, dt := range dtypes {
			for _, training := range []bool{false, true} {
				got, err := evalMetric(c.m, dt, c.predShape, c.targetShape, c.yPred, c.yTrue, training)
				if err != nil {
					t.Fatalf("%s %v training %v: %v", c.name, dt, training, err)
				}
				sum := 0.0
				for _, v := range c.want {
					sum += v
				}
				checkValues(t, fmt.Sprintf("%s %v training %v", c.name, dt, training), got, []float64{sum, float64(len(c.want))})
			}
		}
	}
}

func TestAccuracyErrors(t *testing.T) {
	_, err := evalMetric(SparseCategoricalAccuracy(), tensor.Float64, []int{2, 3}, []int{2, 3}, make([]float64, 6), make([]float64, 6), false)
	graphtest.WantErr(t, "sparse with one-hot targets", err, "metric sparse_categorical_accuracy", "y_true has shape (2, 3); class indices for y_pred of shape (2, 3) need shape (2)")
	_, err = evalMetric(CategoricalAccuracy(), tensor.Float64, []int{2, 3}, []int{2}, make([]float64, 6), make([]float64, 2), false)
	graphtest.WantErr(t, "categorical with labels", err, "metric categorical_accuracy", "y_true has shape (2), y_pred (2, 3)")
	_, err = evalMetric(SparseCategoricalAccuracy(), tensor.Float32, []int{2, 3}, []int{2}, make([]float64, 6), []float64{0, 3}, true)
	graphtest.WantErr(t, "label out of range at run time", err, "label 3 of sample 1 is not a class index in [0, 3)")
}

// TestResolve checks Keras's resolution of "accuracy"/"acc" and the explicit
// names.
func TestResolve(t *testing.T) {
	cases := []struct {
		name, loss string
		output     graph.Shape
		kind       string // the metric it computes
	}{
		{"accuracy", "binary_crossentropy", graph.Shape{1}, "binary_accuracy"},
		{"accuracy", "binary_crossentropy", graph.Shape{5}, "binary_accuracy"},
		{"accuracy", "mean_squared_error", graph.Shape{1}, "binary_accuracy"},
		{"accuracy", "sparse_categorical_crossentropy", graph.Shape{1}, "binary_accuracy"},
		{"accuracy", "sparse_categorical_crossentropy", graph.Shape{10}, "sparse_categorical_accuracy"},
		{"accuracy", "sparse_categorical_crossentropy", graph.Shape{7, 10}, "sparse_categorical_accuracy"},
		{"accuracy", "categorical_crossentropy", graph.Shape{10}, "categorical_accuracy"},
		{"accuracy", "mean_squared_error", graph.Shape{3}, "categorical_accuracy"},
		{"acc", "binary_crossentropy", graph.Shape{2}, "binary_accuracy"},
		{"acc", "sparse_categorical_crossentropy", graph.Shape{4}, "sparse_categorical_accuracy"},
		{"acc", "categorical_crossentropy", graph.Shape{4}, "categorical_accuracy"},
		{"binary_accuracy", "categorical_crossentropy", graph.Shape{4}, "binary_accuracy"},
		{"categorical_accuracy", "binary_crossentropy", graph.Shape{1}, "categorical_accuracy"},
		{"sparse_categorical_accuracy", "mse", graph.Shape{4}, "sparse_categorical_accuracy"},
		{"SparseCategoricalAccuracy", "", graph.Shape{4}, "sparse_categorical_accuracy"},
	}
	for _, c := range cases {
		m, err := Resolve(c.name, c.loss, c.output)
		if err != nil {
			t.Errorf("Resolve(%q, %q, %v): %v", c.name, c.loss, c.output, err)
			continue
		}
		a := m.(*meanMetric)
		if aliases[c.kind] != a.cfg.Class {
			t.Errorf("Resolve(%q, %q, %v) computes %s, want %s", c.name, c.loss, c.output, a.cfg.Class, c.kind)
		}
		wantName := c.name // as Keras 3: the name given
		if m.Name() != wantName {
			t.Errorf("Resolve(%q, %q, %v).Name() = %q, want %q", c.name, c.loss, c.output, m.Name(), wantName)
		}
	}
	_, err := Resolve("precison", "binary_crossentropy", graph.Shape{1})
	graphtest.WantErr(t, "unknown", err, `unknown metric "precison"`, "accuracy", "acc", "auc", "binary_accuracy", "categorical_accuracy", "precision", "sparse_categorical_accuracy")
	_, err = Resolve("accuracy", "mse", graph.Shape{})
	graphtest.WantErr(t, "no class axis", err, `metric "accuracy" needs an output with a last (class) axis, got shape (None,)`)
}

// TestResolvedAccuracyValues: "accuracy" resolved for a sparse loss
// computes sparse accuracy under the name "accuracy".
func TestResolvedAccuracyValues(t *testing.T) {
	m, err := Resolve("accuracy", "sparse_categorical_crossentropy", graph.Shape{3})
	if err != nil {
		t.Fatal(err)
	}
	got, err := evalMetric(m, tensor.Float32, []int{2, 3}, []int{2}, []float64{0.1, 0.9, 0.8, 0.05, 0.95, 0}, []float64{2, 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, "accuracy", got, []float64{1, 2})
	if r := m.Result(got); r != 0.5 {
		t.Errorf("accuracy result %v, want 0.5", r)
	}
}

// TestMean covers docs/SEMANTICS.md §24.12 and the edge cases of the running mean.
func TestMean(t *testing.T) {
	var m Mean
	if m.Result() != 0 || m.Count() != 0 {
		t.Errorf("empty mean: %v over %d", m.Result(), m.Count())
	}
	m.Add(1.0, 32)
	m.Add(0.5, 32)
	m.Add(0.2, 36)
	if math.Abs(m.Result()-0.552) > 1e-12 || m.Count() != 100 {
		t.Errorf("G12: %v over %d, want 0.552 over 100", m.Result(), m.Count())
	}
	m.Add(123, 0)
	m.Add(123, -5)
	if math.Abs(m.Result()-0.552) > 1e-12 {
		t.Errorf("empty batches changed the mean to %v", m.Result())
	}
	m.Reset()
	m.Add(0.25, 4)
	if m.Result() != 0.25 || m.Count() != 4 {
		t.Errorf("after Reset: %v over %d, want 0.25 over 4", m.Result(), m.Count())
	}
}
