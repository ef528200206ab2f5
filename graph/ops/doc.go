// Package ops holds kerago's custom Gorgonia operations: element-wise
// functions with their own symbolic derivative (one node forward, one node
// backward, instead of a chain of Gorgonia built-ins), and the capture
// operation that copies a node's value out of a running machine at the moment
// it is computed.
//
// Every op works on float32 and float64 tensors. Ops validate their inputs and
// return errors rather than panicking, because a panic inside a Gorgonia
// machine cannot be recovered by the caller.
package ops
