// Package ops holds kerago's custom Gorgonia operations, each one node
// forward and one node backward instead of a chain of Gorgonia built-ins:
// element-wise functions with their own derivative (UnaryFunc, used by the
// activations), a bias add over the last axis (BiasAdd), per-row functions
// of (y_true, y_pred) reduced to one value per sample (RowFunc, used by the
// losses and metrics), and Capture, which copies a node's value out of a
// running machine at the moment it is computed.
//
// Every op works on float32 and float64 tensors. Ops validate their inputs and
// return errors rather than panicking, because a panic inside a Gorgonia
// machine cannot be recovered by the caller.
package ops
