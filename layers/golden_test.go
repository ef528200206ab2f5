package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// golden is testdata/golden/layers.json, written by gen_layers.py (PyTorch).
type golden struct {
	Activations struct {
		Shape   []int                `json:"shape"`
		Input   []float64            `json:"input"`
		Outputs map[string][]float64 `json:"outputs"`
	} `json:"activations"`
	Dense []struct {
		Name        string    `json:"name"`
		InputShape  []int     `json:"input_shape"`
		Input       []float64 `json:"input"`
		Units       int       `json:"units"`
		Kernel      []float64 `json:"kernel"`
		Bias        []float64 `json:"bias"`
		Activation  string    `json:"activation"`
		OutputShape []int     `json:"output_shape"`
		Output      []float64 `json:"output"`
	} `json:"dense"`
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	var g golden
	readGolden(t, "layers", &g)
	return &g
}

// TestGoldenActivations checks every activation of ActivationNames, applied
// by the Activation layer, against PyTorch on inputs up to ±30.
func TestGoldenActivations(t *testing.T) {
	g := loadGolden(t)
	a := g.Activations
	for _, name := range ActivationNames() {
		want, ok := a.Outputs[name]
		if !ok {
			t.Errorf("%s: no golden values (add it to gen_layers.py)", name)
			continue
		}
		for _, dt := range dtypes {
			in := graph.Input(a.Shape[1:]...)
			out := NewActivation(name).Apply(in)
			net := newNet(t, in, out, dt, 1)
			got, _ := runOnce(t, net, graph.ProgramSpec{Batch: a.Shape[0]}, a.Input)
			if err := closeTo(got, want, tolFor(dt)); err != nil {
				t.Errorf("%s %v: %v", name, dt, err)
			}
		}
	}
}

// TestGoldenDense checks Dense forward (2-D and 3-D input, with and without
// bias, with activations) against PyTorch's x @ W + b.
func TestGoldenDense(t *testing.T) {
	g := loadGolden(t)
	if len(g.Dense) == 0 {
		t.Fatal("no Dense golden cases")
	}
	for _, c := range g.Dense {
		for _, dt := range dtypes {
			opts := []DenseOption{WithActivation(c.Activation)}
			if c.Bias == nil {
				opts = append(opts, WithoutBias())
			}
			in := graph.Input(c.InputShape[1:]...)
			d := NewDense(c.Units, opts...)
			out := d.Apply(in)
			if got := out.Shape(); !got.Equal(graph.Shape(c.OutputShape[1:])) {
				t.Fatalf("%s: output shape %v, want %v", c.Name, got, c.OutputShape[1:])
			}
			net := newNet(t, in, out, dt, 1)
			setWeight(t, d.Kernel(), c.Kernel)
			if c.Bias != nil {
				setWeight(t, d.Bias(), c.Bias)
			} else if d.Bias() != nil {
				t.Fatalf("%s: WithoutBias layer has a bias", c.Name)
			}
			got, _ := runOnce(t, net, graph.ProgramSpec{Batch: c.InputShape[0]}, c.Input)
			if err := closeTo(got, c.Output, tolFor(dt)); err != nil {
				t.Errorf("%s %v: %v", c.Name, dt, err)
			}
		}
	}
}

// TestHardSigmoidG2 is docs/SEMANTICS.md §24.2 (Keras 2 / tf.keras formula).
func TestHardSigmoidG2(t *testing.T) {
	x := []float64{-3, -2.5, -1, 0, 1, 2.5, 3}
	want := []float64{0, 0, 0.3, 0.5, 0.7, 1, 1}
	for _, dt := range dtypes {
		in := graph.Input(7)
		net := newNet(t, in, NewActivation("hard_sigmoid").Apply(in), dt, 1)
		got, _ := runOnce(t, net, graph.ProgramSpec{Batch: 1}, x)
		if err := closeTo(got, want, tolFor(dt)); err != nil {
			t.Errorf("%v: %v", dt, err)
		}
	}
}

// TestDenseRegularizerG8 is docs/SEMANTICS.md §24.8: the forward value and the
// l2 / l1 penalties a cost head sees, added to the cost as-is.
func TestDenseRegularizerG8(t *testing.T) {
	cases := []struct {
		name    string
		reg     graph.Regularizer
		penalty float64
	}{
		{"l2(0.01)", L2(0.01), 0.3},
		{"l1(0.01)", L1(0.01), 0.1},
		{"l1_l2(0.01,0.01)", L1L2(0.01, 0.01), 0.4},
	}
	for _, c := range cases {
		for _, dt := range dtypes {
			in := graph.Input(2)
			d := NewDense(2, WithKernelRegularizer(c.reg))
			net := newNet(t, in, d.Apply(in), dt, 1)
			setWeight(t, d.Kernel(), []float64{1, 2, 3, 4})
			setWeight(t, d.Bias(), []float64{0.5, -0.5})
			got, p := runOnce(t, net, graph.ProgramSpec{Batch: 1, Head: sumHead}, []float64{1, 1})
			tl := tolFor(dt)
			if err := closeTo(got, []float64{4.5, 5.5}, tl); err != nil {
				t.Errorf("%s %v forward: %v", c.name, dt, err)
			}
			if err := closeTo([]float64{p.Penalty()}, []float64{c.penalty}, tl); err != nil {
				t.Errorf("%s %v penalty: %v", c.name, dt, err)
			}
			if err := closeTo([]float64{p.Cost()}, []float64{10 + c.penalty}, tl); err != nil {
				t.Errorf("%s %v cost (data + penalty): %v", c.name, dt, err)
			}
		}
	}
	// A penalty on the bias counts the bias alone: l1(0.1)·(|0.5|+|-0.5|).
	in := graph.Input(2)
	d := NewDense(2, WithBiasRegularizer(L1(0.1)))
	net := newNet(t, in, d.Apply(in), tensor.Float64, 1)
	setWeight(t, d.Kernel(), []float64{1, 2, 3, 4})
	setWeight(t, d.Bias(), []float64{0.5, -0.5})
	_, p := runOnce(t, net, graph.ProgramSpec{Batch: 1, Head: sumHead}, []float64{1, 1})
	if math.Abs(p.Penalty()-0.1) > 1e-12 {
		t.Errorf("bias l1 penalty %v, want 0.1", p.Penalty())
	}
}

// TestDenseParamCountG17 is docs/SEMANTICS.md §24.17 and the weight order.
func TestDenseParamCountG17(t *testing.T) {
	d := NewDense(128)
	if err := d.Apply(graph.Input(784)).Err(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, w := range d.Weights() {
		n += w.Shape().Size()
	}
	if n != 100480 {
		t.Errorf("Dense(784→128) has %d parameters, want 100480", n)
	}
	if ws := d.Weights(); len(ws) != 2 || ws[0] != d.Kernel() || ws[1] != d.Bias() ||
		!ws[0].Shape().Equal(graph.Shape{784, 128}) || !ws[1].Shape().Equal(graph.Shape{128}) {
		t.Errorf("weights %v: want [kernel (784,128), bias (128)]", d.Weights())
	}
	nb := NewDense(128, WithoutBias())
	nb.Apply(graph.Input(784))
	if len(nb.Weights()) != 1 || nb.Weights()[0].Shape().Size() != 100352 {
		t.Errorf("Dense without bias: weights %v, want the kernel alone", nb.Weights())
	}
}

// TestGlorotBoundG15 is docs/SEMANTICS.md §24.15: every value within the limit
// and the largest close to it.
func TestGlorotBoundG15(t *testing.T) {
	check := func(name string, vals []float64, limit, closeFrac float64) {
		t.Helper()
		maxAbs := 0.0
		for _, v := range vals {
			maxAbs = math.Max(maxAbs, math.Abs(v))
		}
		if maxAbs > limit*(1+1e-7) { // float32 rounding of a value just below the limit
			t.Errorf("%s: value %v beyond the limit %v", name, maxAbs, limit)
		}
		if maxAbs < closeFrac*limit {
			t.Errorf("%s: largest |value| %v, expected close to the limit %v", name, maxAbs, limit)
		}
	}
	if l := math.Sqrt(6.0 / (784 + 128)); math.Abs(l-0.0811107) > 1e-7 {
		t.Fatalf("limit %v", l)
	}
	for _, dt := range dtypes {
		in := graph.Input(784)
		d := NewDense(128)
		newNet(t, in, d.Apply(in), dt, 11)
		check("Dense(784→128) "+dt.String(), d.Kernel().Float64s(), 0.0811107, 0.999)
		for _, b := range d.Bias().Float64s() {
			if b != 0 {
				t.Fatalf("bias not zero: %v", b)
			}
		}
	}
	vals := make([]float64, 3*3*3*32)
	if err := GlorotUniform().Fill(vals, graph.Shape{3, 3, 3, 32}, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	check("conv 3x3, 3→32", vals, 0.1380131, 0.98)
}

// TestSoftmaxStable: softmax over the last axis does not overflow at ±1000
// (the max is subtracted first), in both dtypes.
func TestSoftmaxStable(t *testing.T) {
	a := 1 / (1 + math.Exp(-1))
	want := []float64{a, math.Exp(-100) * a, math.Exp(-200) * a, 1 - a, a, 1 - a, 0, 0}
	for _, dt := range dtypes {
		in := graph.Input(4)
		net := newNet(t, in, NewActivation("softmax").Apply(in), dt, 1)
		got, _ := runOnce(t, net, graph.ProgramSpec{Batch: 2}, []float64{100, 0, -100, 99, 1000, 999, 0, -1000})
		if err := closeTo(got, want, tolFor(dt)); err != nil {
			t.Errorf("%v: %v", dt, err)
		}
	}
}
