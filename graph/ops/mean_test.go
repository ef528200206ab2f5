package ops

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestMeanForward checks Mean's value on vectors and matrices in both
// dtypes, that it returns the op's own scalar every run without allocating,
// and that it refuses a mismatched input.
func TestMeanForward(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, s := range []tensor.Shape{{4}, {2, 3}} {
			vals := []float64{1, -2, 3.5, 4, 0.25, -7}[:s.TotalSize()]
			want := 0.0
			for _, v := range vals {
				want += v
			}
			want /= float64(len(vals))
			g := G.NewGraph()
			x := G.NewTensor(g, dt, len(s), G.WithShape(s...), G.WithName("x"))
			m, err := Mean(x)
			if err != nil {
				t.Fatal(err)
			}
			if !m.IsScalar() || m.Dtype() != dt {
				t.Fatalf("%v %v: mean node has shape %v, dtype %v", dt, s, m.Shape(), m.Dtype())
			}
			op := m.Op().(*op)
			in := convDense(dt, s, vals)
			a, err := op.Do(in)
			if err != nil {
				t.Fatal(err)
			}
			if got := Float64s(a); len(got) != 1 || math.Abs(got[0]-want) > 1e-6 {
				t.Errorf("%v %v: mean %v (%T), want %v", dt, s, a, a, want)
			}
			b, err := op.Do(in)
			if err != nil {
				t.Fatal(err)
			}
			if a != b {
				t.Errorf("%v %v: two runs returned different values", dt, s)
			}
			if allocs := testing.AllocsPerRun(10, func() { op.Do(in) }); allocs != 0 && !raceEnabled {
				t.Errorf("%v %v: mean allocates %v times per run", dt, s, allocs)
			}
			if _, err := op.Do(convDense(dt, tensor.Shape{s.TotalSize() + 1}, make([]float64, s.TotalSize()+1))); err == nil {
				t.Errorf("%v %v: input of the wrong shape accepted", dt, s)
			}
		}
	}
	g := G.NewGraph()
	s := G.NewScalar(g, tensor.Float64, G.WithName("s"))
	if m, err := Mean(s); err != nil || m != s {
		t.Errorf("mean of a scalar: %v, %v", m, err)
	}
	i := G.NewVector(g, tensor.Int, G.WithShape(3), G.WithName("i"))
	if _, err := Mean(i); err == nil {
		t.Error("int vector accepted")
	}
}

// TestMeanGrad checks dL/dx_i = g/N from every form of output gradient,
// writing into a dirty reused buffer, without allocating.
func TestMeanGrad(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		s := tensor.Shape{2, 3}
		op, err := opFor(meanGradKernel{shape: s}, []tensor.Shape{tensor.ScalarShape()}, []tensor.Dtype{dt})
		if err != nil {
			t.Fatal(err)
		}
		var gs []G.Value
		if dt == tensor.Float32 {
			v := G.F32(1.5)
			gs = append(gs, &v)
		} else {
			v := G.F64(1.5)
			gs = append(gs, &v)
		}
		gs = append(gs, convDense(dt, tensor.Shape{1}, []float64{1.5}), tensor.New(tensor.FromScalar(castTo(dt, 1.5))))
		for _, g := range gs {
			out, err := op.Do(g)
			if err != nil {
				t.Fatalf("%v %T: %v", dt, g, err)
			}
			for i, v := range Float64s(out) {
				if math.Abs(v-0.25) > 1e-7 {
					t.Errorf("%v %T: dx[%d] = %v, want 0.25", dt, g, i, v)
				}
			}
			checkContract(t, dt.String()+"/mean'", op, []G.Value{g}, 0)
			if allocs := testing.AllocsPerRun(10, func() { op.UsePreallocDo(out, g) }); allocs != 0 && !raceEnabled {
				t.Errorf("%v %T: mean' allocates %v times per reused run", dt, g, allocs)
			}
		}
		if _, err := op.Do(convDense(dt, tensor.Shape{2}, []float64{1, 2})); err == nil {
			t.Errorf("%v: two-element output gradient accepted", dt)
		}
	}
}

// castTo converts v to dt's Go type.
func castTo(dt tensor.Dtype, v float64) any {
	if dt == tensor.Float32 {
		return float32(v)
	}
	return v
}

// TestRowScratchReuse checks row functions keeping their buffers between
// runs: dirty reused outputs, results equal to a fresh op's, no
// allocation once warm.
func TestRowScratchReuse(t *testing.T) {
	mse := &RowFunc{Name: "mse",
		F: func(y, p []float64) float64 {
			s := 0.0
			for i := range p {
				s += (p[i] - y[i]) * (p[i] - y[i])
			}
			return s / float64(len(p))
		},
		DF: func(y, p []float64, g float64, dp []float64) {
			for i := range p {
				dp[i] = g * 2 * (p[i] - y[i]) / float64(len(p))
			}
		}}
	rng := rand.New(rand.NewSource(3))
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		y := convDense(dt, tensor.Shape{3, 4}, tieRand(rng, 12, false))
		p := convDense(dt, tensor.Shape{3, 4}, tieRand(rng, 12, false))
		g := convDense(dt, tensor.Shape{3}, tieRand(rng, 3, false))
		mk := func(k Kernel, in ...*tensor.Dense) *op {
			o, err := opOf(k, in...)
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		for _, c := range []struct {
			name      string
			op, fresh *op
			in        []G.Value
		}{
			{"mse", mk(rowKernel{f: mse, sc: &rowScratch{}}, y, p), mk(rowKernel{f: mse, sc: &rowScratch{}}, y, p), []G.Value{y, p}},
			{"mse'", mk(rowGradKernel{f: mse, sc: &rowScratch{}}, y, p, g), mk(rowGradKernel{f: mse, sc: &rowScratch{}}, y, p, g), []G.Value{y, p, g}},
		} {
			checkContract(t, dt.String()+"/"+c.name, c.op, c.in, 0)
			a, err := c.op.Do(c.in...)
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.op.Do(c.in...)
			if err != nil {
				t.Fatal(err)
			}
			want, err := c.fresh.Do(c.in...)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameBits(a, want); err != nil {
				t.Errorf("%v %s: %v", dt, c.name, err)
			}
			if overlapping(a, b) {
				t.Errorf("%v %s: two Do results share memory", dt, c.name)
			}
			if allocs := testing.AllocsPerRun(10, func() { c.op.UsePreallocDo(a, c.in...) }); allocs != 0 && !raceEnabled {
				t.Errorf("%v %s: %v allocations per reused run", dt, c.name, allocs)
			}
		}
	}
}

// overlapping reports whether two tensors' memory overlaps.
func overlapping(a, b G.Value) bool {
	ta, tb := a.(tensor.Tensor), b.(tensor.Tensor)
	pa, pb := ta.Uintptr(), tb.Uintptr()
	return pa < pb+uintptr(tb.MemSize()) && pb < pa+uintptr(ta.MemSize())
}
