package blas

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// TestGemmFuncPacked checks GemmFuncPacked against Dgemm (A stored) for
// every transpose and sizes that run serially, split rows or columns, and
// split the depth, with a pack that packs every block, one that declines
// every other block (the fill is used there) and none.
func TestGemmFuncPacked(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	sizes := [][3]int{{1, 1, 1}, {7, 5, 3}, {13, 33, 9}, {300, 20, 9}, {9, 32, 700}, {9, 32, 20000}, {150, 70, 260}, {2000, 64, 288}, {288, 64, 8000}}
	for _, sz := range sizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				a, ac, b, ldb, c0, want := randomProduct(r, m, n, k, tA, tB)
				opA := func(i, p int) float64 {
					if tA {
						return a[p*ac+i]
					}
					return a[i*ac+p]
				}
				fill := func(r0, c0, rows, cols int, dst []float64) {
					for i := 0; i < rows; i++ {
						for j := 0; j < cols; j++ {
							dst[i*cols+j] = a[(r0+i)*ac+c0+j]
						}
					}
				}
				for mode := 0; mode < 3; mode++ {
					var calls atomic.Int64
					pack := func(i0, p0, rows, cols, mr int, dst []float64) bool {
						if mode == 1 && calls.Add(1)%2 == 0 {
							dst[0] = math.NaN() // must be overwritten
							return false
						}
						for q := 0; q*mr < rows; q++ {
							for p := 0; p < cols; p++ {
								for i := 0; i < mr; i++ {
									v := 0.0
									if q*mr+i < rows {
										v = opA(i0+q*mr+i, p0+p)
									}
									dst[q*mr*cols+p*mr+i] = v
								}
							}
						}
						return true
					}
					if mode == 2 {
						pack = nil
					}
					got := append([]float64(nil), c0...)
					GemmFuncPacked(tA, tB, m, n, k, fill, pack, b, ldb, 0.5, got, n, nil)
					for i := range got {
						if d := math.Abs(got[i] - want[i]); d > 1e-9*(1+math.Abs(want[i])) {
							t.Fatalf("%dx%dx%d tA=%t tB=%t mode %d: C[%d] = %v, want %v", m, n, k, tA, tB, mode, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
