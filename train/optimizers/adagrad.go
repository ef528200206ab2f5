package optimizers

// Adagrad returns Keras 3's Adagrad. Options: LR (default 0.001),
// InitialAccumulator (0.1), Epsilon (1e-7), Decay (0), ClipNorm,
// GlobalClipNorm, ClipValue, WeightDecay (0), ExcludeFromWeightDecay,
// LRSchedule. With lr_e the step's learning rate (after Decay or from the
// schedule) and the accumulator a starting at InitialAccumulator:
//
//	a = a + g²
//	θ = θ - lr_e·g/sqrt(a + ε)
//
// ε is under the square root as in Keras 3; PyTorch's Adagrad adds it to
// sqrt(a) and decays its learning rate by its own lr_decay.
func Adagrad(opts ...Option) Optimizer {
	return newOptimizer("adagrad", adagradRule, settings{lr: 1e-3, initialAccumulator: 0.1, epsilon: 1e-7}, opts)
}

// adagradRule keeps the accumulator of squared gradients per weight.
var adagradRule = &rule{
	options: optEpsilon | optInitialAccumulator,
	slots: func(s *settings) []slot {
		return []slot{{"accumulator", true, s.initialAccumulator}}
	},
	step32: adagrad[float32],
	step64: adagrad[float64],
}

// adagrad is Keras 3's Adagrad step; st is the accumulator.
func adagrad[T float](s *settings, k *kernel, w, g []T, st [][]T) {
	n := len(w)
	g, acc := g[:n], st[0][:n]
	lr, eps, sc, cl := T(k.lr), T(s.epsilon), T(k.scale), T(k.clip)
	for i := range w {
		gi := scaleClip(g[i], sc, cl)
		ai := acc[i] + gi*gi
		acc[i] = ai
		w[i] -= lr * gi / sqrt(ai+eps)
	}
}
