package optimizers

import (
	"math"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// kind selects the update rule of an optimizer.
type kind int

const (
	kindAdam kind = iota
	kindSGD
	kindRMSprop
)

// slots is the per-weight state of an optimizer: up to three slices of the
// weight's size and dtype (Adam: m, v, v̂; SGD: momentum; RMSprop: velocity,
// momentum, average gradient). Unused slices stay nil.
type slots struct {
	dt         tensor.Dtype
	n          int
	a, b, c    []float64
	a3, b3, c3 []float32
}

// optimizer implements Optimizer for the three update rules. It is not safe
// for concurrent use.
type optimizer struct {
	kind       kind
	name       string
	allowed    optionBit
	s          settings
	iterations int
	state      map[*graph.Weight]*slots
	// scale is scratch, one entry per parameter: first the gradient's norm,
	// then the factor that norm clipping multiplies it by.
	scale []float64
}

func newOptimizer(k kind, name string, allowed optionBit, s settings, opts []Option) *optimizer {
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	return &optimizer{kind: k, name: name, allowed: allowed, s: s, state: make(map[*graph.Weight]*slots)}
}

// Adam returns Keras's Adam optimizer (KERAS_SEMANTICS §14). Options: LR
// (default 0.001), Beta1 (0.9), Beta2 (0.999), Epsilon (1e-7), Decay (0),
// AMSGrad, ClipNorm, GlobalClipNorm, ClipValue. At step t (from 1), with
// lr_e = lr/(1+decay·(t-1)):
//
//	lr_t = lr_e·sqrt(1-β2^t)/(1-β1^t)
//	m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;  (AMSGrad: v̂ = max(v̂, v))
//	θ = θ - lr_t·m/(sqrt(v or v̂) + ε)
//
// ε is added to the uncorrected sqrt(v), as Keras (not PyTorch) does.
func Adam(opts ...Option) Optimizer {
	return newOptimizer(kindAdam, "adam",
		commonOptions|optBeta1|optBeta2|optEpsilon|optAMSGrad,
		settings{lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7}, opts)
}

// SGD returns Keras's stochastic gradient descent. Options: LR (default
// 0.01), Momentum (0), Nesterov, Decay (0), ClipNorm, GlobalClipNorm,
// ClipValue. With lr_e the decayed learning rate:
//
//	no momentum: θ = θ - lr_e·g
//	momentum μ:  v = μ·v - lr_e·g;  θ = θ + v            (Nesterov: θ = θ + μ·v - lr_e·g)
func SGD(opts ...Option) Optimizer {
	return newOptimizer(kindSGD, "sgd",
		commonOptions|optMomentum|optNesterov,
		settings{lr: 0.01}, opts)
}

// RMSprop returns Keras 3's RMSprop. Options: LR (default 0.001), Rho (0.9),
// Epsilon (1e-7), Momentum (0), Centered, Decay (0), ClipNorm,
// GlobalClipNorm, ClipValue. With lr_e the decayed learning rate:
//
//	v = ρ·v + (1-ρ)·g²
//	centered: a = ρ·a + (1-ρ)·g;  d = v - a² + ε    otherwise d = v + ε
//	inc = lr_e·g/sqrt(d)
//	momentum μ > 0: s = μ·s + inc;  θ = θ - s        otherwise θ = θ - inc
//
// ε is under the square root as in Keras 3 and tf.keras (standalone Keras 2
// and PyTorch add it to sqrt(v) instead).
func RMSprop(opts ...Option) Optimizer {
	return newOptimizer(kindRMSprop, "rmsprop",
		commonOptions|optRho|optEpsilon|optMomentum|optCentered,
		settings{lr: 1e-3, rho: 0.9, epsilon: 1e-7}, opts)
}

// Get returns the optimizer with Keras name name ("adam", "sgd" or
// "rmsprop", any case) and default settings.
func Get(name string) (Optimizer, error) {
	switch strings.ToLower(name) {
	case "adam":
		return Adam(), nil
	case "sgd":
		return SGD(), nil
	case "rmsprop":
		return RMSprop(), nil
	}
	return nil, errors.Errorf("optimizers: unknown optimizer %q (valid names: adam, sgd, rmsprop)", name)
}

// Name implements Optimizer: "adam", "sgd" or "rmsprop".
func (o *optimizer) Name() string { return o.name }

// Validate implements Optimizer. It lists every problem found, each naming
// the option and its value, and allocates nothing when there is none.
func (o *optimizer) Validate() error { return o.s.validate(o.name, o.allowed) }

// LearningRate implements Optimizer: the base rate, before Decay.
func (o *optimizer) LearningRate() float64 { return o.s.lr }

// SetLearningRate implements Optimizer. An invalid rate makes Validate, and
// so the next Apply, fail.
func (o *optimizer) SetLearningRate(lr float64) { o.s.lr = lr }

// Iterations implements Optimizer: the number of steps Apply has made.
func (o *optimizer) Iterations() int { return o.iterations }

// Apply implements Optimizer. Before changing anything it checks the
// configuration, that params and grads align, that every param is an
// initialised trainable weight listed once, and that every gradient has the
// weight's shape and dtype, is contiguous, and holds only finite values. The
// optimizer's state for a weight is allocated on its first step; later steps
// allocate nothing.
func (o *optimizer) Apply(params []*graph.Weight, grads []*tensor.Dense) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if len(params) != len(grads) {
		return errors.Errorf("optimizers: %s: %d weights but %d gradients", o.name, len(params), len(grads))
	}
	if cap(o.scale) < len(params) {
		o.scale = make([]float64, len(params))
	}
	norms := o.scale[:len(params)]
	for i, w := range params {
		if err := o.check(params, i, grads[i]); err != nil {
			return err
		}
		n, bad := gradNorm(grads[i])
		if bad >= 0 {
			return errors.Errorf("optimizers: %s: the gradient of %s holds %v at index %d; no weight was changed",
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
	clip := math.Inf(1)
	if o.s.clipValue > 0 {
		clip = o.s.clipValue
	}

	lr := o.s.lr
	if o.s.decay > 0 {
		lr = lr * (1 / (1 + o.s.decay*float64(o.iterations)))
	}
	t := float64(o.iterations + 1)

	var k kernel
	k.clip = clip
	switch o.kind {
	case kindAdam:
		k.lr = lr * (math.Sqrt(1-math.Pow(o.s.beta2, t)) / (1 - math.Pow(o.s.beta1, t)))
		k.c1, k.c2 = o.s.beta1, o.s.beta2
		k.eps = o.s.epsilon
	case kindSGD:
		k.lr = lr
		k.c1 = o.s.momentum
	case kindRMSprop:
		k.lr = lr
		k.c1, k.c2 = o.s.rho, o.s.momentum
		k.eps = o.s.epsilon
	}

	for i, w := range params {
		st := o.slotsFor(w)
		k.scale = norms[i]
		val := w.Value()
		switch val.Dtype() {
		case tensor.Float64:
			o.update64(&k, st, val.Float64s(), grads[i].Float64s())
		case tensor.Float32:
			o.update32(&k, st, val.Float32s(), grads[i].Float32s())
		}
	}
	o.iterations++
	return nil
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

// slotsFor returns w's state, allocating it on w's first step (or afresh if
// w's dtype or size changed since).
func (o *optimizer) slotsFor(w *graph.Weight) *slots {
	val := w.Value()
	dt, n := val.Dtype(), val.DataSize()
	if st, ok := o.state[w]; ok && st.dt == dt && st.n == n {
		return st
	}
	st := &slots{dt: dt, n: n}
	var need [3]bool
	switch o.kind {
	case kindAdam:
		need = [3]bool{true, true, o.s.amsgrad}
	case kindSGD:
		need = [3]bool{o.s.momentum != 0, false, false}
	case kindRMSprop:
		need = [3]bool{true, o.s.momentum > 0, o.s.centered}
	}
	if dt == tensor.Float64 {
		for j, p := range []*[]float64{&st.a, &st.b, &st.c} {
			if need[j] {
				*p = make([]float64, n)
			}
		}
	} else {
		for j, p := range []*[]float32{&st.a3, &st.b3, &st.c3} {
			if need[j] {
				*p = make([]float32, n)
			}
		}
	}
	o.state[w] = st
	return st
}

// gradNorm returns the L2 norm of g, accumulated in float64, and the index of
// its first NaN or Inf element (-1 if none).
func gradNorm(g *tensor.Dense) (float64, int) {
	var ss float64
	if g.Dtype() == tensor.Float64 {
		d := g.Float64s()
		ss = sumSquares64(d)
		if !finite(ss) {
			for j, x := range d {
				if !finite(x) {
					return 0, j
				}
			}
			return scaledNorm64(d), -1
		}
	} else {
		d := g.Float32s()
		ss = sumSquares32(d)
		if !finite(ss) { // float32 squares cannot overflow a float64 sum
			for j, x := range d {
				if !finite(float64(x)) {
					return 0, j
				}
			}
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
