package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
)

// Softmax along the last and a middle axis, and l2-normalization (one
// vector all zeros, so that the clamp is active).
var _ = registerExample(kernelExample{name: "softmax and l2normalize", build: func(in *exampleInputs) ([]*G.Node, error) {
	x := in.x(in.n, 4, 5)
	a, err := SoftmaxLast(x)
	if err != nil {
		return nil, err
	}
	b, err := Softmax(x, 1)
	if err != nil {
		return nil, err
	}
	c, err := L2Normalize(x, 1, 1e-12)
	if err != nil {
		return nil, err
	}
	zeros := in.input(make([]float64, in.n*3), []int{in.n, 3}, true)
	d, err := L2Normalize(zeros, 1, 1e-12)
	return []*G.Node{a, b, c, d}, err
}})

// TestSoftmaxRows32 checks the float32 last-axis softmax (vector
// exponentials) against softmaxAxis in float64 (to 4 float32 ulp plus
// the rounding of x−max) on random rows of lengths
// around the vector width, rows spread past the exponential's clamp, and
// rows holding infinities or a NaN, which must come out as softmaxAxis's.
func TestSoftmaxRows32(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2, 7, 8, 9, 10, 17, 33} {
		rows := 5
		x := make([]float32, rows*n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 4)
		}
		x[n-1] = -150 // row 0 spread past -87
		if n > 1 {
			x[n] = float32(math.Inf(-1))   // row 1: a -Inf
			x[2*n+1] = float32(math.NaN()) // row 2: a NaN
			x[3*n] = float32(math.Inf(1))  // row 3: a +Inf
		}
		got := make([]float32, len(x))
		softmaxRows32(x, got, rows, n)
		x64, want := make([]float64, len(x)), make([]float64, len(x))
		for i, v := range x {
			x64[i] = float64(v)
		}
		softmaxAxis(x64, want, rows, n, 1)
		for i := range x {
			w, g := want[i], float64(got[i])
			// x−max rounds to float32 (as in Keras): half an ulp of it
			// is a relative error of |x−max|·2⁻²⁴ in its exponential.
			m := math.Inf(-1)
			for _, v := range x64[i/n*n : i/n*n+n] {
				m = math.Max(m, v)
			}
			tol := 5e-7 + math.Abs(x64[i]-m)*0x1p-24
			if math.IsNaN(w) != math.IsNaN(g) || math.Abs(g-w) > tol*math.Abs(w)+1e-30 {
				t.Fatalf("n=%d: y[%d] (x %v) = %v, want %v", n, i, x[i], g, w)
			}
		}
	}
}
