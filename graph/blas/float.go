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
