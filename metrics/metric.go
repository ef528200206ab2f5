// Package metrics holds kerago's metrics with Keras 3's semantics: each
// metric keeps state across an epoch (or an Evaluate call) as Keras's
// stateful metrics do. The state lives in the training loop, not here: a
// metric emits one small graph node per batch, computed in the same run as
// the loss, holding the batch's statistics (Σw·v and Σw for the mean
// metrics; true/false positives/negatives per threshold or per class for
// the confusion metrics); the loop sums these vectors over the epoch and the
// metric's Result turns the sums into the figure. AUC, Precision, Recall and
// F1Score are therefore exact over the epoch, not means of batch values.
//
// Metrics: binary, categorical and sparse categorical accuracy, top-k
// accuracies, the regression errors (mse, mae, mape, msle, rmse), the
// cross-entropies, AUC (ROC and PR), Precision, Recall and F1Score; Resolve
// looks them up by Keras name and Mean is the batch-size-weighted running
// mean the loop keeps for the losses.
package metrics

import "github.com/kerago/kerago/graph"

// Metric is a stateful metric, as Keras's Metric classes: Stats emits the
// per-batch statistics, the caller sums them over the batches of an epoch
// (starting from zeros: Keras's reset_state) and Result turns the sums into
// the metric's value (Keras's result).
type Metric interface {
	// Name is what logs show ("accuracy", "val_accuracy" for validation).
	Name() string
	// Check reports whether the metric applies to a model output of shape
	// output whose targets have shape target (batch axis excluded in both):
	// an error names the metric, the shapes and what it needs. Compile
	// calls it so that a misfit is refused before training.
	Check(target, output graph.Shape) error
	// Stats emits the batch's statistics: a node of shape (Size,), summed
	// over batches by the caller. yTrue has the shape Check accepted (with
	// the batch axis); weight is nil or the samples' weights, shape
	// (batch,). The node is not differentiable: it shares the graph with
	// the loss's gradient and contributes nothing to it.
	Stats(ctx *graph.Context, yTrue, yPred, weight graph.Node) (graph.Node, error)
	// Result is the metric's value from statistics summed over batches
	// (all zeros when no batch was seen: Result then gives 0, as Keras).
	Result(sums []float64) float64
}

// Vector is a Metric with several values, as Keras's metrics that return
// an array: F1Score with Average("none") (one score per class) and
// Precision and Recall with several Thresholds. Logs hold one entry per
// value, "<name>[i]" (just "<name>" when there is one); Result is the
// first value.
type Vector interface {
	Metric
	// Len is the number of values for an output of this shape (batch axis
	// excluded) that Check accepted.
	Len(output graph.Shape) int
	// Results writes the values from statistics summed over batches into
	// dst, which has Len values.
	Results(sums, dst []float64)
}
