package optimizers

import (
	"math"

	"github.com/kerago/kerago/graph/blas"
)

// Adam returns Keras's Adam optimizer (docs/SEMANTICS.md §22.1). Options: LR
// (default 0.001), Beta1 (0.9), Beta2 (0.999), Epsilon (1e-7), Decay (0),
// AMSGrad, ClipNorm, GlobalClipNorm, ClipValue, WeightDecay (0),
// ExcludeFromWeightDecay. At step t (from 1), with
// lr_e = lr/(1+decay·(t-1)):
//
//	lr_t = lr_e·sqrt(1-β2^t)/(1-β1^t)
//	m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;  (AMSGrad: v̂ = max(v̂, v))
//	θ = θ - lr_t·m/(sqrt(v or v̂) + ε)
//
// ε is added to the uncorrected sqrt(v), as Keras (not PyTorch) does.
func Adam(opts ...Option) Optimizer {
	return newOptimizer("adam", adamRule, adamDefaults, opts)
}

// adamDefaults are Keras's defaults for Adam.
var adamDefaults = settings{lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7}

// adamRule keeps m, v and, with AMSGrad, v̂ per weight, under Keras's names.
var adamRule = &rule{
	options: optBeta1 | optBeta2 | optEpsilon | optAMSGrad,
	slots: func(s *settings) []slot {
		return []slot{{"momentum", true, 0}, {"velocity", true, 0}, {"velocity_hat", s.amsgrad, 0}}
	},
	stepSize: func(s *settings, lr float64, t int) float64 {
		tf := float64(t)
		return lr * (math.Sqrt(1-math.Pow(s.beta2, tf)) / (1 - math.Pow(s.beta1, tf)))
	},
	step32: adam[float32],
	step64: adam[float64],
}

// adam is Keras's Adam step; st is m, v and v̂ (nil unless AMSGrad).
func adam[T float](s *settings, k *kernel, w, g []T, st [][]T) {
	n := len(w)
	g, m, v, vh := g[:n], st[0][:n], st[1][:n], st[2]
	b1, b2, ob1, ob2 := T(s.beta1), T(s.beta2), T(1-s.beta1), T(1-s.beta2)
	lr, eps, sc, cl := T(k.lr), T(s.epsilon), T(k.scale), T(k.clip)
	if w32, ok := any(w).([]float32); ok && vh == nil {
		p := [8]float32{float32(b1), float32(ob1), float32(b2), float32(ob2), float32(lr), float32(eps), float32(sc), float32(cl)}
		blas.Adam32(w32, any(g).([]float32), any(m).([]float32), any(v).([]float32), &p)
		return
	}
	if vh == nil {
		for i := range w {
			gi := scaleClip(g[i], sc, cl)
			mi := b1*m[i] + ob1*gi
			vi := b2*v[i] + ob2*(gi*gi)
			m[i], v[i] = mi, vi
			w[i] -= lr * mi / (sqrt(vi) + eps)
		}
		return
	}
	vh = vh[:n]
	for i := range w {
		gi := scaleClip(g[i], sc, cl)
		mi := b1*m[i] + ob1*gi
		vi := b2*v[i] + ob2*(gi*gi)
		hi := vh[i]
		if vi > hi {
			hi = vi
		}
		m[i], v[i], vh[i] = mi, vi, hi
		w[i] -= lr * mi / (sqrt(hi) + eps)
	}
}
