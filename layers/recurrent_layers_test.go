package layers

import (
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

func paramCount(ws []*graph.Weight) int {
	n := 0
	for _, w := range ws {
		n += w.Shape().Size()
	}
	return n
}

// TestRecurrentParamCountG17 is docs/SEMANTICS.md §24.17 plus the weight shapes
// and order.
func TestRecurrentParamCountG17(t *testing.T) {
	cases := []struct {
		name   string
		layer  RecurrentLayer
		want   int
		shapes []graph.Shape
	}{
		{"GRU reset_after=False", NewGRU(5, WithResetAfter(false)), 150, []graph.Shape{{4, 15}, {5, 15}, {15}}},
		{"GRU reset_after=True", NewGRU(5), 165, []graph.Shape{{4, 15}, {5, 15}, {2, 15}}},
		{"LSTM", NewLSTM(5), 200, []graph.Shape{{4, 20}, {5, 20}, {20}}},
		{"SimpleRNN", NewSimpleRNN(5), 50, []graph.Shape{{4, 5}, {5, 5}, {5}}},
		{"GRU no bias", NewGRU(5, WithoutBias()), 135, []graph.Shape{{4, 15}, {5, 15}}},
	}
	for _, c := range cases {
		if err := applyAll(c.layer, graph.Input(7, 4))[0].Err(); err != nil {
			t.Fatal(err)
		}
		if n := paramCount(c.layer.Weights()); n != c.want {
			t.Errorf("%s: %d parameters, want %d", c.name, n, c.want)
		}
		ws := c.layer.Weights()
		if len(ws) != len(c.shapes) {
			t.Fatalf("%s: %d weights, want %d", c.name, len(ws), len(c.shapes))
		}
		for i, w := range ws {
			if !w.Shape().Equal(c.shapes[i]) {
				t.Errorf("%s: weight %s shape %v, want %v", c.name, w.Name(), w.Shape(), c.shapes[i])
			}
		}
		rw := c.layer.(rnnWeights)
		if ws[0] != rw.Kernel() || ws[1] != rw.RecurrentKernel() {
			t.Errorf("%s: weight order %v", c.name, ws)
		}
		// Bidirectional doubles.
		b := NewBidirectional(c.layer)
		if err := b.Apply(graph.Input(7, 4)).Err(); err != nil {
			t.Fatal(err)
		}
		if n := paramCount(b.Weights()); n != 2*c.want {
			t.Errorf("Bidirectional(%s): %d parameters, want %d", c.name, n, 2*c.want)
		}
	}
}

// TestBidirectionalCopies: the two directions are fresh layers with the
// wrapped layer's configuration, named forward_/backward_, backward
// flipped, with their own weights.
func TestBidirectionalCopies(t *testing.T) {
	g := NewGRU(3, WithName("enc"), WithReturnSequences(), WithResetAfter(false), WithRecurrentActivation("hard_sigmoid"))
	b := NewBidirectional(g, WithMergeMode("sum"))
	out := b.Apply(graph.Input(5, 2))
	if out.Err() != nil {
		t.Fatal(out.Err())
	}
	if !out.Shape().Equal(graph.Shape{5, 3}) {
		t.Errorf("sum shape %v", out.Shape())
	}
	f, k := b.Forward().(*GRU), b.Backward().(*GRU)
	if f.Name() != "forward_enc" || k.Name() != "backward_enc" {
		t.Errorf("names %s, %s", f.Name(), k.Name())
	}
	if f.GoBackwards() || !k.GoBackwards() || g.GoBackwards() {
		t.Error("go_backwards not flipped in the backward copy only")
	}
	for _, l := range []*GRU{f, k} {
		if !l.ReturnSequences() || l.ResetAfter() || l.Config().RecurrentActivation != "hard_sigmoid" || l.Units() != 3 {
			t.Errorf("%s lost the configuration", l.Name())
		}
	}
	if g.Kernel() != nil {
		t.Error("the wrapped template was built")
	}
	ws := b.Weights()
	if len(ws) != 6 || ws[0] != f.Kernel() || ws[3] != k.Kernel() || ws[0].Name() != "forward_enc/kernel" || ws[5].Name() != "backward_enc/bias" {
		t.Errorf("weights %v", ws)
	}
	// Concat doubles the last axis; none gives two outputs; states follow.
	outs := NewBidirectional(NewLSTM(4, WithReturnState()), WithMergeMode("none")).ApplyAll(graph.Input(5, 2))
	if len(outs) != 6 {
		t.Fatalf("merge none with LSTM states: %d outputs, want 6", len(outs))
	}
	if c := NewBidirectional(NewLSTM(4, WithReturnSequences())).Apply(graph.Input(5, 2)); !c.Shape().Equal(graph.Shape{5, 8}) {
		t.Errorf("concat shape %v", c.Shape())
	}
}

// TestRecurrentInitializers: default kernel glorot_uniform, orthogonal
// recurrent kernel with orthonormal rows (U·Uᵀ = I), zero bias with LSTM's
// forget block at 1 (and 0 with unit_forget_bias off).
func TestRecurrentInitializers(t *testing.T) {
	in := graph.Input(6, 4)
	g := NewGRU(5)
	l := NewLSTM(5)
	l2 := NewLSTM(5, WithUnitForgetBias(false))
	net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{g.Apply(in), l.Apply(in), l2.Apply(in)})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Initialise(tensor.Float64, 5); err != nil {
		t.Fatal(err)
	}
	limit := math.Sqrt(6.0 / (4 + 15))
	for _, v := range g.Kernel().Float64s() {
		if math.Abs(v) > limit {
			t.Fatalf("GRU kernel value %v beyond glorot limit %v", v, limit)
		}
	}
	for _, w := range []*graph.Weight{g.RecurrentKernel(), l.RecurrentKernel()} {
		u := w.Float64s()
		rows, cols := w.Shape()[0], w.Shape()[1]
		for i := 0; i < rows; i++ {
			for j := 0; j < rows; j++ {
				dot := 0.0
				for k := 0; k < cols; k++ {
					dot += u[i*cols+k] * u[j*cols+k]
				}
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(dot-want) > 1e-9 {
					t.Fatalf("%s: U·Uᵀ[%d][%d] = %v, want %v", w.Name(), i, j, dot, want)
				}
			}
		}
	}
	for i, v := range l.Bias().Float64s() {
		want := 0.0
		if i >= 5 && i < 10 {
			want = 1
		}
		if v != want {
			t.Fatalf("LSTM bias[%d] = %v, want %v (unit_forget_bias)", i, v, want)
		}
	}
	for _, v := range l2.Bias().Float64s() {
		if v != 0 {
			t.Fatalf("LSTM without unit_forget_bias: bias %v", l2.Bias().Float64s())
		}
	}
}

// TestRecurrentRegularizers: kernel, recurrent and bias penalties reach
// the cost.
func TestRecurrentRegularizers(t *testing.T) {
	in := graph.Input(2, 2)
	g := NewGRU(2, WithKernelRegularizer(L1(0.1)), WithRecurrentRegularizer(L2(0.01)), WithBiasRegularizer(L1(1)))
	net := newNet(t, in, g.Apply(in), tensor.Float64, 1)
	setG13(t, g, true)
	_, p := runOnce(t, net, graph.ProgramSpec{Batch: 1, Head: sumHead}, g13X)
	l1k, l2u, l1b := 0.0, 0.0, 0.0
	for _, v := range g13Kernel {
		l1k += math.Abs(v)
	}
	for _, v := range g13Recurrent {
		l2u += v * v
	}
	for _, v := range append(append([]float64(nil), g13InBias...), g13RecBias...) {
		l1b += math.Abs(v)
	}
	want := 0.1*l1k + 0.01*l2u + l1b
	if math.Abs(p.Penalty()-want) > 1e-12 {
		t.Errorf("penalty %v, want %v", p.Penalty(), want)
	}
}

// TestRecurrentDropoutMasks: input dropout uses one mask per sequence,
// shared by every step, holding 0 or 1/(1-rate), only in training; the
// recurrent dropout mask likewise. A SimpleRNN with identity kernels and a
// linear activation makes the masks visible: with the recurrent kernel 0
// the outputs are x_t ⊙ m; with the input kernel I and recurrent I, h_2 =
// x_2 + m_r ⊙ x_1.
func TestRecurrentDropoutMasks(t *testing.T) {
	const n, steps, f = 4, 3, 5
	eye := make([]float64, f*f)
	for i := 0; i < f; i++ {
		eye[i*f+i] = 1
	}
	x := randomValues(n*steps*f, 90)
	run := func(training, recurrentEye bool, opts ...SimpleRNNOption) []float64 {
		in := graph.Input(steps, f)
		s := NewSimpleRNN(f, append(opts, WithActivation("linear"), WithoutBias(), WithReturnSequences())...)
		net := newNet(t, in, s.Apply(in), tensor.Float64, 1)
		setWeight(t, s.Kernel(), eye)
		if recurrentEye {
			setWeight(t, s.RecurrentKernel(), eye)
		} else {
			setWeight(t, s.RecurrentKernel(), make([]float64, f*f))
		}
		spec := graph.ProgramSpec{Batch: n, Training: training}
		if training {
			spec.Head = sumHead
		}
		got, _ := runOnce(t, net, spec, x)
		return got
	}
	// Input dropout.
	for _, training := range []bool{true, false} {
		got := run(training, false, WithDropoutRate(0.5))
		zeros := 0
		for b := 0; b < n; b++ {
			for j := 0; j < f; j++ {
				ratio0 := got[(b*steps)*f+j] / x[(b*steps)*f+j]
				if training && math.Abs(ratio0) > 1e-12 && math.Abs(ratio0-2) > 1e-12 {
					t.Fatalf("input dropout value ratio %v, want 0 or 2", ratio0)
				}
				if !training && math.Abs(ratio0-1) > 1e-12 {
					t.Fatalf("inference: input dropout active (ratio %v)", ratio0)
				}
				if ratio0 == 0 {
					zeros++
				}
				for s := 1; s < steps; s++ {
					r := got[(b*steps+s)*f+j] / x[(b*steps+s)*f+j]
					if math.Abs(r-ratio0) > 1e-12 {
						t.Fatalf("input dropout mask differs between steps: %v vs %v", r, ratio0)
					}
				}
			}
		}
		if training && (zeros == 0 || zeros == n*f) {
			t.Errorf("input dropout dropped %d of %d features", zeros, n*f)
		}
	}
	// Recurrent dropout: h_1 = x_1, h_2 = x_2 + m ⊙ h_1.
	for _, training := range []bool{true, false} {
		got := run(training, true, WithRecurrentDropout(0.5))
		zeros := 0
		for b := 0; b < n; b++ {
			for j := 0; j < f; j++ {
				h1 := got[(b*steps)*f+j]
				h2 := got[(b*steps+1)*f+j]
				m := (h2 - x[(b*steps+1)*f+j]) / h1
				if training && math.Abs(m) > 1e-9 && math.Abs(m-2) > 1e-9 {
					t.Fatalf("recurrent dropout value %v, want 0 or 2", m)
				}
				if !training && math.Abs(m-1) > 1e-9 {
					t.Fatalf("inference: recurrent dropout active (%v)", m)
				}
				if math.Abs(m) < 1e-9 {
					zeros++
				}
			}
		}
		if training && (zeros == 0 || zeros == n*f) {
			t.Errorf("recurrent dropout dropped %d of %d", zeros, n*f)
		}
	}
}

// TestEmbeddingForward: rows are gathered by index, in both dtypes; the
// mask is x ≠ 0; the default initializer is random_uniform(-0.05, 0.05).
func TestEmbeddingForward(t *testing.T) {
	table := []float64{0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5}
	for _, dt := range dtypes {
		in := graph.Input(3)
		e := NewEmbedding(5, 2)
		net := newNet(t, in, e.Apply(in), dt, 1)
		for _, v := range e.Embeddings().Float64s() {
			if math.Abs(v) > 0.05 {
				t.Fatalf("initial embedding %v beyond 0.05", v)
			}
		}
		setWeight(t, e.Embeddings(), table)
		got, _ := runOnce(t, net, graph.ProgramSpec{Batch: 2}, []float64{4, 0, 2, 1, 1, 3})
		want := []float64{4, 4.5, 0, 0.5, 2, 2.5, 1, 1.5, 1, 1.5, 3, 3.5}
		if err := closeTo(got, want, tolFor(dt)); err != nil {
			t.Errorf("%v: %v", dt, err)
		}
	}
	// The mask itself, read through a consumer that multiplies by it.
	in := graph.Input(4)
	e := NewEmbedding(5, 1, WithMaskZero(), WithEmbeddingsInitializer(Ones()))
	out := NewSimpleRNN(1, WithActivation("linear"), WithoutBias(), WithReturnSequences(),
		WithKernelInitializer(Ones()), WithRecurrentInitializer(Ones())).Apply(e.Apply(in))
	// Cumulative sums of ones over real steps, carried over masked ones.
	got := runModel(t, []*graph.Tensor{in}, []*graph.Tensor{out}, tensor.Float64, 2, [][]float64{{1, 0, 2, 0, 0, 3, 0, 4}}, nil)[0]
	if err := closeTo(got, []float64{1, 1, 2, 2, 0, 1, 1, 2}, tolFor(tensor.Float64)); err != nil {
		t.Errorf("mask_zero: %v", err)
	}
}

// TestTimeDistributedForward: TimeDistributed(Dense) equals Dense applied to
// each step, and passes masks on.
func TestTimeDistributedForward(t *testing.T) {
	for _, dt := range dtypes {
		in := graph.Input(3, 2)
		d := NewDense(2, WithActivation("tanh"))
		td := NewTimeDistributed(d)
		out := td.Apply(in)
		if !out.Shape().Equal(graph.Shape{3, 2}) {
			t.Fatalf("shape %v", out.Shape())
		}
		if len(td.Weights()) != 2 || td.Weights()[0] != d.Kernel() {
			t.Fatalf("weights %v", td.Weights())
		}
		x := randomValues(12, 91)
		got := runModel(t, []*graph.Tensor{in}, []*graph.Tensor{out}, dt, 2, [][]float64{x}, func() {
			setWeight(t, d.Kernel(), []float64{1, -2, 0.5, 3})
			setWeight(t, d.Bias(), []float64{0.1, -0.1})
		})[0]
		for r := 0; r < 6; r++ {
			a, b := x[2*r], x[2*r+1]
			want := []float64{math.Tanh(a*1 + b*0.5 + 0.1), math.Tanh(a*-2 + b*3 - 0.1)}
			if err := closeTo(got[2*r:2*r+2], want, tolFor(dt)); err != nil {
				t.Errorf("%v row %d: %v", dt, r, err)
			}
		}
	}
	in := graph.Input(3, 2)
	if !NewTimeDistributed(NewDense(2)).Apply(newFixedMask(1, 1, 0).apply(in)).Masked() {
		t.Error("TimeDistributed dropped the mask")
	}
}

// TestFusedSelection: "auto" picks the fused kernel exactly when the
// configuration allows and the fused ops are available.
func TestFusedSelection(t *testing.T) {
	cases := []struct {
		layer    RecurrentLayer
		eligible bool
	}{
		{NewGRU(2), true},
		{NewGRU(2, WithResetAfter(false), WithRecurrentActivation("hard_sigmoid"), WithoutBias(), WithDropoutRate(0.3), WithGoBackwards()), true},
		{NewLSTM(2, WithRecurrentActivation("hard_sigmoid"), WithDropoutRate(0.2)), true},
		{NewGRU(2, WithRecurrentDropout(0.1)), false},
		{NewLSTM(2, WithActivation("relu")), false},
		{NewGRU(2, WithRecurrentActivation("tanh")), false},
		{NewSimpleRNN(2), false},
	}
	type impl interface{ Implementation() string }
	for i, c := range cases {
		want := "unrolled"
		if c.eligible {
			want = "fused"
		}
		if got := c.layer.(impl).Implementation(); got != want {
			t.Errorf("case %d (%s): auto chose %s, want %s", i, c.layer.Class(), got, want)
		}
	}
	if got := NewGRU(2, WithImplementation("unrolled")).Implementation(); got != "unrolled" {
		t.Errorf("forced unrolled: %s", got)
	}
	if got := NewLSTM(2, WithImplementation("fused")).Implementation(); got != "fused" {
		t.Errorf("forced fused: %s", got)
	}
}

// TestFusedMatchesUnrolled compares the fused kernel with the unrolled
// graph on the same weights, with and without a mask: every output. (The
// fused kernel's gradients are checked by the gradient tests, which run
// every implementation.)
func TestFusedMatchesUnrolled(t *testing.T) {
	configs := []struct {
		name string
		mk   func(impl string) RecurrentLayer
	}{
		{"GRU", func(i string) RecurrentLayer {
			return NewGRU(4, randomBias, WithReturnSequences(), WithReturnState(), WithImplementation(i))
		}},
		{"GRU reset_before hard_sigmoid backwards", func(i string) RecurrentLayer {
			return NewGRU(4, randomBias, WithResetAfter(false), WithRecurrentActivation("hard_sigmoid"), WithGoBackwards(), WithReturnSequences(), WithImplementation(i))
		}},
		{"GRU no bias", func(i string) RecurrentLayer { return NewGRU(4, WithoutBias(), WithImplementation(i)) }},
		{"LSTM", func(i string) RecurrentLayer {
			return NewLSTM(4, randomBias, WithReturnSequences(), WithReturnState(), WithImplementation(i))
		}},
		{"LSTM hard_sigmoid backwards", func(i string) RecurrentLayer {
			return NewLSTM(4, randomBias, WithRecurrentActivation("hard_sigmoid"), WithGoBackwards(), WithReturnState(), WithImplementation(i))
		}},
	}
	x := randomValues(varBatch*varSteps*3, 95)
	for _, c := range configs {
		for _, masked := range []bool{false, true} {
			for _, dt := range dtypes {
				var results [][][]float64
				var weights [][]float64
				for k, impl := range []string{"unrolled", "fused"} {
					l := c.mk(impl)
					in := graph.Input(varSteps, 3)
					src := in
					if masked {
						src = newFixedMask(varMask...).apply(in)
					}
					got := runModel(t, []*graph.Tensor{in}, applyAll(l, src), dt, varBatch, [][]float64{x}, func() {
						for i, w := range l.Weights() {
							if k == 0 {
								weights = append(weights, w.Float64s())
							} else {
								setWeight(t, w, weights[i])
							}
						}
					})
					results = append(results, got)
				}
				for o := range results[0] {
					if err := closeTo(results[1][o], results[0][o], rnnTol(dt)); err != nil {
						t.Errorf("%s masked=%v %v output %d: fused vs unrolled: %v", c.name, masked, dt, o, err)
					}
				}
			}
		}
	}
}
