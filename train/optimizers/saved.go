package optimizers

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// Saving an optimizer so that training resumes exactly: its configuration
// (Saved.Config, the options given, by Keras's argument names) and its
// state (the iteration count and every weight's slots, in full precision).

// SavedConfig is an optimizer's configuration: its Keras name and the
// options it was given, by Keras's argument names (learning_rate, beta_1,
// …); options left at their defaults are absent. With an LRSchedule,
// Schedule holds it as Keras serializes a learning_rate schedule, and
// Options has no learning_rate.
type SavedConfig struct {
	Name     string             `json:"name"`
	Options  map[string]float64 `json:"options"`
	Flags    []string           `json:"flags,omitempty"`
	Exclude  []string           `json:"exclude_from_weight_decay,omitempty"`
	Schedule *SavedSchedule     `json:"learning_rate_schedule,omitempty"`
}

// SavedSchedule is a learning-rate schedule as Keras 3 serializes it in an
// optimizer's config: {"class_name": "ExponentialDecay", "config":
// {"initial_learning_rate": 0.1, …}}. Keras's other keys ("module",
// "registered_name", and "name" in the config) are accepted and ignored, so
// the learning_rate entry of a Keras optimizer config decodes into it.
type SavedSchedule struct {
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

// scheduleClasses maps Keras's class names to a decoder starting from
// Keras's defaults.
var scheduleClasses = map[string]func(json.RawMessage) (Schedule, error){
	"ExponentialDecay":       decodeSchedule(ExponentialDecay{}),
	"InverseTimeDecay":       decodeSchedule(InverseTimeDecay{}),
	"PiecewiseConstantDecay": decodeSchedule(PiecewiseConstantDecay{}),
	"PolynomialDecay":        decodeSchedule(NewPolynomialDecay(0, 0)),
	"CosineDecay":            decodeSchedule(NewCosineDecay(0, 0)),
	"CosineDecayRestarts":    decodeSchedule(NewCosineDecayRestarts(0, 0)),
}

// decodeSchedule returns a decoder of a T's config over the defaults def.
func decodeSchedule[T Schedule](def T) func(json.RawMessage) (Schedule, error) {
	return func(raw json.RawMessage) (Schedule, error) {
		s := def
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.Wrapf(err, "learning-rate schedule %s: bad config %s", def.ClassName(), raw)
		}
		return s, nil
	}
}

// SaveSchedule returns s as Keras serializes it. Only kerago's schedules
// (those scheduleClasses knows) can be saved.
func SaveSchedule(s Schedule) (SavedSchedule, error) {
	if s == nil {
		return SavedSchedule{}, errors.New("learning-rate schedule is nil")
	}
	if _, ok := scheduleClasses[s.ClassName()]; !ok {
		return SavedSchedule{}, errors.Errorf("learning-rate schedule %s (%T) is not one of kerago's and cannot be saved", s.ClassName(), s)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return SavedSchedule{}, errors.Wrapf(err, "learning-rate schedule %s", s.ClassName())
	}
	return SavedSchedule{ClassName: s.ClassName(), Config: raw}, nil
}

// LoadSchedule rebuilds and validates the schedule that c describes. An
// unknown class name is an error listing the known ones.
func LoadSchedule(c SavedSchedule) (Schedule, error) {
	dec, ok := scheduleClasses[c.ClassName]
	if !ok {
		return nil, errors.Errorf("unknown learning-rate schedule %q (known: %s)", c.ClassName,
			strings.Join(slices.Sorted(maps.Keys(scheduleClasses)), ", "))
	}
	s, err := dec(c.Config)
	if err != nil {
		return nil, err
	}
	return s, s.Validate()
}

// savedOptions maps each numeric option to its Keras argument name, the
// Option that sets it and the field that holds it.
var savedOptions = []struct {
	key string
	bit optionBit
	set func(float64) Option
	get func(*settings) float64
}{
	{"learning_rate", optLR, LR, func(s *settings) float64 { return s.lr }},
	{"beta_1", optBeta1, Beta1, func(s *settings) float64 { return s.beta1 }},
	{"beta_2", optBeta2, Beta2, func(s *settings) float64 { return s.beta2 }},
	{"epsilon", optEpsilon, Epsilon, func(s *settings) float64 { return s.epsilon }},
	{"decay", optDecay, Decay, func(s *settings) float64 { return s.decay }},
	{"momentum", optMomentum, Momentum, func(s *settings) float64 { return s.momentum }},
	{"rho", optRho, Rho, func(s *settings) float64 { return s.rho }},
	{"clipnorm", optClipNorm, ClipNorm, func(s *settings) float64 { return s.clipNorm }},
	{"global_clipnorm", optGlobalClipNorm, GlobalClipNorm, func(s *settings) float64 { return s.globalClipNorm }},
	{"clipvalue", optClipValue, ClipValue, func(s *settings) float64 { return s.clipValue }},
	{"weight_decay", optWeightDecay, WeightDecay, func(s *settings) float64 { return s.weightDecay }},
	{"initial_accumulator_value", optInitialAccumulator, InitialAccumulator, func(s *settings) float64 { return s.initialAccumulator }},
}

// savedFlags are the boolean options.
var savedFlags = []struct {
	key string
	bit optionBit
	set func() Option
}{
	{"amsgrad", optAMSGrad, AMSGrad}, {"nesterov", optNesterov, Nesterov}, {"centered", optCentered, Centered},
}

// Save returns o's configuration, for Load to rebuild it. The learning rate
// is the current one (a callback may have changed it), or its schedule.
func Save(o Optimizer) (SavedConfig, error) {
	opt, ok := o.(*optimizer)
	if !ok {
		return SavedConfig{}, errors.Errorf("optimizer %s (%T) is not one of kerago's and cannot be saved", o.Name(), o)
	}
	c := SavedConfig{Name: opt.name, Options: map[string]float64{}}
	s := &opt.s
	for _, so := range savedOptions {
		if s.given&so.bit != 0 || so.bit == optLR && s.schedule == nil {
			c.Options[so.key] = so.get(s)
		}
	}
	if s.schedule != nil {
		ss, err := SaveSchedule(s.schedule)
		if err != nil {
			return SavedConfig{}, errors.Wrapf(err, "optimizer %s", opt.name)
		}
		c.Schedule = &ss
	}
	for _, f := range savedFlags {
		if s.given&f.bit != 0 {
			c.Flags = append(c.Flags, f.key)
		}
	}
	c.Exclude = append([]string(nil), s.exclude...)
	return c, nil
}

// Load rebuilds the optimizer a SavedConfig describes.
func Load(c SavedConfig) (Optimizer, error) {
	var opts []Option
	for _, so := range savedOptions {
		if v, ok := c.Options[so.key]; ok {
			opts = append(opts, so.set(v))
		}
	}
	for _, key := range c.Flags {
		found := false
		for _, f := range savedFlags {
			if f.key == key {
				opts, found = append(opts, f.set()), true
			}
		}
		if !found {
			return nil, errors.Errorf("optimizer %s: unknown flag %q", c.Name, key)
		}
	}
	if len(c.Exclude) > 0 {
		opts = append(opts, ExcludeFromWeightDecay(c.Exclude...))
	}
	if c.Schedule != nil {
		sched, err := LoadSchedule(*c.Schedule)
		if err != nil {
			return nil, errors.Wrapf(err, "optimizer %s", c.Name)
		}
		opts = append(opts, LRSchedule(sched))
	}
	o, err := New(c.Name, opts...)
	if err != nil {
		return nil, err
	}
	return o, o.Validate()
}

// State is an optimizer's state: the iteration count, the optimizer's own
// scalar state (Nadam's u_product) and, for each weight in the order given
// to SaveState, its slots (Keras's names) in full precision.
type State struct {
	Iterations int                `json:"iterations"`
	Scalars    map[string]float64 `json:"scalars,omitempty"`
	Weights    []WeightState      `json:"weights"`
}

// WeightState is one weight's slots; a weight the optimizer has not updated
// yet has none.
type WeightState struct {
	Name  string               `json:"name"`
	Slots map[string][]float64 `json:"slots,omitempty"`
}

// SaveState returns o's state for the weights ws.
func SaveState(o Optimizer, ws []*graph.Weight) (State, error) {
	opt, ok := o.(*optimizer)
	if !ok {
		return State{}, errors.Errorf("optimizer %s (%T) is not one of kerago's and cannot be saved", o.Name(), o)
	}
	st := State{Iterations: opt.iterations}
	for i, sc := range opt.rule.scalars {
		if st.Scalars == nil {
			st.Scalars = map[string]float64{}
		}
		st.Scalars[sc.name] = opt.scalars[i]
	}
	spec := opt.rule.slots(&opt.s)
	for _, w := range ws {
		ws := WeightState{Name: w.Name()}
		if s, ok := opt.state[w]; ok {
			ws.Slots = map[string][]float64{}
			for j, sl := range spec {
				if v := s.slot(j); v != nil {
					ws.Slots[sl.name] = v
				}
			}
		}
		st.Weights = append(st.Weights, ws)
	}
	return st, nil
}

// slot is slot j's values as float64s (nil when unused).
func (s *state) slot(j int) []float64 {
	if s.dt == tensor.Float64 {
		if s.s64[j] == nil {
			return nil
		}
		return append([]float64(nil), s.s64[j]...)
	}
	if s.s32[j] == nil {
		return nil
	}
	out := make([]float64, len(s.s32[j]))
	for i, v := range s.s32[j] {
		out[i] = float64(v)
	}
	return out
}

// LoadState restores a state SaveState returned into o (configured as the
// saved one) for the weights ws, which must hold their values already. A
// count, name, slot or size that does not match is an error, and o is
// unchanged.
func LoadState(o Optimizer, ws []*graph.Weight, st State) error {
	opt, ok := o.(*optimizer)
	if !ok {
		return errors.Errorf("optimizer %s (%T) is not one of kerago's", o.Name(), o)
	}
	if len(st.Weights) != len(ws) {
		return errors.Errorf("optimizer state for %d weights, the model has %d", len(st.Weights), len(ws))
	}
	scalars := make([]float64, len(opt.rule.scalars))
	for i, sc := range opt.rule.scalars {
		v, ok := st.Scalars[sc.name]
		if !ok {
			return errors.Errorf("optimizer state of %s lacks its scalar %s", opt.name, sc.name)
		}
		scalars[i] = v
	}
	for name := range st.Scalars {
		if !slices.ContainsFunc(opt.rule.scalars, func(sc slot) bool { return sc.name == name }) {
			return errors.Errorf("optimizer state has the scalar %s, which %s does not keep", name, opt.name)
		}
	}
	spec := opt.rule.slots(&opt.s)
	fresh := map[*graph.Weight]*state{}
	for i, w := range ws {
		saved := st.Weights[i]
		if saved.Name != w.Name() {
			return errors.Errorf("optimizer state %d is for %s, the weight is %s", i, saved.Name, w.Name())
		}
		if saved.Slots == nil {
			continue
		}
		s := opt.newState(w, spec)
		for j, sl := range spec {
			v, ok := saved.Slots[sl.name]
			if !sl.used {
				if ok {
					return errors.Errorf("optimizer state of %s has slot %s, which %s does not use", w.Name(), sl.name, opt.name)
				}
				continue
			}
			if !ok || len(v) != s.n {
				return errors.Errorf("optimizer state of %s: slot %s has %d values, the weight %d", w.Name(), sl.name, len(v), s.n)
			}
			s.setSlot(j, v)
		}
		fresh[w] = s
	}
	opt.state = fresh
	copy(opt.scalars, scalars)
	opt.iterations = st.Iterations
	return nil
}

// setSlot writes v into slot j.
func (s *state) setSlot(j int, v []float64) {
	if s.dt == tensor.Float64 {
		copy(s.s64[j], v)
		return
	}
	for i, x := range v {
		s.s32[j][i] = float32(x)
	}
}
