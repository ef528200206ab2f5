package metrics

import (
	"math"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// meanMetric is Keras's MeanMetricWrapper: a per-sample function averaged
// over the samples of the epoch, weighted by the sample weights:
// Σ w·v / Σ w.
type meanMetric struct {
	name string
	// per emits the per-sample values, shape (batch,).
	per func(ctx *graph.Context, yTrue, yPred graph.Node) (graph.Node, error)
	// check validates the target and output shapes.
	check func(target, output graph.Shape) error
	// sqrt takes the square root of the mean (root_mean_squared_error).
	sqrt bool
	// cfg are the options the metric was made with.
	cfg Config
}

// Name implements Metric.
func (m *meanMetric) Name() string { return m.name }

// Check implements Metric.
func (m *meanMetric) Check(target, output graph.Shape) error {
	return errors.Wrapf(m.check(target, output), "metric %s", m.name)
}

// Stats implements Metric: [Σ w·v, Σ w] over the batch.
func (m *meanMetric) Stats(ctx *graph.Context, yTrue, yPred, weight graph.Node) (graph.Node, error) {
	if yTrue == nil || yPred == nil {
		return nil, errors.Errorf("%s: y_true and y_pred must not be nil", m.name)
	}
	v, err := m.per(ctx, yTrue, yPred)
	if err != nil {
		return nil, errors.Wrapf(err, "metric %s", m.name)
	}
	return meanStats(m.name, v, weight)
}

// Result implements Metric.
func (m *meanMetric) Result(sums []float64) float64 {
	r := divNoNaN(sums[0], sums[1])
	if m.sqrt {
		return math.Sqrt(r)
	}
	return r
}

// rowMetric is the per-sample function of a row function.
func rowMetric(f *ops.RowFunc) func(*graph.Context, graph.Node, graph.Node) (graph.Node, error) {
	return func(_ *graph.Context, yTrue, yPred graph.Node) (graph.Node, error) { return f.Apply(yTrue, yPred) }
}

// sameShape requires targets of the output's shape, with a last axis.
func sameShape(target, output graph.Shape) error {
	if len(output) == 0 {
		return errors.Errorf("needs an output with a last axis, got shape %v", output)
	}
	if !target.Equal(output) {
		return errors.Errorf("needs targets of the output's shape %v, got targets of shape %v", output, target)
	}
	return nil
}

// classIndices requires targets holding one class index per row: the
// output's shape without its last axis (or with a last axis of 1), and an
// output with a class axis.
func classIndices(target, output graph.Shape) error {
	if len(output) == 0 {
		return errors.Errorf("needs an output with a last (class) axis, got shape %v", output)
	}
	lead := output[:len(output)-1]
	t := target
	if len(t) == len(output) && t[len(t)-1] == 1 {
		t = t[:len(t)-1]
	}
	if !t.Equal(lead) {
		return errors.Errorf("needs class-index targets of shape %v for an output of shape %v, got targets of shape %v", lead, output, target)
	}
	return nil
}
