package optimizers

import (
	"math"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// Option configures an optimizer built by its constructor (Adam, SGD, …) or
// New. Options are not checked when they are given: Validate (and every
// Apply) reports a bad value or an option that the optimizer does not have.
type Option func(*settings)

// optionBit identifies one option, to check that it applies to the optimizer.
type optionBit uint32

const (
	optLR optionBit = 1 << iota
	optBeta1
	optBeta2
	optEpsilon
	optDecay
	optAMSGrad
	optMomentum
	optNesterov
	optRho
	optCentered
	optClipNorm
	optGlobalClipNorm
	optClipValue
	optWeightDecay
	optExcludeFromWeightDecay
	optInitialAccumulator
	optLRSchedule
)

// optionNames lists the options in the order Validate reports them.
var optionNames = []struct {
	bit  optionBit
	name string
}{
	{optLR, "LR"}, {optBeta1, "Beta1"}, {optBeta2, "Beta2"}, {optEpsilon, "Epsilon"},
	{optDecay, "Decay"}, {optAMSGrad, "AMSGrad"}, {optMomentum, "Momentum"},
	{optNesterov, "Nesterov"}, {optRho, "Rho"}, {optCentered, "Centered"},
	{optClipNorm, "ClipNorm"}, {optGlobalClipNorm, "GlobalClipNorm"}, {optClipValue, "ClipValue"},
	{optWeightDecay, "WeightDecay"}, {optExcludeFromWeightDecay, "ExcludeFromWeightDecay"},
	{optInitialAccumulator, "InitialAccumulator"}, {optLRSchedule, "LRSchedule"},
}

// commonOptions are the options the base gives every optimizer.
const commonOptions = optLR | optDecay | optClipNorm | optGlobalClipNorm | optClipValue |
	optWeightDecay | optExcludeFromWeightDecay | optLRSchedule

// settings is the configuration of an optimizer, one struct for all of
// them. A zero clip value means "no clipping"; the options themselves
// reject zero.
type settings struct {
	lr, beta1, beta2, epsilon, decay, momentum, rho float64
	amsgrad, nesterov, centered                     bool
	clipNorm, globalClipNorm, clipValue             float64
	weightDecay                                     float64
	// initialAccumulator is Adagrad's initial_accumulator_value.
	initialAccumulator float64
	// schedule, when not nil, gives each step's learning rate in lr's
	// place; setOnSchedule records a SetLearningRate(setLR) refused
	// because of it.
	schedule      Schedule
	setOnSchedule bool
	setLR         float64
	// exclude are the name fragments of ExcludeFromWeightDecay.
	exclude []string
	// given records which options were passed, to reject foreign ones and
	// to tell "ClipNorm(0)" (invalid) from "no ClipNorm".
	given optionBit
}

// LR sets the base learning rate (Keras learning_rate, K2.2 lr). Defaults:
// SGD 0.01, every other optimizer 0.001 (Keras 3's). It must be > 0. It
// cannot be combined with LRSchedule.
func LR(lr float64) Option {
	return func(s *settings) { s.lr = lr; s.given |= optLR }
}

// Beta1 sets the decay rate of the first-moment average of Adam, AdamW,
// Adamax, Nadam (default 0.9, in [0, 1)) and Lion (default 0.9, in (0, 1):
// the rate of the interpolation whose sign Lion steps by).
func Beta1(b float64) Option {
	return func(s *settings) { s.beta1 = b; s.given |= optBeta1 }
}

// Beta2 sets the decay rate of the second-moment average of Adam, AdamW
// and Nadam (default 0.999), of Adamax's infinity norm (0.999) and of
// Lion's momentum (0.99), in [0, 1).
func Beta2(b float64) Option {
	return func(s *settings) { s.beta2 = b; s.given |= optBeta2 }
}

// Epsilon sets the fuzz factor of Adam, AdamW, Adamax, Nadam, RMSprop,
// Adagrad and Adadelta (default 1e-7, Keras's K.epsilon()); it must be ≥ 0.
// Adam, Adamax and Nadam add it to their denominator; RMSprop, Adagrad and
// Adadelta add it under the square root (Keras 3).
func Epsilon(eps float64) Option {
	return func(s *settings) { s.epsilon = eps; s.given |= optEpsilon }
}

// Decay sets the legacy Keras 2 learning-rate decay (default 0): step t uses
// lr·1/(1+decay·iterations), where iterations counts the steps before it.
// It must be ≥ 0.
func Decay(decay float64) Option {
	return func(s *settings) { s.decay = decay; s.given |= optDecay }
}

// AMSGrad makes Adam use the AMSGrad variant: the running maximum of v
// divides the step.
func AMSGrad() Option {
	return func(s *settings) { s.amsgrad = true; s.given |= optAMSGrad }
}

// Momentum sets the momentum of SGD or RMSprop (default 0), in [0, 1].
func Momentum(m float64) Option {
	return func(s *settings) { s.momentum = m; s.given |= optMomentum }
}

// Nesterov makes SGD use Nesterov momentum.
func Nesterov() Option {
	return func(s *settings) { s.nesterov = true; s.given |= optNesterov }
}

// Rho sets the decay rate of the squared-gradient average of RMSprop
// (default 0.9) and Adadelta (default 0.95, which also averages the squared
// updates with it), in [0, 1).
func Rho(rho float64) Option {
	return func(s *settings) { s.rho = rho; s.given |= optRho }
}

// Centered makes RMSprop divide by an estimate of the gradient's variance
// (mean of g² minus the square of the mean of g) instead of the mean of g².
func Centered() Option {
	return func(s *settings) { s.centered = true; s.given |= optCentered }
}

// ClipNorm clips each gradient tensor separately to norm c before the update:
// g·c/max(‖g‖, c) (tf.keras and Keras 3 clipnorm). c must be > 0. It cannot
// be combined with GlobalClipNorm.
func ClipNorm(c float64) Option {
	return func(s *settings) { s.clipNorm = c; s.given |= optClipNorm }
}

// GlobalClipNorm clips all gradients together: with n the norm over every
// gradient of the step, if n > c each gradient is multiplied by c/n
// (standalone Keras 2.x clipnorm, tf.keras global_clipnorm). c must be > 0.
func GlobalClipNorm(c float64) Option {
	return func(s *settings) { s.globalClipNorm = c; s.given |= optGlobalClipNorm }
}

// ClipValue clips every gradient element to [-v, v]. v must be > 0. Combined
// with ClipNorm or GlobalClipNorm, norm clipping comes first (as in Keras 2).
func ClipValue(v float64) Option {
	return func(s *settings) { s.clipValue = v; s.given |= optClipValue }
}

// WeightDecay sets the decoupled weight decay wd (Keras 3 weight_decay,
// which every Keras 3 optimizer takes): each step first shrinks every weight
// not excluded by ExcludeFromWeightDecay as θ = θ - θ·wd·lr_e, with lr_e the
// step's learning rate (after Decay), and then makes the optimizer's update.
// Default 0 (off) for every optimizer but AdamW. It must be a finite number
// ≥ 0.
func WeightDecay(wd float64) Option {
	return func(s *settings) { s.weightDecay = wd; s.given |= optWeightDecay }
}

// ExcludeFromWeightDecay exempts from WeightDecay every weight whose name
// contains one of names, as plain substrings: "bias" exempts every
// "…/bias" (Keras 3 exclude_from_weight_decay(var_names=…), which reads
// them as regular expressions). Given twice, the last one counts. The names
// must not be empty, and it takes a WeightDecay > 0 to have an effect.
func ExcludeFromWeightDecay(names ...string) Option {
	names = append([]string(nil), names...)
	return func(s *settings) { s.exclude = names; s.given |= optExcludeFromWeightDecay }
}

// InitialAccumulator sets the value Adagrad's accumulator of squared
// gradients starts at (Keras initial_accumulator_value, default 0.1). It
// must be a finite number ≥ 0.
func InitialAccumulator(v float64) Option {
	return func(s *settings) { s.initialAccumulator = v; s.given |= optInitialAccumulator }
}

// LRSchedule makes sched give the learning rate of every step in place of
// LR, as Keras 3 does when learning_rate is a LearningRateSchedule: step t
// (from 1) uses sched.LearningRateAt(t-1), the schedule at the number of
// steps already made. The legacy Decay, if given, then applies on top of
// it (lr/(1+decay·iterations), as tf.keras 2's optimizers did; Keras 3 has
// no Decay). LearningRate reports the schedule's rate for the next step,
// and SetLearningRate is refused (see Optimizer.SetLearningRate). sched
// must not be nil, nor be combined with LR; its parameters are checked by
// Validate.
func LRSchedule(sched Schedule) Option {
	return func(s *settings) { s.schedule = sched; s.given |= optLRSchedule }
}

// decays reports whether weight decay applies to the weight called name.
func (s *settings) decays(name string) bool {
	if !(s.weightDecay > 0) {
		return false
	}
	for _, x := range s.exclude {
		if strings.Contains(name, x) {
			return false
		}
	}
	return true
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func fmtG(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// validate checks s for an optimizer called name that accepts the options in
// allowed and whose rule has the extra check (nil for none). It allocates
// only when it finds a problem.
func (s *settings) validate(name string, allowed optionBit, check func(*settings) string) error {
	var probs []string
	add := func(p string) { probs = append(probs, p) }
	if foreign := s.given &^ allowed; foreign != 0 {
		for _, o := range optionNames {
			if foreign&o.bit != 0 {
				add(s.optionString(o.bit, o.name) + " does not apply to " + name + " (its options: " + listOptions(allowed) + ")")
			}
		}
	}
	if !(s.lr > 0) || !finite(s.lr) {
		add("LR(" + fmtG(s.lr) + "): the learning rate must be a finite number > 0")
	}
	if s.given&optLRSchedule != 0 {
		switch {
		case s.schedule == nil:
			add("LRSchedule(nil): a schedule is required")
		case s.given&optLR != 0:
			add("LR(" + fmtG(s.lr) + ") and LRSchedule(" + s.schedule.ClassName() +
				") cannot be combined: the schedule gives the learning rate")
		default:
			if err := s.schedule.Validate(); err != nil {
				add("LRSchedule(" + s.schedule.ClassName() + "): " + err.Error())
			}
		}
		if s.setOnSchedule {
			add("SetLearningRate(" + fmtG(s.setLR) + ") was called, but the learning rate follows the schedule " +
				s.schedule.ClassName() + " and is not settable (build the optimizer with LR instead of LRSchedule to set it)")
		}
	}
	nonNegative := func(name string, v float64) {
		if !(v >= 0) || !finite(v) {
			add(name + "(" + fmtG(v) + "): must be a finite number ≥ 0")
		}
	}
	nonNegative("Decay", s.decay)
	nonNegative("WeightDecay", s.weightDecay)
	if allowed&optBeta1 != 0 && !(s.beta1 >= 0 && s.beta1 < 1) {
		add("Beta1(" + fmtG(s.beta1) + "): must be in [0, 1)")
	}
	if allowed&optBeta2 != 0 && !(s.beta2 >= 0 && s.beta2 < 1) {
		add("Beta2(" + fmtG(s.beta2) + "): must be in [0, 1)")
	}
	if allowed&optEpsilon != 0 {
		nonNegative("Epsilon", s.epsilon)
	}
	if allowed&optMomentum != 0 && !(s.momentum >= 0 && s.momentum <= 1) {
		add("Momentum(" + fmtG(s.momentum) + "): must be in [0, 1]")
	}
	if allowed&optRho != 0 && !(s.rho >= 0 && s.rho < 1) {
		add("Rho(" + fmtG(s.rho) + "): must be in [0, 1)")
	}
	if allowed&optInitialAccumulator != 0 {
		nonNegative("InitialAccumulator", s.initialAccumulator)
	}
	if check != nil {
		if p := check(s); p != "" {
			add(p)
		}
	}
	for _, c := range []struct {
		bit  optionBit
		name string
		v    float64
	}{{optClipNorm, "ClipNorm", s.clipNorm}, {optGlobalClipNorm, "GlobalClipNorm", s.globalClipNorm}, {optClipValue, "ClipValue", s.clipValue}} {
		if s.given&c.bit != 0 && (!(c.v > 0) || !finite(c.v)) {
			add(c.name + "(" + fmtG(c.v) + "): must be a finite number > 0")
		}
	}
	if s.given&optClipNorm != 0 && s.given&optGlobalClipNorm != 0 {
		add("ClipNorm(" + fmtG(s.clipNorm) + ") and GlobalClipNorm(" + fmtG(s.globalClipNorm) +
			") cannot be combined: choose per-tensor or global norm clipping")
	}
	if s.given&optExcludeFromWeightDecay != 0 {
		for _, x := range s.exclude {
			if x == "" {
				add(s.optionString(optExcludeFromWeightDecay, "ExcludeFromWeightDecay") + ": an empty name would exclude every weight")
				break
			}
		}
		if !(s.weightDecay > 0) {
			add(s.optionString(optExcludeFromWeightDecay, "ExcludeFromWeightDecay") + " has no effect without a WeightDecay > 0")
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return errors.Errorf("optimizers: invalid %s configuration: %s", name, strings.Join(probs, "; "))
}

// optionString formats an option with its value, as the user wrote it:
// "Momentum(0.9)", "AMSGrad()".
func (s *settings) optionString(bit optionBit, name string) string {
	var v float64
	switch bit {
	case optLR:
		v = s.lr
	case optBeta1:
		v = s.beta1
	case optBeta2:
		v = s.beta2
	case optEpsilon:
		v = s.epsilon
	case optDecay:
		v = s.decay
	case optMomentum:
		v = s.momentum
	case optRho:
		v = s.rho
	case optClipNorm:
		v = s.clipNorm
	case optGlobalClipNorm:
		v = s.globalClipNorm
	case optClipValue:
		v = s.clipValue
	case optWeightDecay:
		v = s.weightDecay
	case optInitialAccumulator:
		v = s.initialAccumulator
	case optLRSchedule:
		if s.schedule == nil {
			return name + "(nil)"
		}
		return name + "(" + s.schedule.ClassName() + ")"
	case optExcludeFromWeightDecay:
		q := make([]string, len(s.exclude))
		for i, x := range s.exclude {
			q[i] = strconv.Quote(x)
		}
		return name + "(" + strings.Join(q, ", ") + ")"
	default: // AMSGrad, Nesterov, Centered take no value
		return name + "()"
	}
	return name + "(" + fmtG(v) + ")"
}

func listOptions(allowed optionBit) string {
	var names []string
	for _, o := range optionNames {
		if allowed&o.bit != 0 {
			names = append(names, o.name)
		}
	}
	return strings.Join(names, ", ")
}
