// Package ops holds kerago's custom Gorgonia operations, each one node
// forward and one node per gradient instead of a chain of Gorgonia
// built-ins:
//
//   - element-wise functions with their own derivative (UnaryFunc, used by
//     the activations) and a bias add over the last axis (BiasAdd);
//   - per-row functions of (y_true, y_pred) reduced to one value per sample
//     (RowFunc, used by the losses and metrics);
//   - channels-last pooling (Pool, GlobalPool, MaskedGlobalAveragePool);
//   - batch normalization (BatchNormTrain, BatchNormInfer, MovingStat);
//   - reductions, l2-normalization, softmax and concatenation (Reduce,
//     L2Normalize, Softmax, Concat), used by graph/backend;
//   - Capture, which copies a node's value out of a running machine at the
//     moment it is computed.
//
// Every op works on float32 and float64 tensors. Ops validate their inputs and
// return errors rather than panicking, because a panic inside a Gorgonia
// machine cannot be recovered by the caller. Gorgonia merges nodes whose ops
// hash alike, so every op writes all of its parameters into its hash.
package ops
