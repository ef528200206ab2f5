package train

import (
	"github.com/pkg/errors"
)

// TrainOnBatch runs one training step on (x, y) as one batch, like Keras's
// train_on_batch, and returns the loss and metrics of that batch in
// MetricsNames order. The same checks as Fit apply; a NaN or Inf loss
// leaves the weights unchanged and returns an error.
func (m *Model) TrainOnBatch(x, y any) (logs Logs, err error) {
	defer guard("TrainOnBatch", &err)
	if !m.compiled {
		return Logs{}, errors.New("TrainOnBatch: the model must be compiled first (call Compile)")
	}
	d, err := m.prepare(x, y, true)
	if err != nil {
		return Logs{}, errors.Wrap(err, "TrainOnBatch")
	}
	if d.n == 0 {
		return Logs{}, errors.New("TrainOnBatch: no samples")
	}
	idx := make([]int, d.n)
	for i := range idx {
		idx[i] = i
	}
	vals, err := m.trainStep(d, idx)
	if err != nil {
		return Logs{}, errors.Wrap(err, "TrainOnBatch")
	}
	return Logs{Names: append([]string(nil), m.names...), Values: vals}, nil
}
