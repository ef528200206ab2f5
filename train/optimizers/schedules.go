package optimizers

import (
	"math"
	"strconv"

	"github.com/pkg/errors"
)

// Schedule is a learning-rate schedule (Keras 3's
// keras.optimizers.schedules.LearningRateSchedule), given to an optimizer
// by LRSchedule. kerago's schedules are the Keras ones below, plain structs
// whose fields are Keras's arguments (under Keras's names in JSON, as
// SaveSchedule writes them); a struct literal builds one, and NewCosineDecay,
// NewCosineDecayRestarts and NewPolynomialDecay fill in Keras's defaults.
// They compute in float64 (Keras in the dtype of initial_learning_rate,
// float32 by default).
type Schedule interface {
	// LearningRateAt is the learning rate after step steps: an optimizer
	// makes its step t (from 1) at LearningRateAt(t-1), as Keras 3 calls
	// schedule(iterations).
	LearningRateAt(step int) float64
	// ClassName is Keras's class name ("ExponentialDecay").
	ClassName() string
	// Validate reports an invalid parameter, naming it and its value.
	Validate() error
}

// ScheduleOf returns the schedule that drives o's learning rate, or nil if
// o has none (or is not one of kerago's optimizers). A callback that sets
// the learning rate (ReduceLROnPlateau, LearningRateScheduler) checks it
// first: such an optimizer's SetLearningRate is refused.
func ScheduleOf(o Optimizer) Schedule {
	if b, ok := o.(*optimizer); ok {
		return b.s.schedule
	}
	return nil
}

// ExponentialDecay is Keras's ExponentialDecay:
//
//	lr(step) = InitialLearningRate·DecayRate^(step/DecaySteps)
//
// with step/DecaySteps rounded down when Staircase is set. DecaySteps and
// DecayRate must be > 0.
type ExponentialDecay struct {
	InitialLearningRate float64 `json:"initial_learning_rate"`
	DecaySteps          float64 `json:"decay_steps"`
	DecayRate           float64 `json:"decay_rate"`
	Staircase           bool    `json:"staircase"`
}

// LearningRateAt implements Schedule.
func (e ExponentialDecay) LearningRateAt(step int) float64 {
	return e.InitialLearningRate * math.Pow(e.DecayRate, progress(step, e.DecaySteps, e.Staircase))
}

// progress is step/decaySteps, rounded down with staircase.
func progress(step int, decaySteps float64, staircase bool) float64 {
	p := float64(step) / decaySteps
	if staircase {
		p = math.Floor(p)
	}
	return p
}

// ClassName implements Schedule.
func (ExponentialDecay) ClassName() string { return "ExponentialDecay" }

// Validate implements Schedule.
func (e ExponentialDecay) Validate() error {
	return scheduleErrors(e.ClassName(),
		positive("initial_learning_rate", e.InitialLearningRate),
		positive("decay_steps", e.DecaySteps),
		positive("decay_rate", e.DecayRate))
}

// InverseTimeDecay is Keras's InverseTimeDecay:
//
//	lr(step) = InitialLearningRate/(1 + DecayRate·step/DecaySteps)
//
// with step/DecaySteps rounded down when Staircase is set. DecaySteps must
// be > 0 and DecayRate ≥ 0.
type InverseTimeDecay struct {
	InitialLearningRate float64 `json:"initial_learning_rate"`
	DecaySteps          float64 `json:"decay_steps"`
	DecayRate           float64 `json:"decay_rate"`
	Staircase           bool    `json:"staircase"`
}

// LearningRateAt implements Schedule.
func (d InverseTimeDecay) LearningRateAt(step int) float64 {
	return d.InitialLearningRate / (1 + d.DecayRate*progress(step, d.DecaySteps, d.Staircase))
}

// ClassName implements Schedule.
func (InverseTimeDecay) ClassName() string { return "InverseTimeDecay" }

// Validate implements Schedule.
func (d InverseTimeDecay) Validate() error {
	return scheduleErrors(d.ClassName(),
		positive("initial_learning_rate", d.InitialLearningRate),
		positive("decay_steps", d.DecaySteps),
		nonNegativeParam("decay_rate", d.DecayRate))
}

// PiecewiseConstantDecay is Keras's PiecewiseConstantDecay: Values[0] while
// step ≤ Boundaries[0], Values[i] while Boundaries[i-1] < step ≤
// Boundaries[i], and the last value after the last boundary. The
// boundaries must increase strictly, and there must be one value more than
// boundaries, each > 0.
type PiecewiseConstantDecay struct {
	Boundaries []int     `json:"boundaries"`
	Values     []float64 `json:"values"`
}

// LearningRateAt implements Schedule.
func (p PiecewiseConstantDecay) LearningRateAt(step int) float64 {
	for i, b := range p.Boundaries {
		if step <= b {
			return p.Values[i]
		}
	}
	return p.Values[len(p.Values)-1]
}

// ClassName implements Schedule.
func (PiecewiseConstantDecay) ClassName() string { return "PiecewiseConstantDecay" }

// Validate implements Schedule.
func (p PiecewiseConstantDecay) Validate() error {
	var empty, count, order, value string
	if len(p.Boundaries) == 0 {
		empty = "boundaries is empty: give at least one"
	}
	if len(p.Values) != len(p.Boundaries)+1 {
		count = "values has " + strconv.Itoa(len(p.Values)) + " entries and boundaries " +
			strconv.Itoa(len(p.Boundaries)) + ": there must be one value more than boundaries"
	}
	for i := 1; i < len(p.Boundaries); i++ {
		if p.Boundaries[i] <= p.Boundaries[i-1] {
			order = "boundaries must increase strictly, but boundaries[" + strconv.Itoa(i) + "] = " +
				strconv.Itoa(p.Boundaries[i]) + " follows " + strconv.Itoa(p.Boundaries[i-1])
			break
		}
	}
	for i, v := range p.Values {
		if !(v > 0) || !finite(v) {
			value = positive("values["+strconv.Itoa(i)+"]", v)
			break
		}
	}
	return scheduleErrors(p.ClassName(), empty, count, order, value)
}

// PolynomialDecay is Keras's PolynomialDecay: from InitialLearningRate to
// EndLearningRate in DecaySteps steps,
//
//	lr(step) = (InitialLearningRate - EndLearningRate)·(1 - s/D)^Power + EndLearningRate
//
// with s = min(step, DecaySteps) and D = DecaySteps, or with Cycle s = step
// and D the first multiple of DecaySteps ≥ step (DecaySteps at step 0).
// DecaySteps must be > 0, EndLearningRate and Power ≥ 0.
type PolynomialDecay struct {
	InitialLearningRate float64 `json:"initial_learning_rate"`
	DecaySteps          float64 `json:"decay_steps"`
	EndLearningRate     float64 `json:"end_learning_rate"`
	Power               float64 `json:"power"`
	Cycle               bool    `json:"cycle"`
}

// NewPolynomialDecay returns a PolynomialDecay with Keras's defaults:
// EndLearningRate 0.0001, Power 1, no Cycle.
func NewPolynomialDecay(initialLearningRate, decaySteps float64) PolynomialDecay {
	return PolynomialDecay{InitialLearningRate: initialLearningRate, DecaySteps: decaySteps, EndLearningRate: 1e-4, Power: 1}
}

// LearningRateAt implements Schedule.
func (d PolynomialDecay) LearningRateAt(step int) float64 {
	s, ds := float64(step), d.DecaySteps
	if d.Cycle {
		if s != 0 {
			ds *= math.Ceil(s / d.DecaySteps)
		}
	} else {
		s = math.Min(s, ds)
	}
	return (d.InitialLearningRate-d.EndLearningRate)*math.Pow(1-s/ds, d.Power) + d.EndLearningRate
}

// ClassName implements Schedule.
func (PolynomialDecay) ClassName() string { return "PolynomialDecay" }

// Validate implements Schedule.
func (d PolynomialDecay) Validate() error {
	return scheduleErrors(d.ClassName(),
		positive("initial_learning_rate", d.InitialLearningRate),
		positive("decay_steps", d.DecaySteps),
		nonNegativeParam("end_learning_rate", d.EndLearningRate),
		nonNegativeParam("power", d.Power))
}

// CosineDecay is Keras's CosineDecay, with an optional linear warmup. Without
// WarmupTarget (nil):
//
//	lr(step) = InitialLearningRate·((1-Alpha)·0.5·(1 + cos(π·s/DecaySteps)) + Alpha),  s = min(step, DecaySteps)
//
// With a WarmupTarget the rate first rises linearly from
// InitialLearningRate to WarmupTarget over WarmupSteps steps, then decays
// from WarmupTarget as above over the next DecaySteps steps (WarmupSteps
// is ignored without a WarmupTarget, as in Keras). DecaySteps must be > 0,
// Alpha in [0, 1], WarmupSteps ≥ 0; InitialLearningRate may be 0 with a
// WarmupTarget.
type CosineDecay struct {
	InitialLearningRate float64  `json:"initial_learning_rate"`
	DecaySteps          float64  `json:"decay_steps"`
	Alpha               float64  `json:"alpha"`
	WarmupTarget        *float64 `json:"warmup_target"`
	WarmupSteps         float64  `json:"warmup_steps"`
}

// NewCosineDecay returns a CosineDecay with Keras's defaults: Alpha 0, no
// warmup.
func NewCosineDecay(initialLearningRate, decaySteps float64) CosineDecay {
	return CosineDecay{InitialLearningRate: initialLearningRate, DecaySteps: decaySteps}
}

// LearningRateAt implements Schedule.
func (d CosineDecay) LearningRateAt(step int) float64 {
	s := float64(step)
	if d.WarmupTarget == nil {
		return d.InitialLearningRate * cosineFactor(math.Min(s, d.DecaySteps)/d.DecaySteps, d.Alpha, 1)
	}
	target := *d.WarmupTarget
	s = math.Min(s, d.DecaySteps+d.WarmupSteps)
	if s < d.WarmupSteps {
		return (target-d.InitialLearningRate)*(s/d.WarmupSteps) + d.InitialLearningRate
	}
	return target * cosineFactor((s-d.WarmupSteps)/d.DecaySteps, d.Alpha, 1)
}

// cosineFactor is (1-alpha)·0.5·m·(1 + cos(π·f)) + alpha.
func cosineFactor(f, alpha, m float64) float64 {
	return (1-alpha)*(0.5*m*(1+math.Cos(math.Pi*f))) + alpha
}

// ClassName implements Schedule.
func (CosineDecay) ClassName() string { return "CosineDecay" }

// Validate implements Schedule.
func (d CosineDecay) Validate() error {
	// A warmup may start from 0.
	var initial, target string
	if d.WarmupTarget != nil {
		initial = nonNegativeParam("initial_learning_rate", d.InitialLearningRate)
		target = positive("warmup_target", *d.WarmupTarget)
	} else {
		initial = positive("initial_learning_rate", d.InitialLearningRate)
	}
	return scheduleErrors(d.ClassName(),
		initial,
		positive("decay_steps", d.DecaySteps),
		unitInterval("alpha", d.Alpha),
		nonNegativeParam("warmup_steps", d.WarmupSteps),
		target)
}

// CosineDecayRestarts is Keras's CosineDecayRestarts (SGDR, Loshchilov &
// Hutter 2017): cosine decay over FirstDecaySteps steps, then restarts, each
// period TMul times longer than the last and starting at MMul times the
// last one's initial rate:
//
//	lr(step) = InitialLearningRate·((1-Alpha)·0.5·MMul^i·(1 + cos(π·f)) + Alpha)
//
// with i the number of restarts so far and f the fraction of the current
// period done. FirstDecaySteps and TMul must be > 0, MMul ≥ 0, Alpha in
// [0, 1].
type CosineDecayRestarts struct {
	InitialLearningRate float64 `json:"initial_learning_rate"`
	FirstDecaySteps     float64 `json:"first_decay_steps"`
	TMul                float64 `json:"t_mul"`
	MMul                float64 `json:"m_mul"`
	Alpha               float64 `json:"alpha"`
}

// NewCosineDecayRestarts returns a CosineDecayRestarts with Keras's
// defaults: TMul 2, MMul 1, Alpha 0.
func NewCosineDecayRestarts(initialLearningRate, firstDecaySteps float64) CosineDecayRestarts {
	return CosineDecayRestarts{InitialLearningRate: initialLearningRate, FirstDecaySteps: firstDecaySteps, TMul: 2, MMul: 1}
}

// LearningRateAt implements Schedule. As Keras, it finds the period by
// i = floor(log(1 - f·(1-TMul))/log(TMul)) for f = step/FirstDecaySteps
// (f's integer part when TMul is 1).
func (d CosineDecayRestarts) LearningRateAt(step int) float64 {
	f := float64(step) / d.FirstDecaySteps
	var i float64
	if d.TMul == 1 {
		i = math.Floor(f)
		f -= i
	} else {
		i = math.Floor(math.Log(1-f*(1-d.TMul)) / math.Log(d.TMul))
		sum := (1 - math.Pow(d.TMul, i)) / (1 - d.TMul)
		f = (f - sum) / math.Pow(d.TMul, i)
	}
	return d.InitialLearningRate * cosineFactor(f, d.Alpha, math.Pow(d.MMul, i))
}

// ClassName implements Schedule.
func (CosineDecayRestarts) ClassName() string { return "CosineDecayRestarts" }

// Validate implements Schedule.
func (d CosineDecayRestarts) Validate() error {
	return scheduleErrors(d.ClassName(),
		positive("initial_learning_rate", d.InitialLearningRate),
		positive("first_decay_steps", d.FirstDecaySteps),
		positive("t_mul", d.TMul),
		nonNegativeParam("m_mul", d.MMul),
		unitInterval("alpha", d.Alpha))
}

// positive, nonNegativeParam and unitInterval describe what is wrong with
// the parameter called name, or return "".
func positive(name string, v float64) string {
	if v > 0 && finite(v) {
		return ""
	}
	return name + " = " + fmtG(v) + ": must be a finite number > 0"
}

func nonNegativeParam(name string, v float64) string {
	if v >= 0 && finite(v) {
		return ""
	}
	return name + " = " + fmtG(v) + ": must be a finite number ≥ 0"
}

func unitInterval(name string, v float64) string {
	if v >= 0 && v <= 1 {
		return ""
	}
	return name + " = " + fmtG(v) + ": must be in [0, 1]"
}

// scheduleErrors joins the non-empty problems of schedule class into one
// error, or returns nil.
func scheduleErrors(class string, probs ...string) error {
	var msg string
	for _, p := range probs {
		if p == "" {
			continue
		}
		if msg != "" {
			msg += "; "
		}
		msg += p
	}
	if msg == "" {
		return nil
	}
	return errors.Errorf("invalid %s: %s", class, msg)
}
