package layers

import (
	"fmt"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// rnnGolden is one case of testdata/golden/recurrent.json (gen_recurrent.py,
// PyTorch), weights in Keras layout.
type rnnGolden struct {
	Name       string `json:"name"`
	Layer      string `json:"layer"`
	Units      int    `json:"units"`
	InputShape []int  `json:"input_shape"`
	Input      []float64
	Weights    []struct {
		Kernel          []float64 `json:"kernel"`
		RecurrentKernel []float64 `json:"recurrent_kernel"`
		Bias            []float64 `json:"bias"`
	} `json:"weights"`
	Outputs         [][]float64 `json:"outputs"`
	OutputShapes    [][]int     `json:"output_shapes"`
	ReturnSequences bool        `json:"return_sequences"`
	ReturnState     bool        `json:"return_state"`
	GoBackwards     bool        `json:"go_backwards"`
	UseBias         bool        `json:"use_bias"`
	InitialState    [][]float64 `json:"initial_state"`
	MergeMode       *string     `json:"merge_mode"`
}

func loadRecurrentGolden(t *testing.T) []rnnGolden {
	t.Helper()
	var g struct {
		Cases []rnnGolden `json:"cases"`
	}
	readGolden(t, "recurrent", &g)
	if len(g.Cases) == 0 {
		t.Fatal("no recurrent golden cases")
	}
	return g.Cases
}

// rnnWeights is how tests reach a recurrent layer's weights.
type rnnWeights interface {
	Kernel() *graph.Weight
	RecurrentKernel() *graph.Weight
	Bias() *graph.Weight
}

// implementations are the kernels every recurrent test runs with: the
// unrolled graph and the fused op.
func implementations() []string { return []string{"unrolled", "fused"} }

// newRecurrent makes a SimpleRNN, GRU or LSTM by class name.
func newRecurrent(class string, units int, opts ...RNNOption) RecurrentLayer {
	switch class {
	case "GRU":
		return NewGRU(units, optionsAs[GRUOption](opts)...)
	case "LSTM":
		return NewLSTM(units, optionsAs[LSTMOption](opts)...)
	}
	return NewSimpleRNN(units, optionsAs[SimpleRNNOption](opts)...)
}

// runModel builds a network from inputs to outputs in dt, lets setup write
// weights, runs it once in inference on feeds and returns every output.
func runModel(t *testing.T, inputs, outputs []*graph.Tensor, dt tensor.Dtype, batch int, feeds [][]float64, setup func()) [][]float64 {
	t.Helper()
	for _, o := range outputs {
		if o.Err() != nil {
			t.Fatalf("building: %v", o.Err())
		}
	}
	net, err := graph.NewNetwork(inputs, outputs)
	if err != nil {
		t.Fatalf("NewNetwork: %v", err)
	}
	if err := net.Initialise(dt, 3); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup()
	}
	p, err := net.RunOnce(graph.ProgramSpec{Batch: batch}, feeds)
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	var out [][]float64
	for _, o := range p.Outputs() {
		out = append(out, graph.Float64s(o))
	}
	return out
}

// rnnTol is the tolerance of recurrent forward checks: float32 rounding
// accumulates over the steps.
func rnnTol(dt tensor.Dtype) tol {
	if dt == tensor.Float32 {
		return tol{5e-6, 5e-5}
	}
	return tol{1e-12, 1e-10}
}

// TestGoldenRecurrent checks SimpleRNN, GRU, LSTM and Bidirectional forward
// values (sequences, last output, states, initial states, go_backwards,
// no bias, every merge mode) against PyTorch, in float32 and float64, for
// every implementation.
func TestGoldenRecurrent(t *testing.T) {
	for _, c := range loadRecurrentGolden(t) {
		for _, impl := range implementations() {
			for _, dt := range dtypes {
				t.Run(fmt.Sprintf("%s/%s/%v", c.Name, impl, dt), func(t *testing.T) {
					runRecurrentGolden(t, c, impl, dt)
				})
			}
		}
	}
}

func runRecurrentGolden(t *testing.T, c rnnGolden, impl string, dt tensor.Dtype) {
	opts := []RNNOption{}
	if c.Layer != "SimpleRNN" {
		opts = append(opts, WithImplementation(impl))
	}
	if c.ReturnSequences {
		opts = append(opts, WithReturnSequences())
	}
	if c.ReturnState {
		opts = append(opts, WithReturnState())
	}
	if c.GoBackwards {
		opts = append(opts, WithGoBackwards())
	}
	if !c.UseBias {
		opts = append(opts, WithoutBias())
	}
	n, steps, f := c.InputShape[0], c.InputShape[1], c.InputShape[2]
	in := graph.Input(steps, f)
	inputs := []*graph.Tensor{in}
	feeds := [][]float64{c.Input}
	var states []*graph.Tensor
	for _, s := range c.InitialState {
		st := graph.Input(c.Units)
		states = append(states, st)
		inputs = append(inputs, st)
		feeds = append(feeds, s)
	}
	layer := newRecurrent(c.Layer, c.Units, opts...)
	var outs []*graph.Tensor
	var targets []rnnWeights
	if c.MergeMode != nil {
		b := NewBidirectional(layer, WithMergeMode(*c.MergeMode))
		outs = b.ApplyWithState(in, states...)
		targets = []rnnWeights{b.Forward().(rnnWeights), b.Backward().(rnnWeights)}
	} else {
		switch l := layer.(type) {
		case *GRU:
			outs = l.ApplyWithState(in, states...)
		case *LSTM:
			outs = l.ApplyWithState(in, states...)
		case *SimpleRNN:
			outs = l.ApplyWithState(in, states...)
		}
		targets = []rnnWeights{layer.(rnnWeights)}
	}
	if len(outs) != len(c.Outputs) {
		t.Fatalf("%d outputs (%v), want %d", len(outs), outs[0].Err(), len(c.Outputs))
	}
	for i, o := range outs {
		if o.Err() != nil {
			t.Fatal(o.Err())
		}
		if want := graph.Shape(c.OutputShapes[i][1:]); !o.Shape().Equal(want) {
			t.Fatalf("output %d shape %v, want %v", i, o.Shape(), want)
		}
	}
	got := runModel(t, inputs, outs, dt, n, feeds, func() {
		for i, w := range targets {
			setWeight(t, w.Kernel(), c.Weights[i].Kernel)
			setWeight(t, w.RecurrentKernel(), c.Weights[i].RecurrentKernel)
			if c.UseBias {
				setWeight(t, w.Bias(), c.Weights[i].Bias)
			} else if w.Bias() != nil {
				t.Fatal("WithoutBias layer has a bias")
			}
		}
	})
	for i := range got {
		if err := closeTo(got[i], c.Outputs[i], rnnTol(dt)); err != nil {
			t.Errorf("output %d: %v", i, err)
		}
	}
}

// G13 weights (docs/SEMANTICS.md §24.13): input_dim 2, units 2.
var (
	g13Kernel    = []float64{0.1, -0.2, 0.3, 0.05, -0.4, 0.2, 0.2, 0.1, -0.1, 0.3, 0.25, -0.3}
	g13Recurrent = []float64{0.5, -0.1, 0.2, 0.1, 0.3, -0.2, -0.3, 0.4, 0.1, -0.2, 0.1, 0.4}
	g13InBias    = []float64{0.1, 0.05, -0.1, 0.2, 0.05, -0.05}
	g13RecBias   = []float64{0.0, 0.1, 0.05, -0.1, 0.2, 0.1}
	g13X         = []float64{1, 2, 0.5, -1}
)

// handTol: the hand-computed values are given to 7 decimals.
func handTol(dt tensor.Dtype) tol {
	if dt == tensor.Float32 {
		return tol{1e-6, 0}
	}
	return tol{6e-8, 0}
}

// setG13 writes the G13 weights into a GRU.
func setG13(t *testing.T, w rnnWeights, resetAfter bool) {
	setWeight(t, w.Kernel(), g13Kernel)
	setWeight(t, w.RecurrentKernel(), g13Recurrent)
	if resetAfter {
		setWeight(t, w.Bias(), append(append([]float64(nil), g13InBias...), g13RecBias...))
	} else {
		setWeight(t, w.Bias(), g13InBias)
	}
}

// TestGRUHandG13 is docs/SEMANTICS.md §24.13: rows A (reset_after=False,
// hard_sigmoid), B (reset_after=False, sigmoid), C (reset_after=True,
// sigmoid), C with go_backwards, and Bidirectional(C) concat with and
// without return_sequences.
func TestGRUHandG13(t *testing.T) {
	rows := []struct {
		name       string
		resetAfter bool
		recAct     string
		back       bool
		want       []float64 // h1 then h2, in processing order
	}{
		{"A reset_before hard_sigmoid", false, "hard_sigmoid", false, []float64{0.0565763, -0.2067305, -0.1586961, 0.0676056}},
		{"B reset_before sigmoid", false, "sigmoid", false, []float64{0.0527565, -0.2056769, -0.1601778, 0.0741408}},
		{"C reset_after sigmoid", true, "sigmoid", false, []float64{0.0876174, -0.1686134, -0.0908203, 0.1030936}},
		{"C go_backwards", true, "sigmoid", true, []float64{-0.1446090, 0.1928061, 0.0014981, -0.0251542}},
	}
	for _, r := range rows {
		for _, impl := range implementations() {
			for _, dt := range dtypes {
				opts := []GRUOption{WithResetAfter(r.resetAfter), WithRecurrentActivation(r.recAct),
					WithReturnSequences(), WithReturnState(), WithImplementation(impl)}
				if r.back {
					opts = append(opts, WithGoBackwards())
				}
				g := NewGRU(2, opts...)
				in := graph.Input(2, 2)
				got := runModel(t, []*graph.Tensor{in}, g.ApplyAll(in), dt, 1, [][]float64{g13X}, func() { setG13(t, g, r.resetAfter) })
				if err := closeTo(got[0], r.want, handTol(dt)); err != nil {
					t.Errorf("%s %s %v sequence: %v", r.name, impl, dt, err)
				}
				if err := closeTo(got[1], r.want[2:], handTol(dt)); err != nil {
					t.Errorf("%s %s %v state: %v", r.name, impl, dt, err)
				}
			}
		}
	}
	// Bidirectional(C).
	for _, seqs := range []bool{true, false} {
		for _, impl := range implementations() {
			for _, dt := range dtypes {
				opts := []GRUOption{WithImplementation(impl)}
				want := []float64{-0.0908203, 0.1030936, 0.0014981, -0.0251542}
				if seqs {
					opts = append(opts, WithReturnSequences())
					want = []float64{0.0876174, -0.1686134, 0.0014981, -0.0251542, -0.0908203, 0.1030936, -0.1446090, 0.1928061}
				}
				b := NewBidirectional(NewGRU(2, opts...))
				in := graph.Input(2, 2)
				got := runModel(t, []*graph.Tensor{in}, []*graph.Tensor{b.Apply(in)}, dt, 1, [][]float64{g13X}, func() {
					setG13(t, b.Forward().(rnnWeights), true)
					setG13(t, b.Backward().(rnnWeights), true)
				})
				if err := closeTo(got[0], want, handTol(dt)); err != nil {
					t.Errorf("Bidirectional(C) sequences=%v %s %v: %v", seqs, impl, dt, err)
				}
			}
		}
	}
}

// TestLSTMHandG14 is docs/SEMANTICS.md §24.14, sigmoid and hard_sigmoid: h and c
// after one step and after two.
func TestLSTMHandG14(t *testing.T) {
	kernel := []float64{0.1, -0.25, 0.3, 0.05, -0.4, 0.2, 0.1, 0.0, 0.2, 0.1, -0.1, 0.3, 0.25, -0.3, 0.0, 0.1}
	recurrent := []float64{0.5, -0.1, 0.2, 0.1, 0.3, -0.2, 0.1, 0.1, -0.3, 0.4, 0.1, -0.2, 0.1, 0.4, -0.1, 0.2}
	rows := []struct {
		recAct         string
		h1, c1, h2, c2 []float64
	}{
		{"sigmoid", []float64{0.0325276, -0.1006947}, []float64{0.0620393, -0.1852261}, []float64{-0.0777951, 0.0099979}, []float64{-0.1519761, 0.0212386}},
		{"hard_sigmoid", []float64{0.0310594, -0.0993888}, []float64{0.0598008, -0.1861750}, []float64{-0.0801036, 0.0146870}, []float64{-0.1575573, 0.0308231}},
	}
	for _, r := range rows {
		for _, impl := range implementations() {
			for _, dt := range dtypes {
				for _, steps := range []int{1, 2} {
					l := NewLSTM(2, WithRecurrentActivation(r.recAct), WithReturnSequences(), WithReturnState(), WithImplementation(impl))
					in := graph.Input(steps, 2)
					got := runModel(t, []*graph.Tensor{in}, l.ApplyAll(in), dt, 1, [][]float64{g13X[:2*steps]}, func() {
						// The default bias is unit_forget_bias: [0,0, 1,1, 0,0, 0,0].
						if b := l.Bias().Float64s(); fmt.Sprint(b) != "[0 0 1 1 0 0 0 0]" {
							t.Fatalf("unit_forget_bias initial bias %v", b)
						}
						setWeight(t, l.Kernel(), kernel)
						setWeight(t, l.RecurrentKernel(), recurrent)
					})
					h, c := r.h1, r.c1
					seq := r.h1
					if steps == 2 {
						h, c = r.h2, r.c2
						seq = append(append([]float64(nil), r.h1...), r.h2...)
					}
					for i, want := range [][]float64{seq, h, c} {
						if err := closeTo(got[i], want, handTol(dt)); err != nil {
							t.Errorf("%s %s %v steps %d output %d: %v", r.recAct, impl, dt, steps, i, err)
						}
					}
				}
			}
		}
	}
}
