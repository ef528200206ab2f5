package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// FitOption configures Fit, Evaluate and Predict (each takes the options
// that apply to it and rejects the others).
type FitOption func(*fitConfig)

type fitConfig struct {
	// set names the options given, in order (a fixed array: parsing the
	// options of a Predict call allocates nothing for it).
	set             [16]string
	nset            int
	epochs          int
	batchSize       int
	shuffle         bool
	validationSplit float64
	valX, valY      any
	valWeight       any // ValidationData's sample weights, or nil
	sampleWeight    any
	classWeight     map[int]float64
	verbose         int
	initialEpoch    int
	callbacks       []Callback
	out             io.Writer
	ctx             context.Context
	allowNonFinite  bool
	stepsPerEpoch   int
}

// mark records that option n was given (once per name).
func (c *fitConfig) mark(n string) {
	if !c.has(n) && c.nset < len(c.set) {
		c.set[c.nset] = n
		c.nset++
	}
}

// has reports whether option n was given.
func (c *fitConfig) has(n string) bool { return slices.Contains(c.set[:c.nset], n) }

// Epochs is the number of epochs to train (default 1).
func Epochs(n int) FitOption { return func(c *fitConfig) { c.mark("Epochs"); c.epochs = n } }

// BatchSize is the number of samples per step (default 32).
func BatchSize(n int) FitOption { return func(c *fitConfig) { c.mark("BatchSize"); c.batchSize = n } }

// Shuffle turns the per-epoch shuffling of the training samples on or off
// (default on).
func Shuffle(on bool) FitOption { return func(c *fitConfig) { c.mark("Shuffle"); c.shuffle = on } }

// ValidationSplit holds out the last fraction of the samples (before any
// shuffling) and evaluates on them after each epoch, as Keras does.
func ValidationSplit(f float64) FitOption {
	return func(c *fitConfig) { c.mark("ValidationSplit"); c.validationSplit = f }
}

// ValidationData evaluates on (x, y) after each epoch; it takes precedence
// over ValidationSplit. An optional third argument holds the validation
// samples' weights, in SampleWeight's forms (Keras's (x, y, sample_weight)).
func ValidationData(x, y any, sampleWeight ...any) FitOption {
	return func(c *fitConfig) {
		c.mark("ValidationData")
		c.valX, c.valY = x, y
		c.valWeight = nil
		if len(sampleWeight) > 0 {
			c.valWeight = sampleWeight[0]
		}
		if len(sampleWeight) > 1 {
			c.valWeight = multi(sampleWeight)
		}
	}
}

// Verbose sets the output: 0 silent, 1 progress bar (Fit's default), 2 one
// line per epoch. Evaluate and Predict default to silent (Keras's default is
// "auto", a bar); with 1 they print Keras 3's bar ("4/4 ━━━━ 0s 2ms/step -
// loss: 0.3000 - accuracy: 0.9000", Predict without values), with 2 one
// line.
func Verbose(v int) FitOption { return func(c *fitConfig) { c.mark("Verbose"); c.verbose = v } }

// InitialEpoch is the epoch to start at (to resume training; default 0).
func InitialEpoch(e int) FitOption {
	return func(c *fitConfig) { c.mark("InitialEpoch"); c.initialEpoch = e }
}

// Callbacks adds callbacks to Fit (History and the progress bar are added
// automatically), Evaluate (which calls their TestHooks) and Predict (their
// PredictHooks).
func Callbacks(cbs ...Callback) FitOption {
	return func(c *fitConfig) { c.mark("Callbacks"); c.callbacks = append(c.callbacks, cbs...) }
}

// Context makes Fit, Evaluate and Predict cancellable: they check ctx
// before each batch and, once it is done, stop and return an error that
// wraps ctx.Err(). A cancelled Fit keeps the weights of its last completed
// step and returns the History of the epochs it completed.
func Context(ctx context.Context) FitOption {
	return func(c *fitConfig) { c.mark("Context"); c.ctx = ctx }
}

// AllowNonFinite lets Fit, Evaluate and Predict take inputs holding NaN or
// ±Inf, which they otherwise refuse, naming the first bad sample: a NaN
// input would not always give a NaN output (relu maps it to 0). Fit still
// refuses any step whose loss, gradients or new weights are not finite.
func AllowNonFinite() FitOption {
	return func(c *fitConfig) { c.mark("AllowNonFinite"); c.allowNonFinite = true }
}

// checkFinite refuses input arrays holding NaN or ±Inf unless c allows
// them, naming the input (one of ins), the sample and the value. With
// onFeed, float32 arrays are not scanned here but marked to be checked as
// feed copies them into the program (one pass over the data instead of
// two); the caller turns feed's report into this error with nonFinite.
func (c *fitConfig) checkFinite(call string, d *dataset, ins []*graph.Tensor, onFeed bool) error {
	if c.allowNonFinite {
		return nil
	}
	for i, a := range d.xs {
		switch {
		case a.finite:
		case onFeed && a.f32 != nil:
			a.checkOnFeed = true
		case a.firstNonFinite() >= 0:
			return nonFinite(call, d, ins, i)
		}
	}
	return nil
}

// nonFinite is the error for input i of d, which holds a NaN or ±Inf.
func nonFinite(call string, d *dataset, ins []*graph.Tensor, i int) error {
	a := d.xs[i]
	j := max(a.firstNonFinite(), 0)
	size := max(a.rowSize(), 1)
	verb := strings.ToLower(strings.SplitN(call, ":", 2)[0])
	if verb == "fit" {
		verb = "train on"
	}
	return errors.Errorf("%s: input %s, sample %d holds %v (at index %d of the sample); pass AllowNonFinite() to %s it anyway",
		call, ins[i].Layer().Name(), j/size, a.value(j), j%size, verb)
}

// cancelled is the context's error, or nil (also without a context).
func (c *fitConfig) cancelled() error {
	if c.ctx == nil {
		return nil
	}
	return c.ctx.Err()
}

// evalCallbacks are the callbacks of an Evaluate or Predict call: the progress
// bar (Verbose 1 or 2), then the Callbacks given.
func (c *fitConfig) evalCallbacks() []Callback {
	if c.verbose == 0 {
		return c.callbacks
	}
	return append([]Callback{NewProgressBar(c.out, c.verbose)}, c.callbacks...)
}

// Output sets where progress is written (default os.Stdout).
func Output(w io.Writer) FitOption { return func(c *fitConfig) { c.mark("Output"); c.out = w } }

// newFitConfig returns the configuration of a call (Fit, Evaluate, …) from
// its options, refusing options the call does not take (allowed lists
// those it does) and invalid values.
func newFitConfig(call string, opts []FitOption, allowed ...string) (*fitConfig, error) {
	c := new(fitConfig)
	if err := c.init(call, opts, allowed...); err != nil {
		return nil, err
	}
	return c, nil
}

// init is newFitConfig into c (Predict's pooled scratch), which it resets.
func (c *fitConfig) init(call string, opts []FitOption, allowed ...string) error {
	*c = fitConfig{epochs: 1, batchSize: 32, shuffle: true, verbose: 1}
	if call != "Fit" {
		c.verbose = 0
	}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	for _, n := range c.set[:c.nset] {
		if !slices.Contains(allowed, n) {
			return errors.Errorf("%s does not take option %s", call, n)
		}
	}
	switch {
	case c.batchSize <= 0:
		return errors.Errorf("%s: batch size must be positive, got %d", call, c.batchSize)
	case c.epochs < 0:
		return errors.Errorf("%s: epochs must not be negative, got %d", call, c.epochs)
	case !(c.validationSplit >= 0 && c.validationSplit < 1): // NaN included
		return errors.Errorf("%s: validation split must be in [0, 1), got %v", call, c.validationSplit)
	case c.verbose < 0 || c.verbose > 2:
		return errors.Errorf("%s: verbose must be 0, 1 or 2, got %d", call, c.verbose)
	case c.initialEpoch < 0:
		return errors.Errorf("%s: initial epoch must not be negative, got %d", call, c.initialEpoch)
	case c.has("Context") && c.ctx == nil:
		return errors.Errorf("%s: Context(nil): give a context (context.Background() for none)", call)
	case c.has("Output") && c.out == nil:
		return errors.Errorf("%s: Output(nil): give a writer (io.Discard to drop the progress)", call)
	}
	if c.has("SampleWeight") && c.has("ClassWeight") {
		return errors.Errorf("%s: give SampleWeight or ClassWeight, not both", call)
	}
	for i, cb := range c.callbacks {
		if cb == nil {
			return errors.Errorf("%s: callback %d is nil", call, i)
		}
	}
	return nil
}

// dataset is checked model data: one array per input and per output, and
// optionally one array of sample weights (shape ()) per output.
type dataset struct {
	xs, ys []*array
	sw     []*array
	n      int
}

func (d *dataset) slice(from, to int) *dataset {
	out := &dataset{n: to - from}
	for _, a := range d.xs {
		out.xs = append(out.xs, a.slice(from, to))
	}
	for _, a := range d.ys {
		out.ys = append(out.ys, a.slice(from, to))
	}
	for _, a := range d.sw {
		out.sw = append(out.sw, a.slice(from, to))
	}
	return out
}

// prepare converts and checks x (and y, when withTargets) against the model.
func (m *Model) prepare(x, y any, withTargets bool) (*dataset, error) {
	d := new(dataset)
	if err := m.prepareInputs(d, new(arraySet), x); err != nil {
		return nil, err
	}
	if !withTargets {
		return d, nil
	}
	return d, m.prepareTargets(d, y)
}

// prepareInputs converts x into arrays held by set and checks them against
// the model's inputs, making d their dataset.
func (m *Model) prepareInputs(d *dataset, set *arraySet, x any) error {
	xs, err := set.convert("x", x)
	if err != nil {
		return err
	}
	*d = dataset{xs: xs, n: xs[0].n}
	return m.checkInputs(d)
}

// checkInputs checks d's input arrays against the model's inputs.
func (m *Model) checkInputs(d *dataset) error {
	ins := m.net.Inputs()
	if len(d.xs) != len(ins) {
		return errors.Errorf("the model has %d inputs but %d input arrays were given", len(ins), len(d.xs))
	}
	if d.n == 0 {
		return errors.New("no samples (the input arrays have 0 rows)")
	}
	for i, a := range d.xs {
		if err := conform(a, m.inputShapes()[i], "input", ins[i].Layer().Name()); err != nil {
			return err
		}
		if a.n != d.n {
			return errors.Errorf("all input arrays should have the same number of samples; got %d and %d", d.n, a.n)
		}
	}
	return nil
}

// prepareTargets converts y and checks it against the model's outputs,
// losses and d's inputs, setting d's targets.
func (m *Model) prepareTargets(d *dataset, y any) error {
	ys, err := new(arraySet).convert("y", y)
	if err != nil {
		return err
	}
	d.ys = ys
	return m.checkTargets(d)
}

// checkTargets makes d's target arrays float64 and checks them against the
// model's outputs and losses and d's inputs.
func (m *Model) checkTargets(d *dataset) error {
	if len(d.ys) != len(m.losses) {
		return errors.Errorf("the model has %d outputs but %d target arrays were given", len(m.losses), len(d.ys))
	}
	for i, a := range d.ys {
		a.float64s()
		out := m.net.Outputs()[i]
		if err := conform(a, m.targets[i], "target", out.Layer().Name()); err != nil {
			return errors.Wrapf(err, "loss %s%s", m.losses[i].Name(), targetHint(m.losses[i].Name(), a.shape, out.Shape()))
		}
		if a.n != d.n {
			return errors.Errorf("input arrays should have the same number of samples as target arrays; found %d input samples and %d target samples", d.n, a.n)
		}
		if err := m.losses[i].CheckTargets(a.data, out.Shape()); err != nil {
			return errors.Wrapf(err, "targets of output %s", out.Layer().Name())
		}
	}
	return nil
}

// feed writes the rows idx of d into p's feeds (inputs, then targets, then
// with targets the sample weights when d has them).
// It returns the index of an input marked checkOnFeed whose rows held a
// NaN or ±Inf, or -1.
func feed(p *graph.Program, d *dataset, idx []int, withTargets bool) int {
	feeds := p.Feeds()
	bad := -1
	for i, a := range d.xs {
		if !gather(feeds[i], a, idx) && bad < 0 {
			bad = i
		}
	}
	if withTargets {
		for i, a := range d.ys {
			gather(feeds[len(d.xs)+i], a, idx)
		}
		for i, a := range d.sw {
			gather(feeds[len(d.xs)+len(d.ys)+i], a, idx)
		}
	}
	return bad
}

// Fit trains the model, as Keras's fit. x and y are arrays
// (*tensor.Dense, [][]float64, [][]float32, []float64, []float32 or []int;
// Multi for several inputs or outputs), or x is a Dataset whose batches
// hold the targets and y is nil. On arrays, each epoch shuffles the
// training samples (unless Shuffle(false)); a Dataset is read as it
// yields its batches, each epoch one pass (or StepsPerEpoch batches). Fit
// runs one optimizer step per batch and evaluates on the validation data
// after each epoch. Arrays are checked before the first step, a Dataset's
// batches as they come (an error names the batch; the weights stay those
// of the last good step). A NaN or Inf loss or gradient stops training with an error
// naming the epoch and batch; the weights are left as they were before that
// step. The History holds the epoch logs so far, also when an error stops Fit.
func (m *Model) Fit(x, y any, opts ...FitOption) (hist *History, err error) {
	defer guard("Fit", &err)
	hist = newHistory()
	if !m.training.CompareAndSwap(false, true) {
		return hist, errors.New("Fit: the model is already training (Fit and TrainOnBatch are exclusive)")
	}
	defer m.training.Store(false)
	f, err := m.newFitRun(x, y, opts)
	if err != nil {
		return hist, err
	}
	defer f.close()
	return hist, f.run(hist)
}

// fitRun is one call of Fit once its arguments are checked: the training
// and validation data, the callbacks, and the buffers every epoch reuses.
type fitRun struct {
	m         *Model
	c         *fitConfig
	data, val *dataset
	// stream and valStream read the training and validation Datasets
	// (instead of data and val).
	stream, valStream *stream
	steps             int // batches per epoch (0: unknown, a Dataset's pass)
	cbs               callbackList
	hooks             hooks      // the optional hooks of cbs
	order             []int      // sample order, shuffled each epoch
	state             *epochLogs // the loss and metrics of the epoch so far
}

// close closes the Datasets' passes being read.
func (f *fitRun) close() {
	for _, s := range []*stream{f.stream, f.valStream} {
		if s != nil {
			s.close()
		}
	}
}

// newFitRun checks Fit's arguments and prepares its data: everything that
// can fail before the first step.
func (m *Model) newFitRun(x, y any, opts []FitOption) (*fitRun, error) {
	if err := m.checkCompiled("Fit"); err != nil {
		return nil, err
	}
	if err := m.checkTrainable("Fit"); err != nil {
		return nil, err
	}
	c, err := newFitConfig("Fit", opts, "Epochs", "BatchSize", "Shuffle", "ValidationSplit",
		"ValidationData", "Verbose", "InitialEpoch", "Callbacks", "Output", "Context", "AllowNonFinite",
		"SampleWeight", "ClassWeight", "StepsPerEpoch")
	if err != nil {
		return nil, err
	}
	if c.initialEpoch > c.epochs {
		return nil, errors.Errorf("Fit: initial epoch %d is past the last epoch %d", c.initialEpoch, c.epochs)
	}
	f := &fitRun{m: m, c: c, state: m.newEpochLogs()}
	if ds, ok := x.(*Dataset); ok {
		if err := refuseWithDataset("Fit", c, y, "ValidationSplit", "SampleWeight"); err != nil {
			return nil, err
		}
		if f.stream, err = m.newStream(ds, c, "Fit", true); err != nil {
			return nil, err
		}
		f.steps = c.stepsPerEpoch
		if c.has("ValidationData") {
			if f.val, f.valStream, err = m.validationData(c); err != nil {
				return nil, err
			}
		}
	} else {
		if c.has("StepsPerEpoch") {
			return nil, errors.New("Fit: StepsPerEpoch applies to a Dataset only (arrays make ceil(samples / batch size) steps)")
		}
		if f.data, f.val, err = m.fitData(c, x, y); err != nil {
			return nil, err
		}
		f.steps = (f.data.n + c.batchSize - 1) / c.batchSize
		f.order = m.sampleOrder(f.data.n)
	}
	var cbs callbackList
	if c.verbose > 0 {
		cbs = append(cbs, NewProgressBar(c.out, c.verbose))
	}
	f.cbs = append(cbs, c.callbacks...)
	f.hooks = newHooks(f.cbs)
	for _, cb := range f.cbs {
		if ch, ok := cb.(interface{ CheckParams(Params) error }); ok {
			if err := ch.CheckParams(f.params()); err != nil {
				return nil, errors.Wrap(err, "Fit")
			}
		}
	}
	return f, nil
}

// fitData prepares the training data and the validation data: the
// ValidationData arrays, or else the last ValidationSplit fraction of the
// samples, or else none.
func (m *Model) fitData(c *fitConfig, x, y any) (data, val *dataset, err error) {
	data, err = m.prepare(x, y, true)
	if err != nil {
		return nil, nil, errors.Wrap(err, "Fit")
	}
	if c.has("SampleWeight") {
		if err := m.sampleWeights(data, "Fit", c.sampleWeight); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case c.has("ValidationData"):
		var vs *stream
		if val, vs, err = m.validationData(c); err != nil {
			return nil, nil, err
		}
		if vs != nil {
			return nil, nil, errors.New("Fit: validation data as a Dataset needs training data as a Dataset too (or give both as arrays)")
		}
	case c.validationSplit > 0:
		split := int(float64(data.n) * (1 - c.validationSplit))
		if split == 0 || split == data.n {
			return nil, nil, errors.Errorf("Fit: validation split %v of %d samples leaves an empty training or validation set", c.validationSplit, data.n)
		}
		data, val = data.slice(0, split), data.slice(split, data.n)
	}
	if c.has("ClassWeight") {
		if err := m.checkClassWeights("Fit", c.classWeight); err != nil {
			return nil, nil, err
		}
		m.classWeights(data, c.classWeight)
	}
	if err := c.checkFinite("Fit", data, m.net.Inputs(), false); err != nil {
		return nil, nil, err
	}
	if val != nil {
		if err := c.checkFinite("Fit: validation data", val, m.net.Inputs(), false); err != nil {
			return nil, nil, err
		}
	}
	return data, val, nil
}

// validationData prepares ValidationData's arrays, or its Dataset.
func (m *Model) validationData(c *fitConfig) (val *dataset, vs *stream, err error) {
	if ds, ok := c.valX.(*Dataset); ok {
		if c.valY != nil || c.valWeight != nil {
			return nil, nil, errors.New("Fit: validation data: y and sample weights must be nil when x is a Dataset (its batches hold them)")
		}
		vs, err = m.newStream(ds, &fitConfig{batchSize: c.batchSize, ctx: c.ctx, allowNonFinite: c.allowNonFinite}, "Fit: validation data", true)
		return nil, vs, err
	}
	if val, err = m.prepare(c.valX, c.valY, true); err != nil {
		return nil, nil, errors.Wrap(err, "Fit: validation data")
	}
	if c.valWeight != nil {
		if err := m.sampleWeights(val, "Fit: validation data", c.valWeight); err != nil {
			return nil, nil, err
		}
	}
	return val, nil, nil
}

// params describes the run to the callbacks. Steps and Samples are 0 when
// unknown (a Dataset without StepsPerEpoch).
func (f *fitRun) params() Params {
	samples := 0
	if f.data != nil {
		samples = f.data.n
	}
	return Params{Epochs: f.c.epochs, InitialEpoch: f.c.initialEpoch, Steps: f.steps, Samples: samples,
		BatchSize: f.c.batchSize, Verbose: f.c.verbose, Validation: f.val != nil || f.valStream != nil, Metrics: f.m.MetricsNames()}
}

// run trains from the initial epoch to the last one, or until a callback
// stops training, recording each epoch's logs in hist.
func (f *fitRun) run(hist *History) error {
	f.cbs.OnTrainBegin(f.m, f.params())
	if err := f.hooks.err(); err != nil {
		return errors.Wrap(err, "Fit")
	}
	start := f.c.initialEpoch
	if e, ok := f.hooks.resumeEpoch(); ok { // BackupAndRestore restored the model
		start = e
		if f.data != nil {
			f.order = f.m.sampleOrder(f.data.n)
		}
	}
	f.m.stop.Store(false)
	var last Logs
	for epoch := start; epoch < f.c.epochs && !f.m.stop.Load(); epoch++ {
		logs, err := f.epoch(epoch)
		if err != nil {
			return err
		}
		f.hooks.addEpochLogs(epoch, &logs)
		hist.add(epoch, logs)
		f.cbs.OnEpochEnd(epoch, logs)
		if err := f.hooks.err(); err != nil {
			return errors.Wrapf(err, "Fit: epoch %d", epoch+1)
		}
		last = logs
	}
	f.cbs.OnTrainEnd(last)
	return nil
}

// epoch runs one epoch: the batches in a fresh order, then the validation,
// and returns the epoch's logs (the training means, then the "val_" values).
func (f *fitRun) epoch(epoch int) (Logs, error) {
	f.cbs.OnEpochBegin(epoch)
	if f.c.shuffle && f.stream == nil { // a Dataset shuffles itself (Dataset.Shuffle)
		f.m.weightsMu.Lock()
		f.m.shuffleRand.Shuffle(len(f.order), func(i, j int) { f.order[i], f.order[j] = f.order[j], f.order[i] })
		f.m.order = append(f.m.order[:0], f.order...)
		f.m.weightsMu.Unlock()
	}
	f.state.reset()
	var src batches = &arrayBatches{d: f.data, order: f.order, size: f.c.batchSize}
	if f.stream != nil {
		f.stream.epoch()
		src = f.stream
	}
	for b := 0; !f.m.stop.Load(); b++ { // StopTraining ends the epoch after its batch, as Keras
		if err := f.c.cancelled(); err != nil {
			return Logs{}, errors.Wrapf(err, "Fit: cancelled before epoch %d, batch %d; the weights are those of the last completed step", epoch+1, b+1)
		}
		d, idx, ok, err := src.next()
		if err != nil {
			return Logs{}, errors.Wrapf(err, "Fit: epoch %d (the weights are those of the last completed step)", epoch+1)
		}
		if !ok {
			break
		}
		if err := f.batch(b, d, idx); err != nil {
			return Logs{}, errors.Wrapf(err, "Fit: epoch %d, batch %d", epoch+1, b+1)
		}
	}
	logs := f.state.logs(append([]string(nil), f.m.names...))
	if f.val != nil || f.valStream != nil {
		if err := f.validate(&logs); err != nil {
			return Logs{}, errors.Wrapf(err, "Fit: epoch %d, validation", epoch+1)
		}
	}
	return logs, nil
}

// batch runs the training step of batch b of the epoch and adds its values
// to the running means the callbacks see.
func (f *fitRun) batch(b int, d *dataset, idx []int) error {
	f.hooks.trainBatchBegin(b)
	if err := f.m.trainStep(d, idx, f.state); err != nil {
		var bad *nonFiniteLoss
		if !errors.As(err, &bad) {
			return err
		}
		// The callbacks see the bad loss, as in Keras; one that stops
		// training (TerminateOnNaN) ends Fit cleanly, else it is an error.
		f.state.means[0].Add(bad.loss, len(idx))
		f.cbs.OnBatchEnd(b, f.state.logs(f.m.names))
		if !f.m.stop.Load() {
			return err
		}
		return f.hooks.err()
	}
	f.cbs.OnBatchEnd(b, f.state.logs(f.m.names))
	return f.hooks.err()
}

// validate evaluates on the validation data and adds the results to logs
// under "val_" names.
func (f *fitRun) validate(logs *Logs) error {
	var src batches
	steps, samples := 0, 0
	if f.valStream != nil {
		f.valStream.epoch()
		src = f.valStream
	} else {
		src = &arrayBatches{d: f.val, size: f.c.batchSize}
		steps, samples = (f.val.n+f.c.batchSize-1)/f.c.batchSize, f.val.n
	}
	f.m.weightsMu.RLock()
	vl, err := f.m.evaluate(src, steps, samples, f.c, &f.hooks)
	f.m.weightsMu.RUnlock()
	if err != nil {
		return err
	}
	for i, n := range vl.Names {
		logs.Set("val_"+n, vl.Values[i])
	}
	return nil
}

// trainStep runs one training step on the samples idx and adds its loss
// and metrics to state. Weights change only if the loss and every gradient
// are finite.
func (m *Model) trainStep(d *dataset, idx []int, state *epochLogs) error {
	p, key, err := m.program(m.trainProgs, d, len(idx), true, true)
	if err != nil {
		return err
	}
	defer m.trainProgs.release(key, p)
	m.weightsMu.Lock() // the step draws dropout masks and writes weights and slots
	defer m.weightsMu.Unlock()
	feed(p, d, idx, true)
	if err := p.Run(true); err != nil {
		return err
	}
	loss := p.Cost()
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return &nonFiniteLoss{loss}
	}
	if err := m.opt.Apply(p.Params(), p.Gradients()); err != nil {
		return errors.Wrap(err, "optimizer step refused; the weights are those before this step")
	}
	p.ApplyUpdates()
	state.add(p, len(idx))
	return nil
}

// nonFiniteLoss is the error of a training step whose loss is NaN or ±Inf.
type nonFiniteLoss struct{ loss float64 }

// Error says what happened and that the step was not applied.
func (e *nonFiniteLoss) Error() string {
	return fmt.Sprintf("the loss is %v; training stopped and the weights are those before this step", e.loss)
}

// Evaluate returns the loss and metrics on (x, y) in inference mode, in
// MetricsNames order (Keras's evaluate): the loss is the mean of the batch
// losses weighted by batch size, and each metric's state starts afresh and
// accumulates over all the batches. Options: BatchSize, Verbose (0, the
// default, silent; 1 Keras's progress bar; 2 one line), Output, Context,
// AllowNonFinite, SampleWeight, and Callbacks, whose TestHooks are called
// (see TestHooks).
func (m *Model) Evaluate(x, y any, opts ...FitOption) (logs Logs, err error) {
	defer guard("Evaluate", &err)
	if err := m.checkCompiled("Evaluate"); err != nil {
		return Logs{}, err
	}
	c, err := newFitConfig("Evaluate", opts, "BatchSize", "Verbose", "Output", "Context", "AllowNonFinite", "Callbacks", "SampleWeight")
	if err != nil {
		return Logs{}, err
	}
	if ds, ok := x.(*Dataset); ok {
		if err := refuseWithDataset("Evaluate", c, y, "SampleWeight"); err != nil {
			return Logs{}, err
		}
		s, err := m.newStream(ds, c, "Evaluate", true)
		if err != nil {
			return Logs{}, err
		}
		defer s.close()
		m.weightsMu.RLock()
		defer m.weightsMu.RUnlock()
		hk := newHooks(c.evalCallbacks())
		logs, err := m.evaluate(s, 0, 0, c, &hk)
		return logs, errors.Wrap(err, "Evaluate")
	}
	d, err := m.samples("Evaluate", x, y)
	if err != nil {
		return Logs{}, err
	}
	if c.has("SampleWeight") {
		if err := m.sampleWeights(d, "Evaluate", c.sampleWeight); err != nil {
			return Logs{}, err
		}
	}
	if err := c.checkFinite("Evaluate", d, m.net.Inputs(), m.dt == tensor.Float32); err != nil {
		return Logs{}, err
	}
	m.weightsMu.RLock()
	defer m.weightsMu.RUnlock()
	hk := newHooks(c.evalCallbacks())
	return m.evaluate(&arrayBatches{d: d, size: c.batchSize}, (d.n+c.batchSize-1)/c.batchSize, d.n, c, &hk)
}

// evaluate runs the batches of src (steps of them, samples in all; 0 when
// unknown), checking c's context before each, and calls the test hooks of
// hk.
func (m *Model) evaluate(src batches, steps, samples int, c *fitConfig, hk *hooks) (Logs, error) {
	state := m.newEpochLogs()
	if len(hk.test) > 0 {
		hk.testBegin(m, Params{Steps: steps, Samples: samples, BatchSize: c.batchSize,
			Verbose: c.verbose, Metrics: m.MetricsNames()})
	}
	for b := 0; ; b++ {
		if err := c.cancelled(); err != nil {
			return Logs{}, errors.Wrap(err, "Evaluate: cancelled")
		}
		d, idx, ok, err := src.next()
		if err != nil {
			return Logs{}, err
		}
		if !ok {
			break
		}
		hk.testBatchBegin(b)
		p, key, err := m.program(m.evalProgs, d, len(idx), false, true)
		if err != nil {
			return Logs{}, err
		}
		if bad := feed(p, d, idx, true); bad >= 0 {
			m.evalProgs.release(key, p)
			return Logs{}, nonFinite("Evaluate", d, m.net.Inputs(), bad)
		}
		err = p.Run(true)
		if err == nil {
			state.add(p, len(idx))
		}
		m.evalProgs.release(key, p)
		if err != nil {
			return Logs{}, err
		}
		if len(hk.test) > 0 {
			hk.testBatchEnd(b, state.logs(m.names))
		}
	}
	logs := state.logs(append([]string(nil), m.names...))
	hk.testEnd(logs)
	return logs, nil
}

// checkCompiled refuses a model that was not compiled; call names the
// entry point in the error.
func (m *Model) checkCompiled(call string) error {
	if !m.compiled {
		return errors.Errorf("%s: the model must be compiled first (call Compile)", call)
	}
	return nil
}

// samples prepares (x, y) for call.
func (m *Model) samples(call string, x, y any) (*dataset, error) {
	d, err := m.prepare(x, y, true)
	return d, errors.Wrap(err, call)
}

// span refills idx with the sample indices from, from+1, ..., to-1.
func span(idx []int, from, to int) []int {
	idx = idx[:0]
	for i := from; i < to; i++ {
		idx = append(idx, i)
	}
	return idx
}

// indices are the sample indices 0, 1, ..., n-1.
func indices(n int) []int { return span(make([]int, 0, n), 0, n) }

// targetHint explains the two classic label mix-ups: one-hot labels given to
// the sparse loss, and class indices given to the categorical one.
func targetHint(loss string, got, output graph.Shape) string {
	switch {
	case loss == "sparse_categorical_crossentropy" && got.Equal(output):
		return " (these look like one-hot labels: use categorical_crossentropy, or pass class indices)"
	case loss == "categorical_crossentropy" && got.Size() == 1 && output.Size() > 1:
		return " (these look like class indices: use sparse_categorical_crossentropy, or one-hot encode them)"
	}
	return ""
}
