package optimizers

// Adadelta returns Keras 3's Adadelta. Options: LR (default 0.001), Rho
// (0.95), Epsilon (1e-7), Decay (0), ClipNorm, GlobalClipNorm, ClipValue,
// WeightDecay (0), ExcludeFromWeightDecay, LRSchedule. With lr_e the step's
// learning rate (after Decay or from the schedule), the average of squared
// gradients a and the average of squared updates d, both starting at 0:
//
//	a = ρ·a + (1-ρ)·g²
//	Δ = -sqrt(d + ε)·g/sqrt(a + ε)
//	d = ρ·d + (1-ρ)·Δ²
//	θ = θ + lr_e·Δ
//
// This is PyTorch's Adadelta too (its default lr is 1 and ε 1e-6, Keras 2's
// lr 1).
func Adadelta(opts ...Option) Optimizer {
	return newOptimizer("adadelta", adadeltaRule, settings{lr: 1e-3, rho: 0.95, epsilon: 1e-7}, opts)
}

// adadeltaRule keeps the two averages per weight, under Keras's names.
var adadeltaRule = &rule{
	options: optRho | optEpsilon,
	slots: func(s *settings) []slot {
		return []slot{{"accumulated_grad", true, 0}, {"accumulated_delta_var", true, 0}}
	},
	step32: adadelta[float32],
	step64: adadelta[float64],
}

// adadelta is Keras 3's Adadelta step; st is the average of squared
// gradients and the average of squared updates.
func adadelta[T float](s *settings, k *kernel, w, g []T, st [][]T) {
	n := len(w)
	g, ag, ad := g[:n], st[0][:n], st[1][:n]
	rho, orho := T(s.rho), T(1-s.rho)
	lr, eps, sc, cl := T(k.lr), T(s.epsilon), T(k.scale), T(k.clip)
	for i := range w {
		gi := scaleClip(g[i], sc, cl)
		a := rho*ag[i] + orho*(gi*gi)
		ag[i] = a
		delta := -(sqrt(ad[i]+eps) * gi / sqrt(a+eps))
		ad[i] = rho*ad[i] + orho*(delta*delta)
		w[i] += lr * delta
	}
}
