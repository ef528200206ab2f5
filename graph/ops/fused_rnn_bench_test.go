package ops

import (
	"math"
	"math/rand"
	"testing"

	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph/blas"
)

// The benchmarks time one training step (forward and backward pass of a
// Sum cost, gradients with respect to the weights) of a recurrent layer
// over batch 64, 50 steps, 32 features, 64 units, in float32: the fused
// op against the same cell unrolled from Gorgonia built-ins, one group of
// nodes per time step. Both use graph/blas for every matrix product; the
// UnrolledGonum variants give the unrolled layer Gorgonia's default BLAS
// (gonum) instead, as a program that never installs graph/blas would run.
//
//	go test ./graph/ops/ -run '^$' -bench 'GRU|LSTM' -benchmem
const (
	benchN = 64
	benchT = 50
	benchF = 32
	benchH = 64
)

// rnnWeights are a layer's weights in Keras layout, flat float64.
type rnnWeights struct {
	kernel, recurrent, bias []float64
}

func newRNNWeights(lstm bool, f, h int, rng *rand.Rand) rnnWeights {
	g := 3
	nb := 2 * 3 * h // GRU reset_after: (2, 3H)
	if lstm {
		g, nb = 4, 4*h
	}
	draw := func(n int, scale float64) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = scale * (2*rng.Float64() - 1)
		}
		return s
	}
	return rnnWeights{draw(f*g*h, 0.3), draw(h*g*h, 0.3), draw(nb, 0.3)}
}

// rnnModel is a graph with one recurrent layer, a Sum cost and the
// gradients of the cost.
type rnnModel struct {
	g      *G.ExprGraph
	cost   *G.Node
	params G.Nodes
	grads  G.Nodes
}

func newNode(g *G.ExprGraph, dt tensor.Dtype, name string, shape []int, vals []float64) *G.Node {
	return G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(rnnTensor(dt, shape, vals)))
}

// fusedModel builds the fused layer: GRU in reset_after form (cuDNN's) or
// LSTM, zero initial states.
func fusedModel(lstm bool, dt tensor.Dtype, x []float64, n, t, f, h int, w rnnWeights) (*rnnModel, error) {
	m := &rnnModel{g: G.NewGraph()}
	g := 3
	if lstm {
		g = 4
	}
	xn := newNode(m.g, dt, "x", []int{n, t, f}, x)
	h0 := newNode(m.g, dt, "h0", []int{n, h}, nil)
	kernel := newNode(m.g, dt, "kernel", []int{f, g * h}, w.kernel)
	recurrent := newNode(m.g, dt, "recurrent", []int{h, g * h}, w.recurrent)
	spec := RecurrentSpec{Units: h, ResetAfter: true}
	var out *G.Node
	var err error
	if lstm {
		c0 := newNode(m.g, dt, "c0", []int{n, h}, nil)
		bias := newNode(m.g, dt, "bias", []int{g * h}, w.bias)
		m.params = G.Nodes{kernel, recurrent, bias}
		out, err = FusedLSTM(spec, xn, h0, c0, kernel, recurrent, bias, nil)
	} else {
		bias := newNode(m.g, dt, "bias", []int{2, g * h}, w.bias)
		m.params = G.Nodes{kernel, recurrent, bias}
		out, err = FusedGRU(spec, xn, h0, kernel, recurrent, bias, nil)
	}
	if err != nil {
		return nil, err
	}
	if m.cost, err = G.Sum(out); err != nil {
		return nil, err
	}
	m.grads, err = G.Grad(m.cost, m.params...)
	return m, err
}

// unrolledModel builds the same layer from Gorgonia built-ins, the way a
// Keras-style cell is written without a fused kernel: one weight matrix
// per gate, and per time step a slice of x, two products per gate, the
// bias adds, the activations and the state update. The weights are the
// columns of w's Keras-layout matrices; the GRU's z and r gates get the
// sum of their input and recurrent biases (the same function). The cost
// sums every step's state (and, for LSTM, cell), like Sum of the fused
// output.
func unrolledModel(lstm bool, dt tensor.Dtype, x []float64, n, t, f, h int, w rnnWeights) (*rnnModel, error) {
	m := &rnnModel{g: G.NewGraph()}
	ng := 3
	if lstm {
		ng = 4
	}
	cols := func(src []float64, rows, gate int) []float64 {
		out := make([]float64, 0, rows*h)
		for r := 0; r < rows; r++ {
			out = append(out, src[r*ng*h+gate*h:r*ng*h+(gate+1)*h]...)
		}
		return out
	}
	var ws, us, bs, brs []*G.Node
	for gi := 0; gi < ng; gi++ {
		wn := newNode(m.g, dt, "W"+string(rune('0'+gi)), []int{f, h}, cols(w.kernel, f, gi))
		un := newNode(m.g, dt, "U"+string(rune('0'+gi)), []int{h, h}, cols(w.recurrent, h, gi))
		b := append([]float64(nil), w.bias[gi*h:(gi+1)*h]...)
		if !lstm && gi < 2 {
			for j := range b {
				b[j] += w.bias[ng*h+gi*h+j]
			}
		}
		bn := newNode(m.g, dt, "b"+string(rune('0'+gi)), []int{1, h}, b)
		ws, us, bs = append(ws, wn), append(us, un), append(bs, bn)
		m.params = append(m.params, wn, un, bn)
		if !lstm && gi == 2 {
			br := newNode(m.g, dt, "br", []int{1, h}, w.bias[ng*h+2*h:])
			brs = append(brs, br)
			m.params = append(m.params, br)
		}
	}
	xn := newNode(m.g, dt, "x", []int{n, t, f}, x)
	var one *G.Node
	if dt == tensor.Float32 {
		one = G.NewConstant(float32(1))
	} else {
		one = G.NewConstant(1.0)
	}
	hs := newNode(m.g, dt, "h0", []int{n, h}, nil)
	cs := newNode(m.g, dt, "c0", []int{n, h}, nil)
	must := G.Must
	badd := func(a, b *G.Node) *G.Node { return must(G.BroadcastAdd(a, b, nil, []byte{0})) }
	pre := func(xt *G.Node, gi int) *G.Node {
		return badd(must(G.Add(must(G.Mul(xt, ws[gi])), must(G.Mul(hs, us[gi])))), bs[gi])
	}
	var outs []*G.Node
	for s := 0; s < t; s++ {
		xt := must(G.Slice(xn, nil, G.S(s)))
		if lstm {
			i := must(G.Sigmoid(pre(xt, 0)))
			fg := must(G.Sigmoid(pre(xt, 1)))
			gg := must(G.Tanh(pre(xt, 2)))
			o := must(G.Sigmoid(pre(xt, 3)))
			cs = must(G.Add(must(G.HadamardProd(fg, cs)), must(G.HadamardProd(i, gg))))
			hs = must(G.HadamardProd(o, must(G.Tanh(cs))))
			outs = append(outs, hs, cs)
			continue
		}
		z := must(G.Sigmoid(pre(xt, 0)))
		r := must(G.Sigmoid(pre(xt, 1)))
		xh := badd(must(G.Mul(xt, ws[2])), bs[2])
		hu := badd(must(G.Mul(hs, us[2])), brs[0])
		hh := must(G.Tanh(must(G.Add(xh, must(G.HadamardProd(r, hu))))))
		hs = must(G.Add(must(G.HadamardProd(z, hs)), must(G.HadamardProd(must(G.Sub(one, z)), hh))))
		outs = append(outs, hs)
	}
	var err error
	if m.cost, err = G.Sum(must(G.Concat(0, outs...))); err != nil {
		return nil, err
	}
	m.grads, err = G.Grad(m.cost, m.params...)
	return m, err
}

func benchTrainStep(b *testing.B, lstm, fused bool) {
	benchTrainStepBLAS(b, lstm, fused, blas.Implementation{})
}

func benchTrainStepBLAS(b *testing.B, lstm, fused bool, impl G.BLAS) {
	G.Use(impl)
	defer G.Use(blas.Implementation{})
	rng := rand.New(rand.NewSource(1))
	x := make([]float64, benchN*benchT*benchF)
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	w := newRNNWeights(lstm, benchF, benchH, rng)
	build := unrolledModel
	if fused {
		build = fusedModel
	}
	m, err := build(lstm, tensor.Float32, x, benchN, benchT, benchF, benchH, w)
	if err != nil {
		b.Fatal(err)
	}
	vm := G.NewTapeMachine(m.g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		b.Fatal(err)
	}
	vm.Reset()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
}

// BenchmarkFusedGRUTrainStep: FusedGRU(64), reset_after, one training step.
func BenchmarkFusedGRUTrainStep(b *testing.B) { benchTrainStep(b, false, true) }

// BenchmarkUnrolledGRUTrainStep: the same GRU unrolled from built-ins.
func BenchmarkUnrolledGRUTrainStep(b *testing.B) { benchTrainStep(b, false, false) }

// BenchmarkUnrolledGonumGRUTrainStep: the unrolled GRU on gonum's BLAS.
func BenchmarkUnrolledGonumGRUTrainStep(b *testing.B) {
	benchTrainStepBLAS(b, false, false, gonum.Implementation{})
}

// BenchmarkFusedLSTMTrainStep: FusedLSTM(64), one training step.
func BenchmarkFusedLSTMTrainStep(b *testing.B) { benchTrainStep(b, true, true) }

// BenchmarkUnrolledLSTMTrainStep: the same LSTM unrolled from built-ins.
func BenchmarkUnrolledLSTMTrainStep(b *testing.B) { benchTrainStep(b, true, false) }

// BenchmarkUnrolledGonumLSTMTrainStep: the unrolled LSTM on gonum's BLAS.
func BenchmarkUnrolledGonumLSTMTrainStep(b *testing.B) {
	benchTrainStepBLAS(b, true, false, gonum.Implementation{})
}

// TestUnrolledBaselineAgrees checks that the benchmarks' unrolled baseline
// computes what the fused op computes (cost and weight gradients), so the
// timings compare the same work.
func TestUnrolledBaselineAgrees(t *testing.T) {
	const n, T, f, h = 3, 4, 2, 3
	rng := rand.New(rand.NewSource(7))
	for _, lstm := range []bool{false, true} {
		x := make([]float64, n*T*f)
		for i := range x {
			x[i] = 2*rng.Float64() - 1
		}
		w := newRNNWeights(lstm, f, h, rng)
		run := func(build func(bool, tensor.Dtype, []float64, int, int, int, int, rnnWeights) (*rnnModel, error)) (float64, [][]float64) {
			m, err := build(lstm, tensor.Float64, x, n, T, f, h, w)
			if err != nil {
				t.Fatal(err)
			}
			var cost G.Value
			G.Read(m.cost, &cost)
			gv := make([]G.Value, len(m.grads))
			for i, g := range m.grads {
				G.Read(g, &gv[i])
			}
			vm := G.NewTapeMachine(m.g)
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			out := make([][]float64, len(gv))
			for i, v := range gv {
				out[i] = append([]float64(nil), Float64s(v)...)
			}
			return Float64s(cost)[0], out
		}
		fc, fg := run(fusedModel)
		uc, ug := run(unrolledModel)
		if math.Abs(fc-uc) > 1e-10 {
			t.Errorf("lstm=%v: fused cost %v, unrolled %v", lstm, fc, uc)
		}
		ng := 3
		if lstm {
			ng = 4
		}
		stride := 3 // W, U, b per gate (+ br after the GRU's h gate)
		for gi := 0; gi < ng; gi++ {
			k := gi * stride
			for r := 0; r < f; r++ {
				for j := 0; j < h; j++ {
					if d := fg[0][r*ng*h+gi*h+j] - ug[k][r*h+j]; math.Abs(d) > 1e-10 {
						t.Fatalf("lstm=%v gate %d: dkernel differs by %g", lstm, gi, d)
					}
				}
			}
			for r := 0; r < h; r++ {
				for j := 0; j < h; j++ {
					if d := fg[1][r*ng*h+gi*h+j] - ug[k+1][r*h+j]; math.Abs(d) > 1e-10 {
						t.Fatalf("lstm=%v gate %d: drecurrent differs by %g", lstm, gi, d)
					}
				}
			}
			for j := 0; j < h; j++ {
				if d := fg[2][gi*h+j] - ug[k+2][j]; math.Abs(d) > 1e-10 {
					t.Fatalf("lstm=%v gate %d: dbias differs by %g", lstm, gi, d)
				}
			}
		}
		if !lstm {
			for j := 0; j < h; j++ {
				if d := fg[2][ng*h+2*h+j] - ug[9][j]; math.Abs(d) > 1e-10 {
					t.Fatalf("recurrent h bias gradient differs by %g", d)
				}
			}
		}
	}
}
