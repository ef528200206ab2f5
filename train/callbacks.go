package train

import (
	"math"

	"github.com/kerago/kerago/train/optimizers"
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

// The hooks beyond Callback's are optional interfaces, as Keras's
// on_train_batch_begin, on_test_* and on_predict_* methods: Fit, Evaluate
// and Predict look for them once per call, so a callback implements only
// those it needs and callbacks written against Callback alone keep working.

// TrainBatchBeginner is a callback called before each training step
// (Keras's on_train_batch_begin); batch counts from 0 in each epoch.
type TrainBatchBeginner interface {
	OnTrainBatchBegin(batch int)
}

// TestHooks are the hooks of an evaluation (Keras's on_test_*): Evaluate
// calls them, and so does Fit around each validation pass. p describes the
// evaluation: Steps its batches, Samples its samples. Batch logs hold the
// running means of the loss and metrics so far (without "val_"); the end
// logs hold the evaluation's results. The test and predict hooks run while
// the model's weights are locked for reading (every batch sees the same
// weights): they must not change the weights nor save the model.
type TestHooks interface {
	OnTestBegin(m *Model, p Params)
	OnTestBatchBegin(batch int)
	OnTestBatchEnd(batch int, logs Logs)
	OnTestEnd(logs Logs)
}

// PredictHooks are the hooks of Predict and PredictAll (Keras's
// on_predict_*); p.Steps is the number of batches. Unlike Keras, the batch
// end does not carry the batch's outputs (Predict returns them all).
type PredictHooks interface {
	OnPredictBegin(m *Model, p Params)
	OnPredictBatchBegin(batch int)
	OnPredictBatchEnd(batch int)
	OnPredictEnd()
}

// EpochLogsAdder is a callback that adds values to each epoch's logs before
// History records them and any callback's OnEpochEnd sees them, as Keras's
// callbacks write into the shared logs dictionary (ReduceLROnPlateau adds
// "learning_rate").
type EpochLogsAdder interface {
	AddEpochLogs(epoch int, logs *Logs)
}

// Failer is a callback whose hooks can fail (a file it could not write):
// Fit checks Err after OnTrainBegin and after each batch's and epoch's
// hooks, and stops with the first error, naming the callback's failure.
type Failer interface {
	Err() error
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

// hooks are the optional interfaces a list of callbacks implements, found
// once per call of Fit, Evaluate or Predict.
type hooks struct {
	batchBegin []TrainBatchBeginner
	test       []TestHooks
	predict    []PredictHooks
	adders     []EpochLogsAdder
	failers    []Failer
	resumers   []resumer
}

// resumer is a callback that, in OnTrainBegin, restored the model to the end
// of an earlier epoch (BackupAndRestore): Fit starts at the epoch it says.
type resumer interface {
	resumeEpoch() (epoch int, ok bool)
}

// newHooks sorts cbs by the optional interfaces they implement.
func newHooks(cbs []Callback) hooks {
	var h hooks
	for _, cb := range cbs {
		if v, ok := cb.(TrainBatchBeginner); ok {
			h.batchBegin = append(h.batchBegin, v)
		}
		if v, ok := cb.(TestHooks); ok {
			h.test = append(h.test, v)
		}
		if v, ok := cb.(PredictHooks); ok {
			h.predict = append(h.predict, v)
		}
		if v, ok := cb.(EpochLogsAdder); ok {
			h.adders = append(h.adders, v)
		}
		if v, ok := cb.(Failer); ok {
			h.failers = append(h.failers, v)
		}
		if v, ok := cb.(resumer); ok {
			h.resumers = append(h.resumers, v)
		}
	}
	return h
}

// trainBatchBegin calls every OnTrainBatchBegin.
func (h *hooks) trainBatchBegin(batch int) {
	for _, cb := range h.batchBegin {
		cb.OnTrainBatchBegin(batch)
	}
}

// testBegin calls every OnTestBegin.
func (h *hooks) testBegin(m *Model, p Params) {
	for _, cb := range h.test {
		cb.OnTestBegin(m, p)
	}
}

// testBatchBegin calls every OnTestBatchBegin.
func (h *hooks) testBatchBegin(batch int) {
	for _, cb := range h.test {
		cb.OnTestBatchBegin(batch)
	}
}

// testBatchEnd calls every OnTestBatchEnd.
func (h *hooks) testBatchEnd(batch int, logs Logs) {
	for _, cb := range h.test {
		cb.OnTestBatchEnd(batch, logs)
	}
}

// testEnd calls every OnTestEnd.
func (h *hooks) testEnd(logs Logs) {
	for _, cb := range h.test {
		cb.OnTestEnd(logs)
	}
}

// predictBegin calls every OnPredictBegin.
func (h *hooks) predictBegin(m *Model, p Params) {
	for _, cb := range h.predict {
		cb.OnPredictBegin(m, p)
	}
}

// predictBatchBegin calls every OnPredictBatchBegin.
func (h *hooks) predictBatchBegin(batch int) {
	for _, cb := range h.predict {
		cb.OnPredictBatchBegin(batch)
	}
}

// predictBatchEnd calls every OnPredictBatchEnd.
func (h *hooks) predictBatchEnd(batch int) {
	for _, cb := range h.predict {
		cb.OnPredictBatchEnd(batch)
	}
}

// predictEnd calls every OnPredictEnd.
func (h *hooks) predictEnd() {
	for _, cb := range h.predict {
		cb.OnPredictEnd()
	}
}

// addEpochLogs lets every EpochLogsAdder add to logs.
func (h *hooks) addEpochLogs(epoch int, logs *Logs) {
	for _, cb := range h.adders {
		cb.AddEpochLogs(epoch, logs)
	}
}

// err is the first error a Failer reports, or nil.
func (h *hooks) err() error {
	for _, cb := range h.failers {
		if err := cb.Err(); err != nil {
			return err
		}
	}
	return nil
}

// resumeEpoch is the epoch a resumer restored the model to, if any did.
func (h *hooks) resumeEpoch() (int, bool) {
	for _, cb := range h.resumers {
		if e, ok := cb.resumeEpoch(); ok {
			return e, true
		}
	}
	return 0, false
}

// LearningRateScheduler sets the optimizer's learning rate at the start of
// every epoch to Schedule(epoch, lr), as Keras's LearningRateScheduler:
// epoch counts from 0 and lr is the rate in force.
type LearningRateScheduler struct {
	BaseCallback
	Schedule func(epoch int, lr float64) float64

	model *Model
	err   error
}

// OnTrainBegin keeps the model whose optimizer the schedule drives,
// refusing one whose learning rate follows an optimizer schedule.
func (s *LearningRateScheduler) OnTrainBegin(m *Model, _ Params) {
	s.model, s.err = m, scheduleRefusal("LearningRateScheduler", m)
}

// Err implements Failer: the optimizer's learning rate is not settable.
func (s *LearningRateScheduler) Err() error { return s.err }

// scheduleRefusal is the error of callback, which sets the learning rate,
// on a model whose optimizer follows a learning-rate schedule (its rate is
// not settable, as in Keras), or nil.
func scheduleRefusal(callback string, m *Model) error {
	if m == nil || m.opt == nil {
		return nil
	}
	if sch := optimizers.ScheduleOf(m.opt); sch != nil {
		return errors.Errorf("%s: the optimizer's learning rate follows the schedule %s and cannot be set (build the optimizer with LR instead of LRSchedule)", callback, sch.ClassName())
	}
	return nil
}

// OnEpochBegin sets the epoch's learning rate.
func (s *LearningRateScheduler) OnEpochBegin(epoch int) {
	if s.model == nil || s.model.opt == nil || s.Schedule == nil || s.err != nil {
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
