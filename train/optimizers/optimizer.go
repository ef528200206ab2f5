// Package optimizers holds kerago's optimizers — Adam, SGD and RMSprop — with
// Keras's update rules, learning-rate decay and gradient clipping. Each
// optimizer updates each weight in one loop over its elements and allocates
// nothing per step once its state exists.
package optimizers

import (
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// Optimizer updates weights from their gradients, once per training step.
type Optimizer interface {
	// Name is the Keras name ("adam").
	Name() string
	// Validate reports an invalid configuration (a learning rate ≤ 0, …)
	// naming the option and the value.
	Validate() error
	// Apply updates params in place from grads (aligned, same shapes and
	// dtype). If any gradient holds NaN or Inf it returns an error and
	// changes nothing.
	Apply(params []*graph.Weight, grads []*tensor.Dense) error
	// LearningRate is the base learning rate; SetLearningRate changes it
	// (for schedules and callbacks).
	LearningRate() float64
	SetLearningRate(lr float64)
	// Iterations is the number of steps applied so far.
	Iterations() int
}
