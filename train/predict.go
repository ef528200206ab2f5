package train

import (
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Predict returns the model's output for x in inference mode (dropout off),
// computed batch by batch (BatchSize, default 32) and concatenated on axis 0.
// Any number of samples works, the last partial batch included. For models
// with several outputs use PredictAll. Options: BatchSize, Verbose (0 by
// default; 1 Keras's progress bar), Output, Context, AllowNonFinite, and
// Callbacks, whose PredictHooks are called.
func (m *Model) Predict(x any, opts ...FitOption) (*tensor.Dense, error) {
	if n := len(m.net.Outputs()); n != 1 {
		return nil, errors.Errorf("Predict: the model has %d outputs; use PredictAll", n)
	}
	var out [1]*tensor.Dense
	if err := m.predict(x, opts, out[:]); err != nil {
		return nil, err
	}
	return out[0], nil
}

// PredictInto is Predict writing the prediction into dst instead of a new
// tensor: dst must be of the model's float type (DType) and of the
// prediction's shape, the number of samples in x followed by the output's
// shape. A service predicting in a loop can so reuse one result tensor per
// goroutine: in steady state a call then allocates nothing (Predict makes a
// new tensor each call, eight allocations in gorgonia's tensor.New).
// A dst of another type or shape is refused before anything is written.
func (m *Model) PredictInto(dst *tensor.Dense, x any, opts ...FitOption) error {
	if n := len(m.net.Outputs()); n != 1 {
		return errors.Errorf("PredictInto: the model has %d outputs; use PredictAll", n)
	}
	if dst == nil {
		return errors.New("PredictInto: dst is nil")
	}
	if dst.Dtype() != m.dt {
		return errors.Errorf("PredictInto: dst holds %v, the model predicts %v", dst.Dtype(), m.dt)
	}
	out := [1]*tensor.Dense{dst}
	return m.predict(x, opts, out[:])
}

// checkResult reports whether r, a result given to PredictInto, has the
// prediction's shape: n samples of sample's shape.
func checkResult(r *tensor.Dense, n int, sample tensor.Shape) error {
	if s := r.Shape(); len(s) != len(sample)+1 || s[0] != n || !s[1:].Eq(sample) {
		return errors.Errorf("PredictInto: dst has shape %v, the prediction has shape %v", r.Shape(), append(tensor.Shape{n}, sample...))
	}
	return nil
}

// PredictAll is Predict for models with any number of outputs: one tensor per
// output, in the model's output order.
func (m *Model) PredictAll(x any, opts ...FitOption) ([]*tensor.Dense, error) {
	results := make([]*tensor.Dense, len(m.net.Outputs()))
	if err := m.predict(x, opts, results); err != nil {
		return nil, err
	}
	return results, nil
}

// predictCall is the scratch of one Predict call. Calls take it from
// predictCalls and put it back, so that a call in steady state allocates
// only its results.
type predictCall struct {
	c   fitConfig
	d   dataset
	set arraySet
	idx []int
}

// predictCalls pools predictCall values (shared by all models: the scratch
// holds nothing of a model's).
var predictCalls = sync.Pool{New: func() any { return new(predictCall) }}

// predict is Predict and PredictAll: it sets results, one per output.
func (m *Model) predict(x any, opts []FitOption, results []*tensor.Dense) (err error) {
	defer guard("Predict", &err)
	call := predictCalls.Get().(*predictCall)
	defer func() {
		call.c, call.d = fitConfig{}, dataset{}
		call.set.clear()
		predictCalls.Put(call)
	}()
	c, d := &call.c, &call.d
	if err := c.init("Predict", opts, "BatchSize", "Verbose", "Output", "Context", "AllowNonFinite", "Callbacks"); err != nil {
		return err
	}
	if ds, ok := x.(*Dataset); ok {
		return m.predictStream(ds, c, results)
	}
	if err := m.prepareInputs(d, &call.set, x); err != nil {
		return errors.Wrap(err, "Predict")
	}
	if err := c.checkFinite("Predict", d, m.net.Inputs(), m.dt == tensor.Float32); err != nil {
		return err
	}
	m.weightsMu.RLock() // one set of weights for the whole call
	defer m.weightsMu.RUnlock()
	hk := newHooks(c.evalCallbacks())
	hk.predictBegin(m, Params{Steps: (d.n + c.batchSize - 1) / c.batchSize, Samples: d.n, BatchSize: c.batchSize, Verbose: c.verbose})
	for from, b := 0, 0; from < d.n; from, b = from+c.batchSize, b+1 {
		if err := c.cancelled(); err != nil {
			return errors.Wrap(err, "Predict: cancelled")
		}
		hk.predictBatchBegin(b)
		call.idx = bucketed(span(call.idx, from, min(from+c.batchSize, d.n)), c.batchSize)
		bad, err := m.predictBatch(d, call.idx, from, min(c.batchSize, d.n-from), results)
		if bad >= 0 {
			return nonFinite("Predict", d, m.net.Inputs(), bad)
		}
		if err != nil {
			return errors.Wrap(err, "Predict")
		}
		hk.predictBatchEnd(b)
	}
	hk.predictEnd()
	return nil
}

// bucketed pads a last, partial batch idx to the next power of two (at most
// batch) by repeating its last sample, so that predicting any number of
// samples compiles programs for a few batch sizes only: batch and the
// powers of two below it. Inference treats every sample on its own, so the
// padding changes no real sample's output.
func bucketed(idx []int, batch int) []int {
	n := len(idx)
	b := 1
	for b < n {
		b *= 2
	}
	b = min(b, batch)
	for len(idx) < b {
		idx = append(idx, idx[n-1])
	}
	return idx
}

// predictBatch predicts the samples idx of d into results, from row from
// on, keeping the first rows outputs (idx may be padded), allocating each
// result at its first batch. bad is the input whose rows feed found not
// finite (see checkFinite), or -1.
func (m *Model) predictBatch(d *dataset, idx []int, from, rows int, results []*tensor.Dense) (bad int, err error) {
	p, key, err := m.program(m.predictProgs, d, len(idx), false, false)
	if err != nil {
		return -1, err
	}
	defer m.predictProgs.release(key, p)
	if bad := feed(p, d, idx, false); bad >= 0 {
		return bad, nil
	}
	if err := p.Run(true); err != nil {
		return -1, err
	}
	for i, out := range p.Outputs() {
		sample := out.Shape()[1:] // concrete, also for outputs with None axes
		if results[i] == nil {
			results[i] = tensor.New(tensor.Of(m.dt), tensor.WithShape(append([]int{d.n}, sample...)...))
		} else if err := checkResult(results[i], d.n, sample); err != nil {
			return -1, err
		}
		copyRows(results[i], out, from*sample.TotalSize(), rows*sample.TotalSize())
	}
	return -1, nil
}

// copyRows copies the first n of src's values into dst from element offset
// on (through the typed accessors: Data boxes the slice, an allocation).
func copyRows(dst, src *tensor.Dense, offset, n int) {
	if dst.Dtype() == tensor.Float32 {
		copy(dst.Float32s()[offset:], src.Float32s()[:n])
		return
	}
	copy(dst.Float64s()[offset:], src.Float64s()[:n])
}

// predictStream is predict on a Dataset: each of its batches is predicted
// as one program batch (targets, if any, ignored), and the outputs are
// concatenated on axis 0 at the end.
func (m *Model) predictStream(ds *Dataset, c *fitConfig, results []*tensor.Dense) error {
	s, err := m.newStream(ds, c, "Predict", false)
	if err != nil {
		return err
	}
	defer s.close()
	m.weightsMu.RLock()
	defer m.weightsMu.RUnlock()
	hk := newHooks(c.evalCallbacks())
	hk.predictBegin(m, Params{BatchSize: c.batchSize, Verbose: c.verbose})
	var parts [][]*tensor.Dense
	rows := 0
	for b := 0; ; b++ {
		if err := c.cancelled(); err != nil {
			return errors.Wrap(err, "Predict: cancelled")
		}
		d, idx, ok, err := s.next()
		if err != nil {
			return errors.Wrap(err, "Predict")
		}
		if !ok {
			break
		}
		hk.predictBatchBegin(b)
		part := make([]*tensor.Dense, len(results))
		bad, err := m.predictBatch(d, idx, 0, d.n, part)
		if bad >= 0 {
			return errors.Wrapf(nonFinite("Predict", d, m.net.Inputs(), bad), "%s: batch %d", ds.name, b+1)
		}
		if err != nil {
			return errors.Wrap(err, "Predict")
		}
		parts, rows = append(parts, part), rows+d.n
		hk.predictBatchEnd(b)
	}
	for i := range results {
		sample := parts[0][i].Shape()[1:]
		if results[i] == nil {
			results[i] = tensor.New(tensor.Of(m.dt), tensor.WithShape(append([]int{rows}, sample...)...))
		} else if err := checkResult(results[i], rows, sample); err != nil {
			return err
		}
		at := 0
		for _, part := range parts {
			n := part[i].Shape().TotalSize()
			copyRows(results[i], part[i], at, n)
			at += n
		}
	}
	hk.predictEnd()
	return nil
}
