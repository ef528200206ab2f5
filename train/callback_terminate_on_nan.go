package train

import (
	"fmt"
	"io"
	"math"
	"os"
)

// TerminateOnNaN stops training when a batch's loss is NaN or ±Inf, as
// Keras's TerminateOnNaN: it prints "Batch N: Invalid loss, terminating
// training" to Out (os.Stdout if nil) and stops training.
//
// Without it, Fit refuses such a step with an error. With it, Fit passes the
// bad loss to the callbacks' OnBatchEnd (as Keras does), TerminateOnNaN
// stops training, the epoch ends as any stopped epoch does (its logs show
// the NaN loss) and Fit returns without an error. Unlike Keras, where the
// bad step has been applied, the weights are those before that step.
type TerminateOnNaN struct {
	BaseCallback
	Out io.Writer

	model *Model
	// StoppedBatch is the batch whose loss stopped training, or -1.
	StoppedBatch int
}

// OnTrainBegin keeps the model to stop.
func (t *TerminateOnNaN) OnTrainBegin(m *Model, _ Params) { t.model, t.StoppedBatch = m, -1 }

// OnBatchEnd checks the loss.
func (t *TerminateOnNaN) OnBatchEnd(batch int, logs Logs) {
	loss, ok := logs.Get("loss")
	if !ok || !(math.IsNaN(loss) || math.IsInf(loss, 0)) {
		return
	}
	out := t.Out
	if out == nil {
		out = os.Stdout
	}
	fmt.Fprintf(out, "Batch %d: Invalid loss, terminating training\n", batch)
	t.StoppedBatch = batch
	t.model.StopTraining()
}
