package metrics

import (
	"fmt"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// inTopK reports whether class t is among the k highest of p, as Keras's
// in_top_k: ties with the k-th value count as in.
func inTopK(p []float64, t, k int) bool {
	above := 0
	for _, v := range p {
		if v > p[t] {
			above++
		}
	}
	return above < k
}

// topK makes a top-k accuracy of class (sparse: class-index targets).
func topK(class, def string, sparse bool, opts []Option) Metric {
	c, err := configure(Config{Class: class, Name: def, K: 5}, opts, "K")
	if err == nil && c.K < 1 {
		err = errors.Errorf("metric %s: K(%d): k must be at least 1", class, c.K)
	}
	if err != nil {
		return &invalid{name: def, err: err}
	}
	k := c.K
	row := &ops.RowFunc{Name: fmt.Sprintf("%s_k%d", def, k), Sparse: sparse}
	check := sameShape
	if sparse {
		check = classIndices
		row.F = func(y, p []float64) float64 { return hit(inTopK(p, int(y[0]), k)) }
	} else {
		row.F = func(y, p []float64) float64 { return hit(inTopK(p, Argmax(y), k)) }
	}
	return &meanMetric{name: c.Name, per: rowMetric(row), cfg: c, check: func(target, output graph.Shape) error {
		if err := check(target, output); err != nil {
			return err
		}
		if n := output[len(output)-1]; n < 2 || k > n {
			return errors.Errorf("k=%d needs an output whose last (class) axis has at least 2 and at least k classes, got shape %v", k, output)
		}
		return nil
	}}
}

// TopKCategoricalAccuracy is Keras's TopKCategoricalAccuracy: 1 where the
// class of the one-hot target is among the k highest predictions (ties with
// the k-th count as in), averaged over the epoch. Options: Named, K
// (default 5).
func TopKCategoricalAccuracy(opts ...Option) Metric {
	return topK("TopKCategoricalAccuracy", "top_k_categorical_accuracy", false, opts)
}

// SparseTopKCategoricalAccuracy is TopKCategoricalAccuracy for class-index
// targets. Options: Named, K (default 5).
func SparseTopKCategoricalAccuracy(opts ...Option) Metric {
	return topK("SparseTopKCategoricalAccuracy", "sparse_top_k_categorical_accuracy", true, opts)
}
