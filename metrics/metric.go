// Package metrics holds kerago's metrics: binary, categorical and sparse
// categorical accuracy as graph nodes computed in the same run as the loss,
// once per batch, the resolution of "accuracy" by loss as Keras does it, and
// Mean, the sample-weighted running mean that turns per-batch values into
// epoch figures.
package metrics

import "github.com/kerago/kerago/graph"

// Metric is a per-sample metric, as Keras's metric functions.
type Metric interface {
	// Name is what logs show ("accuracy", "val_accuracy" for validation).
	Name() string
	// PerSample emits the metric of each sample: a node of shape (batch,).
	// yTrue has the loss's target shape.
	PerSample(ctx *graph.Context, yTrue, yPred graph.Node) (graph.Node, error)
}
