package metrics

// Mean is a sample-weighted running mean, as Keras averages per-batch loss
// and metric values into epoch figures: Σ value_b·n_b / Σ n_b. The zero value
// is an empty mean.
type Mean struct {
	sum   float64
	count int
}

// Add adds a batch's value computed over n samples. A batch of n ≤ 0 samples
// adds nothing.
func (m *Mean) Add(value float64, n int) {
	if n <= 0 {
		return
	}
	m.sum += value * float64(n)
	m.count += n
}

// Result is the weighted mean of the values added since the last Reset (0
// when none were).
func (m *Mean) Result() float64 {
	if m.count == 0 {
		return 0
	}
	return m.sum / float64(m.count)
}

// Count is the number of samples added since the last Reset.
func (m *Mean) Count() int { return m.count }

// Reset empties the mean (at the start of each epoch).
func (m *Mean) Reset() { *m = Mean{} }
