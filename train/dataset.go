package train

import (
	"context"
	"io"
	"iter"
	"math/rand/v2"
	"strconv"
	"sync"

	"github.com/pkg/errors"
)

// Batch is one batch of a Dataset: the model's inputs X and targets Y, in
// any form Fit takes them (*tensor.Dense, [][]float64, …, or Multi of
// several), and optionally SampleWeight, as the SampleWeight option takes
// it (one weight per sample, or Multi of one array per output). Y is nil
// for data only Predict reads.
type Batch struct {
	X, Y, SampleWeight any
}

// Dataset is data that streams, Keras's tf.data.Dataset and
// PyDataset: batches come one after another from a Go iterator
// (FromIter), a generator function (FromFunc), in-memory arrays
// (FromArrays) or files read lazily (FromCSV, FromNPY), optionally through
// a shuffle buffer (Shuffle), regrouped into batches of another size
// (Rebatch) and prepared on another goroutine (Prefetch). Fit, Evaluate and
// Predict take a Dataset in place of x (with y nil). Only the batches in
// flight are held in memory, so data larger than memory trains, and
// float32 data stays float32.
//
// Each pass over a Dataset (an epoch) opens it again: FromIter ranges its
// iterator again, FromFunc calls its open function again, files are read
// from their start. Fit with StepsPerEpoch takes that many batches per
// epoch, continuing one pass across epochs and opening a new pass when one
// ends.
//
// The methods return a new Dataset and leave the receiver as it was. A
// Dataset holds no state between passes; a pass is used by one goroutine.
type Dataset struct {
	name string
	// open starts a pass: the batches of the source, each converted into
	// arrays (not yet checked against a model).
	open    func() (batchSource, error)
	shuffle int
	seed    uint64
	batch   int
	ahead   int
}

// batchSource yields a pass's batches: next returns io.EOF after the last;
// close releases the pass (files, goroutines) and may be called at any
// time, more than once.
type batchSource interface {
	next() (*dataset, error)
	close()
}

// FromIter is a Dataset of the batches seq yields (with a nil error; a
// non-nil error ends the pass with that error). Each pass ranges seq again.
func FromIter(seq iter.Seq2[Batch, error]) *Dataset {
	return &Dataset{name: "FromIter", open: func() (batchSource, error) {
		if seq == nil {
			return nil, errors.New("the iterator is nil")
		}
		next, stop := iter.Pull2(seq)
		return &pullSource{pull: func() (Batch, error) {
			b, err, ok := next()
			if !ok {
				return Batch{}, io.EOF
			}
			return b, err
		}, stop: stop}, nil
	}}
}

// FromFunc is a Dataset of generated batches: each pass calls open for a
// generator, then the generator for each batch until it returns io.EOF
// (any other error ends the pass with it).
func FromFunc(open func() func() (Batch, error)) *Dataset {
	return &Dataset{name: "FromFunc", open: func() (batchSource, error) {
		if open == nil {
			return nil, errors.New("the open function is nil")
		}
		gen := open()
		if gen == nil {
			return nil, errors.New("the open function returned a nil generator")
		}
		return &pullSource{pull: gen, stop: func() {}}, nil
	}}
}

// FromArrays is a Dataset of in-memory arrays x and y (any form Fit takes;
// y may be nil) in batches of batchSize samples, in order (Shuffle
// shuffles them). Float32 tensors are sliced, not copied.
func FromArrays(x, y any, batchSize int) *Dataset {
	return &Dataset{name: "FromArrays", open: func() (batchSource, error) {
		if batchSize <= 0 {
			return nil, errors.Errorf("batch size must be positive, got %d", batchSize)
		}
		d, err := toDataset(x, y, nil)
		if err != nil {
			return nil, err
		}
		return &sliceSource{d: d, batch: batchSize}, nil
	}}
}

// Shuffle returns the Dataset through a shuffle buffer of buffer samples,
// as tf.data's shuffle: the buffer fills with the first samples, then each
// sample out is drawn uniformly from the buffer and its place taken by the
// next sample in. The batches out have the size of the source's first
// batch (Rebatch sets another). A buffer at least as large as the data
// shuffles it uniformly. seed fixes the order: pass p of the Dataset draws
// from a source seeded by (seed, p), so that every epoch shuffles
// differently and a run repeats exactly.
func (d *Dataset) Shuffle(buffer int, seed uint64) *Dataset {
	out := *d
	out.shuffle, out.seed = buffer, seed
	return &out
}

// Rebatch returns the Dataset regrouped into batches of size samples (the
// last one of a pass may be smaller).
func (d *Dataset) Rebatch(size int) *Dataset {
	out := *d
	out.batch = size
	return &out
}

// Prefetch returns the Dataset read and converted on another goroutine, up
// to batches batches ahead of the training step.
func (d *Dataset) Prefetch(batches int) *Dataset {
	out := *d
	out.ahead = batches
	return &out
}

// check refuses invalid settings, naming the Dataset.
func (d *Dataset) check() error {
	switch {
	case d == nil || d.open == nil:
		return errors.New("the Dataset is nil")
	case d.shuffle < 0:
		return errors.Errorf("%s: Shuffle buffer must not be negative, got %d", d.name, d.shuffle)
	case d.batch < 0:
		return errors.Errorf("%s: Rebatch size must be positive, got %d", d.name, d.batch)
	case d.ahead < 0:
		return errors.Errorf("%s: Prefetch must not be negative, got %d", d.name, d.ahead)
	}
	return nil
}

// pass opens pass number p (from 0) of d: the source, then the shuffle
// buffer or the rebatching, then the prefetching goroutine. ctx stops the
// prefetching goroutine.
func (d *Dataset) pass(ctx context.Context, p uint64) (batchSource, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	src, err := d.open()
	if err != nil {
		return nil, errors.Wrap(err, d.name)
	}
	src = &numbered{src: src, name: d.name}
	if d.shuffle > 0 || d.batch > 0 {
		var rng *rand.Rand
		if d.shuffle > 0 {
			rng = rand.New(rand.NewPCG(d.seed, p))
		}
		src = &rowBuffer{src: src, size: max(d.shuffle, 1), rng: rng, batch: d.batch, name: d.name}
	}
	if d.ahead > 0 {
		src = newPrefetch(ctx, src, d.ahead)
	}
	return src, nil
}

// toDataset converts a batch's arrays (y and sw may be nil), checking that
// they hold as many samples.
func toDataset(x, y, sw any) (*dataset, error) {
	xs, err := new(arraySet).convert("x", x)
	if err != nil {
		return nil, err
	}
	d := &dataset{xs: xs, n: xs[0].n}
	if y != nil {
		if d.ys, err = new(arraySet).convert("y", y); err != nil {
			return nil, err
		}
	}
	if sw != nil {
		if d.sw, err = new(arraySet).convert("sample weights", sw); err != nil {
			return nil, err
		}
	}
	for i := 1; i < d.arrays(); i++ {
		if a := d.arrayAt(i); a.n != d.n {
			return nil, errors.Errorf("the arrays hold different numbers of samples: %d (x) and %d (%s)", d.n, a.n, d.arrayName(i))
		}
	}
	return d, nil
}

// pullSource converts the batches a pull function yields.
type pullSource struct {
	pull func() (Batch, error)
	stop func()
}

// next converts the next batch. A panic in the caller's iterator or
// generator is an error of this batch, not a crash (it may run on
// Prefetch's goroutine, beyond Fit's recovery).
func (s *pullSource) next() (d *dataset, err error) {
	defer func() {
		if v := recover(); v != nil {
			d, err = nil, errors.Errorf("panic: %v", v)
		}
	}()
	b, err := s.pull()
	if err != nil {
		return nil, err
	}
	return toDataset(b.X, b.Y, b.SampleWeight)
}

func (s *pullSource) close() { s.stop() }

// sliceSource cuts in-memory arrays into batches.
type sliceSource struct {
	d     *dataset
	batch int
	at    int
}

func (s *sliceSource) next() (*dataset, error) {
	if s.at >= s.d.n {
		return nil, io.EOF
	}
	to := min(s.at+s.batch, s.d.n)
	b := s.d.slice(s.at, to)
	s.at = to
	return b, nil
}

func (s *sliceSource) close() {}

// numbered counts a pass's batches, names the batch in its errors, and
// refuses an empty batch and one whose arrays do not have the first
// batch's count and per-sample shapes.
type numbered struct {
	src  batchSource
	name string
	k    int
	// first is the first batch's array counts and shapes (a copy: the
	// model's checks may reshape the batch's arrays).
	first *dataset
}

func (s *numbered) next() (*dataset, error) {
	d, err := s.src.next()
	if err == io.EOF {
		return nil, io.EOF
	}
	s.k++
	if err != nil {
		return nil, errors.Wrapf(err, "%s: batch %d", s.name, s.k)
	}
	if d.n == 0 {
		return nil, errors.Errorf("%s: batch %d has no samples", s.name, s.k)
	}
	if s.first == nil {
		s.first = d.shapesOnly()
		return d, nil
	}
	if len(d.xs) != len(s.first.xs) || len(d.ys) != len(s.first.ys) || len(d.sw) != len(s.first.sw) {
		return nil, errors.Errorf("%s: batch %d has %d input, %d target and %d sample weight arrays, batch 1 had %d, %d and %d", s.name, s.k, len(d.xs), len(d.ys), len(d.sw), len(s.first.xs), len(s.first.ys), len(s.first.sw))
	}
	for i := range d.arrays() {
		a, want := d.arrayAt(i), s.first.arrayAt(i)
		if !a.shape.Equal(want.shape) {
			return nil, errors.Errorf("%s: batch %d: %s has per-sample shape %s, batch 1's had %s", s.name, s.k, d.arrayName(i), sampleShape(a.shape), sampleShape(want.shape))
		}
	}
	return d, nil
}

func (s *numbered) close() { s.src.close() }

// shapesOnly is a copy of d without values: its arrays' counts and
// shapes.
func (d *dataset) shapesOnly() *dataset {
	out := &dataset{n: d.n}
	copyShapes := func(as []*array) []*array {
		var c []*array
		for _, a := range as {
			c = append(c, &array{n: a.n, shape: a.shape.Clone()})
		}
		return c
	}
	out.xs, out.ys, out.sw = copyShapes(d.xs), copyShapes(d.ys), copyShapes(d.sw)
	return out
}

// arrays is the number of d's arrays: inputs, targets, sample weights.
func (d *dataset) arrays() int { return len(d.xs) + len(d.ys) + len(d.sw) }

// arrayAt is d's i-th array: the inputs, then the targets, then the sample
// weights.
func (d *dataset) arrayAt(i int) *array {
	switch {
	case i < len(d.xs):
		return d.xs[i]
	case i < len(d.xs)+len(d.ys):
		return d.ys[i-len(d.xs)]
	}
	return d.sw[i-len(d.xs)-len(d.ys)]
}

// arrayName names d's i-th array in errors ("x", "x[1]", "y",
// "sample_weight").
func (d *dataset) arrayName(i int) string {
	what, k, n := "x", i, len(d.xs)
	switch {
	case i >= len(d.xs)+len(d.ys):
		what, k, n = "sample_weight", i-len(d.xs)-len(d.ys), len(d.sw)
	case i >= len(d.xs):
		what, k, n = "y", i-len(d.xs), len(d.ys)
	}
	if n == 1 {
		return what
	}
	return what + "[" + strconv.Itoa(k) + "]"
}

// rowRef is one sample of a source batch.
type rowRef struct {
	d *dataset
	i int
}

// rowBuffer regroups a source's samples into batches of batch samples
// (the first source batch's size when 0) through a buffer of size
// samples: with rng, each sample out is drawn uniformly from the buffer
// and replaced by the next sample in (tf.data's shuffle); without, the
// buffer is a queue of one.
type rowBuffer struct {
	src   batchSource
	size  int
	rng   *rand.Rand
	batch int
	name  string

	buf     []rowRef
	pending *dataset
	at      int
	done    bool
}

// pull is the source's next sample; ok is false at the end of the pass.
func (r *rowBuffer) pull() (row rowRef, ok bool, err error) {
	for r.pending == nil || r.at >= r.pending.n {
		if r.done {
			return rowRef{}, false, nil
		}
		d, err := r.src.next()
		if err == io.EOF {
			r.done = true
			return rowRef{}, false, nil
		}
		if err != nil {
			return rowRef{}, false, err
		}
		if r.batch == 0 {
			r.batch = d.n
		}
		r.pending, r.at = d, 0
	}
	r.at++
	return rowRef{r.pending, r.at - 1}, true, nil
}

func (r *rowBuffer) next() (*dataset, error) {
	for len(r.buf) < r.size {
		row, ok, err := r.pull()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		r.buf = append(r.buf, row)
	}
	if len(r.buf) == 0 {
		return nil, io.EOF
	}
	rows := make([]rowRef, 0, r.batch)
	for len(rows) < r.batch && len(r.buf) > 0 {
		k := 0
		if r.rng != nil {
			k = r.rng.IntN(len(r.buf))
		}
		rows = append(rows, r.buf[k])
		row, ok, err := r.pull()
		if err != nil {
			return nil, err
		}
		if ok {
			r.buf[k] = row
			continue
		}
		if r.rng == nil { // a queue keeps its order
			r.buf = append(r.buf[:k], r.buf[k+1:]...)
			continue
		}
		last := len(r.buf) - 1
		r.buf[k] = r.buf[last]
		r.buf = r.buf[:last]
	}
	return gatherRows(rows), nil
}

func (r *rowBuffer) close() { r.src.close() }

// gatherRows copies rows (whose batches have the same arrays and shapes)
// into one batch: float32 arrays stay float32.
func gatherRows(rows []rowRef) *dataset {
	first := rows[0].d
	out := &dataset{n: len(rows), xs: make([]*array, len(first.xs)), ys: make([]*array, len(first.ys)), sw: make([]*array, len(first.sw))}
	for j := range first.arrays() {
		proto := first.arrayAt(j)
		s := proto.rowSize()
		a := &array{n: len(rows), shape: proto.shape}
		if proto.f32 != nil {
			a.f32 = make([]float32, 0, len(rows)*s)
		} else {
			a.data = make([]float64, 0, len(rows)*s)
		}
		for _, r := range rows {
			src := r.d.arrayAt(j)
			switch {
			case a.f32 != nil && src.f32 != nil:
				a.f32 = append(a.f32, src.f32[r.i*s:(r.i+1)*s]...)
			case a.f32 != nil:
				for _, v := range src.data[r.i*s : (r.i+1)*s] {
					a.f32 = append(a.f32, float32(v))
				}
			case src.f32 != nil:
				for _, v := range src.f32[r.i*s : (r.i+1)*s] {
					a.data = append(a.data, float64(v))
				}
			default:
				a.data = append(a.data, src.data[r.i*s:(r.i+1)*s]...)
			}
		}
		switch {
		case j < len(first.xs):
			out.xs[j] = a
		case j < len(first.xs)+len(first.ys):
			out.ys[j-len(first.xs)] = a
		default:
			out.sw[j-len(first.xs)-len(first.ys)] = a
		}
	}
	return out
}

// prefetched runs a source on its own goroutine, up to cap(ch) batches
// ahead of the reader.
type prefetched struct {
	ch   chan prefetchResult
	done chan struct{}
	once sync.Once
}

type prefetchResult struct {
	d   *dataset
	err error
}

// newPrefetch starts reading src ahead; ctx's end stops it (the reader then
// gets ctx's error).
func newPrefetch(ctx context.Context, src batchSource, ahead int) *prefetched {
	p := &prefetched{ch: make(chan prefetchResult, ahead), done: make(chan struct{})}
	go func() {
		defer close(p.ch)
		defer src.close()
		for {
			var r prefetchResult
			func() {
				defer func() { // a panicking generator is an error, not a crash
					if v := recover(); v != nil {
						r = prefetchResult{err: errors.Errorf("panic: %v", v)}
					}
				}()
				r.d, r.err = src.next()
			}()
			select {
			case p.ch <- r:
			case <-p.done:
				return
			case <-ctx.Done():
				select {
				case p.ch <- prefetchResult{err: ctx.Err()}:
				case <-p.done:
				}
				return
			}
			if r.err != nil {
				return
			}
		}
	}()
	return p
}

func (p *prefetched) next() (*dataset, error) {
	r, ok := <-p.ch
	if !ok {
		return nil, io.EOF
	}
	return r.d, r.err
}

// close stops the goroutine and waits until it has returned (after the
// batch it may be reading).
func (p *prefetched) close() {
	p.once.Do(func() { close(p.done) })
	for range p.ch {
	}
}
