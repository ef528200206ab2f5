package optimizers

// AdamW returns Keras 3's AdamW: Adam with decoupled weight decay, which is
// on by default. Options: those of Adam, with WeightDecay defaulting to
// 0.004 instead of 0. Each step first shrinks every weight not excluded by
// ExcludeFromWeightDecay, then makes Adam's update:
//
//	θ = θ - θ·wd·lr_e                     (lr_e: the learning rate after Decay)
//	θ = θ - lr_t·m/(sqrt(v or v̂) + ε)     (Adam, as Adam documents it)
//
// PyTorch's AdamW shrinks by the same factor (θ·(1 - lr·wd)) but places ε as
// its Adam does, after the bias correction of sqrt(v).
func AdamW(opts ...Option) Optimizer {
	s := adamDefaults
	s.weightDecay = 0.004
	return newOptimizer("adamw", adamRule, s, opts)
}
