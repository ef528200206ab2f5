package train

import (
	"io"
	"math"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/metrics"
)

// FitOption configures Fit, Evaluate and Predict (each takes the options
// that apply to it and rejects the others).
type FitOption func(*fitConfig)

type fitConfig struct {
	set             map[string]bool
	epochs          int
	batchSize       int
	shuffle         bool
	validationSplit float64
	valX, valY      any
	verbose         int
	initialEpoch    int
	callbacks       []Callback
	out             io.Writer
}

func (c *fitConfig) mark(n string) { c.set[n] = true }

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
// over ValidationSplit.
func ValidationData(x, y any) FitOption {
	return func(c *fitConfig) { c.mark("ValidationData"); c.valX, c.valY = x, y }
}

// Verbose sets the output: 0 silent, 1 progress bar (Fit's default), 2 one
// line per epoch. Evaluate and Predict default to silent.
func Verbose(v int) FitOption { return func(c *fitConfig) { c.mark("Verbose"); c.verbose = v } }

// InitialEpoch is the epoch to start at (to resume training; default 0).
func InitialEpoch(e int) FitOption {
	return func(c *fitConfig) { c.mark("InitialEpoch"); c.initialEpoch = e }
}

// Callbacks adds callbacks to Fit (History and the progress bar are added
// automatically).
func Callbacks(cbs ...Callback) FitOption {
	return func(c *fitConfig) { c.mark("Callbacks"); c.callbacks = append(c.callbacks, cbs...) }
}

// Output sets where progress is written (default os.Stdout).
func Output(w io.Writer) FitOption { return func(c *fitConfig) { c.mark("Output"); c.out = w } }

func newFitConfig(call string, opts []FitOption, allowed ...string) (*fitConfig, error) {
	c := &fitConfig{set: map[string]bool{}, epochs: 1, batchSize: 32, shuffle: true, verbose: 1}
	if call != "Fit" {
		c.verbose = 0
	}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for n := range c.set {
		if !ok[n] {
			return nil, errors.Errorf("%s does not take option %s", call, n)
		}
	}
	switch {
	case c.batchSize <= 0:
		return nil, errors.Errorf("%s: batch size must be positive, got %d", call, c.batchSize)
	case c.epochs < 0:
		return nil, errors.Errorf("%s: epochs must not be negative, got %d", call, c.epochs)
	case c.validationSplit < 0 || c.validationSplit >= 1:
		return nil, errors.Errorf("%s: validation split must be in [0, 1), got %v", call, c.validationSplit)
	case c.verbose < 0 || c.verbose > 2:
		return nil, errors.Errorf("%s: verbose must be 0, 1 or 2, got %d", call, c.verbose)
	case c.initialEpoch < 0:
		return nil, errors.Errorf("%s: initial epoch must not be negative, got %d", call, c.initialEpoch)
	}
	return c, nil
}

// dataset is checked model data: one array per input and per output.
type dataset struct {
	xs, ys []*array
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
	return out
}

// prepare converts and checks x (and y, when withTargets) against the model.
func (m *Model) prepare(x, y any, withTargets bool) (*dataset, error) {
	ins := m.net.Inputs()
	xs, err := toArrays("x", x)
	if err != nil {
		return nil, err
	}
	if len(xs) != len(ins) {
		return nil, errors.Errorf("the model has %d inputs but %d input arrays were given", len(ins), len(xs))
	}
	d := &dataset{xs: xs, n: xs[0].n}
	for i, a := range xs {
		if err := conform(a, ins[i].Shape(), "input", ins[i].Layer().Name()); err != nil {
			return nil, err
		}
		if a.n != d.n {
			return nil, errors.Errorf("all input arrays should have the same number of samples; got %d and %d", d.n, a.n)
		}
	}
	if !withTargets {
		return d, nil
	}
	ys, err := toArrays("y", y)
	if err != nil {
		return nil, err
	}
	if len(ys) != len(m.losses) {
		return nil, errors.Errorf("the model has %d outputs but %d target arrays were given", len(m.losses), len(ys))
	}
	for i, a := range ys {
		out := m.net.Outputs()[i]
		if err := conform(a, m.targets[i], "target", out.Layer().Name()); err != nil {
			return nil, errors.Wrapf(err, "loss %s%s", m.losses[i].Name(), targetHint(m.losses[i].Name(), a.shape, out.Shape()))
		}
		if a.n != d.n {
			return nil, errors.Errorf("input arrays should have the same number of samples as target arrays; found %d input samples and %d target samples", d.n, a.n)
		}
		if err := m.losses[i].CheckTargets(a.data, out.Shape()); err != nil {
			return nil, errors.Wrapf(err, "targets of output %s", out.Layer().Name())
		}
	}
	d.ys = ys
	return d, nil
}

func (m *Model) program(cache map[int]*graph.Program, batch int, training, withHead bool) (*graph.Program, error) {
	if p, ok := cache[batch]; ok {
		return p, nil
	}
	spec := graph.ProgramSpec{Training: training, Batch: batch, Rand: m.dropoutRand}
	if withHead {
		spec.Head = m.head
	}
	p, err := graph.NewProgram(m.net, spec)
	if err != nil {
		return nil, err
	}
	cache[batch] = p
	return p, nil
}

// feed writes the rows idx of d into p's feeds (inputs, then targets).
func feed(p *graph.Program, d *dataset, idx []int, withTargets bool) {
	feeds := p.Feeds()
	for i, a := range d.xs {
		gather(feeds[i], a, idx)
	}
	if withTargets {
		for i, a := range d.ys {
			gather(feeds[len(d.xs)+i], a, idx)
		}
	}
}

// Fit trains the model, as Keras's fit: for each epoch it shuffles the
// training samples (unless Shuffle(false)), runs one optimizer step per
// batch, and evaluates on the validation data. Everything is checked before
// the first step. A NaN or Inf loss or gradient stops training with an error
// naming the epoch and batch; the weights are left as they were before that
// step. The History holds the epoch logs so far, also when an error stops Fit.
func (m *Model) Fit(x, y any, opts ...FitOption) (hist *History, err error) {
	defer guard("Fit", &err)
	hist = newHistory()
	if !m.compiled {
		return hist, errors.New("Fit: the model must be compiled first (call Compile)")
	}
	c, err := newFitConfig("Fit", opts, "Epochs", "BatchSize", "Shuffle", "ValidationSplit",
		"ValidationData", "Verbose", "InitialEpoch", "Callbacks", "Output")
	if err != nil {
		return hist, err
	}
	data, err := m.prepare(x, y, true)
	if err != nil {
		return hist, errors.Wrap(err, "Fit")
	}
	var val *dataset
	switch {
	case c.set["ValidationData"]:
		if val, err = m.prepare(c.valX, c.valY, true); err != nil {
			return hist, errors.Wrap(err, "Fit: validation data")
		}
	case c.validationSplit > 0:
		split := int(float64(data.n) * (1 - c.validationSplit))
		if split == 0 || split == data.n {
			return hist, errors.Errorf("Fit: validation split %v of %d samples leaves an empty training or validation set", c.validationSplit, data.n)
		}
		data, val = data.slice(0, split), data.slice(split, data.n)
	}
	if data.n == 0 {
		return hist, errors.New("Fit: no training samples")
	}
	if c.initialEpoch > c.epochs {
		return hist, errors.Errorf("Fit: initial epoch %d is past the last epoch %d", c.initialEpoch, c.epochs)
	}
	steps := (data.n + c.batchSize - 1) / c.batchSize
	params := Params{Epochs: c.epochs, InitialEpoch: c.initialEpoch, Steps: steps, Samples: data.n,
		BatchSize: c.batchSize, Verbose: c.verbose, Validation: val != nil, Metrics: m.MetricsNames()}
	var cbs []Callback
	if c.verbose > 0 {
		cbs = append(cbs, NewProgressBar(c.out, c.verbose))
	}
	cbs = append(cbs, c.callbacks...)
	for _, cb := range cbs {
		cb.OnTrainBegin(m, params)
	}
	m.stop = false
	order := make([]int, data.n)
	for i := range order {
		order[i] = i
	}
	means := make([]metrics.Mean, len(m.names))
	var vals []float64 // reused by every step
	var last Logs
	for epoch := c.initialEpoch; epoch < c.epochs && !m.stop; epoch++ {
		for _, cb := range cbs {
			cb.OnEpochBegin(epoch)
		}
		if c.shuffle {
			m.shuffleRand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		for i := range means {
			means[i].Reset()
		}
		for b := 0; b < steps; b++ {
			var err error
			idx := order[b*c.batchSize : min((b+1)*c.batchSize, data.n)]
			vals, err = m.trainStepInto(data, idx, vals[:0])
			if err != nil {
				return hist, errors.Wrapf(err, "Fit: epoch %d, batch %d", epoch+1, b+1)
			}
			for i, v := range vals {
				means[i].Add(v, len(idx))
			}
			logs := Logs{Names: m.names, Values: make([]float64, len(means))}
			for i := range means {
				logs.Values[i] = means[i].Result()
			}
			for _, cb := range cbs {
				cb.OnBatchEnd(b, logs)
			}
		}
		logs := Logs{Names: append([]string(nil), m.names...), Values: make([]float64, len(means))}
		for i := range means {
			logs.Values[i] = means[i].Result()
		}
		if val != nil {
			vl, err := m.evaluate(val, c.batchSize)
			if err != nil {
				return hist, errors.Wrapf(err, "Fit: epoch %d, validation", epoch+1)
			}
			for i, n := range vl.Names {
				logs.Set("val_"+n, vl.Values[i])
			}
		}
		hist.add(epoch, logs)
		for _, cb := range cbs {
			cb.OnEpochEnd(epoch, logs)
		}
		last = logs
	}
	for _, cb := range cbs {
		cb.OnTrainEnd(last)
	}
	return hist, nil
}

// trainStep runs one training step on the samples idx and returns the loss
// and the reports, in MetricsNames order. Weights change only if the loss
// and every gradient are finite.
func (m *Model) trainStep(d *dataset, idx []int) ([]float64, error) {
	return m.trainStepInto(d, idx, nil)
}

// trainStepInto is trainStep appending the values to dst.
func (m *Model) trainStepInto(d *dataset, idx []int, dst []float64) ([]float64, error) {
	p, err := m.program(m.trainProgs, len(idx), true, true)
	if err != nil {
		return nil, err
	}
	feed(p, d, idx, true)
	if err := p.Run(true); err != nil {
		return nil, err
	}
	loss := p.Cost()
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return nil, errors.Errorf("the loss is %v; training stopped and the weights are those before this step", loss)
	}
	if err := m.opt.Apply(p.Params(), p.Gradients()); err != nil {
		return nil, errors.Wrap(err, "optimizer step refused; the weights are those before this step")
	}
	p.ApplyUpdates()
	vals := append(dst, loss)
	for i := range p.Reports() {
		vals = append(vals, p.ReportValue(i))
	}
	return vals, nil
}

// Evaluate returns the loss and metrics on (x, y) in inference mode, each the
// sample-weighted mean over batches, in MetricsNames order (Keras's
// evaluate). Options: BatchSize, Verbose (0 or not).
func (m *Model) Evaluate(x, y any, opts ...FitOption) (logs Logs, err error) {
	defer guard("Evaluate", &err)
	if !m.compiled {
		return Logs{}, errors.New("Evaluate: the model must be compiled first (call Compile)")
	}
	c, err := newFitConfig("Evaluate", opts, "BatchSize", "Verbose", "Output")
	if err != nil {
		return Logs{}, err
	}
	d, err := m.prepare(x, y, true)
	if err != nil {
		return Logs{}, errors.Wrap(err, "Evaluate")
	}
	if d.n == 0 {
		return Logs{}, errors.New("Evaluate: no samples")
	}
	return m.evaluate(d, c.batchSize)
}

func (m *Model) evaluate(d *dataset, batchSize int) (Logs, error) {
	means := make([]metrics.Mean, len(m.names))
	idx := make([]int, 0, batchSize)
	for from := 0; from < d.n; from += batchSize {
		idx = idx[:0]
		for i := from; i < min(from+batchSize, d.n); i++ {
			idx = append(idx, i)
		}
		p, err := m.program(m.evalProgs, len(idx), false, true)
		if err != nil {
			return Logs{}, err
		}
		feed(p, d, idx, true)
		if err := p.Run(true); err != nil {
			return Logs{}, err
		}
		means[0].Add(p.Cost(), len(idx))
		for i := range p.Reports() {
			means[i+1].Add(p.ReportValue(i), len(idx))
		}
	}
	logs := Logs{Names: append([]string(nil), m.names...), Values: make([]float64, len(means))}
	for i := range means {
		logs.Values[i] = means[i].Result()
	}
	return logs, nil
}

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
