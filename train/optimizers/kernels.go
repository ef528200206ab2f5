package optimizers

import "math"

// kernel holds the scalars of one weight's update: the step size lr (Adam:
// lr_t, bias correction included), the two decay rates c1, c2 (Adam: β1, β2;
// SGD: momentum; RMSprop: ρ, momentum), ε, the norm-clipping factor scale
// and the value-clipping bound clip (+Inf when off).
//
// Each update is one loop over the weight's elements: the gradient element
// is scaled, clipped, folded into the state and applied in place. The
// float32 loops compute in float32, as Keras does, from scalars computed in
// float64 and rounded once.
type kernel struct {
	lr, c1, c2, eps, scale, clip float64
}

func (o *optimizer) update64(k *kernel, st *slots, w, g []float64) {
	switch o.kind {
	case kindAdam:
		adam64(k, w, g, st.a, st.b, st.c)
	case kindSGD:
		sgd64(k, o.s.nesterov, w, g, st.a)
	case kindRMSprop:
		rmsprop64(k, w, g, st.a, st.b, st.c)
	}
}

func (o *optimizer) update32(k *kernel, st *slots, w, g []float32) {
	switch o.kind {
	case kindAdam:
		adam32(k, w, g, st.a3, st.b3, st.c3)
	case kindSGD:
		sgd32(k, o.s.nesterov, w, g, st.a3)
	case kindRMSprop:
		rmsprop32(k, w, g, st.a3, st.b3, st.c3)
	}
}

// adam64 is Keras's Adam step; vh is nil unless AMSGrad.
func adam64(k *kernel, w, g, m, v, vh []float64) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	b1, b2, ob1, ob2 := k.c1, k.c2, 1-k.c1, 1-k.c2
	lr, eps, sc, cl := k.lr, k.eps, k.scale, k.clip
	if vh == nil {
		for i := range w {
			gi := g[i] * sc
			if gi > cl {
				gi = cl
			} else if gi < -cl {
				gi = -cl
			}
			mi := b1*m[i] + ob1*gi
			vi := b2*v[i] + ob2*(gi*gi)
			m[i], v[i] = mi, vi
			w[i] -= lr * mi / (math.Sqrt(vi) + eps)
		}
		return
	}
	vh = vh[:n]
	for i := range w {
		gi := g[i] * sc
		if gi > cl {
			gi = cl
		} else if gi < -cl {
			gi = -cl
		}
		mi := b1*m[i] + ob1*gi
		vi := b2*v[i] + ob2*(gi*gi)
		hi := math.Max(vh[i], vi)
		m[i], v[i], vh[i] = mi, vi, hi
		w[i] -= lr * mi / (math.Sqrt(hi) + eps)
	}
}

func adam32(k *kernel, w, g, m, v, vh []float32) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	b1, b2 := float32(k.c1), float32(k.c2)
	ob1, ob2 := float32(1-k.c1), float32(1-k.c2)
	lr, eps, sc, cl := float32(k.lr), float32(k.eps), float32(k.scale), float32(k.clip)
	if vh == nil {
		for i := range w {
			gi := g[i] * sc
			if gi > cl {
				gi = cl
			} else if gi < -cl {
				gi = -cl
			}
			mi := b1*m[i] + ob1*gi
			vi := b2*v[i] + ob2*(gi*gi)
			m[i], v[i] = mi, vi
			w[i] -= lr * mi / (float32(math.Sqrt(float64(vi))) + eps)
		}
		return
	}
	vh = vh[:n]
	for i := range w {
		gi := g[i] * sc
		if gi > cl {
			gi = cl
		} else if gi < -cl {
			gi = -cl
		}
		mi := b1*m[i] + ob1*gi
		vi := b2*v[i] + ob2*(gi*gi)
		hi := vh[i]
		if vi > hi {
			hi = vi
		}
		m[i], v[i], vh[i] = mi, vi, hi
		w[i] -= lr * mi / (float32(math.Sqrt(float64(hi))) + eps)
	}
}

// sgd64 is Keras's SGD step; mom is nil when the momentum is 0.
func sgd64(k *kernel, nesterov bool, w, g, mom []float64) {
	n := len(w)
	g = g[:n]
	lr, mu, sc, cl := k.lr, k.c1, k.scale, k.clip
	if mom == nil {
		for i := range w {
			gi := g[i] * sc
			if gi > cl {
				gi = cl
			} else if gi < -cl {
				gi = -cl
			}
			w[i] -= lr * gi
		}
		return
	}
	mom = mom[:n]
	if nesterov {
		for i := range w {
			gi := g[i] * sc
			if gi > cl {
				gi = cl
			} else if gi < -cl {
				gi = -cl
			}
			mi := mu*mom[i] - lr*gi
			mom[i] = mi
			w[i] += mu*mi - lr*gi
		}
		return
	}
	for i := range w {
		gi := g[i] * sc
		if gi > cl {
			gi = cl
		} else if gi < -cl {
			gi = -cl
		}
		mi := mu*mom[i] - lr*gi
		mom[i] = mi
		w[i] += mi
	}
}

func sgd32(k *kernel, nesterov bool, w, g, mom []float32) {
	n := len(w)
	g = g[:n]
	lr, mu, sc, cl := float32(k.lr), float32(k.c1), float32(k.scale), float32(k.clip)
	if mom == nil {
		for i := range w {
			gi := g[i] * sc
			if gi > cl {
				gi = cl
			} else if gi < -cl {
				gi = -cl
			}
			w[i] -= lr * gi
		}
		return
	}
	mom = mom[:n]
	if nesterov {
		for i := range w {
			gi := g[i] * sc
			if gi > cl {
				gi = cl
			} else if gi < -cl {
				gi = -cl
			}
			mi := mu*mom[i] - lr*gi
			mom[i] = mi
			w[i] += mu*mi - lr*gi
		}
		return
	}
	for i := range w {
		gi := g[i] * sc
		if gi > cl {
			gi = cl
		} else if gi < -cl {
			gi = -cl
		}
		mi := mu*mom[i] - lr*gi
		mom[i] = mi
		w[i] += mi
	}
}

// rmsprop64 is Keras 3's RMSprop step; vel is the squared-gradient average,
// mom is nil without momentum, avg is nil unless centered.
func rmsprop64(k *kernel, w, g, vel, mom, avg []float64) {
	n := len(w)
	g, vel = g[:n], vel[:n]
	rho, orho, mu := k.c1, 1-k.c1, k.c2
	lr, eps, sc, cl := k.lr, k.eps, k.scale, k.clip
	if mom != nil {
		mom = mom[:n]
	}
	if avg != nil {
		avg = avg[:n]
	}
	for i := range w {
		gi := g[i] * sc
		if gi > cl {
			gi = cl
		} else if gi < -cl {
			gi = -cl
		}
		vi := rho*vel[i] + orho*(gi*gi)
		vel[i] = vi
		d := vi + eps
		if avg != nil {
			ai := rho*avg[i] + orho*gi
			avg[i] = ai
			d = vi - ai*ai + eps
		}
		inc := lr * gi / math.Sqrt(d)
		if mom != nil {
			inc = mu*mom[i] + inc
			mom[i] = inc
		}
		w[i] -= inc
	}
}

func rmsprop32(k *kernel, w, g, vel, mom, avg []float32) {
	n := len(w)
	g, vel = g[:n], vel[:n]
	rho, orho, mu := float32(k.c1), float32(1-k.c1), float32(k.c2)
	lr, eps, sc, cl := float32(k.lr), float32(k.eps), float32(k.scale), float32(k.clip)
	if mom != nil {
		mom = mom[:n]
	}
	if avg != nil {
		avg = avg[:n]
	}
	for i := range w {
		gi := g[i] * sc
		if gi > cl {
			gi = cl
		} else if gi < -cl {
			gi = -cl
		}
		vi := rho*vel[i] + orho*(gi*gi)
		vel[i] = vi
		d := vi + eps
		if avg != nil {
			ai := rho*avg[i] + orho*gi
			avg[i] = ai
			d = vi - ai*ai + eps
		}
		inc := lr * gi / float32(math.Sqrt(float64(d)))
		if mom != nil {
			inc = mu*mom[i] + inc
			mom[i] = inc
		}
		w[i] -= inc
	}
}
