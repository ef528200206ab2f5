package blas

import (
	"math"
	"math/rand"
	"testing"
)

// TestAdam32 checks that the vector Adam step gives bit for bit what the
// scalar loop gives (its tail), at every length around the 8-element
// blocks and a long one, with and without clipping.
func TestAdam32(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	params := []*[8]float32{
		{0.9, 0.1, 0.999, 0.001, 1e-3, 1e-7, 1, float32(math.Inf(1))},
		{0.8, 0.2, 0.99, 0.01, 0.05, 1e-4, 0.5, 0.3},
	}
	for _, p := range params {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 1000} {
			w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range w {
				w[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
				m[i], v[i] = float32(rng.NormFloat64())*0.1, float32(rng.Float64())*0.1
			}
			w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
			for range 3 {
				Adam32(w, g, m, v, p)
				adam32Scalar(w2, g, m2, v2, p)
			}
			for i := range w {
				if math.Float32bits(w[i]) != math.Float32bits(w2[i]) || m[i] != m2[i] || v[i] != v2[i] {
					t.Fatalf("n=%d, p=%v: element %d: w %v m %v v %v, scalar %v %v %v", n, *p, i, w[i], m[i], v[i], w2[i], m2[i], v2[i])
				}
			}
		}
	}
}

// adam32Scalar is Adam32 without the vector kernel.
func adam32Scalar(w, g, m, v []float32, p *[8]float32) {
	for i := range w {
		Adam32(w[i:i+1], g[i:i+1], m[i:i+1], v[i:i+1], p)
	}
}
