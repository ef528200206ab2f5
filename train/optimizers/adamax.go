package optimizers

import "math"

// Adamax returns Keras 3's Adamax, Adam with the infinity norm. Options: LR
// (default 0.001), Beta1 (0.9), Beta2 (0.999), Epsilon (1e-7), Decay (0),
// ClipNorm, GlobalClipNorm, ClipValue, WeightDecay (0),
// ExcludeFromWeightDecay, LRSchedule. At step t (from 1), with lr_e the
// step's learning rate (after Decay or from the schedule):
//
//	m = m + (g - m)·(1-β1);  u = max(β2·u, |g|)
//	θ = θ - lr_e·m/((1-β1^t)·(u + ε))
//
// kerago folds 1/(1-β1^t) into the step size lr_e/(1-β1^t). PyTorch's
// Adamax is the same but for ε, which it puts inside the max (max(β2·u,
// |g|+ε)).
func Adamax(opts ...Option) Optimizer {
	return newOptimizer("adamax", adamaxRule, settings{lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7}, opts)
}

// adamaxRule keeps m and u per weight, under Keras's names.
var adamaxRule = &rule{
	options: optBeta1 | optBeta2 | optEpsilon,
	slots: func(s *settings) []slot {
		return []slot{{"momentum", true, 0}, {"norm", true, 0}}
	},
	stepSize: func(s *settings, lr float64, t int) float64 {
		return lr / (1 - math.Pow(s.beta1, float64(t)))
	},
	step32: adamax[float32],
	step64: adamax[float64],
}

// adamax is Keras 3's Adamax step; st is m and u.
func adamax[T float](s *settings, k *kernel, w, g []T, st [][]T) {
	n := len(w)
	g, m, u := g[:n], st[0][:n], st[1][:n]
	b2, ob1 := T(s.beta2), T(1-s.beta1)
	lr, eps, sc, cl := T(k.lr), T(s.epsilon), T(k.scale), T(k.clip)
	for i := range w {
		gi := scaleClip(g[i], sc, cl)
		mi := m[i] + (gi-m[i])*ob1
		ui := b2 * u[i]
		if a := abs(gi); a > ui {
			ui = a
		}
		m[i], u[i] = mi, ui
		w[i] -= lr * mi / (ui + eps)
	}
}

func abs[T float](x T) T {
	if x < 0 {
		return -x
	}
	return x
}
