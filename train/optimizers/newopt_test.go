package optimizers_test

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	opt "github.com/kerago/kerago/train/optimizers"
)

// TestSlotsNewOptimizers checks the Keras slot names of the new rules and
// the defaults (Keras 3's) of the new optimizers.
func TestSlotsNewOptimizers(t *testing.T) {
	cases := []struct {
		o     opt.Optimizer
		name  string
		lr    float64
		slots string
	}{
		{opt.Adagrad(), "adagrad", 1e-3, "accumulator"},
		{opt.Adadelta(), "adadelta", 1e-3, "accumulated_grad accumulated_delta_var"},
		{opt.Adamax(), "adamax", 1e-3, "momentum norm"},
		{opt.Nadam(), "nadam", 1e-3, "momentum velocity"},
		{opt.Lion(), "lion", 1e-3, "momentum"},
	}
	for _, dt := range dtypes {
		w := network(t, dt, 1, 2)[1]
		for _, c := range cases {
			if c.o.Name() != c.name || c.o.LearningRate() != c.lr {
				t.Errorf("%s: Name %q, LearningRate %g", c.name, c.o.Name(), c.o.LearningRate())
			}
			if err := c.o.Apply([]*graph.Weight{w}, []*tensor.Dense{grad(w, 1, 2)}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(opt.SlotNames(c.o, w), " "); got != c.slots {
				t.Errorf("%s %v: slots %q, want %q", c.name, dt, got, c.slots)
			}
		}
	}
	// Adagrad's accumulator starts at InitialAccumulator: with a = 0.5 + 1,
	// θ = 1 - 0.1·1/sqrt(1.5 + 1e-7).
	w := network(t, tensor.Float64, 1, 1)[1]
	got := run(t, opt.Adagrad(opt.LR(0.1), opt.InitialAccumulator(0.5)), w, []float64{1}, []float64{1})
	checkValues(t, "adagrad initial accumulator", got, []float64{1 - 0.1/math.Sqrt(1.5+1e-7)}, 1e-15, 0)
}

// roundTripCases are optimizers with options, a schedule or both, for the
// save and load tests.
var roundTripCases = []func() opt.Optimizer{
	func() opt.Optimizer {
		return opt.Adagrad(opt.LR(0.1), opt.InitialAccumulator(0.5), opt.Epsilon(1e-6), opt.Decay(0.01), opt.ClipNorm(1))
	},
	func() opt.Optimizer {
		return opt.Adadelta(opt.LR(1), opt.Rho(0.9), opt.GlobalClipNorm(2), opt.ClipValue(0.5), opt.WeightDecay(0.01), opt.ExcludeFromWeightDecay("bias"))
	},
	func() opt.Optimizer {
		return opt.Adamax(opt.LR(0.01), opt.Beta1(0.8), opt.Beta2(0.99), opt.Epsilon(1e-5))
	},
	func() opt.Optimizer {
		return opt.Nadam(opt.LR(0.01), opt.Beta1(0.85), opt.ClipValue(0.3), opt.WeightDecay(0.05))
	},
	func() opt.Optimizer { return opt.Lion(opt.LR(1e-3), opt.Beta1(0.8), opt.Beta2(0.95), opt.Decay(0.1)) },
	func() opt.Optimizer {
		return opt.SGD(opt.Momentum(0.9), opt.LRSchedule(opt.ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 2, DecayRate: 0.5, Staircase: true}))
	},
	func() opt.Optimizer {
		return opt.Nadam(opt.LRSchedule(opt.PiecewiseConstantDecay{Boundaries: []int{1, 3}, Values: []float64{0.01, 0.005, 0.001}}))
	},
	func() opt.Optimizer {
		target := 0.01
		return opt.Adam(opt.AMSGrad(), opt.LRSchedule(opt.CosineDecay{DecaySteps: 4, Alpha: 0.1, WarmupTarget: &target, WarmupSteps: 2}))
	},
	func() opt.Optimizer {
		return opt.RMSprop(opt.Centered(), opt.LRSchedule(opt.InverseTimeDecay{InitialLearningRate: 0.01, DecaySteps: 1, DecayRate: 0.5}))
	},
	func() opt.Optimizer {
		return opt.Adagrad(opt.Decay(0.1), opt.LRSchedule(opt.NewPolynomialDecay(0.1, 3)))
	},
	func() opt.Optimizer {
		return opt.Lion(opt.LRSchedule(opt.CosineDecayRestarts{InitialLearningRate: 0.01, FirstDecaySteps: 2, TMul: 1.5, MMul: 0.5, Alpha: 0.1}))
	},
}

// stepAll applies o n times to ws with gradients that change with the step.
func stepAll(t *testing.T, o opt.Optimizer, ws []*graph.Weight, from, n int) {
	t.Helper()
	for k := from; k < from+n; k++ {
		grads := make([]*tensor.Dense, len(ws))
		for i, w := range ws {
			g := make([]float64, w.Value().DataSize())
			for j := range g {
				g[j] = math.Sin(float64(1+k*7+i*3+j)) * float64(1+k%3)
			}
			grads[i] = grad(w, g...)
		}
		if err := o.Apply(ws, grads); err != nil {
			t.Fatalf("step %d: %v", k+1, err)
		}
	}
}

// TestSaveLoadResumesExactly checks that Save, Load, SaveState and
// LoadState, through JSON, rebuild every new optimizer and every schedule
// so that training goes on exactly as without the break: bit for bit, in
// float32 and float64, Nadam's u_product included.
func TestSaveLoadResumesExactly(t *testing.T) {
	for _, dt := range dtypes {
		for _, mk := range roundTripCases {
			a := mk()
			name := a.Name()
			if s := opt.ScheduleOf(a); s != nil {
				name += "+" + s.ClassName()
			}
			t.Run(name+"/"+dt.String(), func(t *testing.T) {
				wa, wb := network(t, dt, 3, 4, 2), network(t, dt, 3, 4, 2)
				stepAll(t, a, wa, 0, 3)
				for i := range wa {
					set(t, wb[i], wa[i].Float64s()...)
				}
				c, err := opt.Save(a)
				if err != nil {
					t.Fatal(err)
				}
				st, err := opt.SaveState(a, wa)
				if err != nil {
					t.Fatal(err)
				}
				var c2 opt.SavedConfig
				var st2 opt.State
				roundTripJSON(t, c, &c2)
				roundTripJSON(t, st, &st2)
				if (opt.ScheduleOf(a) != nil) != (c2.Schedule != nil) {
					t.Fatalf("schedule saved as %+v", c2.Schedule)
				}
				if _, ok := c2.Options["learning_rate"]; ok == (c2.Schedule != nil) {
					t.Errorf("options %v with schedule %v", c2.Options, c2.Schedule)
				}
				if _, ok := st2.Scalars["u_product"]; ok != (a.Name() == "nadam") {
					t.Errorf("scalars %v for %s", st2.Scalars, a.Name())
				}
				for i := range st2.Weights { // the layers of the second network have other names
					st2.Weights[i].Name = wb[i].Name()
				}
				b, err := opt.Load(c2)
				if err != nil {
					t.Fatal(err)
				}
				if err := opt.LoadState(b, wb, st2); err != nil {
					t.Fatal(err)
				}
				if b.Iterations() != 3 || b.LearningRate() != a.LearningRate() {
					t.Fatalf("loaded: %d iterations, learning rate %g; saved %g", b.Iterations(), b.LearningRate(), a.LearningRate())
				}
				stepAll(t, a, wa, 3, 4)
				stepAll(t, b, wb, 3, 4)
				for i := range wa {
					if !slices.Equal(wa[i].Float64s(), wb[i].Float64s()) {
						t.Errorf("%s differs after resuming: %v, %v", wa[i].Name(), wa[i].Float64s(), wb[i].Float64s())
					}
				}
			})
		}
	}
}

func roundTripJSON(t *testing.T, v, into any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatal(err)
	}
}

// TestKerasScheduleConfig checks that the learning_rate entry of a Keras 3
// optimizer config (what keras.optimizers.SGD(learning_rate=
// ExponentialDecay(...)).get_config() writes) loads as a schedule, and
// that SaveSchedule writes Keras's class name and argument names.
func TestKerasScheduleConfig(t *testing.T) {
	keras := `{"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": false, "name": "ExponentialDecay"}, "registered_name": null}`
	var ss opt.SavedSchedule
	if err := json.Unmarshal([]byte(keras), &ss); err != nil {
		t.Fatal(err)
	}
	s, err := opt.LoadSchedule(ss)
	if err != nil {
		t.Fatal(err)
	}
	want := opt.ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.5}
	if s != opt.Schedule(want) {
		t.Fatalf("loaded %+v, want %+v", s, want)
	}
	saved, err := opt.SaveSchedule(want)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(saved)
	if got := string(data); got != `{"class_name":"ExponentialDecay","config":{"initial_learning_rate":0.1,"decay_steps":10,"decay_rate":0.5,"staircase":false}}` {
		t.Errorf("saved as %s", got)
	}
	// Keras's default of an argument absent from the config.
	s, err = opt.LoadSchedule(opt.SavedSchedule{ClassName: "CosineDecayRestarts", Config: json.RawMessage(`{"initial_learning_rate": 0.1, "first_decay_steps": 10}`)})
	if err != nil || s != opt.Schedule(opt.NewCosineDecayRestarts(0.1, 10)) {
		t.Errorf("CosineDecayRestarts with defaults: %+v, %v", s, err)
	}
}

// TestLoadStateScalars checks that a Nadam state without its u_product, or
// a state with a scalar the optimizer does not keep, is refused and
// changes nothing.
func TestLoadStateScalars(t *testing.T) {
	ws := network(t, tensor.Float64, 2, 1)
	o := opt.Nadam()
	stepAll(t, o, ws, 0, 2)
	st, err := opt.SaveState(o, ws)
	if err != nil {
		t.Fatal(err)
	}
	p := st.Scalars["u_product"]
	u := func(t float64) float64 { return 0.9 * (1 - 0.5*math.Pow(0.96, t)) }
	if want := u(1) * u(2); math.Abs(p-want) > 1e-16 {
		t.Errorf("u_product after 2 steps = %.17g, want %.17g", p, want)
	}
	fresh := opt.Nadam()
	bad := st
	bad.Scalars = nil
	if err := opt.LoadState(fresh, ws, bad); err == nil || !strings.Contains(err.Error(), "lacks its scalar u_product") || fresh.Iterations() != 0 {
		t.Errorf("LoadState without u_product: %v", err)
	}
	bad.Scalars = map[string]float64{"u_product": p, "beta_power": 0.5}
	if err := opt.LoadState(fresh, ws, bad); err == nil || !strings.Contains(err.Error(), "beta_power") || fresh.Iterations() != 0 {
		t.Errorf("LoadState with an unknown scalar: %v", err)
	}
	st.Scalars = map[string]float64{"u_product": 0.5}
	if err := opt.LoadState(opt.Adam(), ws, st); err == nil || !strings.Contains(err.Error(), "u_product, which adam does not keep") {
		t.Errorf("LoadState of a scalar into Adam: %v", err)
	}
}

// TestRefusedStepKeepsNadamState checks that a step Nadam refuses (its
// result overflows) leaves u_product as it was: the steps after it match
// those of a run without the refused step.
func TestRefusedStepKeepsNadamState(t *testing.T) {
	wa, wb := network(t, tensor.Float64, 2, 1), network(t, tensor.Float64, 2, 1)
	for i := range wa {
		set(t, wb[i], wa[i].Float64s()...)
	}
	a, b := opt.Nadam(opt.LR(0.01)), opt.Nadam(opt.LR(0.01))
	stepAll(t, a, wa, 0, 1)
	stepAll(t, b, wb, 0, 1)
	a.SetLearningRate(math.MaxFloat64)
	huge := make([]*tensor.Dense, len(wa))
	for i, w := range wa {
		g := make([]float64, w.Value().DataSize())
		for j := range g {
			g[j] = 1e10
		}
		huge[i] = grad(w, g...)
	}
	if err := a.Apply(wa, huge); err == nil || !strings.Contains(err.Error(), "no weight was changed") {
		t.Fatalf("the overflowing step: %v", err)
	}
	a.SetLearningRate(0.01)
	stepAll(t, a, wa, 1, 3)
	stepAll(t, b, wb, 1, 3)
	for i := range wa {
		if !slices.Equal(wa[i].Float64s(), wb[i].Float64s()) {
			t.Errorf("%s: %v after a refused step, %v without", wa[i].Name(), wa[i].Float64s(), wb[i].Float64s())
		}
	}
}
