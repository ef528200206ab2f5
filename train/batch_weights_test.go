package train

import (
	"strings"
	"testing"
)

// TestTrainOnBatchWeights: TrainOnBatch with SampleWeight or ClassWeight
// makes the step Fit makes on the same single batch with the same option,
// bit for bit; bad weights and options are refused naming TrainOnBatch.
func TestTrainOnBatchWeights(t *testing.T) {
	_, x, y := streamModel(t)
	w := make([]float64, 50)
	for i := range w {
		w[i] = float64(i%3) + 0.5
	}
	cw := map[int]float64{0: 2, 2: 0.5}
	for _, opt := range []FitOption{SampleWeight(w), ClassWeight(cw)} {
		a, _, _ := streamModel(t)
		b, _, _ := streamModel(t)
		if _, err := a.Fit(x, y, opt, BatchSize(50), Shuffle(false), Verbose(0)); err != nil {
			t.Fatal(err)
		}
		logs, err := b.TrainOnBatch(x, y, opt)
		if err != nil {
			t.Fatal(err)
		}
		sameWeights(t, "TrainOnBatch with weights", b, a)
		if _, ok := logs.Get("loss"); !ok {
			t.Fatalf("logs %v", logs)
		}
	}
	m, _, _ := streamModel(t)
	for _, c := range []struct {
		opt  FitOption
		want string
	}{
		{SampleWeight(w[:3]), "TrainOnBatch: the sample weights of output"},
		{ClassWeight(map[int]float64{5: 1}), "TrainOnBatch: ClassWeight has a weight for class 5, but output"},
		{Epochs(2), "TrainOnBatch does not take option Epochs"},
	} {
		if _, err := m.TrainOnBatch(x, y, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}
