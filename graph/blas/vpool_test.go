package blas

import (
	"math"
	"math/rand/v2"
	"testing"
)

// vpoolValues draws values with many ties, zeros of both signs and NaNs.
func vpoolValues(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		switch r.IntN(8) {
		case 0:
			v[i] = float32(math.NaN())
		case 1:
			v[i] = float32(math.Copysign(0, -1))
		case 2:
			v[i] = 0
		default:
			v[i] = float32(r.IntN(5) - 2)
		}
	}
	return v
}

func sameBits(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestMaxInto32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 41; n++ {
		for rep := 0; rep < 20; rep++ {
			dst, src := vpoolValues(r, n), vpoolValues(r, n+r.IntN(3))
			want := append([]float32(nil), dst...)
			for i := range want {
				if v, b := src[i], want[i]; v > b || (v != v && b == b) {
					want[i] = v
				}
			}
			MaxInto32(dst, src)
			if !sameBits(dst, want) {
				t.Fatalf("n=%d: got %v want %v", n, dst, want)
			}
		}
	}
}

func TestReLUBiasRows32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []int{1, 3, 8, 16, 24, 32, 13} {
		for _, rows := range []int{0, 1, 3} {
			for _, withBias := range []bool{false, true} {
				y := vpoolValues(r, rows*c)
				var bias []float32
				if withBias {
					bias = vpoolValues(r, c)
				}
				want := append([]float32(nil), y...)
				for i := range want {
					v := want[i]
					if bias != nil {
						v += bias[i%c]
					}
					if !(v > 0) {
						v = 0
					}
					want[i] = v
				}
				if bias != nil {
					ReLUBiasRows32(y, bias)
				} else {
					ReLUBiasRows32(y, nil)
				}
				if !sameBits(y, want) {
					t.Fatalf("c=%d rows=%d bias=%t: got %v want %v", c, rows, withBias, y, want)
				}
			}
		}
	}
}

func TestMaxEq2x2F32(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n <= 41; n++ {
		for _, relu := range []bool{false, true} {
			for rep := 0; rep < 20; rep++ {
				in := [4][]float32{vpoolValues(r, n), vpoolValues(r, n), vpoolValues(r, n), vpoolValues(r, n)}
				y, gy := make([]float32, n), make([]float32, n)
				for k := range y {
					// y is one of the window's cells (or, sometimes, none).
					if j := r.IntN(5); j < 4 {
						y[k] = in[j][k]
					} else {
						y[k] = float32(r.IntN(3))
					}
					gy[k] = float32(r.NormFloat64())
				}
				var want [4][]float32
				for j := range want {
					want[j] = make([]float32, n)
				}
				for k := range y {
					g := gy[k]
					if relu && !(y[k] > 0) {
						g = 0
					}
					for j := 0; j < 4; j++ {
						v := in[j][k]
						if v == y[k] || (v != v && y[k] != y[k]) {
							want[j][k] = g
							break
						}
					}
				}
				var got [4][]float32
				for j := range got {
					got[j] = vpoolValues(r, n) // dirty
				}
				MaxEq2x2F32(in[0], in[1], in[2], in[3], y, gy, got[0], got[1], got[2], got[3], relu)
				for j := range got {
					if !sameBits(got[j], want[j]) {
						t.Fatalf("n=%d relu=%t cell %d: got %v want %v", n, relu, j, got[j], want[j])
					}
				}
			}
		}
	}
}

func TestMaxEq2x2RowF32(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []int{1, 3, 8, 16, 32} {
		for _, nwin := range []int{1, 2, 5} {
			for _, sw := range []int{2, 3} {
				for _, relu := range []bool{false, true} {
					w := nwin*sw + r.IntN(2)
					wstep, rs := sw*c, w*c
					x := vpoolValues(r, 2*rs)
					y, gy := vpoolValues(r, nwin*c), make([]float32, nwin*c)
					for i := range gy {
						gy[i] = float32(r.NormFloat64())
						if r.IntN(4) > 0 { // mostly one of the window's cells
							win, k := i/c, i%c
							p := win*wstep + k + []int{0, c, rs, rs + c}[r.IntN(4)]
							y[i] = x[p]
						}
					}
					got, want := vpoolValues(r, 2*rs), vpoolValues(r, 2*rs)
					copy(want, got) // cells outside the windows stay as they are
					for i := 0; i < nwin; i++ {
						p, q := i*wstep, i*c
						MaxEq2x2F32(x[p:p+c], x[p+c:p+2*c], x[p+rs:p+rs+c], x[p+rs+c:p+rs+2*c], y[q:q+c], gy[q:q+c],
							want[p:p+c], want[p+c:p+2*c], want[p+rs:p+rs+c], want[p+rs+c:p+rs+2*c], relu)
					}
					MaxEq2x2RowF32(x, got, y, gy, nwin, c, wstep, rs, relu)
					if !sameBits(got, want) {
						t.Fatalf("c=%d nwin=%d sw=%d relu=%t: got %v want %v", c, nwin, sw, relu, got, want)
					}
				}
			}
		}
	}
}
