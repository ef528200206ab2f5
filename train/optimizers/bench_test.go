package optimizers_test

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	opt "github.com/kerago/kerago/train/optimizers"
)

// mlp returns the weights of an MLP 784 -> 128 -> 10 (kernels 784x128 and
// 128x10, biases 128 and 10) in dt, with random gradients for them.
func mlp(tb testing.TB, dt tensor.Dtype) ([]*graph.Weight, []*tensor.Dense) {
	tb.Helper()
	ws := network(tb, dt, 784, 128, 10)
	rng := rand.New(rand.NewPCG(1, 2))
	grads := make([]*tensor.Dense, len(ws))
	for i, w := range ws {
		vals := make([]float64, w.Value().DataSize())
		for j := range vals {
			vals[j] = rng.NormFloat64() * 0.01
		}
		grads[i] = grad(w, vals...)
	}
	return ws, grads
}

var allocCases = []struct {
	name string
	mk   func() opt.Optimizer
}{
	{"adam", func() opt.Optimizer { return opt.Adam() }},
	{"adam_clip", func() opt.Optimizer {
		return opt.Adam(opt.AMSGrad(), opt.Decay(1e-4), opt.GlobalClipNorm(5), opt.ClipValue(0.5))
	}},
	{"adam_clipnorm", func() opt.Optimizer { return opt.Adam(opt.ClipNorm(1), opt.ClipValue(0.5)) }},
	{"adamw", func() opt.Optimizer { return opt.AdamW() }},
	{"adamw_amsgrad_clip_exclude", func() opt.Optimizer {
		return opt.AdamW(opt.AMSGrad(), opt.Decay(1e-4), opt.ClipNorm(1), opt.ClipValue(0.5), opt.ExcludeFromWeightDecay("bias"))
	}},
	{"sgd", func() opt.Optimizer { return opt.SGD() }},
	{"sgd_nesterov", func() opt.Optimizer { return opt.SGD(opt.Momentum(0.9), opt.Nesterov(), opt.ClipNorm(1)) }},
	{"rmsprop", func() opt.Optimizer { return opt.RMSprop() }},
	{"sgd_weight_decay", func() opt.Optimizer {
		return opt.SGD(opt.Momentum(0.9), opt.WeightDecay(0.01), opt.ExcludeFromWeightDecay("bias"))
	}},
	{"rmsprop_centered", func() opt.Optimizer {
		return opt.RMSprop(opt.Centered(), opt.Momentum(0.9), opt.GlobalClipNorm(1), opt.ClipValue(1))
	}},
	{"adagrad", func() opt.Optimizer { return opt.Adagrad() }},
	{"adagrad_clip_decay", func() opt.Optimizer {
		return opt.Adagrad(opt.InitialAccumulator(0.5), opt.Decay(1e-4), opt.ClipNorm(1), opt.ClipValue(0.5), opt.WeightDecay(0.01))
	}},
	{"adadelta", func() opt.Optimizer { return opt.Adadelta(opt.LR(1)) }},
	{"adadelta_clip_decay", func() opt.Optimizer {
		return opt.Adadelta(opt.Rho(0.9), opt.Decay(1e-4), opt.GlobalClipNorm(5), opt.ClipValue(0.5), opt.WeightDecay(0.01), opt.ExcludeFromWeightDecay("bias"))
	}},
	{"adamax", func() opt.Optimizer { return opt.Adamax() }},
	{"adamax_clip_decay", func() opt.Optimizer {
		return opt.Adamax(opt.Decay(1e-4), opt.ClipNorm(1), opt.ClipValue(0.5), opt.WeightDecay(0.01))
	}},
	{"nadam", func() opt.Optimizer { return opt.Nadam() }},
	{"nadam_clip_decay", func() opt.Optimizer {
		return opt.Nadam(opt.Decay(1e-4), opt.GlobalClipNorm(5), opt.ClipValue(0.5), opt.WeightDecay(0.01))
	}},
	{"lion", func() opt.Optimizer { return opt.Lion() }},
	{"lion_clip_decay", func() opt.Optimizer {
		return opt.Lion(opt.Decay(1e-4), opt.ClipNorm(1), opt.ClipValue(0.5), opt.WeightDecay(0.01))
	}},
	{"sgd_exponential_decay", func() opt.Optimizer {
		return opt.SGD(opt.Momentum(0.9), opt.LRSchedule(opt.ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.5}))
	}},
	{"adam_piecewise", func() opt.Optimizer {
		return opt.Adam(opt.LRSchedule(opt.PiecewiseConstantDecay{Boundaries: []int{10, 20}, Values: []float64{1e-3, 5e-4, 1e-4}}))
	}},
	{"nadam_cosine_warmup", func() opt.Optimizer {
		target := 1e-3
		return opt.Nadam(opt.LRSchedule(opt.CosineDecay{DecaySteps: 100, WarmupTarget: &target, WarmupSteps: 10}))
	}},
	{"lion_restarts_decay", func() opt.Optimizer {
		return opt.Lion(opt.Decay(1e-3), opt.LRSchedule(opt.NewCosineDecayRestarts(1e-4, 10)))
	}},
	{"adagrad_polynomial", func() opt.Optimizer { return opt.Adagrad(opt.LRSchedule(opt.NewPolynomialDecay(0.1, 50))) }},
	{"adamax_inverse_time", func() opt.Optimizer {
		return opt.Adamax(opt.LRSchedule(opt.InverseTimeDecay{InitialLearningRate: 0.01, DecaySteps: 5, DecayRate: 0.5, Staircase: true}))
	}},
}

// TestZeroAllocs checks that a step allocates nothing once the first step
// has created the optimizer's state.
func TestZeroAllocs(t *testing.T) {
	for _, dt := range dtypes {
		ws := network(t, dt, 20, 16, 3)
		grads := make([]*tensor.Dense, len(ws))
		for i, w := range ws {
			vals := make([]float64, w.Value().DataSize())
			for j := range vals {
				vals[j] = float64(j%7) - 3
			}
			grads[i] = grad(w, vals...)
		}
		for _, c := range allocCases {
			o := c.mk()
			if err := o.Apply(ws, grads); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(50, func() {
				if err := o.Apply(ws, grads); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 && !raceEnabled {
				t.Errorf("%s %v: %g allocations per step", c.name, dt, allocs)
			}
		}
	}
}

func benchStep(b *testing.B, o opt.Optimizer) {
	ws, grads := mlp(b, tensor.Float32)
	if err := o.Apply(ws, grads); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := o.Apply(ws, grads); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdamStep is one Adam step on a float32 784-128-10 MLP (101,770
// parameters).
func BenchmarkAdamStep(b *testing.B) { benchStep(b, opt.Adam()) }

// BenchmarkAdamStepClipped adds global norm and value clipping.
func BenchmarkAdamStepClipped(b *testing.B) {
	benchStep(b, opt.Adam(opt.GlobalClipNorm(5), opt.ClipValue(0.5)))
}

// BenchmarkAdamWStep is one AdamW step (weight decay 0.004, biases
// excluded).
func BenchmarkAdamWStep(b *testing.B) {
	benchStep(b, opt.AdamW(opt.ExcludeFromWeightDecay("bias")))
}

// BenchmarkSGDStep is one SGD step with momentum 0.9.
func BenchmarkSGDStep(b *testing.B) { benchStep(b, opt.SGD(opt.Momentum(0.9))) }

// BenchmarkRMSpropStep is one RMSprop step.
func BenchmarkRMSpropStep(b *testing.B) { benchStep(b, opt.RMSprop()) }

// BenchmarkNadamStep is one Nadam step.
func BenchmarkNadamStep(b *testing.B) { benchStep(b, opt.Nadam()) }

// BenchmarkLionStep is one Lion step with an ExponentialDecay schedule.
func BenchmarkLionStep(b *testing.B) {
	benchStep(b, opt.Lion(opt.LRSchedule(opt.ExponentialDecay{InitialLearningRate: 1e-4, DecaySteps: 1000, DecayRate: 0.9})))
}
