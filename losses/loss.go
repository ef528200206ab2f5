// Package losses holds kerago's loss functions, with Keras's semantics:
// binary, categorical and sparse categorical cross-entropy (on probabilities,
// clipped to [1e-7, 1-1e-7], or on logits), mean squared and mean absolute
// error, looked up by their Keras names. A loss emits one value per sample;
// the training loop averages them over the batch. A user's own loss is any
// Go function from (y_true, y_pred) nodes to a per-sample node (see Func).
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
