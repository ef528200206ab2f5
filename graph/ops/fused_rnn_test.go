package ops

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// rnnCase is one configuration of a fused recurrent op under test.
type rnnCase struct {
	lstm       bool
	spec       RecurrentSpec
	n, t, f    int
	bias, mask bool
}

func (c rnnCase) String() string {
	s := "gru"
	if c.lstm {
		s = "lstm"
	} else if c.spec.ResetAfter {
		s += "/reset_after"
	} else {
		s += "/reset_before"
	}
	if c.spec.HardSigmoid {
		s += "/hard"
	} else {
		s += "/sigmoid"
	}
	if c.spec.GoBackwards {
		s += "/backwards"
	}
	if c.mask {
		s += "/mask"
	}
	if !c.bias {
		s += "/nobias"
	}
	return s
}

func (c rnnCase) gates() int {
	if c.lstm {
		return 4
	}
	return 3
}

// rnnVals are the op's inputs as flat float64 slices (c0 only for LSTM,
// b and m empty when absent).
type rnnVals struct {
	x, h0, c0, w, u, b, m []float64
}

// shapes lists the shapes of x, h0, [c0], kernel, recurrent, [bias], [mask].
func (c rnnCase) shapes() [][]int {
	h, gh := c.spec.Units, c.gates()*c.spec.Units
	s := [][]int{{c.n, c.t, c.f}, {c.n, h}}
	if c.lstm {
		s = append(s, []int{c.n, h})
	}
	s = append(s, []int{c.f, gh}, []int{h, gh})
	if c.bias {
		if !c.lstm && c.spec.ResetAfter {
			s = append(s, []int{2, gh})
		} else {
			s = append(s, []int{gh})
		}
	}
	if c.mask {
		s = append(s, []int{c.n, c.t})
	}
	return s
}

// slices returns pointers to the value slices in the order of shapes.
func (v *rnnVals) slices(c rnnCase) []*[]float64 {
	p := []*[]float64{&v.x, &v.h0}
	if c.lstm {
		p = append(p, &v.c0)
	}
	p = append(p, &v.w, &v.u)
	if c.bias {
		p = append(p, &v.b)
	}
	if c.mask {
		p = append(p, &v.m)
	}
	return p
}

func size(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// randomVals draws every input uniformly from (−scale, scale) (x and the
// states from (−1, 1)), with a fixed mask pattern that masks first, middle
// and last steps.
func randomVals(c rnnCase, rng *rand.Rand, scale float64) rnnVals {
	var v rnnVals
	shapes := c.shapes()
	for i, p := range v.slices(c) {
		s := make([]float64, size(shapes[i]))
		k := scale
		if p == &v.x || p == &v.h0 || p == &v.c0 {
			k = 1
		}
		for j := range s {
			s[j] = k * (2*rng.Float64() - 1)
		}
		*p = s
	}
	if c.mask {
		for j := range v.m {
			v.m[j] = 1
		}
		// sample 0 loses its second step, sample 1 its first and last,
		// sample 2 (if any) everything after its first step.
		set := func(b, t int) {
			if b < c.n && t < c.t {
				v.m[b*c.t+t] = 0
			}
		}
		set(0, 1)
		set(1, 0)
		set(1, c.t-1)
		for t := 1; t < c.t; t++ {
			set(2, t)
		}
	}
	return v
}

// refStats reports how close the reference came to hard_sigmoid's kinks.
type refStats struct {
	kinkDist  float64 // smallest |a ∓ 2.5| over hard-sigmoid pre-activations
	saturated int     // pre-activations outside (−2.5, 2.5)
}

// refRNN is a plain float64 reference: the docs/SEMANTICS.md §16.2 and §17
// equations with loops, one sample and one step at a time.
func refRNN(c rnnCase, v rnnVals) ([]float64, refStats) {
	st := refStats{kinkDist: math.Inf(1)}
	act := func(a float64) float64 {
		if !c.spec.HardSigmoid {
			return 1 / (1 + math.Exp(-a))
		}
		st.kinkDist = math.Min(st.kinkDist, math.Min(math.Abs(a-2.5), math.Abs(a+2.5)))
		if a <= -2.5 || a >= 2.5 {
			st.saturated++
		}
		return math.Max(0, math.Min(1, 0.2*a+0.5))
	}
	n, T, f, h := c.n, c.t, c.f, c.spec.Units
	gh := c.gates() * h
	outW := h
	if c.lstm {
		outW = 2 * h
	}
	out := make([]float64, n*T*outW)
	// xw returns x[b,t]·kernel[:, col] + input bias[col].
	xw := func(b, t, col int) float64 {
		s := 0.0
		for k := 0; k < f; k++ {
			s += v.x[(b*T+t)*f+k] * v.w[k*gh+col]
		}
		if c.bias {
			s += v.b[col]
		}
		return s
	}
	// hu returns vec·recurrent[:, col].
	hu := func(vec []float64, col int) float64 {
		s := 0.0
		for k := 0; k < h; k++ {
			s += vec[k] * v.u[k*gh+col]
		}
		return s
	}
	for b := 0; b < n; b++ {
		hs := append([]float64(nil), v.h0[b*h:(b+1)*h]...)
		var cs []float64
		if c.lstm {
			cs = append([]float64(nil), v.c0[b*h:(b+1)*h]...)
		}
		for s := 0; s < T; s++ {
			t := s
			if c.spec.GoBackwards {
				t = T - 1 - s
			}
			if !c.mask || v.m[b*T+t] != 0 {
				nh := make([]float64, h)
				if c.lstm {
					nc := make([]float64, h)
					for j := 0; j < h; j++ {
						i := act(xw(b, t, j) + hu(hs, j))
						fg := act(xw(b, t, h+j) + hu(hs, h+j))
						g := math.Tanh(xw(b, t, 2*h+j) + hu(hs, 2*h+j))
						o := act(xw(b, t, 3*h+j) + hu(hs, 3*h+j))
						nc[j] = fg*cs[j] + i*g
						nh[j] = o * math.Tanh(nc[j])
					}
					cs = nc
				} else {
					rb := func(col int) float64 { // recurrent bias (reset_after)
						if c.bias && c.spec.ResetAfter {
							return v.b[gh+col]
						}
						return 0
					}
					z, r := make([]float64, h), make([]float64, h)
					for j := 0; j < h; j++ {
						z[j] = act(xw(b, t, j) + hu(hs, j) + rb(j))
						r[j] = act(xw(b, t, h+j) + hu(hs, h+j) + rb(h+j))
					}
					rh := make([]float64, h)
					for k := range rh {
						rh[k] = r[k] * hs[k]
					}
					for j := 0; j < h; j++ {
						var a float64
						if c.spec.ResetAfter {
							a = xw(b, t, 2*h+j) + r[j]*(hu(hs, 2*h+j)+rb(2*h+j))
						} else {
							a = xw(b, t, 2*h+j) + hu(rh, 2*h+j)
						}
						nh[j] = z[j]*hs[j] + (1-z[j])*math.Tanh(a)
					}
				}
				hs = nh
			}
			o := out[(b*T+s)*outW:]
			copy(o, hs)
			if c.lstm {
				copy(o[h:], cs)
			}
		}
	}
	return out, st
}

func rnnTensor(dt tensor.Dtype, shape []int, vals []float64) *tensor.Dense {
	t := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	switch d := t.Data().(type) {
	case []float64:
		copy(d, vals)
	case []float32:
		for i, x := range vals {
			d[i] = float32(x)
		}
	}
	return t
}

// rnnGraph is a graph holding one fused op on bound input values.
type rnnGraph struct {
	g      *G.ExprGraph
	in     []*G.Node // in the order of rnnCase.shapes
	values []*tensor.Dense
	out    *G.Node
}

func buildRNN(c rnnCase, v rnnVals, dt tensor.Dtype) (*rnnGraph, error) {
	r := &rnnGraph{g: G.NewGraph()}
	shapes := c.shapes()
	for i, p := range v.slices(c) {
		t := rnnTensor(dt, shapes[i], *p)
		r.values = append(r.values, t)
		r.in = append(r.in, G.NewTensor(r.g, dt, len(shapes[i]), G.WithShape(shapes[i]...), G.WithValue(t), G.WithName(fmt.Sprintf("in%d", i))))
	}
	get := func(i int) *G.Node { return r.in[i] }
	x, h0 := get(0), get(1)
	k := 2
	var c0 *G.Node
	if c.lstm {
		c0 = get(2)
		k = 3
	}
	w, u := get(k), get(k+1)
	k += 2
	var b, m *G.Node
	if c.bias {
		b = get(k)
		k++
	}
	if c.mask {
		m = get(k)
	}
	var err error
	if c.lstm {
		r.out, err = FusedLSTM(c.spec, x, h0, c0, w, u, b, m)
	} else {
		r.out, err = FusedGRU(c.spec, x, h0, w, u, b, m)
	}
	return r, err
}

// gradNodes differentiates cost with respect to the op's inputs, the
// mask excluded.
func gradNodes(t *testing.T, c rnnCase, r *rnnGraph, cost *G.Node) G.Nodes {
	t.Helper()
	wrt := r.in
	if c.mask {
		wrt = wrt[:len(wrt)-1]
	}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	return grads
}

// forwardMachine builds the op's graph and a tape machine that reads the
// output into the returned value; the caller closes the machine.
func forwardMachine(t *testing.T, c rnnCase, v rnnVals, dt tensor.Dtype) (*rnnGraph, G.VM, *G.Value) {
	t.Helper()
	r, err := buildRNN(c, v, dt)
	if err != nil {
		t.Fatal(err)
	}
	out := new(G.Value)
	G.Read(r.out, out)
	return r, G.NewTapeMachine(r.g), out
}

// forward runs the op once and returns its output.
func forward(t *testing.T, c rnnCase, v rnnVals, dt tensor.Dtype) []float64 {
	t.Helper()
	_, m, out := forwardMachine(t, c, v, dt)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), Float64s(*out)...)
}

// gradients returns the cost Σ out ⊙ weights and its gradient with
// respect to every differentiable input (in the order of shapes, mask
// excluded) computed by the op's backward pass.
func gradients(t *testing.T, c rnnCase, v rnnVals, weights []float64, dt tensor.Dtype) (float64, [][]float64) {
	t.Helper()
	r, err := buildRNN(c, v, dt)
	if err != nil {
		t.Fatal(err)
	}
	ws := G.NewTensor(r.g, dt, 3, G.WithShape(r.out.Shape()...), G.WithValue(rnnTensor(dt, r.out.Shape(), weights)), G.WithName("weights"))
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(r.out, ws))))
	grads := gradNodes(t, c, r, cost)
	var costV G.Value
	G.Read(cost, &costV)
	gv := make([]G.Value, len(grads))
	for i, g := range grads {
		G.Read(g, &gv[i])
	}
	m := G.NewTapeMachine(r.g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(gv))
	for i, g := range gv {
		out[i] = append([]float64(nil), Float64s(g)...)
	}
	return Float64s(costV)[0], out
}

func allCases(n, t, f, h int) []rnnCase {
	var cs []rnnCase
	for _, lstm := range []bool{false, true} {
		for _, ra := range []bool{true, false} {
			if lstm && !ra {
				continue
			}
			for _, hard := range []bool{false, true} {
				for _, back := range []bool{false, true} {
					for _, mask := range []bool{false, true} {
						for _, bias := range []bool{true, false} {
							cs = append(cs, rnnCase{
								lstm: lstm,
								spec: RecurrentSpec{Units: h, ResetAfter: ra && !lstm, HardSigmoid: hard, GoBackwards: back},
								n:    n, t: t, f: f, bias: bias, mask: mask,
							})
						}
					}
				}
			}
		}
	}
	return cs
}

func maxDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// TestFusedRNNForward compares both ops with the reference on random
// inputs in every configuration, in float64 (1e-12) and float32 (1e-5).
func TestFusedRNNForward(t *testing.T) {
	cases := allCases(3, 5, 2, 4)
	if len(cases) != 48 {
		t.Fatalf("%d cases, want 48", len(cases))
	}
	rng := rand.New(rand.NewSource(1))
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			v := randomVals(c, rng, 2.5)
			want, st := refRNN(c, v)
			got := forward(t, c, v, tensor.Float64)
			if len(got) != len(want) {
				t.Fatalf("output has %d values, want %d", len(got), len(want))
			}
			if d := maxDiff(got, want); d > 1e-12 {
				t.Errorf("float64: max difference %g from the reference\ngot  %v\nwant %v", d, got, want)
			}
			got32 := forward(t, c, v, tensor.Float32)
			if d := maxDiff(got32, got); d > 1e-5 {
				t.Errorf("float32: max difference %g from float64", d)
			}
			if c.spec.HardSigmoid && st.saturated == 0 {
				t.Errorf("no hard_sigmoid gate saturated: the test does not cover the clipped range")
			}
		})
	}
}

// TestFusedRNNMaskCarries checks the masking semantics directly, without
// the reference: a masked step repeats the previous output, and a sample
// masked everywhere outputs its initial state at every step.
func TestFusedRNNMaskCarries(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, lstm := range []bool{false, true} {
		c := rnnCase{lstm: lstm, spec: RecurrentSpec{Units: 3, ResetAfter: true}, n: 2, t: 4, f: 2, bias: true, mask: true}
		v := randomVals(c, rng, 1)
		copy(v.m, []float64{1, 0, 1, 1, 0, 0, 0, 0})
		out := forward(t, c, v, tensor.Float64)
		w := 3
		if lstm {
			w = 6
		}
		row := func(b, s int) []float64 { return out[(b*4+s)*w : (b*4+s+1)*w] }
		if maxDiff(row(0, 1), row(0, 0)) != 0 {
			t.Errorf("lstm=%v: masked step 1 of sample 0 changed the state: %v → %v", lstm, row(0, 0), row(0, 1))
		}
		if maxDiff(row(0, 2), row(0, 1)) == 0 {
			t.Errorf("lstm=%v: unmasked step 2 did not change the state", lstm)
		}
		init := append([]float64(nil), v.h0[3:6]...)
		if lstm {
			init = append(init, v.c0[3:6]...)
		}
		for s := 0; s < 4; s++ {
			if maxDiff(row(1, s), init) != 0 {
				t.Errorf("lstm=%v: fully masked sample at step %d: %v, want the initial state %v", lstm, s, row(1, s), init)
			}
		}
	}
}

// TestFusedRNNGradients checks every input's gradient from the backward op
// against central differences of the op's own forward pass, in every
// configuration (masked sequences included). Hard-sigmoid cases are drawn
// with some gates saturated and none within 1e-4 of a kink.
func TestFusedRNNGradients(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, c := range allCases(3, 4, 2, 3) {
		t.Run(c.String(), func(t *testing.T) {
			var v rnnVals
			for try := 0; ; try++ {
				v = randomVals(c, rng, 1.2)
				_, st := refRNN(c, v)
				if !c.spec.HardSigmoid || (st.kinkDist > 1e-4 && st.saturated > 0) {
					break
				}
				if try == 100 {
					t.Fatal("no draw away from the hard_sigmoid kinks")
				}
			}
			want, _ := refRNN(c, v)
			weights := make([]float64, len(want))
			for i := range weights {
				weights[i] = 2*rng.Float64() - 1
			}
			cost, grads := gradients(t, c, v, weights, tensor.Float64)
			refCost := 0.0
			for i, y := range want {
				refCost += y * weights[i]
			}
			if math.Abs(cost-refCost) > 1e-10 {
				t.Fatalf("cost %v, reference %v", cost, refCost)
			}
			// Central differences through one forward machine whose input
			// tensors are changed in place.
			r, m, outV := forwardMachine(t, c, v, tensor.Float64)
			defer m.Close()
			eval := func() float64 {
				if err := m.RunAll(); err != nil {
					t.Fatal(err)
				}
				m.Reset()
				s := 0.0
				for i, y := range Float64s(*outV) {
					s += y * weights[i]
				}
				return s
			}
			names := []string{"x", "h0", "c0", "kernel", "recurrent", "bias"}
			if !c.lstm {
				names = []string{"x", "h0", "kernel", "recurrent", "bias"}
			}
			if !c.bias {
				names = names[:len(names)-1]
			}
			if len(grads) != len(names) {
				t.Fatalf("%d gradients, want %d", len(grads), len(names))
			}
			const eps = 1e-6
			for i, name := range names {
				data := r.values[i].Data().([]float64)
				if len(grads[i]) != len(data) {
					t.Fatalf("d%s has %d values, want %d", name, len(grads[i]), len(data))
				}
				nonzero := false
				for j := range data {
					old := data[j]
					data[j] = old + eps
					up := eval()
					data[j] = old - eps
					down := eval()
					data[j] = old
					num := (up - down) / (2 * eps)
					if math.Abs(num-grads[i][j]) > 1e-7*math.Max(1, math.Abs(num)) {
						t.Errorf("d%s[%d] = %.10g, finite differences %.10g", name, j, grads[i][j], num)
					}
					nonzero = nonzero || grads[i][j] != 0
				}
				if !nonzero {
					t.Errorf("d%s is all zeros", name)
				}
			}
			// float32 gradients agree with float64.
			_, g32 := gradients(t, c, v, weights, tensor.Float32)
			for i, name := range names {
				if d := maxDiff(g32[i], grads[i]); d > 1e-4 {
					t.Errorf("float32 d%s differs from float64 by %g", name, d)
				}
			}
		})
	}
}

// TestFusedRNNRepeatedRuns runs one training machine several times with
// changing inputs: buffers reused across runs must not leak state.
func TestFusedRNNRepeatedRuns(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, c := range []rnnCase{
		{spec: RecurrentSpec{Units: 3, ResetAfter: true}, n: 2, t: 3, f: 2, bias: true, mask: true},
		{spec: RecurrentSpec{Units: 3}, n: 2, t: 3, f: 2, bias: true},
		{lstm: true, spec: RecurrentSpec{Units: 3, GoBackwards: true}, n: 2, t: 3, f: 2, bias: true, mask: true},
	} {
		v := randomVals(c, rng, 1)
		r, err := buildRNN(c, v, tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		cost := G.Must(G.Sum(r.out))
		grads := gradNodes(t, c, r, cost)
		var outV, dxV G.Value
		G.Read(r.out, &outV)
		G.Read(grads[0], &dxV)
		m := G.NewTapeMachine(r.g)
		for run := 0; run < 3; run++ {
			x := r.values[0].Data().([]float64)
			for j := range x {
				x[j] = 2*rng.Float64() - 1
			}
			copy(v.x, x)
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			m.Reset()
			want, _ := refRNN(c, v)
			if d := maxDiff(Float64s(outV), want); d > 1e-12 {
				t.Errorf("%v run %d: output differs from the reference by %g", c, run, d)
			}
			ones := make([]float64, len(want))
			for j := range ones {
				ones[j] = 1
			}
			_, g := gradients(t, c, v, ones, tensor.Float64)
			if d := maxDiff(Float64s(dxV), g[0]); d > 1e-12 {
				t.Errorf("%v run %d: dx differs from a fresh graph's by %g", c, run, d)
			}
		}
		m.Close()
	}
}

func near(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	return maxDiff(a, b) <= tol
}

// g13 is docs/SEMANTICS.md §24.13's GRU: input_dim 2, units 2, x = [1,2],
// [0.5,−1], h0 = 0.
func g13(spec RecurrentSpec) (rnnCase, rnnVals) {
	c := rnnCase{spec: spec, n: 1, t: 2, f: 2, bias: true}
	c.spec.Units = 2
	v := rnnVals{
		x:  []float64{1, 2, 0.5, -1},
		h0: []float64{0, 0},
		w: []float64{0.1, -0.2, 0.3, 0.05, -0.4, 0.2,
			0.2, 0.1, -0.1, 0.3, 0.25, -0.3},
		u: []float64{0.5, -0.1, 0.2, 0.1, 0.3, -0.2,
			-0.3, 0.4, 0.1, -0.2, 0.1, 0.4},
		b: []float64{0.1, 0.05, -0.1, 0.2, 0.05, -0.05},
	}
	if spec.ResetAfter {
		v.b = append(v.b, 0.0, 0.1, 0.05, -0.1, 0.2, 0.1)
	}
	return c, v
}

// TestFusedGRUGolden asserts docs/SEMANTICS.md §24.13 (rows A, B, C and C
// with go_backwards) to 1e-6 in both dtypes.
func TestFusedGRUGolden(t *testing.T) {
	cases := []struct {
		name string
		spec RecurrentSpec
		want []float64 // h1, h2 in processing order
	}{
		{"A reset_before hard_sigmoid", RecurrentSpec{HardSigmoid: true}, []float64{0.0565763, -0.2067305, -0.1586961, 0.0676056}},
		{"B reset_before sigmoid", RecurrentSpec{}, []float64{0.0527565, -0.2056769, -0.1601778, 0.0741408}},
		{"C reset_after sigmoid", RecurrentSpec{ResetAfter: true}, []float64{0.0876174, -0.1686134, -0.0908203, 0.1030936}},
		{"C go_backwards", RecurrentSpec{ResetAfter: true, GoBackwards: true}, []float64{-0.1446090, 0.1928061, 0.0014981, -0.0251542}},
	}
	for _, tc := range cases {
		c, v := g13(tc.spec)
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			if got := forward(t, c, v, dt); !near(got, tc.want, 1e-6) {
				t.Errorf("%s %v: got %v, want %v", tc.name, dt, got, tc.want)
			}
		}
	}
}

// TestFusedLSTMGolden asserts docs/SEMANTICS.md §24.14 (sigmoid and
// hard_sigmoid) to 1e-6 in both dtypes.
func TestFusedLSTMGolden(t *testing.T) {
	v := rnnVals{
		x:  []float64{1, 2, 0.5, -1},
		h0: []float64{0, 0},
		c0: []float64{0, 0},
		w: []float64{0.1, -0.25, 0.3, 0.05, -0.4, 0.2, 0.1, 0.0,
			0.2, 0.1, -0.1, 0.3, 0.25, -0.3, 0.0, 0.1},
		u: []float64{0.5, -0.1, 0.2, 0.1, 0.3, -0.2, 0.1, 0.1,
			-0.3, 0.4, 0.1, -0.2, 0.1, 0.4, -0.1, 0.2},
		b: []float64{0, 0, 1, 1, 0, 0, 0, 0},
	}
	cases := []struct {
		hard bool
		want []float64 // h1, c1, h2, c2
	}{
		{false, []float64{0.0325276, -0.1006947, 0.0620393, -0.1852261, -0.0777951, 0.0099979, -0.1519761, 0.0212386}},
		{true, []float64{0.0310594, -0.0993888, 0.0598008, -0.1861750, -0.0801036, 0.0146870, -0.1575573, 0.0308231}},
	}
	for _, tc := range cases {
		c := rnnCase{lstm: true, spec: RecurrentSpec{Units: 2, HardSigmoid: tc.hard}, n: 1, t: 2, f: 2, bias: true}
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			if got := forward(t, c, v, dt); !near(got, tc.want, 1e-6) {
				t.Errorf("hard=%v %v: got %v, want %v", tc.hard, dt, got, tc.want)
			}
		}
	}
}

// TestFusedRNNErrors checks that bad shapes and dtypes are errors when the
// node is built.
func TestFusedRNNErrors(t *testing.T) {
	g := G.NewGraph()
	mk := func(dt tensor.Dtype, name string, shape ...int) *G.Node {
		return G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName(name))
	}
	f64 := tensor.Float64
	x := mk(f64, "x", 2, 3, 4)
	h0 := mk(f64, "h0", 2, 5)
	w := mk(f64, "w", 4, 15)
	u := mk(f64, "u", 5, 15)
	spec := RecurrentSpec{Units: 5, ResetAfter: true}
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"ok", func() error {
			_, err := FusedGRU(spec, x, h0, w, u, mk(f64, "b0", 2, 15), mk(f64, "m0", 2, 3))
			return err
		}, ""},
		{"units", func() error { _, err := FusedGRU(RecurrentSpec{}, x, h0, w, u, nil, nil); return err }, "units must be positive"},
		{"x rank", func() error { _, err := FusedGRU(spec, mk(f64, "x2", 2, 4), h0, w, u, nil, nil); return err }, "x must be (batch, time, features)"},
		{"kernel", func() error { _, err := FusedGRU(spec, x, h0, mk(f64, "w2", 4, 12), u, nil, nil); return err }, "kernel has shape (4, 12), want (4, 15)"},
		{"h0", func() error { _, err := FusedGRU(spec, x, mk(f64, "h2", 3, 5), w, u, nil, nil); return err }, "h0 has shape (3, 5), want (2, 5)"},
		{"flat bias with reset_after", func() error { _, err := FusedGRU(spec, x, h0, w, u, mk(f64, "b1", 15), nil); return err }, "bias has shape (15), want (2, 15)"},
		{"2-D bias without", func() error {
			_, err := FusedGRU(RecurrentSpec{Units: 5}, x, h0, w, u, mk(f64, "b2", 2, 15), nil)
			return err
		}, "bias has shape (2, 15), want (15)"},
		{"dtype", func() error { _, err := FusedGRU(spec, x, mk(tensor.Float32, "h3", 2, 5), w, u, nil, nil); return err }, "h0 is float32 but x is float64"},
		{"mask", func() error { _, err := FusedGRU(spec, x, h0, w, u, nil, mk(f64, "m1", 3, 2)); return err }, "mask has shape (3, 2), want (2, 3)"},
		{"nil", func() error { _, err := FusedGRU(spec, x, nil, w, u, nil, nil); return err }, "must not be nil"},
		{"lstm c0", func() error {
			_, err := FusedLSTM(RecurrentSpec{Units: 5}, x, h0, nil, mk(f64, "w4", 4, 20), mk(f64, "u4", 5, 20), nil, nil)
			return err
		}, "c0 is nil"},
		{"lstm kernel", func() error {
			_, err := FusedLSTM(RecurrentSpec{Units: 5}, x, h0, h0, w, u, nil, nil)
			return err
		}, "FusedLSTM: kernel has shape (4, 15), want (4, 20)"},
	}
	for _, c := range cases {
		err := c.err()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

// fusedOps returns the adapters of a fused graph's forward node and of its
// backward kernel (built as Gradient builds it), and the input values.
func fusedOps(t *testing.T, r *rnnGraph) (fw, bw *op, vals []G.Value) {
	t.Helper()
	fw = r.out.Op().(*op)
	k := fw.k.(*fusedRNNKernel)
	b := &fusedRNNGradKernel{fw: k}
	shapes := append([]tensor.Shape(nil), fw.in...)
	dts := append([]tensor.Dtype(nil), fw.dts...)
	for i, s := range k.shapes {
		if i != k.maskIdx {
			b.offsets = append(b.offsets, b.size)
			b.size += s.TotalSize()
		}
	}
	shapes = append(shapes, fw.out, fw.out)
	dts = append(dts, fw.dt, fw.dt)
	bw, err := opFor(b, shapes, dts)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range r.values {
		vals = append(vals, x)
	}
	return fw, bw, vals
}

// TestFusedRNNDoErrors runs the ops with values that disagree with their
// nodes: errors, not panics.
func TestFusedRNNDoErrors(t *testing.T) {
	c := rnnCase{spec: RecurrentSpec{Units: 2, ResetAfter: true}, n: 1, t: 2, f: 2, bias: true}
	_, v := g13(c.spec)
	r, err := buildRNN(c, v, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	op, bw, vals := fusedOps(t, r)
	if _, err := op.Do(vals[:3]...); err == nil || !strings.Contains(err.Error(), "expected 5 inputs") {
		t.Errorf("too few inputs: %v", err)
	}
	bad := append([]G.Value(nil), vals...)
	bad[2] = rnnTensor(tensor.Float64, []int{3, 6}, make([]float64, 18))
	if _, err := op.Do(bad...); err == nil || !strings.Contains(err.Error(), "FusedGRU: input 2 has shape (3, 6), built for (2, 6)") {
		t.Errorf("wrong kernel shape: %v", err)
	}
	bad[2] = rnnTensor(tensor.Float32, []int{2, 6}, make([]float64, 12))
	if _, err := op.Do(bad...); err == nil || !strings.Contains(err.Error(), "FusedGRU: input 2 is float32, built for float64") {
		t.Errorf("wrong kernel dtype: %v", err)
	}
	// The backward op refuses to run before a forward pass.
	op.k.(*fusedRNNKernel).ran = false
	y := rnnTensor(tensor.Float64, []int{1, 2, 2}, make([]float64, 4))
	if _, err := bw.Do(append(vals, y, y)...); err == nil || !strings.Contains(err.Error(), "forward pass has not run") {
		t.Errorf("backward before forward: %v", err)
	}
	if _, err := op.Do(vals...); err != nil {
		t.Fatal(err)
	}
	if _, err := bw.Do(append(vals, y, rnnTensor(tensor.Float64, []int{3}, make([]float64, 3)))...); err == nil || !strings.Contains(err.Error(), "input 6 has shape (3), built for (1, 2, 2)") {
		t.Errorf("wrong output gradient: %v", err)
	}
	if _, err := bw.Do(append(vals, y, y)...); err != nil {
		t.Errorf("backward: %v", err)
	}
}

// TestFusedRNNAllocs checks that a forward and backward pass that reuse
// their outputs allocate nothing, however long the sequence: the working
// buffers are reused.
func TestFusedRNNAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, lstm := range []bool{false, true} {
		c := rnnCase{lstm: lstm, spec: RecurrentSpec{Units: 4}, n: 3, t: 20, f: 2, bias: true, mask: true}
		v := randomVals(c, rand.New(rand.NewSource(5)), 1)
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			r, err := buildRNN(c, v, dt)
			if err != nil {
				t.Fatal(err)
			}
			op, bw, vals := fusedOps(t, r)
			bin := append(append([]G.Value(nil), vals...), nil, nil)
			var y, packed G.Value
			run := func() {
				if y, err = op.UsePreallocDo(y, vals...); err != nil {
					t.Fatal(err)
				}
				bin[len(vals)], bin[len(vals)+1] = y, y
				if packed, err = bw.UsePreallocDo(packed, bin...); err != nil {
					t.Fatal(err)
				}
			}
			run()
			if allocs := testing.AllocsPerRun(5, run); allocs != 0 {
				t.Errorf("lstm=%v %v: %v allocations per forward+backward, want 0", lstm, dt, allocs)
			}
		}
	}
}

// TestFusedRNNDualValues reads the weight gradients the way kerago's
// programs do, from dual values bound by the machine, and compares them
// with the gradients read from the gradient nodes.
func TestFusedRNNDualValues(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	for _, c := range []rnnCase{
		{spec: RecurrentSpec{Units: 3, ResetAfter: true, GoBackwards: true}, n: 2, t: 3, f: 2, bias: true, mask: true},
		{lstm: true, spec: RecurrentSpec{Units: 3}, n: 2, t: 3, f: 2, bias: true},
	} {
		v := randomVals(c, rng, 1)
		ref, _ := refRNN(c, v)
		ones := make([]float64, len(ref))
		for i := range ones {
			ones[i] = 1
		}
		_, want := gradients(t, c, v, ones, tensor.Float64)
		r, err := buildRNN(c, v, tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		k := 2
		if c.lstm {
			k = 3
		}
		params := r.in[k : k+3] // kernel, recurrent, bias
		if _, err := G.Grad(G.Must(G.Sum(r.out)), params...); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(r.g, G.BindDualValues(params...))
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		for i, p := range params {
			g, err := p.Grad()
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(Float64s(g), want[k+i]); d > 1e-12 {
				t.Errorf("%v: dual value of input %d differs from the gradient node by %g", c, k+i, d)
			}
		}
		m.Close()
	}
}

// TestFusedRNNParallel runs the recurrence split over several goroutines
// (ranges of 1 or 2 samples) and compares outputs with the reference and
// gradients with the serial run, in every configuration.
func TestFusedRNNParallel(t *testing.T) {
	defer func(m int) { rnnMinChunk = m }(rnnMinChunk)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	rng := rand.New(rand.NewSource(8))
	for _, c := range allCases(5, 4, 3, 2) {
		v := randomVals(c, rng, 1.5)
		want, _ := refRNN(c, v)
		weights := make([]float64, len(want))
		for i := range weights {
			weights[i] = 2*rng.Float64() - 1
		}
		rnnMinChunk = 1000
		_, serial := gradients(t, c, v, weights, tensor.Float64)
		rnnMinChunk = 1
		if rnnWorkers(c.n) != 3 {
			t.Fatalf("%d workers, want 3", rnnWorkers(c.n))
		}
		if d := maxDiff(forward(t, c, v, tensor.Float64), want); d > 1e-12 {
			t.Errorf("%v: parallel output differs from the reference by %g", c, d)
		}
		_, par := gradients(t, c, v, weights, tensor.Float64)
		for i := range serial {
			if d := maxDiff(par[i], serial[i]); d > 1e-12 {
				t.Errorf("%v: parallel gradient %d differs from the serial one by %g", c, i, d)
			}
		}
	}
}

// The fused GRU (both forms) and LSTM, masked, with their gradients.
var _ = registerExample(kernelExample{name: "fused rnn", build: func(in *exampleInputs) ([]*G.Node, error) {
	const t, f, h = 5, 2, 4
	n := in.n
	var outs []*G.Node
	for _, c := range []struct {
		lstm, resetAfter bool
	}{{false, true}, {false, false}, {true, false}} {
		gh := 3 * h
		if c.lstm {
			gh = 4 * h
		}
		var bias *G.Node
		if c.resetAfter {
			bias = in.x(2, gh)
		} else {
			bias = in.x(gh)
		}
		spec := RecurrentSpec{Units: h, ResetAfter: c.resetAfter}
		x, h0, w, u, m := in.x(n, t, f), in.x(n, h), in.x(f, gh), in.x(h, gh), in.mask(n, t)
		var y *G.Node
		var err error
		if c.lstm {
			y, err = FusedLSTM(spec, x, h0, in.x(n, h), w, u, bias, m)
		} else {
			y, err = FusedGRU(spec, x, h0, w, u, bias, m)
		}
		if err != nil {
			return nil, err
		}
		outs = append(outs, y)
	}
	return outs, nil
}})
