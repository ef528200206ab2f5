package train

import (
	"fmt"
	"io"
	"math"
	"os"

	"github.com/pkg/errors"
)

// ReduceLROnPlateau multiplies the optimizer's learning rate by Factor when
// Monitor has not improved for Patience epochs, as Keras 3's
// ReduceLROnPlateau: a value improves when it beats the best so far by more
// than MinDelta (Mode as EarlyStopping's); after a reduction, Cooldown
// epochs pass before the wait count starts again; the rate never goes below
// MinLR, and is not reduced once it is at MinLR (compared in float32, as
// Keras does). Each epoch's logs get "learning_rate", the rate in force
// during the epoch, as Keras 3 adds it.
//
// NewReduceLROnPlateau returns one with Keras's defaults; in a literal, the
// zero Factor is refused. The rate is read and set through the optimizer's
// LearningRate and SetLearningRate. Verbose > 0 prints Keras's message to
// Out (os.Stdout if nil) at each reduction.
type ReduceLROnPlateau struct {
	BaseCallback
	Monitor  string
	Mode     string
	Factor   float64
	Patience int
	MinDelta float64
	Cooldown int
	MinLR    float64
	Verbose  int
	Out      io.Writer

	model    *Model
	op       monitorOp
	best     float64
	hasBest  bool
	wait     int
	cooldown int
	err      error
}

// NewReduceLROnPlateau returns a ReduceLROnPlateau with Keras's defaults:
// Monitor "val_loss", Factor 0.1, Patience 10, MinDelta 1e-4, Cooldown 0,
// MinLR 0.
func NewReduceLROnPlateau() *ReduceLROnPlateau {
	return &ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.1, Patience: 10, MinDelta: 1e-4}
}

// CheckParams refuses what EarlyStopping refuses (an unlogged Monitor, a
// bad Mode or MinDelta), a Factor outside (0, 1) (Keras refuses a factor ≥
// 1), a negative Patience or Cooldown, and a negative or non-finite MinLR.
func (r *ReduceLROnPlateau) CheckParams(p Params) error {
	op, err := newMonitorOp("ReduceLROnPlateau", r.Monitor, r.Mode, r.MinDelta, p)
	if err != nil {
		return err
	}
	switch {
	case !(r.Factor > 0 && r.Factor < 1):
		return errors.Errorf("ReduceLROnPlateau: Factor must be in (0, 1), got %v (NewReduceLROnPlateau sets Keras's 0.1)", r.Factor)
	case r.Patience < 0 || r.Cooldown < 0:
		return errors.Errorf("ReduceLROnPlateau: Patience (%d) and Cooldown (%d) must not be negative", r.Patience, r.Cooldown)
	case !(r.MinLR >= 0) || math.IsInf(r.MinLR, 0):
		return errors.Errorf("ReduceLROnPlateau: MinLR must be a finite number ≥ 0, got %v", r.MinLR)
	}
	r.op = op
	return nil
}

// OnTrainBegin resets the state (Keras's _reset), refusing an optimizer
// whose learning rate follows a schedule (Keras refuses to set it too).
func (r *ReduceLROnPlateau) OnTrainBegin(m *Model, _ Params) {
	r.Monitor = orDefault(r.Monitor, "val_loss")
	r.model, r.hasBest, r.wait, r.cooldown = m, false, 0, 0
	r.err = scheduleRefusal("ReduceLROnPlateau", m)
}

// Err implements Failer: the optimizer's learning rate is not settable.
func (r *ReduceLROnPlateau) Err() error { return r.err }

// AddEpochLogs adds "learning_rate" to the epoch's logs.
func (r *ReduceLROnPlateau) AddEpochLogs(_ int, logs *Logs) {
	if r.model != nil && r.model.opt != nil {
		logs.Set("learning_rate", r.model.opt.LearningRate())
	}
}

// OnEpochEnd counts the epochs without improvement and reduces the rate.
func (r *ReduceLROnPlateau) OnEpochEnd(epoch int, logs Logs) {
	cur, ok := logs.Get(r.Monitor)
	if !ok || r.model == nil || r.model.opt == nil || r.err != nil {
		return
	}
	if r.cooldown > 0 {
		r.cooldown--
		r.wait = 0
	}
	if r.op.improved(cur, r.best, r.hasBest) {
		r.best, r.hasBest, r.wait = cur, true, 0
		return
	}
	if r.cooldown > 0 {
		return
	}
	r.wait++
	if r.wait < r.Patience {
		return
	}
	opt := r.model.opt
	old := opt.LearningRate()
	if !(float32(old) > float32(r.MinLR)) { // Keras holds the rate in float32
		return
	}
	lr := max(old*r.Factor, r.MinLR)
	opt.SetLearningRate(lr)
	if r.Verbose > 0 {
		out := r.Out
		if out == nil {
			out = os.Stdout
		}
		fmt.Fprintf(out, "\nEpoch %d: ReduceLROnPlateau reducing learning rate to %s.\n", epoch+1, pythonFloat(lr))
	}
	r.cooldown, r.wait = r.Cooldown, 0
}
