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

// TestFloat32Activations checks the scalar float32 exp and tanh (the tails of Sigmoid32 and Tanh32)
// against the math package over their whole useful range.
func TestFloat32Activations(t *testing.T) {
	worstExp, worstTanh := 0.0, 0.0
	for x := -87.0; x <= 88; x += 0.00731 {
		want := math.Exp(float64(float32(x)))
		got := float64(expf32(float32(x)))
		worstExp = math.Max(worstExp, math.Abs(got-want)/want)
	}
	for x := -12.0; x <= 12; x += 0.000173 {
		xf := float64(float32(x))
		want := math.Tanh(xf)
		got := float64(tanhf32(float32(x)))
		// relative near 0 (tanh x ≈ x), absolute elsewhere
		worstTanh = math.Max(worstTanh, math.Abs(got-want)/math.Max(math.Abs(want), 0.1))
	}
	if worstExp > 3e-7 {
		t.Errorf("expf32: relative error %g", worstExp)
	}
	if worstTanh > 3e-7 {
		t.Errorf("tanhf32: error %g", worstTanh)
	}
	if expf32(200) != expf32(88) || expf32(-200) != expf32(-87) || tanhf32(30) != 1 || tanhf32(-30) != -1 || tanhf32(0) != 0 {
		t.Errorf("saturation: expf32(200)=%v expf32(-200)=%v tanhf32(±30)=%v,%v", expf32(200), expf32(-200), tanhf32(30), tanhf32(-30))
	}
	t.Logf("expf32 relative error %.3g, tanhf32 error %.3g", worstExp, worstTanh)
}

// TestInterleave6x32 checks the vector interleave against the definition
// for every length 0–41 and strides 6, 7, 12 and 24, with the values
// around each written column left alone.
func TestInterleave6x32(t *testing.T) {
	for _, stride := range []int{6, 7, 12, 24} {
		for n := 0; n <= 41; n++ {
			var rows [6][]float32
			for i := range rows {
				rows[i] = make([]float32, n)
				for j := range rows[i] {
					rows[i][j] = float32(100*i + j + 1)
				}
			}
			size := 0
			if n > 0 {
				size = (n-1)*stride + 6
			}
			dst := make([]float32, size+3)
			for k := range dst {
				dst[k] = -1
			}
			Interleave6x32(dst, stride, &rows)
			for k, v := range dst {
				j, i := k/stride, k%stride
				want := float32(-1)
				if i < 6 && j < n {
					want = rows[i][j]
				}
				if v != want {
					t.Fatalf("stride %d, n %d: dst[%d] = %v, want %v", stride, n, k, v, want)
				}
			}
		}
	}
}

// TestExp32 checks Exp32 (vector lanes and the scalar tail) against
// float64 math over [−87, 88] in relative error, and its clamping.
func TestExp32(t *testing.T) {
	var xs []float32
	for x := -87.0; x <= 88; x += 0.00391 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, 0, 1, -1, 1e-8, -1e-8)
	got := append([]float32(nil), xs...)
	Exp32(got)
	worst := 0.0
	for i, x := range xs {
		want := math.Exp(float64(x))
		worst = math.Max(worst, math.Abs(float64(got[i])-want)/want)
		if s := expf32(x); math.Abs(float64(s-got[i])) > 2.5e-7*float64(s) {
			t.Fatalf("exp(%v): vector %v, scalar %v", x, got[i], s)
		}
	}
	if worst > 2.5e-7 {
		t.Errorf("relative error %g, want at most 2 ulp", worst)
	}
	c := []float32{-200, 200, -87, 88, 0, 0, 0, 0, -200}
	Exp32(c)
	if lo, hi := float32(math.Exp(-87)), float32(math.Exp(88)); c[0] != c[2] || c[1] != c[3] || c[8] != c[2] || math.Abs(float64(c[2]-lo)) > 3e-7*float64(lo) || math.Abs(float64(c[3]-hi)) > 3e-7*float64(hi) {
		t.Errorf("clamping: exp(-200, 200, -87, 88, …, -200) = %v", c)
	}
	t.Logf("vector=%v exp error %.3g", vecMath, worst)
}
