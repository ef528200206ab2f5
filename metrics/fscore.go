package metrics

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// fscore is Keras's F1Score (FBetaScore with beta 1).
type fscore struct {
	cfg Config
}

// F1Score is Keras's F1Score on outputs (batch, classes) with targets of the
// same shape (one-hot or multi-label 0/1): true positives, false positives,
// false negatives and the targets' weights, summed over the epoch (per
// class, or over all classes for "micro"), give precision P and recall R,
// and F1 = 2PR/(P+R), with Keras's guard ε = 1e-7 in each division. A
// prediction is positive when it is strictly above Threshold or, without
// one, when it is its sample's highest (and not within 1e-9 of 0).
// Options: Named, Average ("none", Keras's None and its default: one
// score per class, see Vector; "micro"; "macro"; "weighted": class scores
// weighted by their targets' sums), Threshold.
func F1Score(opts ...Option) Metric {
	c, err := configure(Config{Class: "F1Score", Name: "f1_score", Average: "none"}, opts, "Average", "Threshold")
	switch {
	case err != nil:
	case c.Average != "none" && c.Average != "micro" && c.Average != "macro" && c.Average != "weighted":
		err = errors.Errorf("metric F1Score: Average(%q): valid averages are none, micro, macro and weighted", c.Average)
	case c.Threshold != nil && !(*c.Threshold > 0 && *c.Threshold <= 1):
		err = errors.Errorf("metric F1Score: Threshold(%v): the threshold must be in (0, 1]", *c.Threshold)
	}
	if err != nil {
		return &invalid{name: "f1_score", err: err}
	}
	return &fscore{cfg: c}
}

// Name implements Metric.
func (m *fscore) Name() string { return m.cfg.Name }

// Config returns the metric's constructor and options.
func (m *fscore) Config() Config { return m.cfg }

// Check implements Metric: an output (batch, classes) and targets of its
// shape.
func (m *fscore) Check(target, output graph.Shape) error {
	if len(output) != 1 {
		return errors.Errorf("metric %s needs an output of shape (batch, classes), got (batch, %v)", m.cfg.Name, output)
	}
	return errors.Wrapf(sameShape(target, output), "metric %s", m.cfg.Name)
}

// Stats implements Metric: [TP, FP, FN, Σ weighted targets], each per class
// (or one number each for "micro").
func (m *fscore) Stats(ctx *graph.Context, yTrue, yPred, weight graph.Node) (graph.Node, error) {
	if yTrue == nil || yPred == nil {
		return nil, errors.Errorf("%s: y_true and y_pred must not be nil", m.cfg.Name)
	}
	s := yPred.Shape()
	if len(s) != 2 {
		return nil, errors.Errorf("metric %s: y_pred has shape %v; it needs (batch, classes)", m.cfg.Name, s)
	}
	c := s[1]
	width := c
	if m.cfg.Average == "micro" {
		width = 1
	}
	th := -1.0
	if m.cfg.Threshold != nil {
		th = *m.cfg.Threshold
	}
	k := statsKernel{name: m.cfg.Name, size: 4 * width, params: []any{"f1", width, th},
		check: func(in []tensor.Shape) error {
			if !in[0].Eq(in[1]) {
				return errors.Errorf("%s: y_true has shape %v, y_pred %v: they must be equal", m.cfg.Name, in[0], in[1])
			}
			return nil
		},
		f: func(out []float64, in [][]float64, w []float64, _ []tensor.Shape) {
			y, p := in[0], in[1]
			for r := 0; r < len(p); r += c {
				ws := sampleWeight(w, r/c)
				top := p[r]
				for _, v := range p[r : r+c] {
					top = max(top, v)
				}
				for j := range c {
					v := p[r+j]
					pred := 0.0
					if (th >= 0 && float32(v) > float32(th)) || (th < 0 && v >= top && abs(v) > 1e-9) {
						pred = 1
					}
					i := j % width
					out[i] += ws * pred * y[r+j]
					out[width+i] += ws * pred * (1 - y[r+j])
					out[2*width+i] += ws * (1 - pred) * y[r+j]
					out[3*width+i] += ws * y[r+j]
				}
			}
		}}
	return applyStats(k, weight, yTrue, yPred)
}

func abs(x float64) float64 { return max(x, -x) }

// classScore is the F1 score of class (or pooled column) i of width.
func classScore(sums []float64, width, i int) float64 {
	tp, fp, fn := sums[i], sums[width+i], sums[2*width+i]
	precision := tp / (tp + fp + epsilon)
	recall := tp / (tp + fn + epsilon)
	return 2 * precision * recall / (precision + recall + epsilon)
}

// Len implements Vector: one score per class for Average("none"), else 1.
func (m *fscore) Len(output graph.Shape) int {
	if m.cfg.Average == "none" && len(output) > 0 {
		return output[len(output)-1]
	}
	return 1
}

// Results implements Vector.
func (m *fscore) Results(sums, dst []float64) {
	if m.cfg.Average != "none" {
		dst[0] = m.Result(sums)
		return
	}
	for i := range dst {
		dst[i] = classScore(sums, len(dst), i)
	}
}

// Result implements Metric (class 0's score for Average("none")).
func (m *fscore) Result(sums []float64) float64 {
	width := len(sums) / 4
	if m.cfg.Average == "none" {
		return classScore(sums, width, 0)
	}
	var total float64
	for i := range width {
		total += sums[3*width+i]
	}
	f1 := 0.0
	for i := range width {
		f := classScore(sums, width, i)
		if m.cfg.Average == "weighted" {
			f1 += f * sums[3*width+i] / (total + epsilon)
		} else {
			f1 += f / float64(width)
		}
	}
	return f1
}
