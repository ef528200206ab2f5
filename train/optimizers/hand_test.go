package optimizers_test

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	opt "github.com/kerago/kerago/train/optimizers"
)

// run applies o to one weight w (initialised to init) with the gradients
// steps and returns w's values after the last step.
func run(t *testing.T, o opt.Optimizer, w *graph.Weight, init []float64, steps ...[]float64) []float64 {
	t.Helper()
	set(t, w, init...)
	for i, g := range steps {
		if err := o.Apply([]*graph.Weight{w}, []*tensor.Dense{grad(w, g...)}); err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
	}
	if o.Iterations() != len(steps) {
		t.Fatalf("Iterations() = %d after %d steps", o.Iterations(), len(steps))
	}
	return w.Float64s()
}

// TestAdamG10 checks docs/SEMANTICS.md §24.10 (hand-computed values).
func TestAdamG10(t *testing.T) {
	for _, dt := range dtypes {
		t.Run(dt.String(), func(t *testing.T) {
			two := network(t, dt, 1, 2)[1] // bias, shape (2)
			one := network(t, dt, 1, 1)[1] // bias, shape (1)
			// The values are rounded to 11 decimals (θ near 1) or 10
			// (θ near 0): half a unit of the last digit is allowed.
			rtol := tolFor(dt)
			cases := []struct {
				name  string
				o     opt.Optimizer
				w     *graph.Weight
				init  []float64
				steps [][]float64
				want  []float64
				atol  float64
			}{
				{"1 step", opt.Adam(), two, []float64{1, 2}, [][]float64{{0.1, -0.2}}, []float64{0.99900003162, 2.00099998419}, 5e-12},
				{"2 steps", opt.Adam(), two, []float64{1, 2}, [][]float64{{0.1, -0.2}, {0.3, 0.1}}, []float64{0.99808225968, 2.00126631746}, 5e-12},
				{"decay", opt.Adam(opt.Decay(0.1)), two, []float64{1, 2}, [][]float64{{0.1, -0.2}, {0.3, 0.1}}, []float64{0.99816569349, 2.00124210534}, 5e-12},
				{"amsgrad", opt.Adam(opt.AMSGrad()), one, []float64{0}, [][]float64{{0.5}, {0}, {0}}, []float64{-0.0021871483}, 5e-11},
				{"no amsgrad", opt.Adam(), one, []float64{0}, [][]float64{{0.5}, {0}, {0}}, []float64{-0.0021880014}, 5e-11},
				{"clipnorm", opt.Adam(opt.ClipNorm(1)), one, []float64{0}, [][]float64{{10}, {0.5}}, []float64{-0.0019321738}, 5e-11},
				{"global clipnorm", opt.Adam(opt.GlobalClipNorm(1)), one, []float64{0}, [][]float64{{10}, {0.5}}, []float64{-0.0019321738}, 5e-11},
				{"no clipnorm", opt.Adam(), one, []float64{0}, [][]float64{{10}, {0.5}}, []float64{-0.0017063998}, 5e-11},
			}
			for _, c := range cases {
				got := run(t, c.o, c.w, c.init, c.steps...)
				checkValues(t, c.name, got, c.want, rtol, c.atol)
			}
		})
	}
}

// TestClippingG11 checks docs/SEMANTICS.md §24.11: gradients [3] and [0, 4]
// clipped by global norm (Keras 2) or per tensor (tf.keras, Keras 3), then
// by value.
func TestClippingG11(t *testing.T) {
	for _, dt := range dtypes {
		t.Run(dt.String(), func(t *testing.T) {
			ws := network(t, dt, 2, 1) // kernel (2,1), bias (1)
			kernel, bias := ws[0], ws[1]
			cases := []struct {
				name       string
				o          opt.Optimizer
				init       float64
				wantBias   []float64
				wantKernel []float64
			}{
				{"global", opt.SGD(opt.LR(0.1), opt.GlobalClipNorm(1)), 1, []float64{0.94}, []float64{1, 0.92}},
				{"per tensor", opt.SGD(opt.LR(0.1), opt.ClipNorm(1)), 1, []float64{0.9}, []float64{1, 0.9}},
				{"none", opt.SGD(opt.LR(0.1)), 1, []float64{0.7}, []float64{1, 0.6}},
				{"global then value", opt.SGD(opt.LR(1), opt.GlobalClipNorm(1), opt.ClipValue(0.5)), 0, []float64{-0.5}, []float64{0, -0.5}},
				{"global then loose value", opt.SGD(opt.LR(1), opt.GlobalClipNorm(1), opt.ClipValue(0.7)), 0, []float64{-0.6}, []float64{0, -0.7}},
				{"value only", opt.SGD(opt.LR(1), opt.ClipValue(0.5)), 0, []float64{-0.5}, []float64{0, -0.5}},
				{"norm above", opt.SGD(opt.LR(1), opt.GlobalClipNorm(6)), 0, []float64{-3}, []float64{0, -4}},
			}
			for _, c := range cases {
				set(t, bias, c.init)
				set(t, kernel, c.init, c.init)
				err := c.o.Apply([]*graph.Weight{bias, kernel}, []*tensor.Dense{grad(bias, 3), grad(kernel, 0, 4)})
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				checkValues(t, c.name+" bias", bias.Float64s(), c.wantBias, tolFor(dt), 1e-15)
				checkValues(t, c.name+" kernel", kernel.Float64s(), c.wantKernel, tolFor(dt), 1e-15)
			}
		})
	}
}

// TestSGDMomentumByHand checks SGD's Keras momentum and Nesterov formulas on
// one element over two steps.
func TestSGDMomentumByHand(t *testing.T) {
	w := network(t, tensor.Float64, 1, 1)[1]
	// v1 = -0.1·1 = -0.1, θ1 = 0.9; v2 = 0.5·(-0.1) - 0.1·2 = -0.25, θ2 = 0.65.
	got := run(t, opt.SGD(opt.LR(0.1), opt.Momentum(0.5)), w, []float64{1}, []float64{1}, []float64{2})
	checkValues(t, "momentum", got, []float64{0.65}, 1e-15, 0)
	// Nesterov: θ1 = 1 + 0.5·(-0.1) - 0.1 = 0.85; θ2 = 0.85 + 0.5·(-0.25) - 0.2 = 0.525.
	got = run(t, opt.SGD(opt.LR(0.1), opt.Momentum(0.5), opt.Nesterov()), w, []float64{1}, []float64{1}, []float64{2})
	checkValues(t, "nesterov", got, []float64{0.525}, 1e-15, 0)
	// Decay 1: step 2 uses lr 0.1/2: θ = 1 - 0.1 - 0.05·2 = 0.8.
	got = run(t, opt.SGD(opt.LR(0.1), opt.Decay(1)), w, []float64{1}, []float64{1}, []float64{2})
	checkValues(t, "decay", got, []float64{0.8}, 1e-15, 0)
}

// TestWeightDecayByHand checks Keras 3's decoupled weight decay (θ = θ -
// θ·wd·lr before the update, with the decayed lr) on one element, and that
// ExcludeFromWeightDecay matches part of a weight's name.
func TestWeightDecayByHand(t *testing.T) {
	w := network(t, tensor.Float64, 1, 1)[1] // ".../bias"
	// θ1 = 1 - 1·0.5·0.1 - 0.1·1 = 0.85; step 2 (lr 0.05):
	// θ2 = 0.85 - 0.85·0.5·0.05 - 0.05·2 = 0.72875.
	got := run(t, opt.SGD(opt.LR(0.1), opt.WeightDecay(0.5), opt.Decay(1)), w, []float64{1}, []float64{1}, []float64{2})
	checkValues(t, "sgd", got, []float64{0.72875}, 1e-15, 0)
	// Excluded: plain SGD with decay, θ = 1 - 0.1 - 0.05·2 = 0.8.
	got = run(t, opt.SGD(opt.LR(0.1), opt.WeightDecay(0.5), opt.Decay(1), opt.ExcludeFromWeightDecay("ias")), w, []float64{1}, []float64{1}, []float64{2})
	checkValues(t, "excluded", got, []float64{0.8}, 1e-15, 0)
	// A name that does not match leaves the decay on.
	got = run(t, opt.SGD(opt.LR(0.1), opt.WeightDecay(0.5), opt.ExcludeFromWeightDecay("kernel")), w, []float64{1}, []float64{1})
	checkValues(t, "not excluded", got, []float64{0.85}, 1e-15, 0)
}

// TestAdamWByHand checks AdamW on two elements over two steps against values
// computed with 40-digit decimals: the weight first shrinks by θ·wd·lr_e,
// then takes Adam's step. Step 1, first element: θ = 1 - 1·0.5·0.1 = 0.95;
// m = 0.01, v = 1e-5, lr_t = 0.1·sqrt(1-0.999)/(1-0.9) = sqrt(1e-3), so
// θ = 0.95 - sqrt(1e-3)·0.01/(sqrt(1e-5) + 1e-7) = 0.850003162177663.
func TestAdamWByHand(t *testing.T) {
	for _, dt := range dtypes {
		t.Run(dt.String(), func(t *testing.T) {
			w := network(t, dt, 1, 2)[1] // ".../bias", shape (2)
			steps := [][]float64{{0.1, -0.2}, {0.3, 0.1}}
			rtol := math.Max(tolFor(dt), 1e-15)
			got := run(t, opt.AdamW(opt.LR(0.1), opt.WeightDecay(0.5)), w, []float64{1, 2}, steps[:1]...)
			checkValues(t, "1 step", got, []float64{0.85000316217766333, 1.9999984188861695}, rtol, 0)
			got = run(t, opt.AdamW(opt.LR(0.1), opt.WeightDecay(0.5)), w, []float64{1, 2}, steps...)
			checkValues(t, "2 steps", got, []float64{0.71572580998858256, 1.9266318251050251}, rtol, 0)
			// Legacy decay 0.1: step 2 decays and steps with lr 0.1/1.1.
			got = run(t, opt.AdamW(opt.LR(0.1), opt.WeightDecay(0.5), opt.Decay(0.1)), w, []float64{1, 2}, steps...)
			checkValues(t, "decay", got[:1], []float64{0.72793284200577172}, rtol, 0)
			// Excluded, AdamW is Adam, bit for bit.
			got = run(t, opt.AdamW(opt.LR(0.1), opt.WeightDecay(0.5), opt.ExcludeFromWeightDecay("bias")), w, []float64{1, 2}, steps...)
			checkValues(t, "excluded", got, run(t, opt.Adam(opt.LR(0.1)), w, []float64{1, 2}, steps...), 0, 0)
		})
	}
}

// TestAdamWIsAdamWithWeightDecay checks that AdamW's only difference from
// Adam is the default weight decay of 0.004 (Keras 3), bit for bit.
func TestAdamWIsAdamWithWeightDecay(t *testing.T) {
	for _, dt := range dtypes {
		w := network(t, dt, 1, 2)[1]
		steps := [][]float64{{0.1, -0.2}, {0.3, 0.1}, {-2, 0.5}}
		want := run(t, opt.Adam(opt.WeightDecay(0.004), opt.AMSGrad()), w, []float64{1, 2}, steps...)
		got := run(t, opt.AdamW(opt.AMSGrad()), w, []float64{1, 2}, steps...)
		checkValues(t, "AdamW() vs Adam(WeightDecay(0.004))", got, want, 0, 0)
		if plain := run(t, opt.Adam(opt.AMSGrad()), w, []float64{1, 2}, steps...); plain[0] == got[0] {
			t.Errorf("%v: AdamW's default weight decay changed nothing", dt)
		}
	}
	o := opt.AdamW()
	if o.Name() != "adamw" || o.LearningRate() != 1e-3 || o.Validate() != nil {
		t.Errorf("AdamW(): Name %q, LearningRate %g, Validate %v", o.Name(), o.LearningRate(), o.Validate())
	}
}

// TestRMSpropByHand checks Keras 3's RMSprop (ε under the square root) on one
// element.
func TestRMSpropByHand(t *testing.T) {
	w := network(t, tensor.Float64, 1, 1)[1]
	// v = 0.1·4 = 0.4; θ = 1 - 0.01·2/sqrt(0.4 + 0.1).
	got := run(t, opt.RMSprop(opt.LR(0.01), opt.Epsilon(0.1)), w, []float64{1}, []float64{2})
	checkValues(t, "plain", got, []float64{1 - 0.02/0.7071067811865476}, 1e-15, 0)
	// centered: a = 0.2, d = 0.4 - 0.04 + 0.1 = 0.46.
	got = run(t, opt.RMSprop(opt.LR(0.01), opt.Epsilon(0.1), opt.Centered()), w, []float64{1}, []float64{2})
	checkValues(t, "centered", got, []float64{1 - 0.02/0.6782329983125268}, 1e-15, 0)
}

// TestLearningRate checks LearningRate, SetLearningRate and the defaults.
func TestLearningRate(t *testing.T) {
	for _, c := range []struct {
		o    opt.Optimizer
		name string
		lr   float64
	}{{opt.Adam(), "adam", 1e-3}, {opt.SGD(), "sgd", 0.01}, {opt.RMSprop(), "rmsprop", 1e-3}} {
		if c.o.Name() != c.name || c.o.LearningRate() != c.lr {
			t.Errorf("%s: Name %q, LearningRate %g, want %g", c.name, c.o.Name(), c.o.LearningRate(), c.lr)
		}
	}
	w := network(t, tensor.Float64, 1, 1)[1]
	o := opt.SGD()
	o.SetLearningRate(0.5)
	if o.LearningRate() != 0.5 {
		t.Fatalf("LearningRate() = %g after SetLearningRate(0.5)", o.LearningRate())
	}
	got := run(t, o, w, []float64{1}, []float64{1})
	checkValues(t, "sgd lr 0.5", got, []float64{0.5}, 0, 0)
	o.SetLearningRate(-1)
	if err := o.Validate(); err == nil {
		t.Fatal("Validate accepted SetLearningRate(-1)")
	}
}

// TestGet checks Get's names, defaults and error.
func TestGet(t *testing.T) {
	for _, name := range []string{"adam", "sgd", "rmsprop", "Adam", "RMSprop", "SGD"} {
		o, err := opt.Get(name)
		if err != nil {
			t.Fatalf("Get(%q): %v", name, err)
		}
		if fmt.Sprint(o.Name()) == "" || o.Validate() != nil || o.Iterations() != 0 {
			t.Errorf("Get(%q) = %s, Validate %v", name, o.Name(), o.Validate())
		}
	}
	if o, _ := opt.Get("Adam"); o.Name() != "adam" {
		t.Errorf("Get(Adam).Name() = %q", o.Name())
	}
	o, err := opt.Get("adabelief")
	if err == nil || o != nil {
		t.Fatalf("Get(adabelief) = %v, %v; want an error", o, err)
	}
	for _, want := range []string{`"adabelief"`, "adam", "sgd", "rmsprop"} {
		if !contains(err.Error(), want) {
			t.Errorf("Get(adabelief) error %q does not mention %s", err, want)
		}
	}
}
