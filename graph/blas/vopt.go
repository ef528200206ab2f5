package blas

import "math"

// Adam32 is one float32 step of Keras's Adam without AMSGrad, in place, on
// w, its gradient g and its slots m and v (all of one length), with the
// parameters p: β1, 1-β1, β2, 1-β2, the step size (bias correction folded
// in), ε, the norm-clipping scale and the value-clipping bound (+Inf for
// none). Per element, in float32, with no fused multiply-add:
//
//	g' = clamp(g·scale, ±bound);  m = β1·m + (1-β1)·g';  v = β2·v + (1-β2)·g'²
//	w -= lr·m / (sqrt(v) + ε)
//
// With AVX2 eight elements at a time (the optimizer's step is otherwise
// the costliest part of a small model's training step); the result is
// bit for bit that of the scalar loop, which the rest of w takes.
func Adam32(w, g, m, v []float32, p *[8]float32) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	vec := 0
	if vecMath {
		vec = n &^ 7
		if vec > 0 {
			adam32Vec(&w[0], &g[0], &m[0], &v[0], vec, p)
		}
	}
	b1, ob1, b2, ob2, lr, eps, sc, cl := p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
	for i := vec; i < n; i++ {
		gi := g[i] * sc
		if gi > cl {
			gi = cl
		}
		if gi < -cl {
			gi = -cl
		}
		mi := b1*m[i] + ob1*gi
		vi := b2*v[i] + ob2*(gi*gi)
		m[i], v[i] = mi, vi
		w[i] -= lr * mi / (sqrt32(vi) + eps)
	}
}

// sqrt32 is the correctly rounded float32 square root (VSQRTPS's).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
