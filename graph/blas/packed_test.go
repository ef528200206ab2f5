package blas

import (
	"math"
	"math/rand"
	"testing"
)

// TestPackedB checks PackedB's products against Sgemm and Dgemm over
// sizes that span several depth blocks, edge tiles and both transposes,
// and widths of one micro-panel (B already in the packed layout): B is
// overwritten after Pack, so a packing that kept B's memory shows.
func TestPackedB(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	var ps PackedB[float32]
	var pd PackedB[float64]
	for _, sz := range [][3]int{{1, 1, 1}, {5, 7, 3}, {32, 192, 64}, {32, 64, 192}, {13, 64, 256}, {40, 100, 450}, {12, 33, 17}, {20, 32, 300}, {20, 16, 300}, {7, 8, 40}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, beta := range []float64{0, 0.5} {
					a := make([]float64, m*k+3)
					b := make([]float64, k*n+5)
					c := make([]float64, m*n)
					for i := range a {
						a[i] = rng.NormFloat64()
					}
					for i := range b {
						b[i] = rng.NormFloat64()
					}
					for i := range c {
						c[i] = rng.NormFloat64()
					}
					lda, ldb := k, n
					if tA {
						lda = m
					}
					if tB {
						ldb = k
					}
					want := append([]float64(nil), c...)
					Dgemm(tA, tB, m, n, k, 1.5, a, lda, b, ldb, beta, want, n)
					got := append([]float64(nil), c...)
					pd.Pack(tB, k, n, b, ldb)
					a32, b32, c32 := to32(a), to32(b), to32(c)
					for i := range b {
						b[i] = math.NaN()
					}
					pd.Gemm(tA, m, 1.5, a, lda, beta, got, n)
					want32 := append([]float32(nil), c32...)
					Sgemm(tA, tB, m, n, k, 1.5, a32, lda, b32, ldb, float32(beta), want32, n)
					ps.Pack(tB, k, n, b32, ldb)
					for i := range b32 {
						b32[i] = float32(math.NaN())
					}
					ps.Gemm(tA, m, 1.5, a32, lda, float32(beta), c32, n)
					for i := range want {
						if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
							t.Fatalf("%v tA=%v tB=%v float64: c[%d] = %v, want %v", sz, tA, tB, i, got[i], want[i])
						}
						if math.Abs(float64(c32[i]-want32[i])) > 1e-4*(1+math.Abs(float64(want32[i]))) {
							t.Fatalf("%v tA=%v tB=%v float32: c[%d] = %v, want %v", sz, tA, tB, i, c32[i], want32[i])
						}
					}
				}
			}
		}
	}
}
