// Package blas is the matrix product every kerago op uses: row-major GEMM
// for float32 and float64 (C = alpha·op(A)·op(B) + beta·C). Custom ops
// (convolutions, fused recurrent kernels) call Sgemm and Dgemm directly;
// Gorgonia's own matrix products use the same routines through
// Implementation, installed with Install (gorgonia.Use).
//
// # Design
//
// The product follows the GotoBLAS/BLIS structure. C is computed in
// column blocks of width nc; for each block of kc rows of op(B), that
// kc×nc panel is packed into a contiguous buffer laid out as micro-panels
// of nr columns (sized to stay in L2/L3). For each block of mc rows of
// op(A), the mc×kc panel is packed as micro-panels of mr rows (sized to
// stay in L2). A register-blocked micro-kernel then multiplies one mr×kc
// micro-panel of A by one kc×nr micro-panel of B (which stays in L1),
// keeping the whole mr×nr tile of C in registers, and writes
// alpha·AB + beta·C once. Packing reads op(A) and op(B) directly, so the
// four transpose combinations and arbitrary leading dimensions cost
// nothing extra in the kernel; packed panels are zero-padded to whole
// micro-panels, and tiles at the bottom and right edges of C go through a
// small scratch tile so the kernel never touches memory outside C.
// beta is applied with the first kc block only (later blocks accumulate
// with beta = 1); beta = 0 never reads C, so NaNs already in C do not
// propagate.
//
// Micro-kernels, chosen once at start-up:
//
//   - amd64 with AVX-512F (detected at run time with CPUID/XGETBV, which
//     also checks that the OS saves the ZMM state): Go assembly, 12×32
//     for float32 and 12×16 for float64, 24 ZMM accumulators.
//
//   - amd64 with AVX2 and FMA: Go assembly, 6×16 for float32 and 6×8 for
//     float64, twelve YMM accumulators.
//
//     Both assembly kernels broadcast one element of A at a time
//     (VBROADCASTSS/VBROADCASTSD) against one row of the B micro-panel
//     (two vector loads) with VFMADD231PS/VFMADD231PD, k loop unrolled by
//     four, and apply alpha and beta in registers when storing.
//
//   - elsewhere (other architectures, CPUs without AVX2/FMA, or the purego
//     build tag): a pure-Go kernel with scalar accumulators (2×4 on amd64,
//     where 4×4 spills its sixteen accumulators; 4×4 elsewhere), in the
//     same blocked, packed driver.
//
// Large products (m·n·k + 16·m·n above a per-kernel threshold worth about
// 20µs of work, e.g. 2²² for the AVX-512 float32 kernel) are split across
// goroutines (up to GOMAXPROCS) along the longer of the m and n
// dimensions, in equal shares of whole micro-tiles, each goroutine running
// the serial blocked product on its share; each goroutine packs its own
// panels, which keeps each core's working set in its private L2. Products
// of a few rows (rowProduct, up to 256 rows with AVX-512) are split in two
// halves of their rows from 2¹⁸ multiply-adds (rowProductSplit). Every
// split runs on SplitRange's helpers, which spin between jobs and never
// make a call wait for one to wake.
// Packing buffers come from a sync.Pool, so steady-state calls do not
// allocate. Very small products (and k = 0 or alpha = 0) skip packing.
//
// Arguments are checked like gonum's: the same panics, with the same
// messages, for negative sizes, bad leading dimensions and short slices.
package blas

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
)

// Implementation satisfies the BLAS interface gorgonia.Use expects,
// routing the matrix products (Sgemm, Dgemm) to this package's kernels;
// every other routine is gonum's.
type Implementation struct{ gonum.Implementation }

var _ blas.Float32 = Implementation{}
var _ blas.Float64 = Implementation{}

// Install makes this package's GEMM the one behind every Gorgonia (and
// gorgonia.org/tensor) matrix product.
func Install() { gorgonia.Use(Implementation{}) }

// Panic messages, identical to gonum's.
const (
	badTranspose = "blas: illegal transpose"
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
)

func isTrans(t blas.Transpose) bool {
	switch t {
	case blas.NoTrans:
		return false
	case blas.Trans, blas.ConjTrans:
		return true
	}
	panic(badTranspose)
}

// checkDims panics as gonum does on bad sizes or leading dimensions.
func checkDims(tA, tB bool, m, n, k, lda, ldb, ldc int) {
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
	if tA {
		if lda < max(1, m) {
			panic(badLdA)
		}
	} else if lda < max(1, k) {
		panic(badLdA)
	}
	checkLdB(tB, n, k, ldb)
	if ldc < max(1, n) {
		panic(badLdC)
	}
}

// checkLens panics as gonum does on slices too short for their matrices;
// m and n must be positive.
func checkLens(tA, tB bool, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) {
	if tA {
		if lenA < (k-1)*lda+m {
			panic(shortA)
		}
	} else if lenA < (m-1)*lda+k {
		panic(shortA)
	}
	checkLenB(tB, n, k, lenB, ldb)
	if lenC < (m-1)*ldc+n {
		panic(shortC)
	}
}

// checkLdB panics as gonum does on a bad leading dimension of B.
func checkLdB(tB bool, n, k, ldb int) {
	if tB {
		if ldb < max(1, k) {
			panic(badLdB)
		}
	} else if ldb < max(1, n) {
		panic(badLdB)
	}
}

// checkLenB panics as gonum does on a slice too short for B; n and k must
// be positive.
func checkLenB(tB bool, n, k, lenB, ldb int) {
	if tB {
		if lenB < (n-1)*ldb+k {
			panic(shortB)
		}
	} else if lenB < (k-1)*ldb+n {
		panic(shortB)
	}
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices: op(A) is m×k, op(B) is k×n, C is m×n; lda, ldb, ldc are the
// row strides of A, B and C as stored. With beta = 0, C is not read.
// It panics, as gonum does, on bad sizes, strides or slice lengths;
// m = 0 or n = 0 returns at once.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkedGemm(sgemmCfg, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is Sgemm for float64.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	checkedGemm(dgemmCfg, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemm is gonum's blas.Float32 Sgemm (row-major, same semantics and
// panics) computed by this package's kernels.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gonumGemm(sgemmCfg, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is gonum's blas.Float64 Dgemm (row-major, same semantics and
// panics) computed by this package's kernels.
func (Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gonumGemm(dgemmCfg, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// checkedGemm is Sgemm and Dgemm: an empty C returns before any check.
func checkedGemm[T Float](cfg *config[T], transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkDims(transA, transB, m, n, k, lda, ldb, ldc)
	checkLens(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	gemm(cfg, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gonumGemm is Implementation's Sgemm and Dgemm: as gonum, the transpose
// flags and the dimensions are checked even for an empty C.
func gonumGemm[T Float](cfg *config[T], tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	transA, transB := isTrans(tA), isTrans(tB)
	checkDims(transA, transB, m, n, k, lda, ldb, ldc)
	if m == 0 || n == 0 {
		return
	}
	checkLens(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	gemm(cfg, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
