//go:build amd64 && !purego

package blas

// vecMath reports whether the AVX2 activations are used.
var vecMath = useAVX2

// sigmoid32Vec applies the sigmoid in place to v[0:n], n a positive
// multiple of 8 (AVX2 and FMA).
//
//go:noescape
func sigmoid32Vec(v *float32, n int)

// exp32Vec applies e^x in place to v[0:n], n a positive multiple of 8
// (AVX2 and FMA).
//
//go:noescape
func exp32Vec(v *float32, n int)

// tanh32Vec applies tanh in place to v[0:n], n a positive multiple of 8
// (AVX2 and FMA).
//
//go:noescape
func tanh32Vec(v *float32, n int)

// add32Vec adds src[0:n] to dst[0:n], n a positive multiple of 8 (AVX).
//
//go:noescape
func add32Vec(dst, src *float32, n int)

// allFinite32Vec reports whether v[0:n] holds no NaN or ±Inf, n a positive
// multiple of 32 (AVX2).
//
//go:noescape
func allFinite32Vec(v *float32, n int) bool

// allFinite64Vec reports whether v[0:n] holds no NaN or ±Inf, n a positive
// multiple of 16 (AVX2).
//
//go:noescape
func allFinite64Vec(v *float64, n int) bool

// adam32Vec is Adam32 on n elements, n a positive multiple of 8 (AVX).
//
//go:noescape
func adam32Vec(w, grad, m, v *float32, n int, p *[8]float32)

// copyFinite32Vec copies src[0:n] to dst and reports whether it held no
// NaN or ±Inf, n a positive multiple of 32 (AVX2).
//
//go:noescape
func copyFinite32Vec(dst, src *float32, n int) bool

// interleave6Vec sets dst[j*stride+i] = rows[i][j] for i < 6 and j < n, n a
// positive multiple of 8 (AVX).
//
//go:noescape
func interleave6Vec(dst *float32, stride int, rows *[6]*float32, n int)
