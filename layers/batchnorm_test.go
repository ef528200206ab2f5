package layers

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// bnGolden is testdata/golden/batchnorm.json, written by gen_batchnorm.py
// (PyTorch).
type bnGolden struct {
	Cases []struct {
		Name            string    `json:"name"`
		Shape           []int     `json:"shape"`
		Axis            int       `json:"axis"`
		Momentum        float64   `json:"momentum"`
		Epsilon         float64   `json:"epsilon"`
		Gamma           []float64 `json:"gamma"`
		Beta            []float64 `json:"beta"`
		X1              []float64 `json:"x1"`
		X2              []float64 `json:"x2"`
		TrainOut1       []float64 `json:"train_out1"`
		TrainOut2       []float64 `json:"train_out2"`
		MovingMean1     []float64 `json:"moving_mean1"`
		MovingVariance1 []float64 `json:"moving_variance1"`
		MovingMean2     []float64 `json:"moving_mean2"`
		MovingVariance2 []float64 `json:"moving_variance2"`
		XInfer          []float64 `json:"x_infer"`
		InferOut        []float64 `json:"infer_out"`
	} `json:"cases"`
}

// newProgram compiles net, failing the test on error.
func newProgram(t *testing.T, net *graph.Network, spec graph.ProgramSpec) *graph.Program {
	t.Helper()
	p, err := graph.NewProgram(net, spec)
	if err != nil {
		t.Fatalf("NewProgram: %v", err)
	}
	return p
}

// trainStep runs one training step of p on x and applies the state
// updates, as the training loop does, returning the output.
func trainStep(t *testing.T, p *graph.Program, x []float64) []float64 {
	t.Helper()
	if err := p.SetFeeds([][]float64{x}); err != nil {
		t.Fatal(err)
	}
	if err := p.Run(true); err != nil {
		t.Fatal(err)
	}
	p.ApplyUpdates()
	return graph.Float64s(p.Outputs()[0])
}

// TestGoldenBatchNormalization checks, against PyTorch, the training output
// (batch statistics), the Keras 3 moving statistics after one and two
// training steps on different batches, and the inference output with them,
// for 2-D, 3-D (feature axis 1 and -1) and 4-D inputs, in float32 and
// float64.
func TestGoldenBatchNormalization(t *testing.T) {
	var g bnGolden
	readGolden(t, "batchnorm", &g)
	if len(g.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range g.Cases {
		for _, dt := range dtypes {
			name := c.Name + " " + dt.String()
			tl := tolFor(dt)
			if dt == tensor.Float32 {
				tl = tol{1e-5, 1e-4}
			}
			in := graph.Input(c.Shape[1:]...)
			axis := c.Axis
			if axis == len(c.Shape)-1 {
				axis = -1 // the default
			}
			bn := NewBatchNormalization(WithAxis(axis), WithMomentum(c.Momentum), WithEpsilon(c.Epsilon))
			net := newNet(t, in, bn.Apply(in), dt, 1)
			setWeight(t, bn.Gamma(), c.Gamma)
			setWeight(t, bn.Beta(), c.Beta)
			train := newProgram(t, net, graph.ProgramSpec{Training: true, Batch: c.Shape[0], Head: sumHead})
			for step, w := range []struct {
				x, out, mm, mv []float64
			}{{c.X1, c.TrainOut1, c.MovingMean1, c.MovingVariance1}, {c.X2, c.TrainOut2, c.MovingMean2, c.MovingVariance2}} {
				got := trainStep(t, train, w.x)
				if err := closeTo(got, w.out, tl); err != nil {
					t.Errorf("%s: training output, step %d: %v", name, step+1, err)
				}
				if err := closeTo(bn.MovingMean().Float64s(), w.mm, tl); err != nil {
					t.Errorf("%s: moving mean after step %d: %v", name, step+1, err)
				}
				if err := closeTo(bn.MovingVariance().Float64s(), w.mv, tl); err != nil {
					t.Errorf("%s: moving variance after step %d: %v", name, step+1, err)
				}
			}
			got, _ := runOnce(t, net, graph.ProgramSpec{Batch: c.Shape[0]}, c.XInfer)
			if err := closeTo(got, c.InferOut, tl); err != nil {
				t.Errorf("%s: inference output: %v", name, err)
			}
			// Inference never changes the moving statistics.
			if err := closeTo(bn.MovingMean().Float64s(), c.MovingMean2, tl); err != nil {
				t.Errorf("%s: moving mean changed by inference: %v", name, err)
			}
		}
	}
}

// TestBatchNormalizationG9 checks the hand values of docs/SEMANTICS.md §24.9, check
// G9: X = [1,2,3,4] as (4, 1), gamma 1, beta 0, eps 1e-3, momentum 0.99.
func TestBatchNormalizationG9(t *testing.T) {
	for _, dt := range dtypes {
		tl := tol{1e-6, 1e-6}
		in := graph.Input(1)
		bn := NewBatchNormalization()
		net := newNet(t, in, bn.Apply(in), dt, 1)
		train := newProgram(t, net, graph.ProgramSpec{Training: true, Batch: 4, Head: sumHead})
		got := trainStep(t, train, []float64{1, 2, 3, 4})
		if err := closeTo(got, []float64{-1.3411045, -0.4470348, 0.4470348, 1.3411045}, tl); err != nil {
			t.Errorf("%v training output: %v", dt, err)
		}
		if err := closeTo(bn.MovingMean().Float64s(), []float64{0.025}, tl); err != nil {
			t.Errorf("%v moving mean: %v", dt, err)
		}
		if err := closeTo(bn.MovingVariance().Float64s(), []float64{1.0025}, tl); err != nil {
			t.Errorf("%v moving variance: %v", dt, err)
		}
		out, _ := runOnce(t, net, graph.ProgramSpec{Batch: 1}, []float64{4})
		if err := closeTo(out, []float64{3.9680620}, tl); err != nil {
			t.Errorf("%v inference on x=4: %v", dt, err)
		}
	}
}

// TestBatchNormalizationUpdatesOnlyWhenApplied checks that a training run
// leaves the moving statistics alone until ApplyUpdates (the training loop
// skips it after a non-finite loss), and that running an inference program
// never changes them.
func TestBatchNormalizationUpdatesOnlyWhenApplied(t *testing.T) {
	in := graph.Input(2)
	bn := NewBatchNormalization(WithMomentum(0.5))
	net := newNet(t, in, bn.Apply(in), tensor.Float64, 1)
	x := []float64{1, 2, 3, 6}
	train := newProgram(t, net, graph.ProgramSpec{Training: true, Batch: 2, Head: sumHead})
	if err := train.SetFeeds([][]float64{x}); err != nil {
		t.Fatal(err)
	}
	if err := train.Run(true); err != nil {
		t.Fatal(err)
	}
	if err := closeTo(bn.MovingMean().Float64s(), []float64{0, 0}, tolFor(tensor.Float64)); err != nil {
		t.Errorf("before ApplyUpdates: %v", err)
	}
	train.ApplyUpdates()
	// mean (2, 4), biased variance (1, 4); momentum 0.5 from (0, 1).
	if err := closeTo(bn.MovingMean().Float64s(), []float64{1, 2}, tolFor(tensor.Float64)); err != nil {
		t.Errorf("moving mean: %v", err)
	}
	if err := closeTo(bn.MovingVariance().Float64s(), []float64{1, 2.5}, tolFor(tensor.Float64)); err != nil {
		t.Errorf("moving variance: %v", err)
	}
	runOnce(t, net, graph.ProgramSpec{Batch: 2}, x)
	if err := closeTo(bn.MovingMean().Float64s(), []float64{1, 2}, tolFor(tensor.Float64)); err != nil {
		t.Errorf("after inference: %v", err)
	}
}

// TestBatchNormalizationWeights checks the weights' order, shapes,
// trainability and the G17 parameter count, after Dense and Conv-like
// inputs, and with center/scale off.
func TestBatchNormalizationWeights(t *testing.T) {
	bn := NewBatchNormalization(WithName("bn_w"))
	if err := bn.Apply(graph.Input(5, 5, 32)).Err(); err != nil {
		t.Fatal(err)
	}
	ws := bn.Weights()
	names := []string{"bn_w/gamma", "bn_w/beta", "bn_w/moving_mean", "bn_w/moving_variance"}
	if len(ws) != 4 {
		t.Fatalf("%d weights, want 4", len(ws))
	}
	total, frozen := 0, 0
	for i, w := range ws {
		if w.Name() != names[i] || !w.Shape().Equal(graph.Shape{32}) || w.Trainable() != (i < 2) {
			t.Errorf("weight %d: %s %v trainable=%v", i, w.Name(), w.Shape(), w.Trainable())
		}
		total += w.Shape().Size()
		if !w.Trainable() {
			frozen += w.Shape().Size()
		}
	}
	if total != 128 || frozen != 64 {
		t.Errorf("params %d (%d non-trainable), want 128 (64)", total, frozen)
	}
	plain := NewBatchNormalization(WithoutCenter(), WithoutScale(), WithAxis(1))
	if err := plain.Apply(graph.Input(3, 7)).Err(); err != nil {
		t.Fatal(err)
	}
	if len(plain.Weights()) != 2 || plain.Gamma() != nil || plain.Beta() != nil || !plain.MovingMean().Shape().Equal(graph.Shape{3}) {
		t.Errorf("without center and scale: weights %v", plain.Weights())
	}
}

// TestBatchNormalizationAfterDenseAndOnImages checks shapes and that the
// training output is normalized per channel (mean 0, variance ≈ 1) after
// Dense (2-D) and on a (N, H, W, C) input.
func TestBatchNormalizationAfterDenseAndOnImages(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape []int
		dense bool
	}{{"after Dense", []int{5}, true}, {"4-D", []int{3, 4, 2}, false}} {
		in := graph.Input(tc.shape...)
		x := in
		if tc.dense {
			x = NewDense(4).Apply(in)
		}
		bn := NewBatchNormalization(WithEpsilon(1e-9))
		out := bn.Apply(x)
		net := newNet(t, in, out, tensor.Float64, 3)
		batch := 4
		p := newProgram(t, net, graph.ProgramSpec{Training: true, Batch: batch, Head: sumHead})
		y := trainStep(t, p, randomValues(batch*in.Shape().Size(), 5))
		c := out.Shape()[len(out.Shape())-1]
		for ch := 0; ch < c; ch++ {
			var s, s2 float64
			n := 0
			for i := ch; i < len(y); i += c {
				s += y[i]
				s2 += y[i] * y[i]
				n++
			}
			mean := s / float64(n)
			if v := s2/float64(n) - mean*mean; mean > 1e-9 || mean < -1e-9 || v < 0.999999 || v > 1.000001 {
				t.Errorf("%s channel %d: mean %g, variance %g", tc.name, ch, mean, v)
			}
		}
	}
}

// TestBatchNormalizationGradients checks the fused op's gradients with
// respect to the input, gamma and beta by finite differences, in training
// mode, on 2-D, 3-D (both axes) and 4-D inputs, with and without center and
// scale.
func TestBatchNormalizationGradients(t *testing.T) {
	inits := []BatchNormalizationOption{WithGammaInitializer(RandomUniform(0.5, 1.5)), WithBetaInitializer(RandomUniform(-0.5, 0.5))}
	for _, tc := range []struct {
		name  string
		shape []int
		opts  []BatchNormalizationOption
	}{
		{"2-D", []int{3}, inits},
		{"2-D no center", []int{3}, append([]BatchNormalizationOption{WithoutCenter()}, inits[0])},
		{"2-D no scale", []int{3}, append([]BatchNormalizationOption{WithoutScale()}, inits[1])},
		{"2-D neither", []int{3}, []BatchNormalizationOption{WithoutCenter(), WithoutScale()}},
		{"3-D last axis", []int{4, 3}, inits},
		{"3-D axis 1", []int{4, 3}, append([]BatchNormalizationOption{WithAxis(1)}, inits...)},
		{"4-D", []int{3, 2, 3}, inits},
		{"4-D axis 2 neither", []int{3, 2, 3}, []BatchNormalizationOption{WithAxis(2), WithoutCenter(), WithoutScale()}},
	} {
		in := graph.Input(tc.shape...)
		gradCheck(t, tc.name, in, NewBatchNormalization(tc.opts...).Apply(in), 4, 21)
	}
	// Through a following layer, so that the cost is not linear in y.
	in := graph.Input(4)
	x := NewBatchNormalization(inits...).Apply(NewDense(3, WithActivation("tanh")).Apply(in))
	gradCheck(t, "Dense→BN→Dense", in, NewDense(2, WithActivation("sigmoid")).Apply(x), 5, 22)
}

// TestBatchNormalizationInferenceGradient checks the inference op's
// gradient with respect to its input (Grad through an inference-mode
// normalization), by finite differences on a graph built by hand.
func TestBatchNormalizationInferenceGradient(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 2), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{1, -2, 0.5, 3, -1, 2}))))
	vec := func(name string, v []float64) *G.Node {
		return G.NewVector(g, tensor.Float64, G.WithShape(2), G.WithName(name), G.WithValue(tensor.New(tensor.WithShape(2), tensor.WithBacking(v))))
	}
	mm, mv, gamma, beta := vec("mm", []float64{0.5, -1}), vec("mv", []float64{2, 0.5}), vec("gamma", []float64{1.5, 0.7}), vec("beta", []float64{0.1, -0.2})
	// Gradient of Σ y² with respect to x, gamma, beta, computed by hand.
	y, err := ops.BatchNormInfer(x, mm, mv, gamma, beta, 1, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	sq, err := G.Square(y)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := G.Sum(sq)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := G.Grad(cost, x, gamma, beta)
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]G.Value, len(grads))
	for i := range grads {
		G.Read(grads[i], &vals[i])
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	xs := []float64{1, -2, 0.5, 3, -1, 2}
	mmv, mvv, gv, bv := []float64{0.5, -1}, []float64{2, 0.5}, []float64{1.5, 0.7}, []float64{0.1, -0.2}
	wantX := make([]float64, 6)
	wantG := make([]float64, 2)
	wantB := make([]float64, 2)
	for i, v := range xs {
		c := i % 2
		r := 1 / math.Sqrt(mvv[c]+1e-3)
		yv := gv[c]*(v-mmv[c])*r + bv[c]
		wantX[i] = 2 * yv * gv[c] * r
		wantG[c] += 2 * yv * (v - mmv[c]) * r
		wantB[c] += 2 * yv
	}
	for i, want := range [][]float64{wantX, wantG, wantB} {
		got := ops.Float64s(vals[i])
		if err := closeTo(got, want, tolFor(tensor.Float64)); err != nil {
			t.Errorf("gradient %d: %v", i, err)
		}
	}
}

// TestBatchNormalizationErrors checks the error messages of a missing axis,
// the batch axis, a changed channel count and bad option values.
func TestBatchNormalizationErrors(t *testing.T) {
	wantErr(t, NewBatchNormalization(WithAxis(3), WithName("bn_ax")).Apply(graph.Input(4, 5)),
		"layer bn_ax (BatchNormalization)", "axis 3 does not exist", "(input shape (None, 4, 5))", "feature axes 1…2")
	wantErr(t, NewBatchNormalization(WithAxis(-4), WithName("bn_neg")).Apply(graph.Input(4, 5)),
		"layer bn_neg (BatchNormalization)", "axis -4 does not exist", "(None, 4, 5)")
	wantErr(t, NewBatchNormalization(WithAxis(0), WithName("bn_b")).Apply(graph.Input(4)),
		"layer bn_b (BatchNormalization)", "axis 0 is the batch axis")
	wantErr(t, NewBatchNormalization(WithName("bn_r")).Apply(graph.Input()),
		"layer bn_r (BatchNormalization)", "axis -1 does not exist", "(None,)")
	bn := NewBatchNormalization(WithName("bn_twice"))
	if err := bn.Apply(graph.Input(4)).Err(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, bn.Apply(graph.Input(5)), "layer bn_twice (BatchNormalization)", "expected axis -1 of input shape to have value 4 but got shape (None, 5)")
	wantErr(t, NewBatchNormalization(WithMomentum(1.5), WithName("bn_m")).Apply(graph.Input(4)),
		"layer bn_m (BatchNormalization)", "momentum must be in [0, 1], got 1.5")
	wantErr(t, NewBatchNormalization(WithEpsilon(0), WithName("bn_e")).Apply(graph.Input(4)),
		"layer bn_e (BatchNormalization)", "epsilon must be positive, got 0")
}
