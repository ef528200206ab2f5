package metrics

import (
	"math"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
	"github.com/kerago/kerago/losses"
)

// epsilon is Keras's backend.epsilon(), the guard of mape's and msle's
// denominators and logarithms.
const epsilon = 1e-7

var (
	mapeRow = &ops.RowFunc{Name: "mean_absolute_percentage_error", F: func(y, p []float64) float64 {
		s := 0.0
		for j, pj := range p {
			s += math.Abs(y[j]-pj) / max(math.Abs(y[j]), epsilon)
		}
		return 100 * s / float64(len(p))
	}}
	msleRow = &ops.RowFunc{Name: "mean_squared_logarithmic_error", F: func(y, p []float64) float64 {
		s := 0.0
		for j, pj := range p {
			d := math.Log(max(pj, epsilon)+1) - math.Log(max(y[j], epsilon)+1)
			s += d * d
		}
		return s / float64(len(p))
	}}
)

// lossMetric is the per-sample function of a loss, as Keras wraps a loss
// function as a metric.
func lossMetric(l losses.Loss) func(*graph.Context, graph.Node, graph.Node) (graph.Node, error) {
	return l.PerSample
}

// lossCheck requires the targets the loss l takes for the output.
func lossCheck(l losses.Loss) func(target, output graph.Shape) error {
	return func(target, output graph.Shape) error {
		want, err := l.TargetShape(output)
		if err != nil {
			return err
		}
		if want.Equal(target) {
			return nil
		}
		if len(want) < len(output) { // class indices: (..., 1) also fits
			return classIndices(target, output)
		}
		return errors.Errorf("needs targets of shape %v for an output of shape %v, got targets of shape %v", want, output, target)
	}
}

// MeanSquaredError is Keras's MeanSquaredError metric: the sample-weighted
// mean over the epoch of mean((p-y)²) over the last axis. Option: Named.
func MeanSquaredError(opts ...Option) Metric {
	l := losses.MeanSquaredError()
	return newMean("MeanSquaredError", "mean_squared_error", opts, lossMetric(l), lossCheck(l))
}

// MeanAbsoluteError is Keras's MeanAbsoluteError metric: the mean of
// mean(|p-y|) over the last axis. Option: Named.
func MeanAbsoluteError(opts ...Option) Metric {
	l := losses.MeanAbsoluteError()
	return newMean("MeanAbsoluteError", "mean_absolute_error", opts, lossMetric(l), lossCheck(l))
}

// MeanAbsolutePercentageError is Keras's MeanAbsolutePercentageError:
// the mean of 100·mean(|y-p| / max(|y|, 1e-7)) over the last axis.
// Option: Named.
func MeanAbsolutePercentageError(opts ...Option) Metric {
	return newMean("MeanAbsolutePercentageError", "mean_absolute_percentage_error", opts, rowMetric(mapeRow), sameShape)
}

// MeanSquaredLogarithmicError is Keras's MeanSquaredLogarithmicError: the
// mean of mean((log(max(p, 1e-7)+1) - log(max(y, 1e-7)+1))²) over the last
// axis. Option: Named.
func MeanSquaredLogarithmicError(opts ...Option) Metric {
	return newMean("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", opts, rowMetric(msleRow), sameShape)
}

// RootMeanSquaredError is Keras's RootMeanSquaredError: the square root of
// the epoch's sample-weighted mean squared error (not a mean of batch
// roots). Option: Named.
func RootMeanSquaredError(opts ...Option) Metric {
	l := losses.MeanSquaredError()
	m := newMean("RootMeanSquaredError", "root_mean_squared_error", opts, lossMetric(l), lossCheck(l))
	if mm, ok := m.(*meanMetric); ok {
		mm.sqrt = true
	}
	return m
}

// crossentropy makes the cross-entropy metric of class from the loss
// constructor ce, taking the options Named and FromLogits.
func crossentropy(class, def string, ce func(...losses.Option) losses.Loss, opts []Option) Metric {
	c, err := configure(Config{Class: class, Name: def}, opts, "FromLogits")
	if err != nil {
		return &invalid{name: def, err: err}
	}
	var lo []losses.Option
	if c.FromLogits {
		lo = append(lo, losses.FromLogits())
	}
	l := ce(lo...)
	return &meanMetric{name: c.Name, per: lossMetric(l), check: lossCheck(l), cfg: c}
}

// BinaryCrossentropy is Keras's BinaryCrossentropy metric: the mean over
// the epoch of the binary cross-entropy loss of each sample. Options:
// Named, FromLogits.
func BinaryCrossentropy(opts ...Option) Metric {
	return crossentropy("BinaryCrossentropy", "binary_crossentropy", losses.BinaryCrossentropy, opts)
}

// CategoricalCrossentropy is Keras's CategoricalCrossentropy metric (one-hot
// targets). Options: Named, FromLogits.
func CategoricalCrossentropy(opts ...Option) Metric {
	return crossentropy("CategoricalCrossentropy", "categorical_crossentropy", losses.CategoricalCrossentropy, opts)
}

// SparseCategoricalCrossentropy is Keras's SparseCategoricalCrossentropy
// metric (class-index targets). Options: Named, FromLogits.
func SparseCategoricalCrossentropy(opts ...Option) Metric {
	return crossentropy("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy, opts)
}

// Config returns the metric's constructor and options.
func (m *meanMetric) Config() Config { return m.cfg }
