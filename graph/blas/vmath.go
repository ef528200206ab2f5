package blas

import "math"

// Vectorised float32 activations for the fused recurrent kernels.
//
// Sigmoid32 and Tanh32 evaluate the same Cephes-style approximations as
// the scalar expf32/tanhf32 below (exp: x = k·ln2 + r, a degree-5
// polynomial for e^r, 2^k from the exponent bits; tanh: an odd polynomial
// for |x| < 0.625, 1 − 2/(e^{2|x|} + 1) beyond), eight lanes at a time with
// AVX2 and FMA where the CPU has them (whole groups of eight; the tail and
// other CPUs use the scalar code). The vector and scalar results agree to
// within a few ulp (FMA rounds differently).

// Add32 adds src to dst element-wise: dst[i] += src[i] for i < len(dst).
// It panics if src is shorter than dst.
func Add32(dst, src []float32) {
	if len(src) < len(dst) {
		panic("blas: Add32: src shorter than dst")
	}
	n := vecLen(vecMath, len(dst))
	if n > 0 {
		add32Vec(&dst[0], &src[0], n)
	}
	src = src[:len(dst)]
	for i := n; i < len(dst); i++ {
		dst[i] += src[i]
	}
}

// Interleave6x32 writes six rows into six adjacent columns of a panel of
// row stride stride: dst[j*stride+i] = rows[i][j] for i < 6 and j <
// len(rows[0]), the packing of six im2col rows for a matrix-product
// kernel. The rows must be as long as rows[0], stride at least 6 and dst
// long enough; it panics otherwise. Eight columns at a time with AVX, the
// rest in Go.
func Interleave6x32(dst []float32, stride int, rows *[6][]float32) {
	n := len(rows[0])
	for _, r := range rows {
		if len(r) != n {
			panic("blas: Interleave6x32: rows of different lengths")
		}
	}
	if n == 0 {
		return
	}
	if stride < 6 || len(dst) < (n-1)*stride+6 {
		panic("blas: Interleave6x32: stride below 6 or dst too short")
	}
	v := vecLen(vecMath, n)
	if v > 0 {
		ptrs := [6]*float32{&rows[0][0], &rows[1][0], &rows[2][0], &rows[3][0], &rows[4][0], &rows[5][0]}
		interleave6Vec(&dst[0], stride, &ptrs, v)
	}
	r0, r1, r2, r3, r4, r5 := rows[0], rows[1], rows[2], rows[3], rows[4], rows[5]
	for j := v; j < n; j++ {
		d := dst[j*stride : j*stride+6]
		d[0], d[1], d[2] = r0[j], r1[j], r2[j]
		d[3], d[4], d[5] = r3[j], r4[j], r5[j]
	}
}

// Sigmoid32 sets v[i] = 1/(1 + e^−v[i]) in place.
func Sigmoid32(v []float32) {
	n := vecLen(vecMath, len(v))
	if n > 0 {
		sigmoid32Vec(&v[0], n)
	}
	for i := n; i < len(v); i++ {
		v[i] = 1 / (1 + expf32(-v[i]))
	}
}

// Exp32 sets v[i] = e^v[i] in place, in float32 arithmetic (the
// polynomial of Sigmoid32, within 2 ulp of the exact value), each v[i]
// first clamped to [−87, 88]; a NaN gives an unspecified value.
func Exp32(v []float32) {
	n := vecLen(vecMath, len(v))
	if n > 0 {
		exp32Vec(&v[0], n)
	}
	for i := n; i < len(v); i++ {
		v[i] = expf32(v[i])
	}
}

// Tanh32 sets v[i] = tanh(v[i]) in place.
func Tanh32(v []float32) {
	n := vecLen(vecMath, len(v))
	if n > 0 {
		tanh32Vec(&v[0], n)
	}
	for i := n; i < len(v); i++ {
		v[i] = tanhf32(v[i])
	}
}

// vecLen is how many of n elements the vector kernels take: whole groups of
// eight when vec (the CPU runs them), none otherwise. The scalar code does
// the rest.
func vecLen(vec bool, n int) int {
	if vec {
		return n &^ 7
	}
	return 0
}

// expf32 is e^x in float32 arithmetic, x clamped to [−87, 88].
func expf32(x float32) float32 {
	if x < -87 {
		x = -87
	}
	if x > 88 {
		x = 88
	}
	t := x*1.44269504088896341 + 12582912
	kf := t - 12582912
	r := x - kf*0.693359375 + kf*2.12194440e-4
	p := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	return (p*r*r + r + 1) * math.Float32frombits((math.Float32bits(t)-0x4B400000+127)<<23)
}

// tanhf32 is tanh in float32 arithmetic.
func tanhf32(x float32) float32 {
	a := x
	if a < 0 {
		a = -a
	}
	if a < 0.625 {
		z := x * x
		return ((((-5.70498872745e-3*z+2.06390887954e-2)*z-5.37397155531e-2)*z+1.33314422036e-1)*z-3.33332819422e-1)*z*x + x
	}
	a = 1 - 2/(expf32(2*a)+1)
	if x < 0 {
		return -a
	}
	return a
}
