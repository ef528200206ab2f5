package blas

import (
	"math"
	"testing"
)

// TestAllFinite (and FirstNonFinite) puts NaN, +Inf and -Inf at every position of slices of
// lengths 0 to 9 (the unrolled body and the tail), in float32 and float64,
// and checks that extreme finite values pass.
func TestAllFinite(t *testing.T) {
	for n := 0; n <= 9; n++ {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = math.MaxFloat64 * float64(1-2*(i%2))
		}
		if !AllFinite(xs) || !AllFinite(make([]float32, n)) || FirstNonFinite(xs) != -1 {
			t.Fatalf("n=%d: finite values reported non-finite", n)
		}
		for i := 0; i < n; i++ {
			for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				ys := append([]float64(nil), xs...)
				ys[i] = bad
				zs := make([]float32, n)
				zs[i] = float32(bad)
				if AllFinite(ys) || AllFinite(zs) || FirstNonFinite(ys) != i || FirstNonFinite(zs) != i {
					t.Errorf("n=%d: %v at %d not found", n, bad, i)
				}
			}
		}
	}
}
