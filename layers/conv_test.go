package layers

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// convGolden is testdata/golden/conv.json, written by gen_conv.py (PyTorch
// conv2d / conv1d on permuted tensors, TensorFlow padding applied with F.pad).
type convGolden struct {
	Conv2D []convGoldenCase `json:"conv2d"`
	Conv1D []convGoldenCase `json:"conv1d"`
}

type convGoldenCase struct {
	Name        string    `json:"name"`
	InputShape  []int     `json:"input_shape"`
	Input       []float64 `json:"input"`
	Filters     int       `json:"filters"`
	KernelSize  []int     `json:"kernel_size"`
	Strides     []int     `json:"strides"`
	Dilation    []int     `json:"dilation"`
	Padding     string    `json:"padding"`
	UseBias     bool      `json:"use_bias"`
	Activation  string    `json:"activation"`
	Kernel      []float64 `json:"kernel"`
	Bias        []float64 `json:"bias"`
	Pads        []int     `json:"pads"`
	OutputShape []int     `json:"output_shape"`
	Output      []float64 `json:"output"`
}

func loadConvGolden(t *testing.T) *convGolden {
	t.Helper()
	var g convGolden
	readGolden(t, "conv", &g)
	if len(g.Conv2D) == 0 || len(g.Conv1D) == 0 {
		t.Fatal("conv.json has no cases")
	}
	return &g
}

// runConvGolden builds the case's layer in dt, loads its weights, runs it
// and compares with PyTorch.
func runConvGolden(t *testing.T, c convGoldenCase, rank int, dt tensor.Dtype) {
	t.Helper()
	opts := []ConvOption{WithKernelSize(c.KernelSize...), WithStrides(c.Strides...), WithDilation(c.Dilation...),
		WithPadding(c.Padding), WithActivation(c.Activation)}
	if !c.UseBias {
		opts = append(opts, WithoutBias())
	}
	in := graph.Input(c.InputShape[1:]...)
	var l *conv
	var out *graph.Tensor
	if rank == 2 {
		cv := NewConv2D(c.Filters, 1, opts...)
		l, out = &cv.conv, cv.Apply(in)
	} else {
		cv := NewConv1D(c.Filters, 1, opts...)
		l, out = &cv.conv, cv.Apply(in)
	}
	if out.Err() != nil {
		t.Fatalf("%s: %v", c.Name, out.Err())
	}
	if got := out.Shape(); !got.Equal(graph.Shape(c.OutputShape[1:])) {
		t.Fatalf("%s: output shape %v, want %v", c.Name, got, c.OutputShape[1:])
	}
	net := newNet(t, in, out, dt, 1)
	setWeight(t, l.Kernel(), c.Kernel)
	if c.UseBias {
		setWeight(t, l.Bias(), c.Bias)
	} else if l.Bias() != nil {
		t.Fatalf("%s: WithoutBias layer has a bias", c.Name)
	}
	got, _ := runOnce(t, net, graph.ProgramSpec{Batch: c.InputShape[0]}, c.Input)
	if err := closeTo(got, c.Output, tolFor(dt)); err != nil {
		t.Errorf("%s %v: %v", c.Name, dt, err)
	}
}

// TestGoldenConv2D checks Conv2D forward values against PyTorch: valid and
// same padding, strides 1 and 2, dilation 2, odd and even sizes (the G7
// cases), even and rectangular kernels, 1×1, with and without bias, batch 2.
func TestGoldenConv2D(t *testing.T) {
	g := loadConvGolden(t)
	for _, c := range g.Conv2D {
		for _, dt := range dtypes {
			runConvGolden(t, c, 2, dt)
		}
	}
}

// TestGoldenConv1D checks Conv1D forward values against PyTorch: valid,
// same and causal padding with strides and dilation.
func TestGoldenConv1D(t *testing.T) {
	g := loadConvGolden(t)
	for _, c := range g.Conv1D {
		for _, dt := range dtypes {
			runConvGolden(t, c, 1, dt)
		}
	}
}

// TestConvGradients checks, by float64 finite differences, the gradients of
// the kernel, the bias and the input for Conv2D (valid and same, strides 1
// and 2, dilation 2, even and rectangular kernels, 1×1) and Conv1D (valid,
// same and causal, with stride and dilation).
func TestConvGradients(t *testing.T) {
	bias := WithBiasInitializer(RandomUniform(-0.5, 0.5))
	cases2 := []struct {
		name string
		in   []int
		l    *Conv2D
	}{
		{"valid s1", []int{5, 6, 2}, NewConv2D(3, 3, bias)},
		{"same s1", []int{5, 6, 2}, NewConv2D(3, 3, WithPadding("same"), bias, WithActivation("tanh"))},
		{"valid s2", []int{7, 6, 2}, NewConv2D(3, 3, WithStrides(2), bias)},
		{"same s2", []int{7, 6, 2}, NewConv2D(3, 3, WithStrides(2), WithPadding("same"), bias)},
		{"same k2 s2", []int{5, 5, 2}, NewConv2D(2, 2, WithStrides(2), WithPadding("same"), bias)},
		{"valid d2", []int{7, 8, 2}, NewConv2D(2, 3, WithDilation(2), bias)},
		{"same d2", []int{6, 7, 2}, NewConv2D(2, 3, WithDilation(2), WithPadding("same"), bias)},
		{"same even k4", []int{6, 5, 2}, NewConv2D(2, 4, WithPadding("same"), bias)},
		{"rect k2x4 s1x2", []int{5, 7, 3}, NewConv2D(2, 0, WithKernelSize(2, 4), WithStrides(1, 2), WithPadding("same"), WithoutBias())},
		{"1x1", []int{3, 4, 3}, NewConv2D(4, 1, bias, WithActivation("sigmoid"))},
	}
	for i, c := range cases2 {
		in := graph.Input(c.in...)
		gradCheck(t, "Conv2D "+c.name, in, c.l.Apply(in), 2, uint64(20+i))
	}
	cases1 := []struct {
		name string
		l    *Conv1D
	}{
		{"valid", NewConv1D(3, 3, bias)},
		{"valid s2", NewConv1D(3, 3, WithStrides(2), bias)},
		{"same", NewConv1D(3, 3, WithPadding("same"), bias)},
		{"same s2 k4", NewConv1D(3, 4, WithStrides(2), WithPadding("same"), bias)},
		{"causal", NewConv1D(3, 3, WithPadding("causal"), bias, WithActivation("tanh"))},
		{"causal d2", NewConv1D(3, 3, WithDilation(2), WithPadding("causal"), bias)},
		{"causal s2", NewConv1D(3, 2, WithStrides(2), WithPadding("causal"), WithoutBias())},
	}
	for i, c := range cases1 {
		in := graph.Input(9, 2)
		gradCheck(t, "Conv1D "+c.name, in, c.l.Apply(in), 2, uint64(40+i))
	}
}

// TestConvStack checks the gradient through two stacked convolutions (the
// second one's input gradient is an inner node) followed by Dense.
func TestConvStack(t *testing.T) {
	in := graph.Input(8, 7, 1)
	x := NewConv2D(3, 3, WithActivation("tanh"), WithBiasInitializer(RandomUniform(-0.5, 0.5))).Apply(in)
	x = NewConv2D(2, 2, WithStrides(2), WithPadding("same")).Apply(x)
	x = NewFlatten().Apply(x)
	gradCheck(t, "Conv2D→Conv2D→Dense", in, NewDense(2).Apply(x), 2, 60)
}

// TestConvOutputShapes is docs/SEMANTICS.md §24.7 through the layer: output sizes
// for valid and same padding (n, k, s), and Conv1D's causal padding.
func TestConvOutputShapes(t *testing.T) {
	cases := []struct{ n, k, s, valid, same int }{
		{7, 3, 2, 3, 4}, {6, 3, 2, 2, 3}, {5, 2, 2, 2, 3}, {28, 5, 1, 24, 28}, {4, 3, 1, 2, 4},
		{28, 3, 1, 26, 28}, {13, 3, 1, 11, 13}, {1, 1, 1, 1, 1}, {9, 3, 3, 3, 3},
	}
	for _, c := range cases {
		for _, pad := range []string{"valid", "same"} {
			want := c.valid
			if pad == "same" {
				want = c.same
			}
			out := NewConv2D(8, c.k, WithStrides(c.s), WithPadding(pad)).Apply(graph.Input(c.n, c.n, 3))
			if err := out.Err(); err != nil {
				t.Errorf("(%d,%d,%d) %s: %v", c.n, c.k, c.s, pad, err)
				continue
			}
			if !out.Shape().Equal(graph.Shape{want, want, 8}) {
				t.Errorf("Conv2D (n=%d, k=%d, s=%d) %s: shape %v, want (None, %d, %d, 8)", c.n, c.k, c.s, pad, out.Shape(), want, want)
			}
			out1 := NewConv1D(4, c.k, WithStrides(c.s), WithPadding(pad)).Apply(graph.Input(c.n, 2))
			if out1.Err() != nil || !out1.Shape().Equal(graph.Shape{want, 4}) {
				t.Errorf("Conv1D (n=%d, k=%d, s=%d) %s: shape %v (%v), want (None, %d, 4)", c.n, c.k, c.s, pad, out1.Shape(), out1.Err(), want)
			}
		}
	}
	// Rectangular kernel, per-axis strides and dilation.
	out := NewConv2D(5, 0, WithKernelSize(3, 5), WithStrides(1, 2)).Apply(graph.Input(10, 11, 2))
	if out.Err() != nil || !out.Shape().Equal(graph.Shape{8, 4, 5}) {
		t.Errorf("Conv2D 3x5 s(1,2): %v %v, want (None, 8, 4, 5)", out.Shape(), out.Err())
	}
	out = NewConv2D(5, 3, WithDilation(2, 1)).Apply(graph.Input(10, 11, 2))
	if out.Err() != nil || !out.Shape().Equal(graph.Shape{6, 9, 5}) {
		t.Errorf("Conv2D d(2,1): %v %v, want (None, 6, 9, 5)", out.Shape(), out.Err())
	}
	// Causal: output length ceil(n/s) whatever the kernel and dilation.
	for _, c := range []struct{ n, k, s, d, want int }{{10, 3, 1, 1, 10}, {10, 3, 1, 4, 10}, {10, 2, 2, 1, 5}, {9, 4, 3, 1, 3}} {
		out := NewConv1D(4, c.k, WithStrides(c.s), WithDilation(c.d), WithPadding("causal")).Apply(graph.Input(c.n, 2))
		if out.Err() != nil || !out.Shape().Equal(graph.Shape{c.want, 4}) {
			t.Errorf("Conv1D causal n=%d k=%d s=%d d=%d: %v %v, want (None, %d, 4)", c.n, c.k, c.s, c.d, out.Shape(), out.Err(), c.want)
		}
	}
}

// TestConvParamsG15G17 is docs/SEMANTICS.md §24.17 (Conv2D 3×3, 3→32 has 896
// parameters) and G15 (its glorot_uniform bound with conv fans is
// sqrt(6/(27+288)) = 0.1380131).
func TestConvParamsG15G17(t *testing.T) {
	c := NewConv2D(32, 3)
	in := graph.Input(16, 16, 3)
	out := c.Apply(in)
	net := newNet(t, in, out, tensor.Float64, 5)
	if !c.Kernel().Shape().Equal(graph.Shape{3, 3, 3, 32}) || !c.Bias().Shape().Equal(graph.Shape{32}) {
		t.Fatalf("kernel %v, bias %v", c.Kernel().Shape(), c.Bias().Shape())
	}
	total := 0
	for _, w := range net.Weights() {
		total += w.Shape().Size()
	}
	if total != 896 {
		t.Errorf("Conv2D(3x3, 3→32) has %d parameters, want 896", total)
	}
	const bound = 0.1380131
	if math.Abs(math.Sqrt(6.0/315)-bound) > 1e-7 {
		t.Fatal("bound arithmetic")
	}
	maxAbs := 0.0
	for _, v := range c.Kernel().Float64s() {
		maxAbs = math.Max(maxAbs, math.Abs(v))
	}
	// 864 uniform draws: the largest lies within 1% of the bound with
	// overwhelming probability; Dense-style fans (3, 32) would give 0.414.
	if maxAbs > bound || maxAbs < 0.99*bound {
		t.Errorf("largest |kernel| %.7f, want just under the glorot bound %.7f", maxAbs, bound)
	}
	for _, v := range c.Bias().Float64s() {
		if v != 0 {
			t.Fatalf("bias initialised to %v, want zeros", v)
		}
	}
	if got := NewConv1D(8, 5).Apply(graph.Input(20, 4)); got.Err() != nil {
		t.Fatal(got.Err())
	}
	c1 := NewConv1D(8, 5, WithoutBias())
	in1 := graph.Input(20, 4)
	newNet(t, in1, c1.Apply(in1), tensor.Float64, 5)
	if c1.Bias() != nil || !c1.Kernel().Shape().Equal(graph.Shape{5, 4, 8}) {
		t.Errorf("Conv1D without bias: kernel %v, bias %v", c1.Kernel().Shape(), c1.Bias())
	}
}

// TestConvAccessorsAndSharing checks the configuration accessors, the
// default name, and that a layer applied twice shares its weights.
func TestConvAccessorsAndSharing(t *testing.T) {
	c := NewConv2D(6, 3, WithKernelSize(3, 5), WithStrides(2, 1), WithPadding("SAME"))
	if c.Filters() != 6 || fmt.Sprint(c.KernelSize()) != "[3 5]" || fmt.Sprint(c.Strides()) != "[2 1]" ||
		fmt.Sprint(c.DilationRate()) != "[1 1]" || c.Padding() != "same" || c.Class() != "Conv2D" ||
		!strings.HasPrefix(c.Name(), "conv2d") {
		t.Errorf("accessors: %d %v %v %v %q %q %q", c.Filters(), c.KernelSize(), c.Strides(), c.DilationRate(), c.Padding(), c.Class(), c.Name())
	}
	if n := NewConv1D(2, 3).Name(); !strings.HasPrefix(n, "conv1d") {
		t.Errorf("Conv1D default name %q", n)
	}
	a, b := graph.Input(8, 8, 2), graph.Input(6, 6, 2)
	ya, yb := c.Apply(a), c.Apply(b)
	if ya.Err() != nil || yb.Err() != nil {
		t.Fatal(ya.Err(), yb.Err())
	}
	if len(c.Weights()) != 2 {
		t.Errorf("%d weights after two applications, want 2", len(c.Weights()))
	}
	if !yb.Shape().Equal(graph.Shape{3, 6, 6}) {
		t.Errorf("second application shape %v", yb.Shape())
	}
}

// TestConvErrors checks every error path's message; each names the layer
// through graph.Apply.
func TestConvErrors(t *testing.T) {
	wantErr(t, NewConv2D(32, 3, WithName("c_rank")).Apply(graph.Input(28, 28)),
		"layer c_rank (Conv2D)", "expected ndim=4, found ndim=3", "grayscale", "Input(28, 28, 1)", "(input shape (None, 28, 28))")
	wantErr(t, NewConv2D(32, 3, WithName("c_rank5")).Apply(graph.Input(4, 28, 28, 1)),
		"layer c_rank5 (Conv2D)", "expected ndim=4, found ndim=5")
	wantErr(t, NewConv1D(4, 3, WithName("c1_rank")).Apply(graph.Input(10)),
		"layer c1_rank (Conv1D)", "expected ndim=3, found ndim=2", "(steps, 1)")
	wantErr(t, NewConv2D(4, 5, WithName("c_big")).Apply(graph.Input(3, 8, 1)),
		"layer c_big (Conv2D)", "spatial axis 1 has size 3, the kernel size 5", `with padding "valid" the output size would be -1`, `use padding "same"`)
	wantErr(t, NewConv2D(4, 3, WithDilation(3), WithName("c_dil")).Apply(graph.Input(8, 6, 1)),
		"layer c_dil (Conv2D)", "spatial axis 2 has size 6, the kernel size 3 (7 with dilation rate 3)", "output size would be 0")
	wantErr(t, NewConv1D(4, 11, WithName("c1_big")).Apply(graph.Input(10, 2)),
		"layer c1_big (Conv1D)", "spatial axis 1 has size 10, the kernel size 11")
	if err := NewConv1D(4, 11, WithPadding("same")).Apply(graph.Input(10, 2)).Err(); err != nil {
		t.Errorf("same padding with a kernel larger than the input: %v", err)
	}
	wantErr(t, NewConv2D(4, 3, WithPadding("full"), WithName("c_pad")).Apply(graph.Input(8, 8, 1)),
		"layer c_pad (Conv2D)", `the padding argument must be one of "valid", "same"; got "full"`)
	wantErr(t, NewConv2D(4, 3, WithPadding("causal")).Apply(graph.Input(8, 8, 1)),
		`must be one of "valid", "same"; got "causal"`)
	wantErr(t, NewConv1D(4, 3, WithPadding("full"), WithName("c1_pad")).Apply(graph.Input(8, 1)),
		"layer c1_pad (Conv1D)", `the padding argument must be one of "valid", "same", "causal"; got "full"`)
	wantErr(t, NewConv2D(4, 3, WithStrides(2), WithDilation(2), WithName("c_sd")).Apply(graph.Input(9, 9, 1)),
		"layer c_sd (Conv2D)", "strides > 1 are not supported together with a dilation rate > 1 (got strides [2 2] and dilation rate [2 2])")
	wantErr(t, NewConv1D(4, 3, WithStrides(2), WithDilation(3)).Apply(graph.Input(9, 1)),
		"strides > 1 are not supported together with a dilation rate > 1")
	for _, f := range []int{0, -1} {
		wantErr(t, NewConv2D(f, 3, WithName(fmt.Sprintf("c_f%d", -f))).Apply(graph.Input(8, 8, 1)),
			fmt.Sprintf("layer c_f%d (Conv2D)", -f), fmt.Sprintf("filters must be positive, got %d", f))
	}
	wantErr(t, NewConv2D(4, 0, WithName("c_k0")).Apply(graph.Input(8, 8, 1)),
		"layer c_k0 (Conv2D)", "kernel size must be positive, got [0]")
	wantErr(t, NewConv2D(4, 3, WithKernelSize(3, -1)).Apply(graph.Input(8, 8, 1)),
		"kernel size must be positive, got [3 -1]")
	wantErr(t, NewConv2D(4, 3, WithKernelSize(3, 3, 3)).Apply(graph.Input(8, 8, 1)),
		"kernel size takes 1 or 2 values, got [3 3 3]")
	wantErr(t, NewConv1D(4, 3, WithKernelSize(3, 3)).Apply(graph.Input(8, 1)),
		"kernel size takes 1 value, got [3 3]")
	wantErr(t, NewConv2D(4, 3, WithStrides(1, 2, 3)).Apply(graph.Input(8, 8, 1)),
		"strides takes 1 or 2 values, got [1 2 3]")
	wantErr(t, NewConv2D(4, 3, WithStrides(0)).Apply(graph.Input(8, 8, 1)),
		"strides must be positive, got [0]")
	wantErr(t, NewConv2D(4, 3, WithDilation(1, 0)).Apply(graph.Input(8, 8, 1)),
		"dilation rate must be positive, got [1 0]")
	wantErr(t, NewConv2D(4, 3, WithActivation("relux")).Apply(graph.Input(8, 8, 1)),
		`unknown activation "relux"`)
	c := NewConv2D(4, 3, WithName("c_twice"))
	if err := c.Apply(graph.Input(8, 8, 3)).Err(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, c.Apply(graph.Input(8, 8, 1)),
		"layer c_twice (Conv2D)", "expected axis -1 of input shape to have value 3 but got shape (None, 8, 8, 1)")
	// The error stops the network, naming the layer.
	in := graph.Input(28, 28)
	_, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{NewConv2D(2, 3, WithName("c_net")).Apply(in)})
	if err == nil || !strings.Contains(err.Error(), "c_net") || !strings.Contains(err.Error(), "expected ndim=4") {
		t.Errorf("NewNetwork: %v", err)
	}
}
