package layers

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// mergeCase is one case of testdata/golden/merge.json, written by
// gen_merge.py (PyTorch ports of Keras 3's merge layers).
type mergeCase struct {
	Layer       string      `json:"layer"`
	Name        string      `json:"name"`
	Batch       int         `json:"batch"`
	Shapes      [][]int     `json:"shapes"`
	Inputs      [][]float64 `json:"inputs"`
	Masks       [][]float64 `json:"masks"`
	W           []float64   `json:"w"`
	OutputShape []int       `json:"output_shape"`
	Output      []float64   `json:"output"`
	OutputMask  []float64   `json:"output_mask"`
	Grads       [][]float64 `json:"grads"`
	Axis        int         `json:"axis"`
	Axes        []int       `json:"axes"`
	Normalize   bool        `json:"normalize"`
}

// multiInput is a layer applied to a list of inputs.
type multiInput interface {
	graph.Layer
	Apply(xs ...*graph.Tensor) *graph.Tensor
}

// layer makes the case's layer.
func (c mergeCase) layer() multiInput {
	switch c.Layer {
	case "Add":
		return NewAdd()
	case "Subtract":
		return NewSubtract()
	case "Multiply":
		return NewMultiply()
	case "Average":
		return NewAverage()
	case "Maximum":
		return NewMaximum()
	case "Minimum":
		return NewMinimum()
	case "Concatenate":
		return NewConcatenate(WithAxis(c.Axis))
	}
	var opts []DotOption
	if c.Normalize {
		opts = append(opts, WithNormalize())
	}
	return NewDot(c.Axes, opts...)
}

// build makes the case's model: its inputs, each masked by a fixedMask
// where the case gives a mask, through the layer. probe is the output's
// mask as a tensor, when it has one.
func (c mergeCase) build(t *testing.T) (in []*graph.Tensor, out, probe *graph.Tensor) {
	t.Helper()
	xs := make([]*graph.Tensor, len(c.Shapes))
	for i, s := range c.Shapes {
		in = append(in, graph.Input(s...))
		xs[i] = in[i]
		if i < len(c.Masks) && c.Masks[i] != nil {
			xs[i] = newFixedMask(c.Masks[i]...).apply(in[i])
		}
	}
	out = c.layer().Apply(xs...)
	if out.Err() != nil {
		t.Fatalf("%s %s: %v", c.Layer, c.Name, out.Err())
	}
	if !graph.Shape(c.OutputShape).Equal(out.Shape()) {
		t.Errorf("%s %s: output shape %s, want %v", c.Layer, c.Name, out.Shape(), c.OutputShape)
	}
	if out.Masked() != (c.OutputMask != nil) {
		t.Errorf("%s %s: output masked %t, want %t", c.Layer, c.Name, out.Masked(), c.OutputMask != nil)
	}
	if out.Masked() {
		probe = graph.Apply1(&maskProbe{Base: graph.NewBase("MaskProbe", "")}, out)
	}
	return in, out, probe
}

// maskProbe outputs its input's (N, T) mask as a tensor.
type maskProbe struct {
	graph.Base
	graph.ConsumeMask
}

func (p *maskProbe) Build(in []graph.Shape) ([]graph.Shape, error) {
	return []graph.Shape{{in[0][0]}}, nil
}

func (p *maskProbe) Emit(ctx *graph.Context, _ []graph.Node) ([]graph.Node, error) {
	m := ctx.InputMask(0)
	if m == nil {
		return nil, errors.New("no mask")
	}
	m, err := maskInGraph(ctx, m)
	return []graph.Node{m}, err
}

// weightedSum is the head Σ out ⊙ w of the first output.
func weightedSum(w []float64) graph.Head {
	return func(ctx *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
		p, err := G.HadamardProd(outs[0], ctx.Const(outs[0].Shape(), w))
		if err != nil {
			return nil, nil, err
		}
		s, err := G.Sum(p)
		return s, nil, err
	}
}

// TestGoldenMerge checks every merge layer's output, output mask and input
// gradients against testdata/golden/merge.json in both dtypes.
func TestGoldenMerge(t *testing.T) {
	var g struct {
		Cases []mergeCase `json:"cases"`
	}
	readGolden(t, "merge", &g)
	if len(g.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range g.Cases {
		for _, dt := range dtypes {
			checkMergeCase(t, c, dt)
		}
	}
}

// checkMergeCase runs one golden case in dtype dt: inference for the output
// and its mask, training for the input gradients.
func checkMergeCase(t *testing.T, c mergeCase, dt tensor.Dtype) {
	t.Helper()
	name := fmt.Sprintf("%s %s %v", c.Layer, c.Name, dt)
	in, out, probe := c.build(t)
	outs := []*graph.Tensor{out}
	if probe != nil {
		outs = append(outs, probe)
	}
	net, err := graph.NewNetwork(in, outs)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := net.Initialise(dt, 1); err != nil {
		t.Fatal(err)
	}
	p, err := net.RunOnce(graph.ProgramSpec{Batch: c.Batch}, c.Inputs)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := closeTo(graph.Float64s(p.Outputs()[0]), c.Output, tolFor(dt)); err != nil {
		t.Errorf("%s output: %v", name, err)
	}
	if probe != nil {
		if err := closeTo(graph.Float64s(p.Outputs()[1]), c.OutputMask, tolFor(dt)); err != nil {
			t.Errorf("%s output mask: %v", name, err)
		}
	}
	p, err = net.RunOnce(graph.ProgramSpec{Batch: c.Batch, Training: true, Head: weightedSum(c.W), InputGradients: true}, c.Inputs)
	if err != nil {
		t.Fatalf("%s: gradients: %v", name, err)
	}
	tl := tolFor(dt)
	if dt == tensor.Float32 && c.Normalize {
		tl = tol{1e-5, 1e-4} // the clamped norm of a zero sample gives gradients near 1e7
	}
	for i, want := range c.Grads {
		if err := closeTo(graph.Float64s(p.InputGradients()[i]), want, tl); err != nil {
			t.Errorf("%s gradient of input %d: %v", name, i, err)
		}
	}
}

// TestMergeGradCheck checks every golden case's input gradients by central
// finite differences in float64, on the case's own inputs (no ties between
// distinct inputs). The zero sample of the normalized Dot is left out: a
// finite step leaves the norm's clamp.
func TestMergeGradCheck(t *testing.T) {
	var g struct {
		Cases []mergeCase `json:"cases"`
	}
	readGolden(t, "merge", &g)
	for _, c := range g.Cases {
		if c.Name == "zero sample, normalized" {
			continue
		}
		in, out, _ := c.build(t)
		err := graph.GradCheck{Inputs: in, Outputs: []*graph.Tensor{out}, Batch: c.Batch,
			Feeds: c.Inputs, CheckInputs: true, Seed: 3}.Run()
		if err != nil {
			t.Errorf("%s %s: %v", c.Layer, c.Name, err)
		}
	}
}

// TestMergeErrors checks the errors of the merge layers at Apply: the
// number of inputs, shapes that do not merge, bad axes and configurations.
func TestMergeErrors(t *testing.T) {
	in := func(shape ...int) *graph.Tensor { return graph.Input(shape...) }
	for _, c := range []struct {
		name string
		out  *graph.Tensor
		want []string
	}{
		{"subtract of three", NewSubtract(WithName("sub3")).Apply(in(2), in(2), in(2)),
			[]string{"layer sub3 (Subtract): expects exactly 2 inputs, got 3"}},
		{"add of mismatched shapes", NewAdd(WithName("add_bad")).Apply(in(3, 4), in(2, 4)),
			[]string{"layer add_bad (Add): input 1 of shape (None, 2, 4) cannot be merged with shape (None, 3, 4): sizes must be equal or 1"}},
		{"maximum of a third mismatched input", NewMaximum().Apply(in(3, 1), in(1, 4), in(5)),
			[]string{"input 2 of shape (None, 5) cannot be merged with shape (None, 3, 4)"}},
		{"dot of one", NewDot([]int{1}, WithName("dot1")).Apply(in(3)),
			[]string{"layer dot1 (Dot): expects exactly 2 inputs, got 1"}},
		{"dot of mismatched axes", NewDot([]int{2, 1}).Apply(in(3, 4), in(5, 4)),
			[]string{"the dot axes differ in size: 4 (axis 2 of (None, 3, 4)) and 5 (axis 1 of (None, 5, 4))"}},
		{"dot over the batch axis", NewDot([]int{0}).Apply(in(3), in(3)),
			[]string{"axis 0 of input 0 is the batch axis, which cannot be contracted"}},
		{"dot over the batch axis, negative", NewDot([]int{1, -3}).Apply(in(3), in(2, 3)),
			[]string{"axis -3 of input 1 is the batch axis"}},
		{"dot axis out of range", NewDot([]int{-3}).Apply(in(3), in(3)),
			[]string{"axis -3 does not exist for input 0 of rank 2 (batch axis included)"}},
		{"dot axes of three", NewDot([]int{1, 1, 1}, WithName("dot3")).Apply(in(3), in(3)),
			[]string{"layer dot3 (Dot): axes must hold one integer or two, got [1 1 1]"}},
		{"dot axes of none", NewDotFromConfig(DotConfig{}).Apply(in(3), in(3)),
			[]string{"axes must hold one integer or two, got []"}},
		{"concatenate on the batch axis", NewConcatenate(WithAxis(0), WithName("cat0")).Apply(in(3), in(3)),
			[]string{"layer cat0 (Concatenate): axis 0 is the batch axis, which cannot be concatenated"}},
		{"concatenate on a missing axis", NewConcatenate(WithAxis(3)).Apply(in(3, 4), in(3, 4)),
			[]string{"axis 3 does not exist for inputs of rank 3 (batch axis included)"}},
		{"concatenate of mismatched shapes", NewConcatenate().Apply(in(3, 4), in(2, 4)),
			[]string{"input 1 has shape (None, 2, 4), input 0 (None, 3, 4): they differ on an axis other than the concatenation axis -1"}},
		{"concatenate of mixed ranks", NewConcatenate().Apply(in(3, 4), in(4)),
			[]string{"input 1 has shape (None, 4), input 0 (None, 3, 4): the ranks differ"}},
	} {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.out, c.want...) })
	}
}

// TestMergeMaskErrors checks the masks Keras's rules cannot take: the value
// rules of Maximum, Minimum and Multiply and Concatenate's mask need inputs
// of rank 3, and the element-wise layers combine masks of one shape only.
// These errors come when the program is built.
func TestMergeMaskErrors(t *testing.T) {
	mask := []float64{1, 0, 1, 1, 1, 0}
	for _, c := range []struct {
		name   string
		layer  multiInput
		shapes [][]int
		want   string
	}{
		{"maximum, rank 4", NewMaximum(WithName("max4")), [][]int{{3, 2, 2}, {3, 2, 2}},
			"layer max4 (Maximum): masked input 0 has shape (2, 3, 2, 2): Maximum takes masks only on inputs of rank 3 (batch, time, features) with the output's shape (2, 3, 2, 2)"},
		{"multiply, broadcast input", NewMultiply(), [][]int{{3, 1}, {3, 2}},
			"masked input 0 has shape (2, 3, 1): Multiply takes masks only on inputs of rank 3"},
		{"minimum, rank 2", NewMinimum(), [][]int{{3}, {3}},
			"masked input 0 has shape (2, 3): Minimum takes masks only on inputs of rank 3"},
		{"concatenate, rank 2", NewConcatenate(WithName("cat2")), [][]int{{3}, {3}},
			"layer cat2 (Concatenate): mask: masks are taken only on inputs of rank 3 (batch, time, features); input 0 has shape (2, 3)"},
		{"add, masks of two shapes", NewAdd(WithName("add_m")), [][]int{{3, 2}, {1, 2}},
			"layer add_m (Add): mask: masks of shapes (2, 3) and (2, 1) cannot be combined"},
	} {
		var in, xs []*graph.Tensor
		for _, s := range c.shapes {
			x := graph.Input(s...)
			in = append(in, x)
			xs = append(xs, newFixedMask(mask[:2*s[0]]...).apply(x))
		}
		out := c.layer.Apply(xs...)
		net, err := graph.NewNetwork(in, []*graph.Tensor{out})
		if err == nil {
			err = net.Initialise(tensor.Float32, 1)
		}
		if err == nil {
			_, err = graph.NewProgram(net, graph.ProgramSpec{Batch: 2})
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestMergeConfigJSON checks the Keras forms of the configurations:
// Concatenate's as the Keras file functional_2io writes it, Dot's axes as
// one integer or a pair.
func TestMergeConfigJSON(t *testing.T) {
	var cc ConcatenateConfig
	keras := `{"name": "concat", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}, "axis": -1}`
	if err := json.Unmarshal([]byte(keras), &cc); err != nil || cc != (ConcatenateConfig{LayerConfig{"concat"}, -1}) {
		t.Errorf("Keras's Concatenate config: %+v, %v", cc, err)
	}
	if got := NewConcatenateFromConfig(cc).Config(); got != cc {
		t.Errorf("Concatenate from its config: %+v", got)
	}
	for _, c := range []struct {
		layer *Dot
		json  string
	}{
		{NewDot([]int{1}, WithName("dot_one")), `{"name":"dot_one","axes":1,"normalize":false}`},
		{NewDot([]int{1, 2}, WithName("dot_two"), WithNormalize()), `{"name":"dot_two","axes":[1,2],"normalize":true}`},
		{NewDot(nil, WithName("dot_def")), `{"name":"dot_def","axes":-1,"normalize":false}`},
	} {
		b, err := json.Marshal(c.layer.Config())
		if err != nil || string(b) != c.json {
			t.Errorf("%s: %s, %v; want %s", c.layer.Name(), b, err, c.json)
		}
		var back DotConfig
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, c.layer.Config()) {
			t.Errorf("%s: read back %+v, %v", c.layer.Name(), back, err)
		}
	}
	for _, l := range []interface{ Config() MergeConfig }{
		NewAdd(WithName("m_add")), NewSubtract(WithName("m_sub")), NewMultiply(WithName("m_mul")),
		NewAverage(WithName("m_avg")), NewMaximum(WithName("m_max")), NewMinimum(WithName("m_min")),
	} {
		cfg := l.Config()
		b, err := json.Marshal(cfg)
		if err != nil || string(b) != `{"name":"`+cfg.Name+`"}` || !strings.HasPrefix(cfg.Name, "m_") {
			t.Errorf("%T config: %s, %v", l, b, err)
		}
	}
	if c := NewMultiplyFromConfig(DefaultMergeConfig()).Config(); c.Name != "multiply" && !strings.HasPrefix(c.Name, "multiply_") {
		t.Errorf("default name %q", c.Name)
	}
}

// TestMaximumTieGradient checks TensorFlow's rule at ties, which PyTorch's
// golden values avoid: fed equal values, Maximum and Minimum give the
// whole gradient to the first input.
func TestMaximumTieGradient(t *testing.T) {
	vals := []float64{0.5, -1, 2, 0, 3, -0.25}
	w := []float64{1, 2, 3, 4, 5, 6}
	for _, l := range []multiInput{NewMaximum(), NewMinimum()} {
		in := []*graph.Tensor{graph.Input(3), graph.Input(3), graph.Input(3)}
		net, err := graph.NewNetwork(in, []*graph.Tensor{l.Apply(in...)})
		if err != nil {
			t.Fatal(err)
		}
		if err := net.Initialise(tensor.Float64, 1); err != nil {
			t.Fatal(err)
		}
		p, err := net.RunOnce(graph.ProgramSpec{Batch: 2, Training: true, Head: weightedSum(w), InputGradients: true},
			[][]float64{vals, vals, vals})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range [][]float64{w, make([]float64, 6), make([]float64, 6)} {
			if err := closeTo(graph.Float64s(p.InputGradients()[i]), want, tolFor(tensor.Float64)); err != nil {
				t.Errorf("%s: gradient of input %d: %v", l.Class(), i, err)
			}
		}
	}
}

// TestMergeEmbeddingMasks runs the merge layers on the masks an
// Embedding(mask_zero) computes in the graph: Add and Concatenate along the
// feature axis pass on the mask itself (an OR of one mask), Concatenate
// along the time axis the mask twice over, and Dot drops it.
func TestMergeEmbeddingMasks(t *testing.T) {
	idx := []float64{1, 2, 0, 0, 3, 0, 1, 1}
	mask := []float64{1, 1, 0, 0, 1, 0, 1, 1}
	in := graph.Input(4)
	e := NewEmbedding(4, 3, WithMaskZero()).Apply(in)
	d := NewDense(3).Apply(e)
	dot := NewDot([]int{2}).Apply(e, d)
	if dot.Err() != nil || dot.Masked() {
		t.Fatalf("Dot of masked inputs: masked %t, %v", dot.Masked(), dot.Err())
	}
	for _, c := range []struct {
		name string
		out  *graph.Tensor
		want []float64
	}{
		{"add", NewAdd().Apply(e, d), mask},
		{"concatenate features", NewConcatenate().Apply(e, d), mask},
		{"concatenate time", NewConcatenate(WithAxis(1)).Apply(e, d),
			[]float64{1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1}},
	} {
		probe := graph.Apply1(&maskProbe{Base: graph.NewBase("MaskProbe", "")}, c.out)
		net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{probe, dot})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := net.Initialise(tensor.Float32, 1); err != nil {
			t.Fatal(err)
		}
		p, err := net.RunOnce(graph.ProgramSpec{Batch: 2}, [][]float64{idx})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := closeTo(graph.Float64s(p.Outputs()[0]), c.want, tolFor(tensor.Float32)); err != nil {
			t.Errorf("%s: mask %v", c.name, err)
		}
	}
}
