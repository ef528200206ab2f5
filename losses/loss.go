// Package losses holds kerago's loss functions, with Keras's semantics:
// binary, categorical and sparse categorical cross-entropy (on probabilities,
// clipped to [1e-7, 1-1e-7], or on logits), mean squared and mean absolute
// error, looked up by their Keras names. A loss emits one value per sample;
// the training loop averages them over the batch. A user's own loss is any
// Go function from (y_true, y_pred) nodes to a per-sample node (see Func).
//
// The semantics are Keras 3's (docs/SEMANTICS.md §20): the clipping bounds
// are rounded to the graph's dtype (1-1e-7 is 0.99999988 in float32), no
// epsilon is added again inside the logarithm (TF2's backend does that),
// categorical cross-entropy renormalises its input over the last axis first,
// and sparse categorical cross-entropy on probabilities is the softmax
// cross-entropy of log(clip(p)). Losses on logits use log-sum-exp and
// max(z,0) - z·y + log(1+exp(-|z|)), so they stay finite for any logit.
// For outputs (N, ..., C) the per-element losses (N, ...) are averaged over
// the axes after the batch axis.
//
// The built-in losses are each one fused node (ops.RowFunc) forward and one
// backward; clipped probabilities get no gradient, as with TensorFlow's
// clip_by_value.
package losses

import "github.com/kerago/kerago/graph"

// Loss is a loss function, as Keras's loss classes.
type Loss interface {
	// Name is the Keras name, used in logs and errors ("binary_crossentropy").
	Name() string
	// TargetShape is the shape y_true must have (batch axis excluded) for a
	// model output of the given shape, or an error if the loss cannot apply
	// to such an output.
	TargetShape(output graph.Shape) (graph.Shape, error)
	// CheckTargets validates target values (row-major, TargetShape per
	// sample) before training: for example sparse labels must be integers in
	// [0, classes). The error says which sample and value are wrong.
	CheckTargets(y []float64, output graph.Shape) error
	// PerSample emits the loss of each sample: a node of shape (batch,).
	PerSample(ctx *graph.Context, yTrue, yPred graph.Node) (graph.Node, error)
}
