package blas

import "unsafe"

// Float is the element type of kerago's numerical code: float32 or float64.
// The blocked product here and the kernels of graph/ops are generic over it.
type Float interface{ ~float32 | ~float64 }

// As32 reinterprets a slice of a Float type whose elements are 4 bytes
// (callers check unsafe.Sizeof first) as []float32, without copying.
func As32[T Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// As64 reinterprets a slice of a Float type whose elements are 8 bytes as
// []float64, without copying.
func As64[T Float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// AllFinite reports whether xs holds no NaN or ±Inf: with AVX2, by the
// exponent bits 128 bytes at a time (allFinite32Vec, allFinite64Vec), the
// rest by allFiniteGo.
func AllFinite[T Float](xs []T) bool {
	if vecMath && len(xs) >= 32 {
		var z T
		if unsafe.Sizeof(z) == 4 {
			v := As32(xs)
			n := len(v) &^ 31
			return allFinite32Vec(&v[0], n) && allFiniteGo(v[n:])
		}
		v := As64(xs)
		n := len(v) &^ 15
		return allFinite64Vec(&v[0], n) && allFiniteGo(v[n:])
	}
	return allFiniteGo(xs)
}

// CopyFinite32 copies src into dst (as copy does) and reports whether the
// values copied hold no NaN or ±Inf: one pass over the data where a copy
// and a check would make two.
func CopyFinite32(dst, src []float32) bool {
	n := min(len(dst), len(src))
	if vecMath && n >= 32 {
		v := n &^ 31
		ok := copyFinite32Vec(&dst[0], &src[0], v)
		copy(dst[v:n], src[v:n])
		return allFiniteGo(src[v:n]) && ok
	}
	copy(dst, src[:n])
	return allFiniteGo(src[:n])
}

// allFiniteGo is AllFinite in Go: x·0 is 0 for a finite x and NaN
// otherwise; four independent sums keep the loop at about the speed of
// reading xs.
func allFiniteGo[T Float](xs []T) bool {
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(xs); i += 4 {
		x := xs[i : i+4 : i+4]
		s0 += x[0] * 0
		s1 += x[1] * 0
		s2 += x[2] * 0
		s3 += x[3] * 0
	}
	for ; i < len(xs); i++ {
		s0 += xs[i] * 0
	}
	return s0+s1+s2+s3 == 0
}

// FirstNonFinite is the index of the first NaN or ±Inf in xs, or -1; the
// common all-finite case costs one AllFinite pass.
func FirstNonFinite[T Float](xs []T) int {
	if AllFinite(xs) {
		return -1
	}
	for i, x := range xs {
		if x != x || x-x != 0 { // NaN, or ±Inf (Inf-Inf is NaN)
			return i
		}
	}
	return -1
}
