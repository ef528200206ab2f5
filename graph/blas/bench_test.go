package blas

import (
	"fmt"
	"math/rand"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShape is one benchmarked product: op(A) is m×k, op(B) is k×n.
type benchShape struct {
	name    string
	tA, tB  bool
	m, k, n int
}

var benchShapes = []benchShape{
	{name: "64", m: 64, k: 64, n: 64},
	{name: "128", m: 128, k: 128, n: 128},
	{name: "256", m: 256, k: 256, n: 256},
	{name: "512", m: 512, k: 512, n: 512},
	{name: "1024", m: 1024, k: 1024, n: 1024},
	// Dense(128) on 784 inputs, batch 128: forward X·W.
	{name: "dense_fwd_128x784x128", m: 128, k: 784, n: 128},
	// Its weight gradient Xᵀ·dY (784×128 = (128×784)ᵀ · 128×128).
	{name: "dense_dW_784x128x128_TN", tA: true, m: 784, k: 128, n: 128},
	// Its input gradient dY·Wᵀ (128×784 = 128×128 · (784×128)ᵀ).
	{name: "dense_dX_128x128x784_NT", tB: true, m: 128, k: 128, n: 784},
	// im2col 3×3 convolutions: 43264 = 4·104·104 output positions by
	// 9 = 3·3·1 patch values into 32 filters, and 7744 = 64·11·11
	// positions by 288 = 3·3·32 values into 64 filters.
	{name: "im2col_43264x9x32", m: 43264, k: 9, n: 32},
	{name: "im2col_7744x288x64", m: 7744, k: 288, n: 64},
}

func BenchmarkSgemm(b *testing.B) {
	impls := []struct {
		name string
		f    func(s benchShape, a []float32, lda int, bm []float32, ldb int, c []float32)
	}{
		{"kerago", func(s benchShape, a []float32, lda int, bm []float32, ldb int, c []float32) {
			Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
		}},
		{"gonum", func(s benchShape, a []float32, lda int, bm []float32, ldb int, c []float32) {
			gonum.Implementation{}.Sgemm(trans(s.tA), trans(s.tB), s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
		}},
	}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			for _, s := range benchShapes {
				b.Run(s.name, func(b *testing.B) {
					rng := rand.New(rand.NewSource(1))
					a := randSlice32(rng, s.m*s.k)
					bm := randSlice32(rng, s.k*s.n)
					c := make([]float32, s.m*s.n)
					lda, ldb := s.k, s.n
					if s.tA {
						lda = s.m
					}
					if s.tB {
						ldb = s.k
					}
					impl.f(s, a, lda, bm, ldb, c)
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						impl.f(s, a, lda, bm, ldb, c)
					}
					b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		})
	}
}

func BenchmarkDgemm(b *testing.B) {
	for _, impl := range []string{"kerago", "gonum"} {
		b.Run(impl, func(b *testing.B) {
			for _, size := range []int{64, 256, 512, 1024} {
				b.Run(fmt.Sprint(size), func(b *testing.B) {
					rng := rand.New(rand.NewSource(1))
					a := make([]float64, size*size)
					bm := make([]float64, size*size)
					for i := range a {
						a[i], bm[i] = rng.Float64(), rng.Float64()
					}
					c := make([]float64, size*size)
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if impl == "kerago" {
							Dgemm(false, false, size, size, size, 1, a, size, bm, size, 0, c, size)
						} else {
							gonum.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, size, size, size, 1, a, size, bm, size, 0, c, size)
						}
					}
					b.ReportMetric(2*float64(size*size)*float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		})
	}
}

func randSlice32(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	return x
}

// BenchmarkKernels compares the float32 kernel configurations this CPU
// can run (assembly and pure Go) on square products.
func BenchmarkKernels(b *testing.B) {
	for _, cfg := range testS {
		b.Run(cfg.name, func(b *testing.B) {
			for _, size := range []int{128, 512, 1024} {
				b.Run(fmt.Sprint(size), func(b *testing.B) {
					rng := rand.New(rand.NewSource(1))
					a := randSlice32(rng, size*size)
					bm := randSlice32(rng, size*size)
					c := make([]float32, size*size)
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						gemm(cfg, false, false, size, size, size, 1, a, size, bm, size, 0, c, size)
					}
					b.ReportMetric(2*float64(size*size)*float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		})
	}
}
