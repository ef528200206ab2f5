package optimizers

// SGD returns Keras's stochastic gradient descent. Options: LR (default
// 0.01), Momentum (0), Nesterov, Decay (0), ClipNorm, GlobalClipNorm,
// ClipValue, WeightDecay (0), ExcludeFromWeightDecay. With lr_e the decayed learning rate:
//
//	no momentum: θ = θ - lr_e·g
//	momentum μ:  v = μ·v - lr_e·g;  θ = θ + v            (Nesterov: θ = θ + μ·v - lr_e·g)
func SGD(opts ...Option) Optimizer {
	return newOptimizer("sgd", sgdRule, settings{lr: 0.01}, opts)
}

// sgdRule keeps the momentum v per weight, only when the momentum is not 0.
var sgdRule = &rule{
	options: optMomentum | optNesterov,
	slots: func(s *settings) []slot {
		return []slot{{"momentum", s.momentum != 0, 0}}
	},
	step32: sgd[float32],
	step64: sgd[float64],
}

// sgd is Keras's SGD step; st is the momentum (nil when the momentum is 0).
func sgd[T float](s *settings, k *kernel, w, g []T, st [][]T) {
	n := len(w)
	g, mom := g[:n], st[0]
	lr, mu, sc, cl := T(k.lr), T(s.momentum), T(k.scale), T(k.clip)
	switch {
	case mom == nil:
		for i := range w {
			w[i] -= lr * scaleClip(g[i], sc, cl)
		}
	case s.nesterov:
		mom = mom[:n]
		for i := range w {
			gi := scaleClip(g[i], sc, cl)
			mi := mu*mom[i] - lr*gi
			mom[i] = mi
			w[i] += mu*mi - lr*gi
		}
	default:
		mom = mom[:n]
		for i := range w {
			mi := mu*mom[i] - lr*scaleClip(g[i], sc, cl)
			mom[i] = mi
			w[i] += mi
		}
	}
}
