package train

import (
	"context"
	"errors"
	"io"
	"iter"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
)

// streamModel is Input(6) → Dense(8, relu) → Dense(3, softmax), compiled
// with Adam and accuracy, seed 4; and 50 samples for it.
func streamModel(t *testing.T) (*Model, *tensor.Dense, []float64) {
	t.Helper()
	in := graph.Input(6)
	h := layers.NewDense(8, layers.WithActivation("relu")).Apply(in)
	m, err := NewModel(in, layers.NewDense(3, layers.WithActivation("softmax")).Apply(h), Seed(4))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile("adam", "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 9))
	x := make([]float32, 50*6)
	y := make([]float64, 50)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range y {
		y[i] = float64(i % 3)
	}
	return m, tensor.New(tensor.WithShape(50, 6), tensor.WithBacking(x)), y
}

// TestFitOnDataset: a Dataset of the same batches in the same order trains
// bit for bit as arrays with Shuffle(false) (weights and history, with
// validation data as a Dataset too), and Evaluate and Predict on a Dataset
// give what they give on arrays.
func TestFitOnDataset(t *testing.T) {
	a, x, y := streamModel(t)
	b, _, _ := streamModel(t)
	ha, err := a.Fit(x, y, Epochs(3), BatchSize(16), Shuffle(false), Verbose(0), ValidationData(x, y))
	if err != nil {
		t.Fatal(err)
	}
	hb, err := b.Fit(FromArrays(x, y, 16), nil, Epochs(3), Verbose(0), ValidationData(FromArrays(x, y, 16).Prefetch(2), nil))
	if err != nil {
		t.Fatal(err)
	}
	sameWeights(t, "Fit on a Dataset", a, b)
	if ha.CSV() != hb.CSV() {
		t.Fatalf("histories differ:\n%s\n%s", ha.CSV(), hb.CSV())
	}
	la, _ := a.Evaluate(x, y, BatchSize(16))
	lb, err := a.Evaluate(FromArrays(x, y, 16), nil)
	if err != nil || !slices.Equal(la.Values, lb.Values) {
		t.Fatalf("Evaluate: %v vs %v (%v)", la.Values, lb.Values, err)
	}
	pa, _ := a.Predict(x, BatchSize(7))
	pb, err := a.Predict(FromArrays(x, nil, 7))
	if err != nil || !slices.Equal(pa.Float32s(), pb.Float32s()) || !slices.Equal(pb.Shape(), tensor.Shape{50, 3}) {
		t.Fatalf("Predict: shape %v, %v", pb.Shape(), err)
	}
}

// TestFitStepsPerEpoch: with StepsPerEpoch the epochs continue one pass and
// open the next when it ends; the optimizer makes epochs×steps steps; a
// shuffled, prefetched Dataset trains the same twice with the same seeds.
func TestFitStepsPerEpoch(t *testing.T) {
	m, x, y := streamModel(t)
	opened := 0
	ds := FromFunc(func() func() (Batch, error) {
		opened++
		src, _ := FromArrays(x, y, 10).pass(context.Background(), 0)
		return func() (Batch, error) {
			d, err := src.next()
			if err != nil {
				return Batch{}, err
			}
			return Batch{X: tensor.New(tensor.WithShape(d.n, 6), tensor.WithBacking(d.xs[0].f32)), Y: d.ys[0].data}, nil
		}
	})
	if _, err := m.Fit(ds, nil, Epochs(3), StepsPerEpoch(4), Verbose(0)); err != nil {
		t.Fatal(err)
	}
	if it := m.Optimizer().Iterations(); it != 12 || opened != 3 { // 5 batches a pass: passes 1, 2, 3
		t.Fatalf("%d steps over %d passes, want 12 over 3", it, opened)
	}
	a, _, _ := streamModel(t)
	b, _, _ := streamModel(t)
	for _, mm := range []*Model{a, b} {
		if _, err := mm.Fit(FromArrays(x, y, 10).Shuffle(25, 3).Rebatch(8).Prefetch(2), nil, Epochs(2), Verbose(0)); err != nil {
			t.Fatal(err)
		}
	}
	sameWeights(t, "seeded shuffle", a, b)
	if it := a.Optimizer().Iterations(); it != 14 { // ceil(50/8) = 7 a pass
		t.Fatalf("%d steps, want 14", it)
	}
}

// TestFitDatasetFailsMidway: a batch that does not fit the model, or a
// generator error, stops Fit with an error naming the epoch and batch;
// the weights are those after the last good step (as training on the good
// batches alone leaves them).
func TestFitDatasetFailsMidway(t *testing.T) {
	_, x, y := streamModel(t)
	good := func(n int) iter.Seq2[Batch, error] {
		return func(yield func(Batch, error) bool) {
			for i := range n {
				xs := tensor.New(tensor.WithShape(10, 6), tensor.WithBacking(x.Float32s()[i*60:(i+1)*60]))
				if !yield(Batch{X: xs, Y: y[i*10 : (i+1)*10]}, nil) {
					return
				}
			}
		}
	}
	ref, _, _ := streamModel(t)
	if _, err := ref.Fit(FromIter(good(2)), nil, Verbose(0)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		third Batch
		err   error
		want  string
	}{
		{Batch{X: [][]float64{{1, 2, 3}}, Y: []float64{0}}, nil, "Fit: epoch 1 (the weights are those of the last completed step): FromIter: batch 3: x has per-sample shape (3,), batch 1's had (6,)"},
		{Batch{}, errors.New("disk on fire"), "Fit: epoch 1 (the weights are those of the last completed step): FromIter: batch 3: disk on fire"},
		{Batch{X: tensor.New(tensor.WithShape(1, 6), tensor.WithBacking(make([]float32, 6))), Y: []float64{7}}, nil, "FromIter: batch 3: targets of output"},
		{Batch{X: tensor.New(tensor.WithShape(1, 6), tensor.WithBacking(make([]float32, 6))), Y: []float64{1}, SampleWeight: []float64{-1}}, nil, "FromIter: batch 3 has 1 input, 1 target and 1 sample weight arrays, batch 1 had 1, 1 and 0"},
	}
	for _, c := range cases {
		m, _, _ := streamModel(t)
		seq := func(yield func(Batch, error) bool) {
			for b, err := range good(2) {
				if !yield(b, err) {
					return
				}
			}
			yield(c.third, c.err)
		}
		_, err := m.Fit(FromIter(seq), nil, Verbose(0))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
			continue
		}
		sameWeights(t, c.want, m, ref)
	}
}

// TestDatasetOptionErrors: what does not apply to a Dataset is refused
// before any work.
func TestDatasetOptionErrors(t *testing.T) {
	m, x, y := streamModel(t)
	ds := FromArrays(x, y, 10)
	cases := []struct {
		run  func() error
		want string
	}{
		{func() error { _, err := m.Fit(ds, y, Verbose(0)); return err }, "Fit: y must be nil when x is a Dataset"},
		{func() error { _, err := m.Fit(ds, nil, ValidationSplit(0.2), Verbose(0)); return err }, "Fit: ValidationSplit does not apply to a Dataset"},
		{func() error { _, err := m.Fit(ds, nil, SampleWeight(y), Verbose(0)); return err }, "Fit: SampleWeight does not apply to a Dataset"},
		{func() error { _, err := m.Fit(x, y, StepsPerEpoch(3), Verbose(0)); return err }, "Fit: StepsPerEpoch applies to a Dataset only"},
		{func() error { _, err := m.Fit(ds, nil, ClassWeight(map[int]float64{7: 1}), Verbose(0)); return err }, "Fit: ClassWeight has a weight for class 7, but output"},
		{func() error { _, err := m.Fit(ds, nil, StepsPerEpoch(-1), Verbose(0)); return err }, "Fit: StepsPerEpoch must be positive, got -1"},
		{func() error { _, err := m.Fit(x, y, ValidationData(ds, nil), Verbose(0)); return err }, "validation data as a Dataset needs training data as a Dataset too"},
		{func() error { _, err := m.Fit(ds, nil, ValidationData(ds, y), Verbose(0)); return err }, "Fit: validation data: y and sample weights must be nil when x is a Dataset"},
		{func() error { _, err := m.Evaluate(ds, y); return err }, "Evaluate: y must be nil when x is a Dataset"},
		{func() error { _, err := m.Evaluate(FromArrays(x, nil, 10), nil); return err }, "Evaluate: FromArrays: batch 1: the batch has no targets (Batch.Y)"},
		{func() error { _, err := m.Fit((*Dataset)(nil), nil, Verbose(0)); return err }, "Fit: the Dataset is nil"},
		{func() error {
			_, err := m.Fit(FromFunc(func() func() (Batch, error) {
				return func() (Batch, error) { return Batch{}, io.EOF }
			}), nil, Verbose(0))
			return err
		}, "Fit: epoch 1 (the weights are those of the last completed step): FromFunc: a pass yielded no batches"},
	}
	for _, c := range cases {
		if err := c.run(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error containing %q", err, c.want)
		}
	}
}

// TestFitDatasetFilesAndWeights: FromNPY and FromCSV train; sample weights
// in a Dataset's batches weigh as the SampleWeight option does on arrays.
func TestFitDatasetFilesAndWeights(t *testing.T) {
	a, x, y := streamModel(t)
	b, _, _ := streamModel(t)
	w := make([]float64, 50)
	for i := range w {
		w[i] = float64(i%4) / 2
	}
	if _, err := a.Fit(x, y, SampleWeight(w), BatchSize(25), Shuffle(false), Verbose(0)); err != nil {
		t.Fatal(err)
	}
	seq := func(yield func(Batch, error) bool) {
		for i := range 2 {
			xs := tensor.New(tensor.WithShape(25, 6), tensor.WithBacking(x.Float32s()[i*150:(i+1)*150]))
			if !yield(Batch{X: xs, Y: y[i*25 : (i+1)*25], SampleWeight: w[i*25 : (i+1)*25]}, nil) {
				return
			}
		}
	}
	if _, err := b.Fit(FromIter(seq), nil, Verbose(0)); err != nil {
		t.Fatal(err)
	}
	sameWeights(t, "sample weights in batches", a, b)
	dir := t.TempDir()
	xp, yp := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	if err := WriteNPY(xp, x); err != nil {
		t.Fatal(err)
	}
	if err := WriteNPY(yp, tensor.New(tensor.WithShape(50), tensor.WithBacking(y))); err != nil {
		t.Fatal(err)
	}
	c, _, _ := streamModel(t)
	d, _, _ := streamModel(t)
	if _, err := c.Fit(x, y, BatchSize(16), Shuffle(false), Verbose(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Fit(FromNPY(xp, yp, 16), nil, Verbose(0)); err != nil {
		t.Fatal(err)
	}
	sameWeights(t, "FromNPY", c, d)
}
