package main

import (
	"io"

	"github.com/kerago/kerago"
	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train"
)

// cancerData is the breast-cancer split (80/20 by cfg.seed), standardised
// with the training part's statistics.
func cancerData(cfg demoConfig) (demoSplit, error) {
	d, err := kerago.BreastCancer()
	if err != nil {
		return demoSplit{}, err
	}
	tr, te := d.Split(0.2, cfg.seed)
	kerago.Standardize(tr.X, te.X)
	return splitOf(tr, te, "samples"), nil
}

// runCancer trains Dense(16, relu) → Dropout(0.2) → Dense(1, sigmoid) on
// standardised breast-cancer features with binary cross-entropy.
func runCancer(cfg demoConfig, out io.Writer) (trained, error) {
	s, err := cancerData(cfg)
	if err != nil {
		return trained{}, err
	}
	in := graph.Input(len(s.teX.([][]float64)[0]))
	m, err := train.Sequential(in, []graph.Layer{
		layers.NewDense(16, layers.WithActivation("relu")),
		layers.NewDropout(0.2),
		layers.NewDense(1, layers.WithActivation("sigmoid")),
	}, train.Seed(cfg.seed))
	if err != nil {
		return trained{}, err
	}
	return fitAndScore(m, cfg, out, "binary_crossentropy", s)
}

// digitsData is the 8×8 digits scaled to [0, 1], split 80/20 by cfg.seed.
func digitsData(cfg demoConfig) (demoSplit, error) {
	d, err := kerago.Digits()
	if err != nil {
		return demoSplit{}, err
	}
	for _, row := range d.X {
		for j := range row {
			row[j] /= 16
		}
	}
	tr, te := d.Split(0.2, cfg.seed)
	return splitOf(tr, te, "samples"), nil
}

// runDigits trains Dense(64, relu) → Dropout(0.2) → Dense(10, softmax) on
// the 8×8 digits scaled to [0, 1] with sparse categorical cross-entropy.
func runDigits(cfg demoConfig, out io.Writer) (trained, error) {
	s, err := digitsData(cfg)
	if err != nil {
		return trained{}, err
	}
	in := graph.Input(len(s.teX.([][]float64)[0]))
	m, err := train.Sequential(in, []graph.Layer{
		layers.NewDense(64, layers.WithActivation("relu")),
		layers.NewDropout(0.2),
		layers.NewDense(s.classes, layers.WithActivation("softmax")),
	}, train.Seed(cfg.seed))
	if err != nil {
		return trained{}, err
	}
	return fitAndScore(m, cfg, out, "sparse_categorical_crossentropy", s)
}
