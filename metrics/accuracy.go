package metrics

import (
	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// AccuracyThreshold is the binary accuracy threshold: a prediction strictly greater
// than it is class 1 (so exactly 0.5 is class 0, as in every Keras version).
const AccuracyThreshold = 0.5

var (
	binaryRow = &ops.RowFunc{Name: "binary_accuracy", F: func(y, p []float64) float64 {
		hits := 0
		for j, pj := range p {
			class := 0.0
			if pj > AccuracyThreshold {
				class = 1
			}
			if y[j] == class {
				hits++
			}
		}
		return float64(hits) / float64(len(p))
	}}
	categoricalRow = &ops.RowFunc{Name: "categorical_accuracy", F: func(y, p []float64) float64 {
		return hit(Argmax(y) == Argmax(p))
	}}
	sparseRow = &ops.RowFunc{Name: "sparse_categorical_accuracy", Sparse: true, F: func(y, p []float64) float64 {
		return hit(int(y[0]) == Argmax(p))
	}}
)

// BinaryAccuracy is Keras's binary_accuracy: the fraction of elements of the
// last axis where (y_pred > 0.5) equals y_true, averaged per sample.
// y_true has the output's shape and holds 0s and 1s. Option: Named.
func BinaryAccuracy(opts ...Option) Metric {
	return newMean("BinaryAccuracy", "binary_accuracy", opts, rowMetric(binaryRow), sameShape)
}

// CategoricalAccuracy is Keras's categorical_accuracy: 1 where
// Argmax(y_true) == Argmax(y_pred) over the last axis, else 0 (ties go to
// the first index). y_true has the output's shape (one-hot). Option: Named.
func CategoricalAccuracy(opts ...Option) Metric {
	return newMean("CategoricalAccuracy", "categorical_accuracy", opts, rowMetric(categoricalRow), sameShape)
}

// SparseCategoricalAccuracy is Keras's sparse_categorical_accuracy: 1 where
// the class index y_true equals Argmax(y_pred) over the last axis, else 0.
// y_true has the output's shape without its last axis and holds integer
// class indices (an index outside [0, classes) is an error at run time).
// Option: Named.
func SparseCategoricalAccuracy(opts ...Option) Metric {
	return newMean("SparseCategoricalAccuracy", "sparse_categorical_accuracy", opts, rowMetric(sparseRow), classIndices)
}

// newMean makes a mean metric of class with default name def, taking only
// the option Named, or the invalid metric its options make.
func newMean(class, def string, opts []Option, per func(*graph.Context, graph.Node, graph.Node) (graph.Node, error), check func(target, output graph.Shape) error) Metric {
	c, err := configure(Config{Class: class, Name: def}, opts)
	if err != nil {
		return &invalid{name: def, err: err}
	}
	return &meanMetric{name: c.Name, per: per, check: check, cfg: c}
}

func hit(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Argmax is the index of the first maximum of v (0 for an empty v), the
// class Keras's argmax picks from a row of scores or a one-hot target.
func Argmax(v []float64) int {
	best := 0
	for j, x := range v {
		if x > v[best] {
			best = j
		}
	}
	return best
}
