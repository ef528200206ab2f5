package train

import (
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/metrics"
)

// epochLogs is the state of the loss and metrics over the batches of an
// epoch (or an Evaluate call), as Keras's metric variables: the running
// batch-size-weighted means of the loss and the per-output losses, and
// each metric's statistics summed over the batches. reset starts it
// afresh (Keras's reset_state).
type epochLogs struct {
	m     *Model
	means []metrics.Mean // the loss, then the per-output losses
	sums  [][]float64    // each metric's summed statistics
}

func (m *Model) newEpochLogs() *epochLogs {
	losses := 1
	if len(m.losses) > 1 {
		losses += len(m.losses)
	}
	return &epochLogs{m: m, means: make([]metrics.Mean, losses), sums: make([][]float64, len(m.metrics))}
}

// reset empties the state.
func (s *epochLogs) reset() {
	for i := range s.means {
		s.means[i].Reset()
	}
	for _, v := range s.sums {
		clear(v)
	}
}

// add adds the last run of p, a program of n samples with the model's
// head, to the state. It allocates nothing once every metric has been
// seen.
func (s *epochLogs) add(p *graph.Program, n int) {
	s.means[0].Add(p.Cost(), n)
	reports := p.Reports()
	for i := 1; i < len(s.means); i++ {
		s.means[i].Add(p.ReportValue(i-1), n)
	}
	for i, r := range reports[len(s.means)-1:] {
		// The typed accessors, not Data: Data boxes the slice (an
		// allocation per metric and step).
		switch r.Dtype() {
		case tensor.Float32:
			s.sums[i] = addInto(s.sums[i], r.Float32s())
		case tensor.Float64:
			s.sums[i] = addInto(s.sums[i], r.Float64s())
		}
	}
}

// addInto adds d to sums element by element, growing sums to d's length
// first (a metric's statistics arrive at its first batch).
func addInto[T float32 | float64](sums []float64, d []T) []float64 {
	if len(sums) < len(d) {
		sums = make([]float64, len(d))
	}
	for j, v := range d {
		sums[j] += float64(v)
	}
	return sums
}

// values appends the current figures, in MetricsNames order, to dst.
func (s *epochLogs) values(dst []float64) []float64 {
	for i := range s.means {
		dst = append(dst, s.means[i].Result())
	}
	for i, cm := range s.m.metrics {
		n := len(dst)
		for range cm.values {
			dst = append(dst, 0)
		}
		switch v, ok := cm.Metric.(metrics.Vector); {
		case s.sums[i] == nil: // no batch yet: zeros
		case ok:
			v.Results(s.sums[i], dst[n:])
		default:
			dst[n] = cm.Result(s.sums[i])
		}
	}
	return dst
}

// logs are the current figures under the model's log names (shared: the
// caller copies names before handing the logs out to keep).
func (s *epochLogs) logs(names []string) Logs {
	return Logs{Names: names, Values: s.values(make([]float64, 0, len(names)))}
}
