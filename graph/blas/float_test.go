package blas

import (
	"math"
	"testing"
)

// TestAllFinite (and FirstNonFinite) puts NaN, +Inf and -Inf at every
// position of slices of lengths 0 to 9 and 30 to 67 (the vector kernels'
// 32- and 16-element blocks and the tails), in float32 and float64, and
// checks that extreme finite values (largest, smallest subnormal) pass.
func TestAllFinite(t *testing.T) {
	lengths := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	for n := 30; n <= 67; n++ {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = math.MaxFloat64 * float64(1-2*(i%2))
		}
		fs := make([]float32, n)
		for i := range fs {
			fs[i] = []float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 0}[i%4]
		}
		copied := make([]float32, n)
		if !AllFinite(xs) || !AllFinite(fs) || FirstNonFinite(xs) != -1 || !CopyFinite32(copied, fs) || !sameBits(copied, fs) {
			t.Fatalf("n=%d: finite values reported non-finite", n)
		}
		for i := 0; i < n; i++ {
			for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				ys := append([]float64(nil), xs...)
				ys[i] = bad
				zs := make([]float32, n)
				zs[i] = float32(bad)
				dst := make([]float32, n)
				if AllFinite(ys) || AllFinite(zs) || FirstNonFinite(ys) != i || FirstNonFinite(zs) != i || CopyFinite32(dst, zs) || !sameBits(dst, zs) {
					t.Errorf("n=%d: %v at %d not found", n, bad, i)
				}
			}
		}
	}
}
