package ops

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestDenseBiasReluPrealloc checks the fused dense op (product, bias, relu)
// against a direct computation, through Do and through UsePreallocDo on a
// dirty buffer, and the relu gradient and SoftmaxLast the same way.
func TestDenseBiasReluPrealloc(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	const n, in, units = 5, 7, 4
	x, k, b := make([]float32, n*in), make([]float32, in*units), make([]float32, units)
	for _, s := range [][]float32{x, k, b} {
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
	}
	want := make([]float32, n*units)
	for r := 0; r < n; r++ {
		for j := 0; j < units; j++ {
			s := float64(b[j])
			for i := 0; i < in; i++ {
				s += float64(x[r*in+i]) * float64(k[i*units+j])
			}
			want[r*units+j] = float32(math.Max(s, 0))
		}
	}
	g := convGeom{n: n, c: in, f: units, h: 1, w: 1, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, oh: 1, ow: 1}
	args := []*tensor.Dense{
		tensor.New(tensor.WithShape(n, in), tensor.WithBacking(x)),
		tensor.New(tensor.WithShape(in, units), tensor.WithBacking(k)),
		tensor.New(tensor.WithShape(units), tensor.WithBacking(b)),
	}
	vals := []G.Value{args[0], args[1], args[2]}
	op, err := opOf(convKernel{g: g, kind: convForward, bias: true, act: ActReLU}, args...)
	if err != nil {
		t.Fatal(err)
	}
	dirty := func(s ...int) *tensor.Dense {
		d := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(s...))
		for i := range d.Float32s() {
			d.Float32s()[i] = float32(math.NaN())
		}
		return d
	}
	fresh, err := op.Do(vals...)
	if err != nil {
		t.Fatal(err)
	}
	re, err := op.UsePreallocDo(dirty(n, units), vals...)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []G.Value{fresh, re} {
		got := v.(*tensor.Dense).Float32s()
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-5 {
				t.Fatalf("y[%d] = %v, want %v", i, got[i], want[i])
			}
		}
	}
	gy := make([]float32, n*units)
	for i := range gy {
		gy[i] = float32(rng.NormFloat64())
	}
	gv := tensor.New(tensor.WithShape(n, units), tensor.WithBacking(gy))
	actOp, err := opOf(actGradKernel{act: ActReLU}, fresh.(*tensor.Dense), gv)
	if err != nil {
		t.Fatal(err)
	}
	dz, err := actOp.UsePreallocDo(dirty(n, units), fresh, gv)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range dz.(*tensor.Dense).Float32s() {
		w := gy[i]
		if !(want[i] > 0) {
			w = 0
		}
		if v != w {
			t.Fatalf("dz[%d] = %v, want %v", i, v, w)
		}
	}
	smOp, err := opOf(softmaxKernel{axis: 1}, gv)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := smOp.UsePreallocDo(dirty(n, units), gv)
	if err != nil {
		t.Fatal(err)
	}
	for r := 0; r < n; r++ {
		row := gy[r*units : (r+1)*units]
		m, s := math.Inf(-1), 0.0
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		for _, v := range row {
			s += math.Exp(float64(v) - m)
		}
		for j, v := range row {
			w := math.Exp(float64(v)-m) / s
			if got := sm.(*tensor.Dense).Float32s()[r*units+j]; math.Abs(float64(got)-w) > 1e-6 {
				t.Fatalf("softmax[%d,%d] = %v, want %v", r, j, got, w)
			}
		}
	}
}
