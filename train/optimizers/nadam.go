package optimizers

import "math"

// Nadam returns Keras 3's Nadam, Adam with Nesterov momentum. Options: LR
// (default 0.001), Beta1 (0.9), Beta2 (0.999), Epsilon (1e-7), Decay (0),
// ClipNorm, GlobalClipNorm, ClipValue, WeightDecay (0),
// ExcludeFromWeightDecay, LRSchedule. At step t (from 1), with lr_e the
// step's learning rate (after Decay or from the schedule), Keras's
// momentum cache u_t = β1·(1 - 0.5·0.96^t) and P_t = u_1·…·u_t:
//
//	m = m + (g - m)·(1-β1);  v = v + (g² - v)·(1-β2)
//	m̂ = u_{t+1}·m/(1 - P_t·u_{t+1}) + (1-u_t)·g/(1 - P_t)
//	v̂ = v/(1-β2^t)
//	θ = θ - m̂·lr_e/(sqrt(v̂) + ε)
//
// P_t is optimizer state (Keras's u_product, starting at 1), saved and
// restored with the slots by SaveState and LoadState. PyTorch's NAdam is the
// same rule with momentum_decay=1: its default 0.004 makes the cache
// β1·(1 - 0.5·0.96^(0.004·t)), as the Nadam paper's schedule (which the
// Keras source does not follow).
func Nadam(opts ...Option) Optimizer {
	return newOptimizer("nadam", nadamRule, settings{lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7}, opts)
}

// nadamRule keeps m and v per weight and the product of the momentum
// cache for the optimizer, under Keras's names.
var nadamRule = &rule{
	options: optBeta1 | optBeta2 | optEpsilon,
	slots: func(s *settings) []slot {
		return []slot{{"momentum", true, 0}, {"velocity", true, 0}}
	},
	scalars: []slot{{"u_product", true, 1}},
	prepare: func(s *settings, k *kernel, t int, cur, next []float64) {
		u := func(t int) float64 { return s.beta1 * (1 - 0.5*math.Pow(0.96, float64(t))) }
		ut, ut1 := u(t), u(t+1)
		p := cur[0] * ut
		next[0] = p
		k.c = [5]float64{ut1, 1 - p*ut1, 1 - ut, 1 - p, 1 - math.Pow(s.beta2, float64(t))}
	},
	step32: nadam[float32],
	step64: nadam[float64],
}

// nadam is Keras 3's Nadam step; st is m and v.
func nadam[T float](s *settings, k *kernel, w, g []T, st [][]T) {
	n := len(w)
	g, m, v := g[:n], st[0][:n], st[1][:n]
	ob1, ob2 := T(1-s.beta1), T(1-s.beta2)
	lr, eps, sc, cl := T(k.lr), T(s.epsilon), T(k.scale), T(k.clip)
	ut1, d1, out, d0, bc2 := T(k.c[0]), T(k.c[1]), T(k.c[2]), T(k.c[3]), T(k.c[4])
	for i := range w {
		gi := scaleClip(g[i], sc, cl)
		mi := m[i] + (gi-m[i])*ob1
		vi := v[i] + (gi*gi-v[i])*ob2
		m[i], v[i] = mi, vi
		mh := ut1*mi/d1 + out*gi/d0
		w[i] -= mh * lr / (sqrt(vi/bc2) + eps)
	}
}
