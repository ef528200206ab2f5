package optimizers

import "math"

// Lion returns Keras 3's Lion (Chen et al. 2023, "Symbolic Discovery of
// Optimization Algorithms"). Options: LR (default 0.001, Keras 3's; the
// paper advises 3-10 times less than Adam's), Beta1 (0.9), Beta2 (0.99),
// Decay (0), ClipNorm, GlobalClipNorm, ClipValue, WeightDecay (0),
// ExcludeFromWeightDecay, LRSchedule. With lr_e the step's learning rate
// (after Decay or from the schedule):
//
//	c = β1·m + (1-β1)·g
//	θ = θ - lr_e·sign(c)
//	m = β2·m + (1-β2)·g
//
// Beta1 must be in (0, 1): at 0 Lion degenerates to SignSGD, which Keras
// refuses too (Keras also accepts β1 = 1, which ignores the gradient in
// the step; kerago does not).
func Lion(opts ...Option) Optimizer {
	return newOptimizer("lion", lionRule, settings{lr: 1e-3, beta1: 0.9, beta2: 0.99}, opts)
}

// lionRule keeps the momentum m per weight.
var lionRule = &rule{
	options: optBeta1 | optBeta2,
	slots: func(s *settings) []slot {
		return []slot{{"momentum", true, 0}}
	},
	check: func(s *settings) string {
		if s.beta1 == 0 {
			return "Beta1(0): Lion needs β1 in (0, 1); at 0 it degenerates to SignSGD"
		}
		return ""
	},
	step32: lion[float32],
	step64: lion[float64],
}

// lion is Keras 3's Lion step; st is the momentum.
func lion[T float](s *settings, k *kernel, w, g []T, st [][]T) {
	n := len(w)
	g, m := g[:n], st[0][:n]
	b1, ob1, b2, ob2 := T(s.beta1), T(1-s.beta1), T(s.beta2), T(1-s.beta2)
	lr, sc, cl := T(k.lr), T(k.scale), T(k.clip)
	for i := range w {
		gi := scaleClip(g[i], sc, cl)
		// θ - lr·sign(c): lr with c's sign, branch-free but for c = 0.
		if c := m[i]*b1 + gi*ob1; c != 0 {
			w[i] -= T(math.Copysign(float64(lr), float64(c)))
		}
		m[i] = m[i]*b2 + gi*ob2
	}
}
