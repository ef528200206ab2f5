// Package optimizers holds kerago's optimizers, built as Keras 3 builds
// them: one base that every optimizer shares, one update rule per optimizer,
// and a registry of their Keras names.
//
//	o := optimizers.Adam(optimizers.LR(1e-3), optimizers.ClipNorm(5), optimizers.ClipValue(0.5))
//	if err := o.Validate(); err != nil { … }
//	err := o.Apply(weights, grads)
//
// The package has three parts:
//   - The base owns the options and their checks, the learning rate (LR,
//     SetLearningRate) and the legacy Decay, the iteration count, the checks
//     of each step's inputs, gradient clipping, and the per-weight state: it
//     allocates a weight's state on its first step and nothing on later
//     steps.
//   - An update rule, in one file with its optimizer's constructor,
//     declares the options it adds, the state slots it keeps per weight
//     (Keras's names and count) and its step: one loop over a weight's
//     elements, generic over float32 and float64.
//   - The registry maps Keras names to constructors for New and Get (which
//     train.Model.Compile uses for an optimizer given by name); Names lists
//     them. Adding an optimizer is its file plus its registry entry.
//
// Semantics (docs/SEMANTICS.md §22 and §2):
//   - Adam is Keras's: ε added to the uncorrected sqrt(v), bias correction
//     folded into the step size, optional AMSGrad. SGD is Keras's (v = μv -
//     lr·g). RMSprop is Keras 3's: ε under the square root (standalone
//     Keras 2 and PyTorch add it to sqrt(v)). Adagrad, Adadelta, Adamax,
//     Nadam and Lion are Keras 3's, with Keras 3's defaults; each file
//     gives its formula.
//   - A learning-rate schedule (Schedule, given by LRSchedule: Keras's
//     ExponentialDecay, PiecewiseConstantDecay, InverseTimeDecay,
//     PolynomialDecay, CosineDecay, CosineDecayRestarts) gives step t (from
//     1) the rate schedule(t-1), as Keras 3 evaluates it at the iterations
//     already made; LearningRate reports that rate and SetLearningRate is
//     refused (Keras: "not settable"), which ScheduleOf tells beforehand.
//   - Decay is the legacy Keras 2 option for every optimizer: step t uses
//     lr·1/(1+decay·(t-1)), with lr the schedule's rate if there is one
//     (as tf.keras 2 did).
//   - WeightDecay is Keras 3's decoupled weight decay, which the base gives
//     every optimizer (as Keras 3 does; AdamW only changes its default):
//     before a weight's update, θ = θ - θ·wd·lr_e with lr_e the step's
//     learning rate after Decay, unless ExcludeFromWeightDecay names part of
//     the weight's name.
//   - Step order: norm clipping (ClipNorm per tensor, Keras 3 / tf.keras; or
//     GlobalClipNorm over all gradients, standalone Keras 2's clipnorm), then
//     value clipping (ClipValue), then weight decay, then the update.
//     Keras 3 forbids combining norm and value clipping and tf.keras
//     applies value clipping first; kerago follows Keras 2, which the
//     Keras 2 code being ported relies on.
//     ClipNorm with GlobalClipNorm is a configuration error.
//   - Apply checks everything first (configuration, alignment, shapes,
//     dtypes, NaN/Inf in every gradient) and changes nothing, not even the
//     optimizer's state or iteration count, when a check fails. It refuses
//     non-trainable weights, weights listed twice and non-contiguous
//     gradients.
//
// Numerical details that differ from Keras by at most a rounding: the scalar
// factors of a step (decayed learning rate, Adam's bias-corrected step size,
// 1-β, clipping factors, the weight-decay factor lr_e·wd) are computed in
// float64 and rounded once to the weight's dtype, and gradient norms are
// accumulated in float64 (overflow safe); Keras computes these in float32
// for float32 weights, and decays as (θ·wd)·lr_e. The element loops
// themselves run in the weight's dtype with Keras's operation order.
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
	// LearningRate is the base learning rate, or with an LRSchedule the
	// schedule's rate for the next step. SetLearningRate changes it (for
	// callbacks); on an optimizer driven by an LRSchedule it changes
	// nothing and makes Validate and every later Apply fail, as Keras
	// raises TypeError: check ScheduleOf first.
	LearningRate() float64
	SetLearningRate(lr float64)
	// Iterations is the number of steps applied so far.
	Iterations() int
}
