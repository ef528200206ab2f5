package blas

import "math"

// Vectorised float32 kernels for max pooling and ReLU, the element-wise
// passes over a convolution's output. With AVX2 (see vecPool) they run
// eight lanes at a time on whole groups of eight elements; the tail and
// other CPUs use the scalar code, which gives identical results (no
// arithmetic is reassociated).

// MaxInto32 sets dst[i] = src[i] wherever src[i] > dst[i], or src[i] is
// NaN and dst[i] is not (the first maximum wins ties, NaN propagates), for
// i < len(dst). It panics if src is shorter than dst.
func MaxInto32(dst, src []float32) {
	if len(src) < len(dst) {
		panic("blas: MaxInto32: src shorter than dst")
	}
	n := vecLen(vecPool, len(dst))
	if n > 0 {
		maxInto32Vec(&dst[0], &src[0], n)
	}
	src = src[:len(dst)]
	for i := n; i < len(dst); i++ {
		v, b := src[i], dst[i]
		if v > b || (v != v && b == b) {
			dst[i] = v
		}
	}
}

// ReLUBiasRows32 sets y[r·c+j] = max(y[r·c+j] + bias[j], 0), NaN giving 0,
// for every whole row r of c = len(bias) elements of y; a nil bias adds
// nothing (and then c is len(y)).
func ReLUBiasRows32(y, bias []float32) {
	c := len(bias)
	if bias == nil {
		c = len(y)
	}
	if c == 0 {
		return
	}
	if bias == nil && vecPool && c >= 8 {
		// No row structure: whole groups of eight, then the tail.
		n := c &^ 7
		reluBiasRows32Vec(&y[0], nil, 1, n)
		for i, v := range y[n:] {
			if !(v > 0) {
				y[n+i] = 0
			}
		}
		return
	}
	rows := len(y) / c
	if vecPool && c%8 == 0 && rows > 0 {
		var bp *float32
		if bias != nil {
			bp = &bias[0]
		}
		reluBiasRows32Vec(&y[0], bp, rows, c)
		return
	}
	for i := 0; i+c <= len(y); i += c {
		row := y[i : i+c]
		for j, v := range row {
			if bias != nil {
				v += bias[j]
			}
			if !(v > 0) {
				v = 0
			}
			row[j] = v
		}
	}
}

// MaxEq2x2F32 is the gradient of a 2×2 max-pooling window for c =
// len(y) channels: a, b (top row) and e, f (bottom row) hold the window's
// input cells, y its output and gy the output's gradient. Each channel's
// gradient goes to the first of a, b, e, f equal to y (NaN matching NaN),
// in da, db, de or df, the others get 0. With relu, the gradient is
// dropped where y is not above 0 (max pooling of a ReLU's output). Every
// slice must hold at least len(y) elements.
func MaxEq2x2F32(a, b, e, f, y, gy, da, db, de, df []float32, relu bool) {
	n := len(y)
	a, b, e, f, gy = a[:n], b[:n], e[:n], f[:n], gy[:n]
	da, db, de, df = da[:n], db[:n], de[:n], df[:n]
	var keep uint32
	if !relu {
		keep = ^uint32(0)
	}
	for k, yv := range y {
		gb := math.Float32bits(gy[k])
		if !(yv > 0) {
			gb &= keep
		}
		yn := yv != yv
		hit := func(v float32) bool { return v == yv || (v != v && yn) }
		ha := hit(a[k])
		hb := !ha && hit(b[k])
		he := !ha && !hb && hit(e[k])
		hf := !ha && !hb && !he && hit(f[k])
		da[k] = math.Float32frombits(gb & -b2u(ha))
		db[k] = math.Float32frombits(gb & -b2u(hb))
		de[k] = math.Float32frombits(gb & -b2u(he))
		df[k] = math.Float32frombits(gb & -b2u(hf))
	}
}

// MaxEq2x2RowF32 is MaxEq2x2F32 for nwin windows of c channels in a row:
// window i's top-left cells start at x[i·wstep] (its other cells at
// +c, +r and +r+c, their gradients at the same places in dx), its
// outputs and their gradients at y[i·c] and gy[i·c]. With AVX2 and c a
// multiple of 8, the whole row is one call to the vector kernel. Windows
// must not overlap (wstep ≥ 2c and r ≥ 2c).
func MaxEq2x2RowF32(x, dx, y, gy []float32, nwin, c, wstep, r int, relu bool) {
	if nwin <= 0 || c <= 0 {
		return
	}
	span := (nwin-1)*wstep + r + 2*c
	if wstep < 2*c || r < 2*c || len(x) < span || len(dx) < span || len(y) < nwin*c || len(gy) < nwin*c {
		panic("blas: MaxEq2x2RowF32: bad sizes")
	}
	if vecPool && c%8 == 0 {
		var keep uint32
		if !relu {
			keep = ^uint32(0)
		}
		maxEq2x2RowVec(&x[0], &dx[0], &y[0], &gy[0], nwin, c, wstep, r, keep)
		return
	}
	for i := 0; i < nwin; i++ {
		p, q := i*wstep, i*c
		MaxEq2x2F32(x[p:p+c], x[p+c:p+2*c], x[p+r:p+r+c], x[p+r+c:p+r+2*c], y[q:q+c], gy[q:q+c],
			dx[p:p+c], dx[p+c:p+2*c], dx[p+r:p+r+c], dx[p+r+c:p+r+2*c], relu)
	}
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
