package main

import (
	"io"

	"github.com/kerago/kerago"
	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
	"github.com/kerago/kerago/train"
)

// runCancer trains Dense(16, relu) → Dropout(0.2) → Dense(1, sigmoid) on
// standardised breast-cancer features with binary cross-entropy.
func runCancer(cfg demoConfig, out io.Writer) (float64, float64, error) {
	d, err := kerago.BreastCancer()
	if err != nil {
		return 0, 0, err
	}
	tr, te := d.Split(0.2, cfg.seed)
	kerago.Standardize(tr.X, te.X)
	in := graph.Input(len(tr.X[0]))
	m, err := train.Sequential(in, []graph.Layer{
		layers.NewDense(16, layers.WithActivation("relu")),
		layers.NewDropout(0.2),
		layers.NewDense(1, layers.WithActivation("sigmoid")),
	}, train.Seed(cfg.seed))
	if err != nil {
		return 0, 0, err
	}
	return fitAndScore(m, cfg, out, "binary_crossentropy", splitOf(tr, te, "samples"))
}

// runDigits trains Dense(64, relu) → Dropout(0.2) → Dense(10, softmax) on
// the 8×8 digits scaled to [0, 1] with sparse categorical cross-entropy.
func runDigits(cfg demoConfig, out io.Writer) (float64, float64, error) {
	d, err := kerago.Digits()
	if err != nil {
		return 0, 0, err
	}
	for _, row := range d.X {
		for j := range row {
			row[j] /= 16
		}
	}
	tr, te := d.Split(0.2, cfg.seed)
	in := graph.Input(len(tr.X[0]))
	m, err := train.Sequential(in, []graph.Layer{
		layers.NewDense(64, layers.WithActivation("relu")),
		layers.NewDropout(0.2),
		layers.NewDense(len(d.Classes), layers.WithActivation("softmax")),
	}, train.Seed(cfg.seed))
	if err != nil {
		return 0, 0, err
	}
	return fitAndScore(m, cfg, out, "sparse_categorical_crossentropy", splitOf(tr, te, "samples"))
}
