package train

import (
	"context"
	"io"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// StepsPerEpoch sets how many batches of a Dataset make one epoch of Fit
// (Keras's steps_per_epoch): the epochs continue one pass of the Dataset,
// and a new pass opens when one ends. Without it each epoch is one whole
// pass. For Fit on a Dataset.
func StepsPerEpoch(n int) FitOption {
	return func(c *fitConfig) { c.mark("StepsPerEpoch"); c.stepsPerEpoch = n }
}

// batches yields the batches of a Fit epoch, an evaluation or a
// prediction, checked against the model: slices of in-memory data
// (arrayBatches) or a Dataset's batches (stream). ok is false after the
// last batch.
type batches interface {
	next() (d *dataset, idx []int, ok bool, err error)
}

// arrayBatches cuts in-memory data d into batches of size samples, in the
// order order (nil: 0, 1, …).
type arrayBatches struct {
	d     *dataset
	order []int
	size  int
	at    int
	idx   []int
}

func (a *arrayBatches) next() (*dataset, []int, bool, error) {
	if a.at >= a.d.n {
		return nil, nil, false, nil
	}
	to := min(a.at+a.size, a.d.n)
	if a.order != nil {
		a.idx = a.order[a.at:to]
	} else {
		a.idx = span(a.idx, a.at, to)
	}
	a.at = to
	return a.d, a.idx, true, nil
}

// stream reads a Dataset for call (Fit, Evaluate, Predict), pass after
// pass, and checks each batch against the model (its errors name the
// Dataset and the batch, not the call): the inputs, and with
// targets the targets, the batch's sample weights or else the class
// weights of c, and the inputs' values unless c allows non-finite ones.
type stream struct {
	m       *Model
	c       *fitConfig
	ds      *Dataset
	call    string
	targets bool
	// steps is the batches per epoch (0: one pass), taken the steps of
	// the current epoch.
	steps, taken int
	src          batchSource
	pass         uint64
	idx          []int
}

func (m *Model) newStream(ds *Dataset, c *fitConfig, call string, targets bool) (*stream, error) {
	if err := ds.check(); err != nil {
		return nil, errors.Wrap(err, call)
	}
	if c.stepsPerEpoch < 0 {
		return nil, errors.Errorf("%s: StepsPerEpoch must be positive, got %d", call, c.stepsPerEpoch)
	}
	if targets && c.has("ClassWeight") {
		if err := m.checkClassWeights(call, c.classWeight); err != nil {
			return nil, err
		}
	}
	return &stream{m: m, c: c, ds: ds, call: call, targets: targets, steps: c.stepsPerEpoch}, nil
}

// epoch starts a new epoch: with StepsPerEpoch the pass goes on, without
// a new pass opens at the first batch.
func (s *stream) epoch() { s.taken = 0 }

func (s *stream) next() (*dataset, []int, bool, error) {
	if s.steps > 0 && s.taken >= s.steps {
		return nil, nil, false, nil
	}
	d, err := s.read()
	if d == nil || err != nil {
		return nil, nil, false, err
	}
	s.taken++
	if err := s.check(d); err != nil {
		return nil, nil, false, errors.Wrapf(err, "%s: batch %d", s.ds.name, s.taken)
	}
	s.idx = span(s.idx, 0, d.n)
	return d, s.idx, true, nil
}

// read is the next batch of the Dataset, nil at the end of an epoch: the
// end of a pass without StepsPerEpoch; with it a new pass opens, and a
// pass without any batch is an error.
func (s *stream) read() (*dataset, error) {
	for opened := false; ; opened = true {
		if s.src == nil {
			ctx := s.c.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			src, err := s.ds.pass(ctx, s.pass)
			if err != nil {
				return nil, err
			}
			s.src, s.pass = src, s.pass+1
		}
		d, err := s.src.next()
		if err == nil {
			return d, nil
		}
		s.close()
		switch {
		case err != io.EOF:
			return nil, err
		case s.steps == 0 && s.taken > 0:
			return nil, nil // the end of the epoch's pass
		case opened:
			return nil, errors.Errorf("%s: a pass yielded no batches", s.ds.name)
		}
	}
}

// check checks a batch against the model (see stream).
func (s *stream) check(d *dataset) error {
	m := s.m
	if err := m.checkInputs(d); err != nil {
		return err
	}
	if s.targets {
		if len(d.ys) == 0 {
			return errors.New("the batch has no targets (Batch.Y)")
		}
		if err := m.checkTargets(d); err != nil {
			return err
		}
		switch {
		case len(d.sw) > 0:
			if err := m.checkSampleWeights(d, "sample weights", d.sw, len(d.sw) > 1); err != nil {
				return err
			}
		case s.c.has("ClassWeight"): // checked once, in newStream
			m.classWeights(d, s.c.classWeight)
		}
	}
	return s.c.checkFinite(s.call, d, m.net.Inputs(), !s.targets && m.dt == tensor.Float32)
}

// close closes the pass being read, if any.
func (s *stream) close() {
	if s.src != nil {
		s.src.close()
		s.src = nil
	}
}

// refuseWithDataset refuses options that do not apply to a Dataset (its
// batches carry targets and weights) and a y beside it.
func refuseWithDataset(call string, c *fitConfig, y any, options ...string) error {
	if y != nil {
		return errors.Errorf("%s: y must be nil when x is a Dataset (its batches hold the targets)", call)
	}
	for _, o := range options {
		if c.has(o) {
			return errors.Errorf("%s: %s does not apply to a Dataset (give the weights in its batches, or the data as arrays)", call, o)
		}
	}
	return nil
}
