package blas

import (
	"math"
	"testing"
)

// TestVecActivations checks Sigmoid32 and Tanh32 (vector lanes and the
// scalar tail) against float64 math over their useful range, and their
// saturation.
func TestVecActivations(t *testing.T) {
	var xs []float32
	for x := -100.0; x <= 100; x += 0.00377 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, 0, -0.624, 0.624, 0.625, -0.625, 1e-8, -1e-8, 30, -30, 200, -200)
	sig := append([]float32(nil), xs...)
	Sigmoid32(sig)
	th := append([]float32(nil), xs...)
	Tanh32(th)
	worstS, worstT := 0.0, 0.0
	for i, x := range xs {
		xf := float64(x)
		ws := 1 / (1 + math.Exp(-xf))
		worstS = math.Max(worstS, math.Abs(float64(sig[i])-ws)/math.Max(ws, 1e-3))
		wt := math.Tanh(xf)
		worstT = math.Max(worstT, math.Abs(float64(th[i])-wt)/math.Max(math.Abs(wt), 0.1))
		if s := 1 / (1 + expf32(-x)); math.Abs(float64(s-sig[i])) > 4e-7*float64(s) {
			t.Fatalf("sigmoid(%v): vector %v, scalar %v", x, sig[i], s)
		}
		if s := tanhf32(x); math.Abs(float64(s-th[i])) > 4e-7*math.Abs(float64(s)) {
			t.Fatalf("tanh(%v): vector %v, scalar %v", x, th[i], s)
		}
	}
	if worstS > 5e-7 || worstT > 5e-7 {
		t.Errorf("relative error: sigmoid %g, tanh %g", worstS, worstT)
	}
	v := []float32{30, -30, 0, 200, -200, 1, 2, 3}
	Tanh32(v)
	if v[0] != 1 || v[1] != -1 || v[2] != 0 || v[3] != 1 || v[4] != -1 {
		t.Errorf("tanh saturation: %v", v[:5])
	}
	t.Logf("vector=%v sigmoid error %.3g, tanh error %.3g", vecMath, worstS, worstT)
}

// TestAdd32 checks Add32 on lengths around the vector width.
func TestAdd32(t *testing.T) {
	for n := 0; n < 40; n++ {
		dst := make([]float32, n)
		src := make([]float32, n+3)
		for i := range src {
			src[i] = float32(i) * 0.5
		}
		for i := range dst {
			dst[i] = float32(i * i)
		}
		Add32(dst, src)
		for i, v := range dst {
			if v != float32(i*i)+float32(i)*0.5 {
				t.Fatalf("n=%d: dst[%d] = %v", n, i, v)
			}
		}
	}
}

func BenchmarkTanh32(b *testing.B) {
	v := make([]float32, 4096)
	for i := range v {
		v[i] = float32(i%200-100) * 0.03
	}
	for i := 0; i < b.N; i++ {
		Tanh32(v[:64])
	}
}
