package blas

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// TestGemmFunc checks GemmFunc against Dgemm and Sgemm (A stored) for
// every transpose, sizes across the cache blocks and the thread split,
// and that post sees every element of C exactly once, after it is final.
func TestGemmFunc(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	sizes := [][3]int{{1, 1, 1}, {7, 5, 3}, {13, 33, 9}, {300, 20, 9}, {9, 32, 700}, {150, 70, 260}, {2000, 64, 288}, {288, 64, 3000}, {5, 4100, 3}}
	for _, sz := range sizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				a, ac, b, ldb, c0, want := randomProduct(r, m, n, k, tA, tB)
				got := append([]float64(nil), c0...)
				var mu sync.Mutex
				seen := make([]int, m*n)
				post := func(i0, j0, rows, cols int) {
					mu.Lock()
					defer mu.Unlock()
					for i := i0; i < i0+rows; i++ {
						for j := j0; j < j0+cols; j++ {
							seen[i*n+j]++
							got[i*n+j] *= 2
						}
					}
				}
				fill := func(r0, col0, rows, cols int, dst []float64) {
					if len(dst) != rows*cols || r0+rows > len(a)/ac || col0+cols > ac {
						t.Errorf("fill(%d, %d, %d, %d) of a %d×%d matrix, dst %d", r0, col0, rows, cols, len(a)/ac, ac, len(dst))
						return
					}
					for i := 0; i < rows; i++ {
						copy(dst[i*cols:(i+1)*cols], a[(r0+i)*ac+col0:])
					}
				}
				GemmFunc(tA, tB, m, n, k, fill, b, ldb, 0.5, got, n, post)
				for i := range got {
					if d := got[i] - 2*want[i]; d > 1e-9 || d < -1e-9 || seen[i] != 1 {
						t.Fatalf("m=%d n=%d k=%d tA=%t tB=%t: C[%d] = %v, want %v (post saw it %d times)", m, n, k, tA, tB, i, got[i], 2*want[i], seen[i])
					}
				}
				// float32, without post.
				a32, b32 := make([]float32, len(a)), make([]float32, len(b))
				for i, v := range a {
					a32[i] = float32(v)
				}
				for i, v := range b {
					b32[i] = float32(v)
				}
				want32, got32 := make([]float32, m*n), make([]float32, m*n)
				Sgemm(tA, tB, m, n, k, 1, a32, ac, b32, ldb, 0, want32, n)
				GemmFunc(tA, tB, m, n, k, func(r0, col0, rows, cols int, dst []float32) {
					for i := 0; i < rows; i++ {
						copy(dst[i*cols:(i+1)*cols], a32[(r0+i)*ac+col0:])
					}
				}, b32, ldb, 0, got32, n, nil)
				for i := range got32 {
					if d := got32[i] - want32[i]; d > 1e-3 || d < -1e-3 {
						t.Fatalf("float32 m=%d n=%d k=%d tA=%t tB=%t: C[%d] = %v, want %v", m, n, k, tA, tB, i, got32[i], want32[i])
					}
				}
			}
		}
	}
}

// randomProduct draws a random product (A m×k, or k×m when tA; B k×n, or n×k
// when tB; C m×n) and its reference C = op(A)·op(B) + 0.5·C by Dgemm; ac
// and ldb are A's and B's row strides.
func randomProduct(r *rand.Rand, m, n, k int, tA, tB bool) (a []float64, ac int, b []float64, ldb int, c0, want []float64) {
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	a = make([]float64, ar*ac)
	for i := range a {
		a[i] = r.NormFloat64()
	}
	ldb = n
	if tB {
		ldb = k
	}
	b = make([]float64, k*n)
	for i := range b {
		b[i] = r.NormFloat64()
	}
	c0 = make([]float64, m*n)
	for i := range c0 {
		c0[i] = r.NormFloat64()
	}
	want = append([]float64(nil), c0...)
	Dgemm(tA, tB, m, n, k, 1, a, ac, b, ldb, 0.5, want, n)
	return a, ac, b, ldb, c0, want
}
