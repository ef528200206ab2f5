package optimizers_test

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	opt "github.com/kerago/kerago/train/optimizers"
)

// scheduleGolden is testdata/golden/schedules.json, written by
// gen_schedules.py: each schedule's rate at many steps from real Keras 3
// (float32) and from its formulas in float64 (cross-checked there against
// Keras and torch.optim.lr_scheduler).
type scheduleGolden struct {
	Steps []int `json:"steps"`
	Cases []struct {
		Name      string            `json:"name"`
		Schedule  opt.SavedSchedule `json:"schedule"`
		Reference []float64         `json:"reference"`
		Keras     []float64         `json:"keras"`
	} `json:"cases"`
}

// TestScheduleGolden checks every schedule class against Keras 3, to 1e-4
// relative (Keras computes in float32), and against the float64 reference,
// to 1e-13 relative, and that each survives SaveSchedule and LoadSchedule.
func TestScheduleGolden(t *testing.T) {
	data, err := os.ReadFile("../../testdata/golden/schedules.json")
	if err != nil {
		t.Fatalf("%v (regenerate with testdata/golden/gen_schedules.py)", err)
	}
	var g scheduleGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	classes := map[string]bool{}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			s, err := opt.LoadSchedule(c.Schedule)
			if err != nil {
				t.Fatal(err)
			}
			classes[s.ClassName()] = true
			saved, err := opt.SaveSchedule(s)
			if err != nil {
				t.Fatal(err)
			}
			back, err := opt.LoadSchedule(saved)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Reference) != len(g.Steps) || len(c.Keras) != len(g.Steps) {
				t.Fatalf("%d steps, %d reference and %d Keras values", len(g.Steps), len(c.Reference), len(c.Keras))
			}
			distinct := map[float64]bool{}
			for i, step := range g.Steps {
				got := s.LearningRateAt(step)
				distinct[got] = true
				if !closeTo(got, c.Reference[i], 1e-13, 1e-18) {
					t.Errorf("step %d: %.17g, reference %.17g", step, got, c.Reference[i])
				}
				if !closeTo(got, c.Keras[i], 1e-4, 1e-12) {
					t.Errorf("step %d: %.17g, Keras %.17g", step, got, c.Keras[i])
				}
				if b := back.LearningRateAt(step); b != got {
					t.Errorf("step %d: %g after saving and loading, %g before", step, b, got)
				}
			}
			if len(distinct) < 2 {
				t.Errorf("the schedule is constant over the steps: %v", distinct)
			}
		})
	}
	if len(classes) != 6 {
		t.Errorf("the golden file covers %d schedule classes: %v", len(classes), classes)
	}
}

// TestScheduleValidate checks that bad schedule parameters are reported
// with the parameter's Keras name and value, by the schedule and by the
// optimizer using it.
func TestScheduleValidate(t *testing.T) {
	neg := -0.5
	bad := []struct {
		s    opt.Schedule
		want []string
	}{
		{opt.ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 0, DecayRate: 0.5}, []string{"ExponentialDecay", "decay_steps = 0", "> 0"}},
		{opt.ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: -1}, []string{"decay_rate = -1"}},
		{opt.ExponentialDecay{InitialLearningRate: math.NaN(), DecaySteps: 10, DecayRate: 0.5}, []string{"initial_learning_rate = NaN"}},
		{opt.InverseTimeDecay{InitialLearningRate: 0.1, DecaySteps: -3, DecayRate: 0.5}, []string{"InverseTimeDecay", "decay_steps = -3"}},
		{opt.InverseTimeDecay{InitialLearningRate: 0.1, DecaySteps: 3, DecayRate: -0.5}, []string{"decay_rate = -0.5", "≥ 0"}},
		{opt.PiecewiseConstantDecay{Boundaries: []int{5, 10}, Values: []float64{1, 0.5}}, []string{"PiecewiseConstantDecay", "values has 2 entries and boundaries 2", "one value more"}},
		{opt.PiecewiseConstantDecay{Boundaries: []int{5, 5}, Values: []float64{1, 0.5, 0.1}}, []string{"increase strictly", "boundaries[1] = 5 follows 5"}},
		{opt.PiecewiseConstantDecay{Values: []float64{1}}, []string{"boundaries is empty"}},
		{opt.PiecewiseConstantDecay{Boundaries: []int{5}, Values: []float64{1, 0}}, []string{"values[1] = 0"}},
		{opt.NewPolynomialDecay(0.1, 0), []string{"PolynomialDecay", "decay_steps = 0"}},
		{opt.PolynomialDecay{InitialLearningRate: 0.1, DecaySteps: 10, Power: -1}, []string{"power = -1"}},
		{opt.PolynomialDecay{InitialLearningRate: 0.1, DecaySteps: 10, Power: 1, EndLearningRate: -1}, []string{"end_learning_rate = -1"}},
		{opt.NewCosineDecay(0.1, -1), []string{"CosineDecay", "decay_steps = -1"}},
		{opt.CosineDecay{InitialLearningRate: 0.1, DecaySteps: 10, Alpha: 1.5}, []string{"alpha = 1.5", "[0, 1]"}},
		{opt.CosineDecay{InitialLearningRate: 0.1, DecaySteps: 10, WarmupTarget: &neg, WarmupSteps: 3}, []string{"warmup_target = -0.5"}},
		{opt.CosineDecay{InitialLearningRate: 0.1, DecaySteps: 10, WarmupSteps: -3}, []string{"warmup_steps = -3"}},
		{opt.CosineDecay{InitialLearningRate: 0, DecaySteps: 10}, []string{"initial_learning_rate = 0"}},
		{opt.CosineDecay{InitialLearningRate: -1, DecaySteps: 10, WarmupTarget: &neg}, []string{"initial_learning_rate = -1", "≥ 0"}},
		{opt.NewCosineDecayRestarts(0.1, 0), []string{"CosineDecayRestarts", "first_decay_steps = 0"}},
		{opt.CosineDecayRestarts{InitialLearningRate: 0.1, FirstDecaySteps: 10, TMul: 0, MMul: 1}, []string{"t_mul = 0"}},
		{opt.CosineDecayRestarts{InitialLearningRate: 0.1, FirstDecaySteps: 10, TMul: 2, MMul: -1}, []string{"m_mul = -1"}},
	}
	for _, c := range bad {
		for _, err := range []error{c.s.Validate(), opt.SGD(opt.LRSchedule(c.s)).Validate()} {
			if err == nil {
				t.Errorf("%s %+v: no error, want %q", c.s.ClassName(), c.s, c.want)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		}
	}
	if _, err := opt.LoadSchedule(opt.SavedSchedule{ClassName: "OneCycle", Config: json.RawMessage(`{}`)}); err == nil ||
		!strings.Contains(err.Error(), `"OneCycle"`) || !strings.Contains(err.Error(), "CosineDecayRestarts") {
		t.Errorf("LoadSchedule(OneCycle): %v", err)
	}
	if _, err := opt.LoadSchedule(opt.SavedSchedule{ClassName: "ExponentialDecay", Config: json.RawMessage(`{"decay_steps": "ten"}`)}); err == nil ||
		!strings.Contains(err.Error(), "ExponentialDecay") {
		t.Errorf("LoadSchedule(bad config): %v", err)
	}
	if _, err := opt.LoadSchedule(opt.SavedSchedule{ClassName: "ExponentialDecay", Config: json.RawMessage(`{"initial_learning_rate": 0.1, "decay_rate": 0.5}`)}); err == nil ||
		!strings.Contains(err.Error(), "decay_steps = 0") {
		t.Errorf("LoadSchedule without decay_steps: %v", err)
	}
	if err := opt.Adam(opt.LRSchedule(nil)).Validate(); err == nil || !strings.Contains(err.Error(), "LRSchedule(nil)") {
		t.Errorf("LRSchedule(nil): %v", err)
	}
	exp := opt.ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.5}
	if err := opt.Adam(opt.LR(0.01), opt.LRSchedule(exp)).Validate(); err == nil ||
		!strings.Contains(err.Error(), "LR(0.01) and LRSchedule(ExponentialDecay) cannot be combined") {
		t.Errorf("LR with LRSchedule: %v", err)
	}
}

// TestScheduleDrivesLearningRate checks that an optimizer with a schedule
// steps at the schedule's rate for the steps already made, reports it as
// LearningRate, refuses SetLearningRate (through Validate and Apply,
// changing nothing) and that ScheduleOf finds the schedule.
func TestScheduleDrivesLearningRate(t *testing.T) {
	sched := opt.PiecewiseConstantDecay{Boundaries: []int{1, 2}, Values: []float64{0.5, 0.25, 0.125}}
	o := opt.SGD(opt.LRSchedule(sched))
	if opt.ScheduleOf(o) == nil || opt.ScheduleOf(opt.SGD()) != nil {
		t.Fatal("ScheduleOf does not tell the scheduled optimizer from the plain one")
	}
	w := network(t, tensor.Float64, 1, 1)[1]
	set(t, w, 0)
	// Steps 1 and 2 use lr(0) = lr(1) = 0.5, step 3 lr(2) = 0.25, step 4 0.125.
	want := []float64{-0.5, -1, -1.25, -1.375}
	for i, wv := range want {
		if lr, exp := o.LearningRate(), sched.LearningRateAt(i); lr != exp {
			t.Fatalf("before step %d: LearningRate() = %g, want %g", i+1, lr, exp)
		}
		if err := o.Apply([]*graph.Weight{w}, []*tensor.Dense{grad(w, 1)}); err != nil {
			t.Fatal(err)
		}
		if got := w.Float64s()[0]; got != wv {
			t.Fatalf("after step %d: %g, want %g", i+1, got, wv)
		}
	}
	o.SetLearningRate(0.01)
	err := o.Validate()
	if err == nil || !strings.Contains(err.Error(), "SetLearningRate(0.01)") || !strings.Contains(err.Error(), "not settable") {
		t.Fatalf("Validate after SetLearningRate on a schedule: %v", err)
	}
	if err := o.Apply([]*graph.Weight{w}, []*tensor.Dense{grad(w, 1)}); err == nil || w.Float64s()[0] != -1.375 || o.Iterations() != 4 {
		t.Fatalf("Apply after a refused SetLearningRate: %v, weight %g", err, w.Float64s()[0])
	}
	// With the legacy Decay on top (tf.keras 2): step 2 uses 0.5/(1+1·1).
	o = opt.SGD(opt.LRSchedule(sched), opt.Decay(1))
	set(t, w, 0)
	for range 2 {
		if err := o.Apply([]*graph.Weight{w}, []*tensor.Dense{grad(w, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.Float64s()[0]; got != -0.75 {
		t.Errorf("schedule with Decay: %g after two steps, want -0.75", got)
	}
}
