package optimizers

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/blas"
)

// optimizer is the base every optimizer shares, as Keras 3's BaseOptimizer:
// it implements Optimizer around one update rule, and owns the options and
// their checks, the learning rate and its decay, the iteration count, the
// checks of a step's inputs, clipping, weight decay and the rule's
// per-weight state. It is not safe for concurrent use.
type optimizer struct {
	name       string
	rule       *rule
	allowed    optionBit
	s          settings
	iterations int
	state      map[*graph.Weight]*state
	// scalars is the rule's optimizer-level state (rule.scalars), next its
	// value after the step in progress.
	scalars, next []float64
	// scale is scratch, one entry per parameter: first the gradient's norm,
	// then the factor that norm clipping multiplies it by.
	scale []float64
	// k is scratch: the scalars of the current step (a field, so that
	// passing it to the rule's step allocates nothing).
	k kernel
}

// state is one weight's slots: for each slot of the rule, a slice of the
// weight's size in its dtype, or nil when the configuration does not use
// the slot. Only the slices of the weight's dtype are set. decay records
// whether weight decay applies to the weight.
type state struct {
	dt    tensor.Dtype
	n     int
	decay bool
	s32   [][]float32
	s64   [][]float64
	// back32 and back64 hold the weight and its slots as they were before
	// the current step, view32 and view64 a chunk of the slots, done the
	// elements [0, done) the step changed (commit.go).
	back32, view32 [][]float32
	back64, view64 [][]float64
	done           int
}

// newOptimizer returns the optimizer called name that updates weights by r,
// configured by the defaults s and then opts.
func newOptimizer(name string, r *rule, s settings, opts []Option) *optimizer {
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	o := &optimizer{name: name, rule: r, allowed: commonOptions | r.options, s: s, state: make(map[*graph.Weight]*state)}
	o.resetScalars()
	return o
}

// resetScalars sets the rule's optimizer-level state to its initial values.
func (o *optimizer) resetScalars() {
	if len(o.rule.scalars) == 0 {
		return
	}
	o.scalars = make([]float64, len(o.rule.scalars))
	o.next = make([]float64, len(o.rule.scalars))
	for i, sc := range o.rule.scalars {
		o.scalars[i] = sc.init
	}
}

// Name implements Optimizer: the Keras name, as Names lists it.
func (o *optimizer) Name() string { return o.name }

// Validate implements Optimizer. It lists every problem found, each naming
// the option and its value, and allocates nothing when there is none.
func (o *optimizer) Validate() error { return o.s.validate(o.name, o.allowed, o.rule.check) }

// LearningRate implements Optimizer: the base rate, before Decay; with an
// LRSchedule, the schedule's rate for the next step (Keras's
// optimizer.learning_rate, the schedule at Iterations).
func (o *optimizer) LearningRate() float64 {
	if o.s.schedule != nil {
		return o.s.schedule.LearningRateAt(o.iterations)
	}
	return o.s.lr
}

// SetLearningRate implements Optimizer. An invalid rate makes Validate, and
// so the next Apply, fail. The learning rate of an optimizer driven by an
// LRSchedule cannot be set (Keras raises TypeError, "not settable"): the
// call changes nothing but is recorded, and Validate and every later Apply
// report it. ScheduleOf tells beforehand whether an optimizer has a
// schedule.
func (o *optimizer) SetLearningRate(lr float64) {
	if o.s.schedule != nil {
		o.s.setOnSchedule, o.s.setLR = true, lr
		return
	}
	o.s.lr = lr
}

// Iterations implements Optimizer: the number of steps Apply has made.
func (o *optimizer) Iterations() int { return o.iterations }

// stepLR is the learning rate of the step about to be made: the base rate,
// or the LRSchedule evaluated at Iterations (the steps already made, as
// Keras 3 does), after the legacy decay. Every use of a step's learning
// rate reads it here.
func (o *optimizer) stepLR() float64 {
	lr := o.s.lr
	if o.s.schedule != nil {
		lr = o.s.schedule.LearningRateAt(o.iterations)
	}
	if o.s.decay > 0 {
		lr = lr * (1 / (1 + o.s.decay*float64(o.iterations)))
	}
	return lr
}

// Apply implements Optimizer. Before changing anything it checks the
// configuration, that params and grads align, that every param is an
// initialised trainable weight listed once, and that every gradient has the
// weight's shape and dtype, is contiguous, and holds only finite values.
// After the step it checks that every weight and slot is finite, and undoes
// the whole step otherwise (commit.go). The optimizer's state for a weight
// is allocated on its first step; later steps allocate nothing.
func (o *optimizer) Apply(params []*graph.Weight, grads []*tensor.Dense) error {
	if err := o.Validate(); err != nil {
		return err
	}
	factors, err := o.clipFactors(params, grads)
	if err != nil {
		return err
	}
	lr := o.stepLR()
	k := &o.k
	k.lr, k.clip = lr, math.Inf(1)
	if o.s.clipValue > 0 {
		k.clip = o.s.clipValue
	}
	if o.rule.stepSize != nil {
		k.lr = o.rule.stepSize(&o.s, lr, o.iterations+1)
	}
	if o.rule.prepare != nil {
		o.rule.prepare(&o.s, k, o.iterations+1, o.scalars, o.next)
	}
	for i, w := range params {
		st := o.stateFor(w)
		k.scale = factors[i]
		wd := 0.0 // Keras 3: θ = θ - θ·weight_decay·lr, with the step's lr
		if st.decay {
			wd = lr * o.s.weightDecay
		}
		if err := o.stepWeight(w, grads[i], st, k, wd); err != nil {
			for _, u := range params[:i+1] {
				o.state[u].undoStep(u)
			}
			return err
		}
	}
	copy(o.scalars, o.next)
	o.iterations++
	return nil
}

// step shrinks w by the weight-decay factor wd (if > 0) and then updates it
// by the rule's step f.
func step[T float](f stepFunc[T], s *settings, k *kernel, wd float64, w, g []T, st [][]T) {
	if wd > 0 {
		d := T(wd)
		for i := range w {
			w[i] -= w[i] * d
		}
	}
	f(s, k, w, g, st)
}

// clipFactors checks params and grads and returns, in o.scale, the factor
// that norm clipping multiplies each gradient by (1 without norm clipping).
func (o *optimizer) clipFactors(params []*graph.Weight, grads []*tensor.Dense) ([]float64, error) {
	if len(params) != len(grads) {
		return nil, errors.Errorf("optimizers: %s: %d weights but %d gradients", o.name, len(params), len(grads))
	}
	if cap(o.scale) < len(params) {
		o.scale = make([]float64, len(params))
	}
	norms := o.scale[:len(params)]
	// Without norm clipping only finiteness matters: blas's vector check
	// instead of the sum of squares.
	needNorms := o.s.clipNorm > 0 || o.s.globalClipNorm > 0
	for i, w := range params {
		if err := o.check(params, i, grads[i]); err != nil {
			return nil, err
		}
		n, bad := 0.0, -1
		if needNorms {
			n, bad = gradNorm(grads[i])
		} else if grads[i].Dtype() == tensor.Float64 {
			bad = blas.FirstNonFinite(grads[i].Float64s())
		} else {
			bad = blas.FirstNonFinite(grads[i].Float32s())
		}
		if bad >= 0 {
			return nil, errors.Errorf("optimizers: %s: the gradient of %s holds %v at index %d; no weight was changed",
				o.name, w.Name(), gradAt(grads[i], bad), bad)
		}
		norms[i] = n
	}

	// Clipping factors, replacing the norms.
	switch {
	case o.s.clipNorm > 0:
		c := o.s.clipNorm
		for i, n := range norms {
			norms[i] = c / math.Max(n, c)
		}
	case o.s.globalClipNorm > 0:
		c := o.s.globalClipNorm
		var ss float64
		for _, n := range norms {
			ss += n * n
		}
		n := math.Sqrt(ss)
		if !finite(ss) {
			n = hypotAll(norms)
		}
		f := 1.0
		if n > c {
			f = c / n
		}
		for i := range norms {
			norms[i] = f
		}
	default:
		for i := range norms {
			norms[i] = 1
		}
	}
	return norms, nil
}

// check reports what is wrong with params[i] and its gradient g, if anything.
func (o *optimizer) check(params []*graph.Weight, i int, g *tensor.Dense) error {
	w := params[i]
	if w == nil {
		return errors.Errorf("optimizers: %s: weight %d is nil", o.name, i)
	}
	val := w.Value()
	if val == nil {
		return errors.Errorf("optimizers: %s: weight %s is not initialised", o.name, w.Name())
	}
	if !w.Trainable() {
		return errors.Errorf("optimizers: %s: weight %s is not trainable", o.name, w.Name())
	}
	for _, p := range params[:i] {
		if p == w {
			return errors.Errorf("optimizers: %s: weight %s is listed twice", o.name, w.Name())
		}
	}
	if g == nil {
		return errors.Errorf("optimizers: %s: the gradient of %s is nil", o.name, w.Name())
	}
	if dt := val.Dtype(); dt != tensor.Float64 && dt != tensor.Float32 {
		return errors.Errorf("optimizers: %s: weight %s has dtype %v (float32 or float64 only)", o.name, w.Name(), dt)
	}
	if g.Dtype() != val.Dtype() {
		return errors.Errorf("optimizers: %s: the gradient of %s is %v, the weight is %v", o.name, w.Name(), g.Dtype(), val.Dtype())
	}
	ws, gs := val.Shape(), g.Shape()
	same := len(ws) == len(gs)
	for j := 0; same && j < len(ws); j++ {
		same = ws[j] == gs[j]
	}
	if !same {
		return errors.Errorf("optimizers: %s: the gradient of %s has shape %v, the weight %v", o.name, w.Name(), gs, ws)
	}
	if g.RequiresIterator() || g.DataSize() != val.DataSize() {
		return errors.Errorf("optimizers: %s: the gradient of %s is not a contiguous tensor (materialise it first)", o.name, w.Name())
	}
	return nil
}

// stateFor returns w's state, allocating the slots the rule uses on w's
// first step (or afresh if w's dtype or size changed since).
func (o *optimizer) stateFor(w *graph.Weight) *state {
	val := w.Value()
	dt, n := val.Dtype(), val.DataSize()
	if st, ok := o.state[w]; ok && st.dt == dt && st.n == n {
		return st
	}
	st := o.newState(w, o.rule.slots(&o.s))
	o.state[w] = st
	return st
}

// newState is a fresh state for w: every slot spec uses, at its init.
func (o *optimizer) newState(w *graph.Weight, spec []slot) *state {
	val := w.Value()
	dt, n := val.Dtype(), val.DataSize()
	st := &state{dt: dt, n: n, decay: o.s.decays(w.Name())}
	if dt == tensor.Float64 {
		st.s64 = makeSlots[float64](spec, n)
	} else {
		st.s32 = makeSlots[float32](spec, n)
	}
	return st
}

// makeSlots allocates n elements, set to the slot's init, for each used
// slot of spec.
func makeSlots[T float](spec []slot, n int) [][]T {
	out := make([][]T, len(spec))
	for j, s := range spec {
		if s.used {
			out[j] = make([]T, n)
			if s.init != 0 {
				v := T(s.init)
				for i := range out[j] {
					out[j][i] = v
				}
			}
		}
	}
	return out
}

// gradNorm returns the L2 norm of g, accumulated in float64, and the index of
// its first NaN or Inf element (-1 if none).
func gradNorm(g *tensor.Dense) (float64, int) {
	var ss float64
	if g.Dtype() == tensor.Float64 {
		d := g.Float64s()
		ss = sumSquares64(d)
		if !finite(ss) {
			if j := blas.FirstNonFinite(d); j >= 0 {
				return 0, j
			}
			return scaledNorm64(d), -1
		}
	} else {
		d := g.Float32s()
		ss = sumSquares32(d)
		if !finite(ss) { // float32 squares cannot overflow a float64 sum
			return 0, blas.FirstNonFinite(d)
		}
	}
	return math.Sqrt(ss), -1
}

func gradAt(g *tensor.Dense, j int) float64 {
	if g.Dtype() == tensor.Float64 {
		return g.Float64s()[j]
	}
	return float64(g.Float32s()[j])
}

// sumSquares64 is Σx² with four accumulators (NaN or Inf if any x is).
func sumSquares64(d []float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(d); i += 4 {
		x := d[i : i+4 : i+4]
		s0 += x[0] * x[0]
		s1 += x[1] * x[1]
		s2 += x[2] * x[2]
		s3 += x[3] * x[3]
	}
	for ; i < len(d); i++ {
		s0 += d[i] * d[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func sumSquares32(d []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(d); i += 4 {
		x := d[i : i+4 : i+4]
		a, b, c, e := float64(x[0]), float64(x[1]), float64(x[2]), float64(x[3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += e * e
	}
	for ; i < len(d); i++ {
		a := float64(d[i])
		s0 += a * a
	}
	return (s0 + s1) + (s2 + s3)
}

// scaledNorm64 is the L2 norm of finite values whose squares overflow.
func scaledNorm64(d []float64) float64 {
	var m float64
	for _, x := range d {
		m = math.Max(m, math.Abs(x))
	}
	var s float64
	for _, x := range d {
		y := x / m
		s += y * y
	}
	return m * math.Sqrt(s)
}

// hypotAll is sqrt(Σ n²) without overflow.
func hypotAll(ns []float64) float64 {
	var m float64
	for _, n := range ns {
		m = math.Max(m, n)
	}
	if m == 0 || math.IsInf(m, 1) {
		return m
	}
	var s float64
	for _, n := range ns {
		y := n / m
		s += y * y
	}
	return m * math.Sqrt(s)
}
