package train

import (
	"github.com/pkg/errors"
)

// TrainOnBatch runs one training step on (x, y) as one batch, like Keras's
// train_on_batch, and returns the loss and metrics of that batch in
// MetricsNames order. Options: SampleWeight or ClassWeight (Keras's
// sample_weight and class_weight), AllowNonFinite. The same checks as Fit
// apply; a NaN or Inf loss leaves the weights unchanged and returns an
// error.
func (m *Model) TrainOnBatch(x, y any, opts ...FitOption) (logs Logs, err error) {
	defer guard("TrainOnBatch", &err)
	if !m.training.CompareAndSwap(false, true) {
		return Logs{}, errors.New("TrainOnBatch: the model is already training (Fit and TrainOnBatch are exclusive)")
	}
	defer m.training.Store(false)
	if err := m.checkCompiled("TrainOnBatch"); err != nil {
		return Logs{}, err
	}
	if err := m.checkTrainable("TrainOnBatch"); err != nil {
		return Logs{}, err
	}
	c, err := newFitConfig("TrainOnBatch", opts, "SampleWeight", "ClassWeight", "AllowNonFinite")
	if err != nil {
		return Logs{}, err
	}
	d, err := m.samples("TrainOnBatch", x, y)
	if err != nil {
		return Logs{}, err
	}
	switch {
	case c.has("SampleWeight"):
		err = m.sampleWeights(d, "TrainOnBatch", c.sampleWeight)
	case c.has("ClassWeight"):
		if err = m.checkClassWeights("TrainOnBatch", c.classWeight); err == nil {
			m.classWeights(d, c.classWeight)
		}
	}
	if err != nil {
		return Logs{}, err
	}
	if err := c.checkFinite("TrainOnBatch", d, m.net.Inputs(), false); err != nil {
		return Logs{}, err
	}
	state := m.newEpochLogs()
	if err := m.trainStep(d, indices(d.n), state); err != nil {
		return Logs{}, errors.Wrap(err, "TrainOnBatch")
	}
	return state.logs(append([]string(nil), m.names...)), nil
}
