package optimizers

import "math"

// kernel holds the scalars of one weight's update: the step size lr (Adam:
// lr_t, bias correction included), the two decay rates c1, c2 (Adam: β1, β2;
// SGD: momentum; RMSprop: ρ, momentum), ε, the norm-clipping factor scale
// and the value-clipping bound clip (+Inf when off).
//
// Each update is one loop over the weight's elements: the gradient element
// is scaled, clipped, folded into the state and applied in place. The loops
// are generic over the weight's float type and compute in that type (float32
// as Keras does), from scalars computed in float64 and rounded once.
type kernel struct {
	lr, c1, c2, eps, scale, clip float64
}

// float is the element type of a weight.
type float interface{ ~float32 | ~float64 }

func (o *optimizer) update64(k *kernel, st *slots, w, g []float64) {
	update(o, k, w, g, st.a, st.b, st.c)
}

func (o *optimizer) update32(k *kernel, st *slots, w, g []float32) {
	update(o, k, w, g, st.a3, st.b3, st.c3)
}

// update runs the optimizer's step on one weight with its state slices.
func update[T float](o *optimizer, k *kernel, w, g, a, b, c []T) {
	switch o.kind {
	case kindAdam:
		adam(k, w, g, a, b, c)
	case kindSGD:
		sgd(k, o.s.nesterov, w, g, a)
	case kindRMSprop:
		rmsprop(k, w, g, a, b, c)
	}
}

// scaleClip applies norm clipping (the factor sc) and then value clipping
// (the bound cl) to one gradient element.
func scaleClip[T float](g, sc, cl T) T {
	g *= sc
	if g > cl {
		return cl
	}
	if g < -cl {
		return -cl
	}
	return g
}

func sqrt[T float](x T) T { return T(math.Sqrt(float64(x))) }

// adam is Keras's Adam step; vh is nil unless AMSGrad.
func adam[T float](k *kernel, w, g, m, v, vh []T) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	b1, b2, ob1, ob2 := T(k.c1), T(k.c2), T(1-k.c1), T(1-k.c2)
	lr, eps, sc, cl := T(k.lr), T(k.eps), T(k.scale), T(k.clip)
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

// sgd is Keras's SGD step; mom is nil when the momentum is 0.
func sgd[T float](k *kernel, nesterov bool, w, g, mom []T) {
	n := len(w)
	g = g[:n]
	lr, mu, sc, cl := T(k.lr), T(k.c1), T(k.scale), T(k.clip)
	switch {
	case mom == nil:
		for i := range w {
			w[i] -= lr * scaleClip(g[i], sc, cl)
		}
	case nesterov:
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

// rmsprop is Keras 3's RMSprop step; vel is the squared-gradient average,
// mom is nil without momentum, avg is nil unless centered.
func rmsprop[T float](k *kernel, w, g, vel, mom, avg []T) {
	n := len(w)
	g, vel = g[:n], vel[:n]
	rho, orho, mu := T(k.c1), T(1-k.c1), T(k.c2)
	lr, eps, sc, cl := T(k.lr), T(k.eps), T(k.scale), T(k.clip)
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
