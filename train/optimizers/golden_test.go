package optimizers_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	opt "github.com/kerago/kerago/train/optimizers"
)

// golden is testdata/golden/optimizers.json, written by gen_optimizers.py
// (Keras's update rules in PyTorch tensor ops, cross-checked there against
// torch.optim where the formulas coincide and against real Keras 3).
type golden struct {
	Shapes [][]int       `json:"shapes"`
	Init   [][]float64   `json:"init"`
	Grads  [][][]float64 `json:"grads"`
	Cases  []struct {
		Name      string                 `json:"name"`
		Optimizer string                 `json:"optimizer"`
		Options   map[string]interface{} `json:"options"`
		// Expected[dtype][step][weight] are the weights after step+1 steps.
		Expected map[string][][][]float64 `json:"expected"`
	} `json:"cases"`
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	data, err := os.ReadFile("../../testdata/golden/optimizers.json")
	if err != nil {
		t.Fatalf("%v (regenerate with /usr/bin/python3 testdata/golden/gen_optimizers.py)", err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 60 || len(g.Grads) < 5 || len(g.Shapes) != 4 {
		t.Fatalf("golden file too small: %d cases, %d steps, %d weights", len(g.Cases), len(g.Grads), len(g.Shapes))
	}
	return &g
}

// optionsFrom turns the JSON options of a golden case into Options.
func optionsFrom(t *testing.T, m map[string]interface{}) []opt.Option {
	t.Helper()
	var opts []opt.Option
	for k, v := range m {
		f, _ := v.(float64)
		switch k {
		case "lr":
			opts = append(opts, opt.LR(f))
		case "beta1":
			opts = append(opts, opt.Beta1(f))
		case "beta2":
			opts = append(opts, opt.Beta2(f))
		case "epsilon":
			opts = append(opts, opt.Epsilon(f))
		case "decay":
			opts = append(opts, opt.Decay(f))
		case "momentum":
			opts = append(opts, opt.Momentum(f))
		case "rho":
			opts = append(opts, opt.Rho(f))
		case "clipnorm":
			opts = append(opts, opt.ClipNorm(f))
		case "global_clipnorm":
			opts = append(opts, opt.GlobalClipNorm(f))
		case "clipvalue":
			opts = append(opts, opt.ClipValue(f))
		case "weight_decay":
			opts = append(opts, opt.WeightDecay(f))
		case "initial_accumulator_value":
			opts = append(opts, opt.InitialAccumulator(f))
		case "schedule":
			raw, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var saved opt.SavedSchedule
			if err := json.Unmarshal(raw, &saved); err != nil {
				t.Fatal(err)
			}
			sched, err := opt.LoadSchedule(saved)
			if err != nil {
				t.Fatal(err)
			}
			opts = append(opts, opt.LRSchedule(sched))
		case "exclude_from_weight_decay":
			var names []string
			for _, n := range v.([]interface{}) {
				names = append(names, n.(string))
			}
			opts = append(opts, opt.ExcludeFromWeightDecay(names...))
		case "amsgrad", "nesterov", "centered":
			if v != true {
				t.Fatalf("option %s: %v", k, v)
			}
			opts = append(opts, map[string]opt.Option{"amsgrad": opt.AMSGrad(), "nesterov": opt.Nesterov(), "centered": opt.Centered()}[k])
		default:
			t.Fatalf("unknown golden option %q", k)
		}
	}
	return opts
}

// TestGolden runs every case of optimizers.json for several steps on the
// weights of Input(3) -> Dense(4) -> Dense(2), in float64 (to 1e-12
// relative) and float32 (to 1e-6 relative), checking after every step.
func TestGolden(t *testing.T) {
	g := loadGolden(t)
	for _, c := range g.Cases {
		for _, dt := range dtypes {
			t.Run(c.Name+"/"+dt.String(), func(t *testing.T) {
				rtol, atol := 1e-12, 1e-15
				if dt == tensor.Float32 {
					rtol, atol = 1e-6, 1e-9
				}
				ws := network(t, dt, 3, 4, 2)
				for i, w := range ws {
					if !graph.Shape(g.Shapes[i]).Equal(graph.Shape(w.Value().Shape())) {
						t.Fatalf("weight %s has shape %v, the golden file %v", w.Name(), w.Value().Shape(), g.Shapes[i])
					}
					set(t, w, g.Init[i]...)
				}
				o, err := opt.New(c.Optimizer, optionsFrom(t, c.Options)...)
				if err != nil {
					t.Fatal(err)
				}
				if err := o.Validate(); err != nil {
					t.Fatal(err)
				}
				exp := c.Expected[dt.String()]
				if len(exp) != len(g.Grads) {
					t.Fatalf("%d expected steps, %d gradient steps", len(exp), len(g.Grads))
				}
				var worst float64
				for step, sg := range g.Grads {
					grads := make([]*tensor.Dense, len(ws))
					for i, w := range ws {
						grads[i] = grad(w, sg[i]...)
					}
					if err := o.Apply(ws, grads); err != nil {
						t.Fatalf("step %d: %v", step+1, err)
					}
					for i, w := range ws {
						got, want := w.Float64s(), exp[step][i]
						for j := range want {
							if d := math.Abs(got[j]-want[j]) / math.Abs(want[j]); d > worst {
								worst = d
							}
							if !closeTo(got[j], want[j], rtol, atol) {
								t.Fatalf("step %d, %s[%d] = %.17g, want %.17g (rel diff %.3g)", step+1, w.Name(), j, got[j], want[j], (got[j]-want[j])/want[j])
							}
						}
					}
				}
				// The case must test something: the weights moved by much
				// more than the tolerance.
				var moved float64
				for i, w := range ws {
					for j, v := range w.Float64s() {
						moved = math.Max(moved, math.Abs(v-g.Init[i][j]))
					}
				}
				if moved < 1e-4 {
					t.Fatalf("weights moved by only %g", moved)
				}
				if testing.Verbose() {
					t.Logf("max rel diff %.3g", worst)
				}
			})
		}
	}
}

// TestGoldenDiffers checks that the golden cases distinguish the variants
// that differ from one another (so a test that ignored, say, AMSGrad or the
// clipping order would fail).
func TestGoldenDiffers(t *testing.T) {
	g := loadGolden(t)
	final := map[string][]float64{}
	for _, c := range g.Cases {
		exp := c.Expected["float64"]
		var flat []float64
		for _, w := range exp[len(exp)-1] {
			flat = append(flat, w...)
		}
		final[c.Name] = flat
	}
	pairs := [][2]string{
		{"adam_lr", "adam_amsgrad"}, {"adam_lr", "adam_clipnorm"}, {"adam_clipnorm", "adam_global_clipnorm"},
		{"adam_lr", "adam_clipvalue"}, {"adam_lr", "adam_eps_decay"}, {"adam_clipnorm", "adam_clipnorm_clipvalue"},
		{"sgd_momentum", "sgd_nesterov"}, {"rmsprop_lr", "rmsprop_centered"}, {"rmsprop_lr", "rmsprop_momentum"},
		{"adam_lr", "adam_weight_decay"}, {"sgd_momentum", "sgd_momentum_weight_decay"},
		{"adam_lr", "adamw_lr"}, {"adam_amsgrad", "adamw_amsgrad"}, {"adamw_amsgrad", "adamw_amsgrad_exclude_bias"},
		{"adam_default", "adamw_default"}, {"adam_clipnorm_clipvalue", "adamw_clipnorm_clipvalue"},
		{"adagrad_default", "adagrad_lr"}, {"adagrad_lr", "adagrad_clipnorm_clipvalue"},
		{"adagrad_lr", "adagrad_global_clipnorm_weight_decay"}, {"adadelta_lr1", "adadelta_rho_eps"},
		{"adadelta_lr1", "adadelta_clip_decay"}, {"adadelta_lr1", "adadelta_global_clipnorm_weight_decay"},
		{"adamax_lr", "adamax_clipnorm_clipvalue"}, {"adamax_lr", "adamax_global_clipnorm_weight_decay"},
		{"adam_lr", "adamax_lr"}, {"adam_lr", "nadam_lr"}, {"nadam_lr", "nadam_clipnorm_clipvalue"},
		{"nadam_lr", "nadam_global_clipnorm_weight_decay"}, {"lion_default", "lion_lr"},
		{"lion_default", "lion_betas"}, {"lion_betas", "lion_clip_decay"},
		{"lion_default", "lion_global_clipnorm_weight_decay"}, {"sgd_momentum", "sgd_momentum_exponential_decay"},
		{"nadam_clipnorm_clipvalue", "nadam_piecewise_constant"}, {"rmsprop_default", "rmsprop_polynomial_decay"},
	}
	for _, p := range pairs {
		a, b := final[p[0]], final[p[1]]
		if a == nil || b == nil {
			t.Fatalf("missing case %v", p)
		}
		var d float64
		for i := range a {
			d = math.Max(d, math.Abs(a[i]-b[i]))
		}
		if d < 1e-6 {
			t.Errorf("%s and %s agree to %g: the cases do not test the difference", p[0], p[1], d)
		}
	}
}

// TestGoldenExcluded checks that ExcludeFromWeightDecay("bias") leaves the
// biases exactly as without weight decay while the kernels decay.
func TestGoldenExcluded(t *testing.T) {
	g := loadGolden(t)
	final := map[string][][]float64{}
	for _, c := range g.Cases {
		exp := c.Expected["float64"]
		final[c.Name] = exp[len(exp)-1]
	}
	for _, p := range [][2]string{
		{"sgd_momentum", "sgd_momentum_weight_decay"},
		{"adam_amsgrad", "adamw_amsgrad_exclude_bias"},
	} {
		plain, decayed := final[p[0]], final[p[1]]
		if plain == nil || decayed == nil {
			t.Fatalf("missing case %v", p)
		}
		for i := range plain { // kernel, bias, kernel, bias
			var d float64
			for j := range plain[i] {
				d = math.Max(d, math.Abs(plain[i][j]-decayed[i][j]))
			}
			if bias := i%2 == 1; bias && d != 0 || !bias && d < 1e-4 {
				t.Errorf("%s: weight %d: weight decay moved it by %g", p[1], i, d)
			}
		}
	}
}
