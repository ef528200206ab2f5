package train

import (
	"fmt"
	"io"
	"os"

	"github.com/pkg/errors"
)

// EarlyStopping stops training when Monitor stops improving, as Keras 3's
// EarlyStopping:
//   - Monitor (default "val_loss") must be a value the Fit logs; Mode
//     "min", "max" or "auto" (the default: min for losses, max for
//     accuracies, see Keras's _set_monitor_op) says which way is better,
//     and a value improves when it beats the best so far by more than
//     MinDelta.
//   - Epochs before StartFromEpoch (0-based) are not watched. The first
//     watched epoch sets the best value; each later epoch without an
//     improvement adds one to a wait count, which an improvement resets —
//     when it also beats Baseline, if one is set. Training stops at the end
//     of the epoch where the count reaches Patience (never after epoch 0).
//   - With RestoreBestWeights the weights of the best epoch (or of the first
//     watched one, until an epoch improves) are put back when training
//     ends, whether or not it stopped early.
//
// Verbose > 0 prints Keras's messages to Out (os.Stdout if nil).
type EarlyStopping struct {
	BaseCallback
	Monitor            string
	Mode               string
	MinDelta           float64
	Patience           int
	Baseline           *float64
	RestoreBestWeights bool
	StartFromEpoch     int
	Verbose            int
	Out                io.Writer

	// StoppedEpoch is the epoch at which training stopped (-1 if it did not).
	StoppedEpoch int
	// BestEpoch is the epoch of the best value seen (of the first watched
	// epoch until one improves).
	BestEpoch int

	model    *Model
	op       monitorOp
	best     float64
	hasBest  bool
	wait     int
	snapshot [][]float64
}

// CheckParams refuses a Monitor that Fit never logs (Keras warns and never
// stops), a Mode other than auto, min and max, a Monitor whose direction
// auto cannot tell, a negative Patience or StartFromEpoch, and a negative,
// NaN or infinite MinDelta (Keras takes MinDelta's absolute value
// silently).
func (e *EarlyStopping) CheckParams(p Params) error {
	op, err := newMonitorOp("EarlyStopping", e.Monitor, e.Mode, e.MinDelta, p)
	if err != nil {
		return err
	}
	if e.Patience < 0 || e.StartFromEpoch < 0 {
		return errors.Errorf("EarlyStopping: Patience (%d) and StartFromEpoch (%d) must not be negative", e.Patience, e.StartFromEpoch)
	}
	e.op = op
	return nil
}

// OnTrainBegin resets the state, so that one EarlyStopping serves several
// Fit calls.
func (e *EarlyStopping) OnTrainBegin(m *Model, p Params) {
	e.Monitor = orDefault(e.Monitor, "val_loss")
	e.model, e.wait, e.StoppedEpoch, e.BestEpoch = m, 0, -1, 0
	e.hasBest, e.snapshot = false, nil
}

// OnEpochEnd checks the monitored value.
func (e *EarlyStopping) OnEpochEnd(epoch int, logs Logs) {
	cur, ok := logs.Get(e.Monitor)
	if !ok || epoch < e.StartFromEpoch {
		return
	}
	if e.RestoreBestWeights && e.snapshot == nil {
		e.snapshot, e.BestEpoch = weightValues(e.model), epoch
	}
	e.wait++
	if e.op.improved(cur, e.best, e.hasBest) {
		e.best, e.hasBest, e.BestEpoch = cur, true, epoch
		if e.RestoreBestWeights {
			e.snapshot = weightValues(e.model)
		}
		if e.Baseline == nil || e.op.improved(cur, *e.Baseline, true) {
			e.wait = 0
		}
		return
	}
	if e.wait >= e.Patience && epoch > 0 {
		e.StoppedEpoch = epoch
		e.model.StopTraining()
	}
}

// OnTrainEnd reports the stop and restores the best weights.
func (e *EarlyStopping) OnTrainEnd(Logs) {
	out := e.Out
	if out == nil {
		out = os.Stdout
	}
	if e.StoppedEpoch > 0 && e.Verbose > 0 {
		fmt.Fprintf(out, "Epoch %d: early stopping\n", e.StoppedEpoch+1)
	}
	if !e.RestoreBestWeights || e.snapshot == nil {
		return
	}
	if e.Verbose > 0 {
		fmt.Fprintf(out, "Restoring model weights from the end of the best epoch: %d.\n", e.BestEpoch+1)
	}
	e.model.weightsMu.Lock() // concurrent Predict calls see before or after, never between
	for i, w := range e.model.Weights() {
		_ = w.SetFloat64s(e.snapshot[i])
	}
	e.model.weightsMu.Unlock()
}

// weightValues copies m's weights (under its lock: never those of half a
// step).
func weightValues(m *Model) [][]float64 {
	m.weightsMu.RLock()
	defer m.weightsMu.RUnlock()
	out := make([][]float64, 0, len(m.Weights()))
	for _, w := range m.Weights() {
		out = append(out, w.Float64s())
	}
	return out
}
