package optimizers

// RMSprop returns Keras 3's RMSprop. Options: LR (default 0.001), Rho (0.9),
// Epsilon (1e-7), Momentum (0), Centered, Decay (0), ClipNorm,
// GlobalClipNorm, ClipValue, WeightDecay (0), ExcludeFromWeightDecay. With
// lr_e the decayed learning rate:
//
//	v = ρ·v + (1-ρ)·g²
//	centered: a = ρ·a + (1-ρ)·g;  d = v - a² + ε    otherwise d = v + ε
//	inc = lr_e·g/sqrt(d)
//	momentum μ > 0: s = μ·s + inc;  θ = θ - s        otherwise θ = θ - inc
//
// ε is under the square root as in Keras 3 and tf.keras (standalone Keras 2
// and PyTorch add it to sqrt(v) instead).
func RMSprop(opts ...Option) Optimizer {
	return newOptimizer("rmsprop", rmspropRule, settings{lr: 1e-3, rho: 0.9, epsilon: 1e-7}, opts)
}

// rmspropRule keeps the squared-gradient average per weight, the momentum
// when it is > 0 and the gradient average when centered.
var rmspropRule = &rule{
	options: optRho | optEpsilon | optMomentum | optCentered,
	slots: func(s *settings) []slot {
		return []slot{{"velocity", true, 0}, {"momentum", s.momentum > 0, 0}, {"average_gradient", s.centered, 0}}
	},
	step32: rmsprop[float32],
	step64: rmsprop[float64],
}

// rmsprop is Keras 3's RMSprop step; st is the squared-gradient average,
// the momentum (nil without momentum) and the gradient average (nil unless
// centered).
func rmsprop[T float](s *settings, k *kernel, w, g []T, st [][]T) {
	n := len(w)
	g, vel, mom, avg := g[:n], st[0][:n], st[1], st[2]
	rho, orho, mu := T(s.rho), T(1-s.rho), T(s.momentum)
	lr, eps, sc, cl := T(k.lr), T(s.epsilon), T(k.scale), T(k.clip)
	if mom != nil {
		mom = mom[:n]
	}
	if avg != nil {
		avg = avg[:n]
	}
	for i := range w {
		gi := scaleClip(g[i], sc, cl)
		vi := rho*vel[i] + orho*(gi*gi)
		vel[i] = vi
		d := vi + eps
		if avg != nil {
			ai := rho*avg[i] + orho*gi
			avg[i] = ai
			d = vi - ai*ai + eps
		}
		inc := lr * gi / sqrt(d)
		if mom != nil {
			inc = mu*mom[i] + inc
			mom[i] = inc
		}
		w[i] -= inc
	}
}
