// Package blas is the matrix product every kerago op uses: row-major GEMM
// for float32 and float64 (C = alpha·op(A)·op(B) + beta·C). Custom ops
// (convolutions, fused recurrent kernels) call Sgemm and Dgemm directly;
// Gorgonia's own matrix products use the same routines through
// Implementation, installed with gorgonia.Use.
package blas

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Implementation satisfies the BLAS interface gorgonia.Use expects,
// routing the matrix products to this package's kernels.
type Implementation struct{ gonum.Implementation }

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices: op(A) is m×k, op(B) is k×n, C is m×n; lda, ldb, ldc are the
// row strides of A, B and C as stored.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	gonum.Implementation{}.Sgemm(trans(transA), trans(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is Sgemm for float64.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	gonum.Implementation{}.Dgemm(trans(transA), trans(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
