package train

import (
	"math"
	"slices"
	"strings"

	"github.com/pkg/errors"
)

// Params describe a Fit call to callbacks (Keras's callback.params).
type Params struct {
	Epochs       int
	InitialEpoch int
	Steps        int // batches per epoch
	Samples      int // training samples
	BatchSize    int
	Verbose      int
	Validation   bool
	Metrics      []string
}

// Callback is a hook into Fit, as Keras's callbacks: each method is called at
// its moment; logs at batch end hold the running epoch means so far, logs at
// epoch end hold the epoch means and the validation figures. Embed
// BaseCallback to implement only some of them.
type Callback interface {
	OnTrainBegin(m *Model, p Params)
	OnEpochBegin(epoch int)
	OnBatchEnd(batch int, logs Logs)
	OnEpochEnd(epoch int, logs Logs)
	OnTrainEnd(logs Logs)
}

// BaseCallback implements every Callback method as a no-op.
type BaseCallback struct{}

// OnTrainBegin does nothing.
func (BaseCallback) OnTrainBegin(*Model, Params) {}

// OnEpochBegin does nothing.
func (BaseCallback) OnEpochBegin(int) {}

// OnBatchEnd does nothing.
func (BaseCallback) OnBatchEnd(int, Logs) {}

// OnEpochEnd does nothing.
func (BaseCallback) OnEpochEnd(int, Logs) {}

// OnTrainEnd does nothing.
func (BaseCallback) OnTrainEnd(Logs) {}

// callbackList calls each of its callbacks in turn, as Keras's CallbackList.
type callbackList []Callback

// OnTrainBegin calls every callback's OnTrainBegin.
func (l callbackList) OnTrainBegin(m *Model, p Params) {
	for _, cb := range l {
		cb.OnTrainBegin(m, p)
	}
}

// OnEpochBegin calls every callback's OnEpochBegin.
func (l callbackList) OnEpochBegin(epoch int) {
	for _, cb := range l {
		cb.OnEpochBegin(epoch)
	}
}

// OnBatchEnd calls every callback's OnBatchEnd.
func (l callbackList) OnBatchEnd(batch int, logs Logs) {
	for _, cb := range l {
		cb.OnBatchEnd(batch, logs)
	}
}

// OnEpochEnd calls every callback's OnEpochEnd.
func (l callbackList) OnEpochEnd(epoch int, logs Logs) {
	for _, cb := range l {
		cb.OnEpochEnd(epoch, logs)
	}
}

// OnTrainEnd calls every callback's OnTrainEnd.
func (l callbackList) OnTrainEnd(logs Logs) {
	for _, cb := range l {
		cb.OnTrainEnd(logs)
	}
}

// EarlyStopping stops training when Monitor stops improving, as Keras's
// EarlyStopping: improvement means current-MinDelta > best (mode max) or
// current+MinDelta < best (mode min); mode is max when the monitored name
// contains "acc", else min. After Patience epochs without improvement it
// stops; with RestoreBestWeights the best epoch's weights are restored then.
type EarlyStopping struct {
	BaseCallback
	Monitor            string
	MinDelta           float64
	Patience           int
	RestoreBestWeights bool

	model    *Model
	best     float64
	wait     int
	max      bool
	snapshot [][]float64
	// StoppedEpoch is the epoch at which training stopped (-1 if it did not).
	StoppedEpoch int
}

// CheckParams refuses a Monitor that Fit never logs (Keras warns and never
// stops): the names are p.Metrics, and with validation data their "val_"
// forms; and a negative Patience or a negative or NaN MinDelta (Keras takes
// MinDelta's absolute value silently).
func (e *EarlyStopping) CheckParams(p Params) error {
	monitor := e.Monitor
	if monitor == "" {
		monitor = "val_loss"
	}
	names := append([]string(nil), p.Metrics...)
	if p.Validation {
		for _, n := range p.Metrics {
			names = append(names, "val_"+n)
		}
	}
	if !slices.Contains(names, monitor) {
		return errors.Errorf("EarlyStopping: Monitor %q is never logged by this Fit; it logs %s", monitor, strings.Join(names, ", "))
	}
	if e.Patience < 0 || e.MinDelta < 0 || math.IsNaN(e.MinDelta) {
		return errors.Errorf("EarlyStopping: Patience (%d) and MinDelta (%v) must not be negative", e.Patience, e.MinDelta)
	}
	return nil
}

// OnTrainBegin resets the state.
func (e *EarlyStopping) OnTrainBegin(m *Model, _ Params) {
	if e.Monitor == "" {
		e.Monitor = "val_loss"
	}
	e.model, e.wait, e.StoppedEpoch, e.snapshot = m, 0, -1, nil
	e.max = containsAcc(e.Monitor)
	if e.max {
		e.best = math.Inf(-1)
	} else {
		e.best = math.Inf(1)
	}
}

// OnEpochEnd checks the monitored value.
func (e *EarlyStopping) OnEpochEnd(epoch int, logs Logs) {
	cur, ok := logs.Get(e.Monitor)
	if !ok {
		return
	}
	better := cur+e.MinDelta < e.best
	if e.max {
		better = cur-e.MinDelta > e.best
	}
	if better {
		e.best, e.wait = cur, 0
		if e.RestoreBestWeights {
			e.snapshot = e.snapshot[:0]
			for _, w := range e.model.Weights() {
				e.snapshot = append(e.snapshot, w.Float64s())
			}
		}
		return
	}
	e.wait++
	if e.wait >= e.Patience {
		e.StoppedEpoch = epoch
		e.model.StopTraining()
		if e.RestoreBestWeights && e.snapshot != nil {
			e.model.weightsMu.Lock() // concurrent Predict calls see before or after, never between
			for i, w := range e.model.Weights() {
				_ = w.SetFloat64s(e.snapshot[i])
			}
			e.model.weightsMu.Unlock()
		}
	}
}

func containsAcc(s string) bool {
	for i := 0; i+3 <= len(s); i++ {
		if s[i:i+3] == "acc" {
			return true
		}
	}
	return false
}

// LearningRateScheduler sets the optimizer's learning rate at the start of
// every epoch to Schedule(epoch, lr), as Keras's LearningRateScheduler:
// epoch counts from 0 and lr is the rate in force.
type LearningRateScheduler struct {
	BaseCallback
	Schedule func(epoch int, lr float64) float64

	model *Model
}

// OnTrainBegin keeps the model whose optimizer the schedule drives.
func (s *LearningRateScheduler) OnTrainBegin(m *Model, _ Params) { s.model = m }

// OnEpochBegin sets the epoch's learning rate.
func (s *LearningRateScheduler) OnEpochBegin(epoch int) {
	if s.model == nil || s.model.opt == nil || s.Schedule == nil {
		return
	}
	s.model.opt.SetLearningRate(s.Schedule(epoch, s.model.opt.LearningRate()))
}

// CosineDecay returns a schedule for LearningRateScheduler that anneals the
// rate from base at epoch 0 to floor·base at the end of epochs, along half
// a cosine: base·(floor + (1−floor)·½(1+cos(π·epoch/epochs))).
func CosineDecay(base, floor float64, epochs int) func(epoch int, lr float64) float64 {
	return func(epoch int, _ float64) float64 {
		f := 0.5 * (1 + math.Cos(math.Pi*float64(epoch)/float64(max(epochs, 1))))
		return base * (floor + (1-floor)*f)
	}
}
