package main

import (
	"fmt"
	"io"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago"
	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train"
)

// fashionData is the embedded Fashion-MNIST subset as the CNN takes it:
// images scaled to [0, 1], labels.
func fashionData(demoConfig) (demoSplit, error) {
	tr, te, err := kerago.FashionMNIST()
	if err != nil {
		return demoSplit{}, err
	}
	return imageSplit(tr, te, "images"), nil
}

// runFashion trains the mnist demo's CNN on Fashion-MNIST. Without --from
// it trains from scratch. With --from it is transfer learning: the model
// starts from a saved MNIST model's convolutional base (every layer before
// the Dropout, with its trained weights; frozen with --freeze-base) under a
// new, freshly initialized Dense head; then the same model is trained from
// scratch for as many epochs, and both test accuracies and training times
// are printed side by side. The transferred model is the one returned
// (what --save writes and the last line scores).
func runFashion(cfg demoConfig, out io.Writer) (trained, error) {
	s, err := fashionData(cfg)
	if err != nil {
		return trained{}, err
	}
	if cfg.from == "" {
		m, err := fashionModel(cfg.head, cfg.seed)
		if err != nil {
			return trained{}, err
		}
		return fitAndScore(m, cfg, out, "sparse_categorical_crossentropy", s)
	}
	m, frozen, err := transferModel(cfg)
	if err != nil {
		return trained{}, err
	}
	start := time.Now()
	res, err := fitAndScore(m, cfg, out, "sparse_categorical_crossentropy", s)
	if err != nil {
		return trained{}, err
	}
	took := time.Since(start)
	scratch, err := fashionModel(cfg.head, cfg.seed)
	if err != nil {
		return trained{}, err
	}
	sc := cfg
	sc.history, sc.plot, sc.checkpoint = "", "", "" // the files are the transferred model's
	if sc.verbose > 0 {
		fmt.Fprintf(out, "The same model from scratch, %d epochs:\n", cfg.epochs)
	}
	start = time.Now()
	base, err := fitAndScore(scratch, sc, out, "sparse_categorical_crossentropy", s)
	if err != nil {
		return trained{}, err
	}
	how := "fine-tuned"
	if frozen {
		how = "frozen"
	}
	fmt.Fprintf(out, "transfer (MNIST base, %s): test_accuracy=%.6f in %.1fs | from scratch: test_accuracy=%.6f in %.1fs (%d epochs each)\n",
		how, res.acc, took.Seconds(), base.acc, time.Since(start).Seconds(), cfg.epochs)
	return res, nil
}

// fashionModel is the fashion demo's CNN: the mnist demo's base (mnistBase
// with head) under a new head, Dense(128, relu) → Dropout(0.25) →
// Dense(10, softmax).
func fashionModel(head string, seed uint64) (*train.Model, error) {
	in := graph.Input(28, 28, 1)
	x, err := mnistBase(in, head)
	if err != nil {
		return nil, err
	}
	x = layers.NewDense(128, layers.WithActivation("relu")).Apply(x)
	x = layers.NewDropout(0.25).Apply(x)
	out := layers.NewDense(10, layers.WithActivation("softmax")).Apply(x)
	return train.NewModel(in, out, train.Seed(seed), train.Name("fashion_cnn"))
}

// transferModel is fashionModel (with cfg's head) whose convolutional base
// takes the weights of the MNIST model saved in cfg.from (its layers before
// the Dropout), frozen when cfg.freezeBase; the new head keeps its fresh
// initialization. frozen reports whether the base is frozen.
func transferModel(cfg demoConfig) (m *train.Model, frozen bool, err error) {
	src, err := train.LoadModel(cfg.from)
	if err != nil {
		return nil, false, errors.Wrap(err, "--from")
	}
	if m, err = fashionModel(cfg.head, cfg.seed); err != nil {
		return nil, false, err
	}
	ls, srcLayers := m.Layers(), src.Layers()
	srcValues := src.GetWeights()
	valueOf := map[*graph.Weight]*tensor.Dense{}
	for i, w := range src.Weights() {
		valueOf[w] = srcValues[i]
	}
	take := map[*graph.Weight]*tensor.Dense{}
	for i, sl := range srcLayers {
		if sl.Class() == "Dropout" {
			break
		}
		if i >= len(ls) || ls[i].Class() != sl.Class() || len(sl.Weights()) != len(ls[i].Weights()) {
			want := "nothing"
			if i < len(ls) {
				want = ls[i].Class()
			}
			return nil, false, errors.Errorf("--from %s: layer %d is %s (%s) where the mnist demo's base with --head %s has %s (train the model with `kerago train mnist --save FILE`, and give the --head it was trained with)", cfg.from, i, sl.Name(), sl.Class(), cfg.head, want)
		}
		for j, w := range ls[i].Weights() {
			take[w] = valueOf[sl.Weights()[j]]
		}
		if t, ok := ls[i].(graph.Trainability); ok && cfg.freezeBase {
			t.SetTrainable(false)
		}
	}
	values := m.GetWeights()
	for i, w := range m.Weights() {
		if v, ok := take[w]; ok {
			values[i] = v
		}
	}
	if err := m.SetWeights(values); err != nil {
		return nil, false, errors.Wrapf(err, "--from %s", cfg.from)
	}
	return m, cfg.freezeBase, nil
}
