package layers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
)

// poolingGolden is testdata/golden/pooling.json, written by gen_pooling.py
// (PyTorch max_pool/avg_pool on channels-first permutations, TF SAME
// padding reproduced by explicit asymmetric padding).
type poolingGolden struct {
	Pool []struct {
		Name        string    `json:"name"`
		Kind        string    `json:"kind"`
		InputShape  []int     `json:"input_shape"`
		Input       []float64 `json:"input"`
		Pool        []int     `json:"pool"`
		Strides     []int     `json:"strides"`
		Padding     string    `json:"padding"`
		OutputShape []int     `json:"output_shape"`
		Output      []float64 `json:"output"`
	} `json:"pool"`
	Global []struct {
		Name        string    `json:"name"`
		Kind        string    `json:"kind"`
		InputShape  []int     `json:"input_shape"`
		Input       []float64 `json:"input"`
		KeepDims    bool      `json:"keepdims"`
		OutputShape []int     `json:"output_shape"`
		Output      []float64 `json:"output"`
	} `json:"global"`
	Masked struct {
		InputShape  []int     `json:"input_shape"`
		Input       []float64 `json:"input"`
		Mask        []float64 `json:"mask"`
		OutputShape []int     `json:"output_shape"`
		Output      []float64 `json:"output"`
	} `json:"masked_global_average"`
}

func loadPoolingGolden(t *testing.T) *poolingGolden {
	t.Helper()
	var g poolingGolden
	readGolden(t, "pooling", &g)
	if len(g.Pool) == 0 || len(g.Global) == 0 || len(g.Masked.Output) == 0 {
		t.Fatal("pooling.json lacks cases")
	}
	return &g
}

// singleInputLayer is a layer with a one-tensor Apply.
type singleInputLayer interface {
	graph.Layer
	Apply(*graph.Tensor) *graph.Tensor
}

// newTestPool builds the window pooling layer of a kind ("max", "avg") and a
// number of spatial axes.
func newTestPool(kind string, axes, pool int, opts ...PoolingOption) singleInputLayer {
	switch {
	case kind == "max" && axes == 2:
		return NewMaxPooling2D(pool, opts...)
	case kind == "avg" && axes == 2:
		return NewAveragePooling2D(pool, opts...)
	case kind == "max" && axes == 1:
		return NewMaxPooling1D(pool, opts...)
	case kind == "avg" && axes == 1:
		return NewAveragePooling1D(pool, opts...)
	}
	panic("no such pooling layer: " + kind)
}

// newTestGlobalPool builds the global pooling layer of a kind and a number
// of spatial axes.
func newTestGlobalPool(kind string, axes int, opts ...GlobalPoolingOption) singleInputLayer {
	switch {
	case kind == "max" && axes == 2:
		return NewGlobalMaxPooling2D(opts...)
	case kind == "avg" && axes == 2:
		return NewGlobalAveragePooling2D(opts...)
	case kind == "max" && axes == 1:
		return NewGlobalMaxPooling1D(opts...)
	case kind == "avg" && axes == 1:
		return NewGlobalAveragePooling1D(opts...)
	}
	panic("no such global pooling layer: " + kind)
}

// TestGoldenPooling checks every window pooling case (valid and same,
// strides 1, 2, 3 and the default, odd sizes, rectangular windows, 1-D and
// 2-D) against PyTorch, in float32 and float64.
func TestGoldenPooling(t *testing.T) {
	g := loadPoolingGolden(t)
	for _, c := range g.Pool {
		opts := []PoolingOption{WithPoolSize(c.Pool...), WithPadding(c.Padding)}
		if c.Strides != nil {
			opts = append(opts, WithStrides(c.Strides...))
		}
		layer := func() singleInputLayer { return newTestPool(c.Kind, len(c.InputShape)-2, 1, opts...) }
		checkPoolGolden(t, c.Name, layer, c.InputShape, c.OutputShape, c.Input, c.Output)
	}
}

// checkPoolGolden applies a fresh layer to an input of inShape (batch
// first), checks the output shape and, in each dtype, the output for input
// against want.
func checkPoolGolden(t *testing.T, name string, layer func() singleInputLayer, inShape, outShape []int, input, want []float64) {
	t.Helper()
	for _, dt := range dtypes {
		in := graph.Input(inShape[1:]...)
		out := layer().Apply(in)
		if out.Err() != nil {
			t.Fatalf("%s: %v", name, out.Err())
		}
		if got := out.Shape(); !got.Equal(graph.Shape(outShape[1:])) {
			t.Fatalf("%s: output shape %v, want %v", name, got, outShape[1:])
		}
		net := newNet(t, in, out, dt, 1)
		got, _ := runOnce(t, net, graph.ProgramSpec{Batch: inShape[0]}, input)
		if err := closeTo(got, want, tolFor(dt)); err != nil {
			t.Errorf("%s %v: %v", name, dt, err)
		}
	}
}

// TestGoldenGlobalPooling checks the global pooling layers, with and
// without keepdims, and masked GlobalAveragePooling1D against PyTorch.
func TestGoldenGlobalPooling(t *testing.T) {
	g := loadPoolingGolden(t)
	for _, c := range g.Global {
		var opts []GlobalPoolingOption
		if c.KeepDims {
			opts = append(opts, WithKeepDims())
		}
		layer := func() singleInputLayer { return newTestGlobalPool(c.Kind, len(c.InputShape)-2, opts...) }
		checkPoolGolden(t, c.Name, layer, c.InputShape, c.OutputShape, c.Input, c.Output)
	}
	m := g.Masked
	for _, dt := range dtypes {
		in := graph.Input(m.InputShape[1:]...)
		x := graph.Apply1(newConstMask(m.InputShape[1], m.Mask), in)
		out := NewGlobalAveragePooling1D().Apply(x)
		if out.Masked() {
			t.Fatal("GlobalAveragePooling1D did not consume the mask")
		}
		net := newNet(t, in, out, dt, 1)
		got, _ := runOnce(t, net, graph.ProgramSpec{Batch: m.InputShape[0]}, m.Input)
		if err := closeTo(got, m.Output, tolFor(dt)); err != nil {
			t.Errorf("masked GlobalAveragePooling1D %v: %v", dt, err)
		}
	}
}

// constMask is a test layer that passes its (N, T, C) input on with a fixed
// (N, T) mask, standing for Embedding(mask_zero=True).
type constMask struct {
	graph.Base
	steps int
	mask  []float64
}

func newConstMask(steps int, mask []float64) *constMask {
	return &constMask{Base: graph.NewBase("ConstMask", ""), steps: steps, mask: mask}
}

func (l *constMask) Build(in []graph.Shape) ([]graph.Shape, error) { return in, nil }
func (l *constMask) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) {
	return in, nil
}
func (l *constMask) OutputMasked([]bool) []bool { return []bool{true} }
func (l *constMask) ComputeMask(ctx *graph.Context, _ []graph.Node, _ []graph.Node) ([]graph.Node, error) {
	if len(l.mask) != ctx.Batch()*l.steps {
		return nil, errors.Errorf("constMask: %d mask values for batch %d × %d steps", len(l.mask), ctx.Batch(), l.steps)
	}
	return []graph.Node{ctx.Const([]int{ctx.Batch(), l.steps}, l.mask)}, nil
}

// TestMaskedGlobalPooling1D checks by hand Σ x·m / Σ m (a fully masked
// sample gives 0), keepdims under a mask, that GlobalMaxPooling1D ignores
// the mask, that both consume it, and that window pooling refuses it.
func TestMaskedGlobalPooling1D(t *testing.T) {
	x := []float64{
		1, 10, 2, 20, 3, 30, 4, 40, // sample 0: (4, 2)
		-1, 5, -2, 6, -3, 7, -4, 8, // sample 1
		9, 9, 9, 9, 9, 9, 9, 9, // sample 2, fully masked
	}
	mask := []float64{1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, dt := range dtypes {
		in := graph.Input(4, 2)
		masked := graph.Apply1(newConstMask(4, mask), in)
		avg := NewGlobalAveragePooling1D(WithKeepDims()).Apply(masked)
		if !avg.Shape().Equal(graph.Shape{1, 2}) || avg.Masked() {
			t.Fatalf("keepdims shape %v, masked %v", avg.Shape(), avg.Masked())
		}
		net := newNet(t, in, avg, dt, 1)
		got, _ := runOnce(t, net, graph.ProgramSpec{Batch: 3}, x)
		want := []float64{(1 + 3 + 4) / 3.0, (10 + 30 + 40) / 3.0, -2, 6, 0, 0}
		if err := closeTo(got, want, tolFor(dt)); err != nil {
			t.Errorf("masked average %v: %v", dt, err)
		}

		in = graph.Input(4, 2)
		mx := NewGlobalMaxPooling1D().Apply(graph.Apply1(newConstMask(4, mask), in))
		if mx.Masked() {
			t.Fatal("GlobalMaxPooling1D did not consume the mask")
		}
		net = newNet(t, in, mx, dt, 1)
		got, _ = runOnce(t, net, graph.ProgramSpec{Batch: 3}, x)
		// The mask is ignored: sample 1's maxima (-1, 8) are at masked steps,
		// and the fully masked sample 2 still gets its maximum.
		want = []float64{4, 40, -1, 8, 9, 9}
		if err := closeTo(got, want, tolFor(dt)); err != nil {
			t.Errorf("masked max %v: %v", dt, err)
		}
	}
	wantErr(t, NewMaxPooling1D(2, WithName("mp_masked")).Apply(graph.Apply1(newConstMask(4, mask), graph.Input(4, 2))),
		"layer mp_masked (MaxPooling1D): does not support masking")
}

// TestPoolingG7 is docs/SEMANTICS.md §24.7's 1-D check through the layers: pool
// 2, stride 1, SAME on [1, 2, 3].
func TestPoolingG7(t *testing.T) {
	for _, dt := range dtypes {
		for _, c := range []struct {
			kind string
			want []float64
		}{{"avg", []float64{1.5, 2.5, 3}}, {"max", []float64{2, 3, 3}}} {
			in := graph.Input(3, 1)
			out := newTestPool(c.kind, 1, 2, WithStrides(1), WithPadding("same")).Apply(in)
			net := newNet(t, in, out, dt, 1)
			got, _ := runOnce(t, net, graph.ProgramSpec{Batch: 1}, []float64{1, 2, 3})
			if err := closeTo(got, c.want, tolFor(dt)); err != nil {
				t.Errorf("%s %v: %v", c.kind, dt, err)
			}
		}
	}
}

// TestPoolingGradients checks every pooling layer's input gradient by
// finite differences in float64 (random inputs have no ties).
func TestPoolingGradients(t *testing.T) {
	type cfg struct {
		pool    int
		opts    []PoolingOption
		in      []int
		summary string
	}
	cases2 := []cfg{
		{2, nil, []int{4, 4, 2}, "2 valid"},
		{3, []PoolingOption{WithStrides(2)}, []int{7, 5, 2}, "3/2 valid"},
		{3, []PoolingOption{WithStrides(2), WithPadding("same")}, []int{7, 5, 2}, "3/2 same"},
		{3, []PoolingOption{WithStrides(1), WithPadding("same")}, []int{4, 5, 1}, "3/1 same"},
		{2, []PoolingOption{WithStrides(3), WithPadding("same")}, []int{8, 7, 2}, "2/3 same"},
		{0, []PoolingOption{WithPoolSize(3, 2), WithStrides(1, 2)}, []int{5, 6, 2}, "3x2 valid"},
		{0, []PoolingOption{WithPoolSize(2, 4), WithStrides(2, 3), WithPadding("same")}, []int{5, 7, 2}, "2x4 same"},
	}
	cases1 := []cfg{
		{2, nil, []int{7, 3}, "2 valid"},
		{3, []PoolingOption{WithStrides(2), WithPadding("same")}, []int{7, 3}, "3/2 same"},
		{4, []PoolingOption{WithStrides(1), WithPadding("same")}, []int{6, 2}, "4/1 same"},
		{3, []PoolingOption{WithStrides(3)}, []int{10, 2}, "3/3 valid"},
	}
	seed := uint64(20)
	for _, kind := range []string{"max", "avg"} {
		for axes, cases := range [][]cfg{1: cases1, 2: cases2} {
			for _, c := range cases {
				seed++
				in := graph.Input(c.in...)
				l := newTestPool(kind, axes, c.pool, c.opts...)
				gradCheck(t, fmt.Sprintf("%s %s %s", kind, l.Class(), c.summary), in, l.Apply(in), 2, seed)
			}
		}
	}
	for _, kind := range []string{"max", "avg"} {
		for _, keep := range []bool{false, true} {
			var opts []GlobalPoolingOption
			if keep {
				opts = append(opts, WithKeepDims())
			}
			seed++
			in := graph.Input(5, 3)
			l := newTestGlobalPool(kind, 1, opts...)
			gradCheck(t, fmt.Sprintf("%s keepdims=%v", l.Class(), keep), in, l.Apply(in), 3, seed)
			seed++
			in = graph.Input(3, 4, 2)
			l = newTestGlobalPool(kind, 2, opts...)
			gradCheck(t, fmt.Sprintf("%s keepdims=%v", l.Class(), keep), in, l.Apply(in), 3, seed)
		}
	}
	// Masked average, and a pooling layer before a Dense.
	in := graph.Input(4, 2)
	x := graph.Apply1(newConstMask(4, []float64{1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0}), in)
	gradCheck(t, "masked GlobalAveragePooling1D", in, NewGlobalAveragePooling1D().Apply(x), 3, 90)
	in = graph.Input(6, 6, 2)
	x = NewMaxPooling2D(2, WithPadding("same"), WithStrides(1)).Apply(in)
	x = NewAveragePooling2D(2).Apply(x)
	x = NewGlobalMaxPooling2D().Apply(x)
	gradCheck(t, "pool chain → Dense", in, NewDense(3, WithActivation("tanh")).Apply(x), 2, 91)
}

// TestPoolingShapes is an output shape table (TF sizes, G7's (n, k, s)).
func TestPoolingShapes(t *testing.T) {
	cases := []struct {
		name string
		l    interface {
			Apply(*graph.Tensor) *graph.Tensor
		}
		in, want graph.Shape
	}{
		{"max2d 2", NewMaxPooling2D(2), graph.Shape{28, 28, 1}, graph.Shape{14, 14, 1}},
		{"max2d 2 odd", NewMaxPooling2D(2), graph.Shape{7, 5, 3}, graph.Shape{3, 2, 3}},
		{"max2d 2 odd same", NewMaxPooling2D(2, WithPadding("same")), graph.Shape{7, 5, 3}, graph.Shape{4, 3, 3}},
		{"avg2d 3/2 valid (7,6)", NewAveragePooling2D(3, WithStrides(2)), graph.Shape{7, 6, 4}, graph.Shape{3, 2, 4}},
		{"avg2d 3/2 same (7,6)", NewAveragePooling2D(3, WithStrides(2), WithPadding("SAME")), graph.Shape{7, 6, 4}, graph.Shape{4, 3, 4}},
		{"max2d 5/1 (28)", NewMaxPooling2D(5, WithStrides(1)), graph.Shape{28, 28, 1}, graph.Shape{24, 24, 1}},
		{"max2d 5/1 same (28)", NewMaxPooling2D(5, WithStrides(1), WithPadding("same")), graph.Shape{28, 28, 1}, graph.Shape{28, 28, 1}},
		{"max2d 3x1 strides 1,2", NewMaxPooling2D(0, WithPoolSize(3, 1), WithStrides(1, 2)), graph.Shape{4, 5, 2}, graph.Shape{2, 3, 2}},
		{"max2d pool larger than input, same", NewMaxPooling2D(4, WithPadding("same")), graph.Shape{2, 3, 1}, graph.Shape{1, 1, 1}},
		{"max1d 2 (5)", NewMaxPooling1D(2), graph.Shape{5, 3}, graph.Shape{2, 3}},
		{"max1d 2 same (5)", NewMaxPooling1D(2, WithPadding("same")), graph.Shape{5, 3}, graph.Shape{3, 3}},
		{"avg1d 3/1 (4)", NewAveragePooling1D(3, WithStrides(1)), graph.Shape{4, 2}, graph.Shape{2, 2}},
		{"avg1d 3/1 same (4)", NewAveragePooling1D(3, WithStrides(1), WithPadding("same")), graph.Shape{4, 2}, graph.Shape{4, 2}},
		{"gavg1d", NewGlobalAveragePooling1D(), graph.Shape{5, 3}, graph.Shape{3}},
		{"gavg1d keep", NewGlobalAveragePooling1D(WithKeepDims()), graph.Shape{5, 3}, graph.Shape{1, 3}},
		{"gmax1d", NewGlobalMaxPooling1D(), graph.Shape{5, 3}, graph.Shape{3}},
		{"gmax1d keep", NewGlobalMaxPooling1D(WithKeepDims()), graph.Shape{5, 3}, graph.Shape{1, 3}},
		{"gavg2d", NewGlobalAveragePooling2D(), graph.Shape{4, 5, 6}, graph.Shape{6}},
		{"gavg2d keep", NewGlobalAveragePooling2D(WithKeepDims()), graph.Shape{4, 5, 6}, graph.Shape{1, 1, 6}},
		{"gmax2d", NewGlobalMaxPooling2D(), graph.Shape{4, 5, 6}, graph.Shape{6}},
		{"gmax2d keep", NewGlobalMaxPooling2D(WithKeepDims()), graph.Shape{4, 5, 6}, graph.Shape{1, 1, 6}},
	}
	for _, c := range cases {
		out := c.l.Apply(graph.Input(c.in...))
		if out.Err() != nil {
			t.Errorf("%s: %v", c.name, out.Err())
			continue
		}
		if !out.Shape().Equal(c.want) {
			t.Errorf("%s: input %v gives %v, want %v", c.name, c.in, out.Shape(), c.want)
		}
	}
}

func TestPoolingConfig(t *testing.T) {
	p := NewMaxPooling2D(3)
	if fmt.Sprintf("%v %v %s", p.PoolSize(), p.Strides(), p.Padding()) != "[3 3] [3 3] valid" {
		t.Errorf("defaults: pool %v strides %v padding %s", p.PoolSize(), p.Strides(), p.Padding())
	}
	q := NewAveragePooling1D(2, WithPoolSize(4), WithStrides(1), WithPadding("Same"))
	if fmt.Sprintf("%v %v %s", q.PoolSize(), q.Strides(), q.Padding()) != "[4] [1] same" {
		t.Errorf("options: pool %v strides %v padding %s", q.PoolSize(), q.Strides(), q.Padding())
	}
	r := NewMaxPooling2D(2, WithPoolSize(3, 1))
	if fmt.Sprint(r.PoolSize(), r.Strides()) != "[3 1] [3 1]" {
		t.Errorf("rectangular: pool %v strides %v", r.PoolSize(), r.Strides())
	}
	if !NewGlobalMaxPooling2D(WithKeepDims()).KeepDims() || NewGlobalMaxPooling2D().KeepDims() {
		t.Error("KeepDims")
	}
	if c := NewGlobalAveragePooling1D().Class(); c != "GlobalAveragePooling1D" {
		t.Errorf("class %s", c)
	}
}

func TestPoolingErrors(t *testing.T) {
	// Wrong input rank, for every layer.
	for _, c := range []struct {
		l interface {
			graph.Layer
			Apply(*graph.Tensor) *graph.Tensor
		}
		in   []int
		want string
	}{
		{NewMaxPooling2D(2), []int{28, 28}, "expected ndim=4, found ndim=3"},
		{NewAveragePooling2D(2), []int{2, 28, 28, 1}, "expected ndim=4, found ndim=5"},
		{NewMaxPooling1D(2), []int{28, 28, 1}, "expected ndim=3, found ndim=4"},
		{NewAveragePooling1D(2), []int{28}, "expected ndim=3, found ndim=2"},
		{NewGlobalAveragePooling1D(), []int{28}, "expected ndim=3, found ndim=2"},
		{NewGlobalMaxPooling1D(), []int{4, 4, 1}, "expected ndim=3, found ndim=4"},
		{NewGlobalAveragePooling2D(), []int{4, 4}, "expected ndim=4, found ndim=3"},
		{NewGlobalMaxPooling2D(), []int{4}, "expected ndim=4, found ndim=2"},
	} {
		wantErr(t, c.l.Apply(graph.Input(c.in...)), fmt.Sprintf("layer %s (%s)", c.l.Name(), c.l.Class()), c.want)
	}
	wantErr(t, NewMaxPooling2D(3, WithName("mp_big")).Apply(graph.Input(2, 5, 1)),
		"layer mp_big (MaxPooling2D)", "computed output size would be zero or negative: axis 1 has size 2, pool size 3, strides 3, padding valid",
		"(input shape (None, 2, 5, 1))")
	wantErr(t, NewAveragePooling1D(0, WithPoolSize(6), WithStrides(1), WithName("ap_big")).Apply(graph.Input(5, 2)),
		"layer ap_big (AveragePooling1D)", "axis 1 has size 5, pool size 6, strides 1, padding valid")
	wantErr(t, NewMaxPooling2D(2, WithPoolSize(2, 3), WithName("mp_big_w")).Apply(graph.Input(4, 2, 1)),
		"axis 2 has size 2, pool size 3, strides 3, padding valid")
	wantErr(t, NewMaxPooling2D(2, WithPadding("full"), WithName("mp_pad")).Apply(graph.Input(4, 4, 1)),
		"layer mp_pad (MaxPooling2D)", `the padding argument must be one of "valid", "same"; got "full"`)
	wantErr(t, NewAveragePooling1D(2, WithPadding("causal")).Apply(graph.Input(4, 1)),
		`must be one of "valid", "same"; got "causal"`)
	for _, p := range []int{0, -1} {
		wantErr(t, NewMaxPooling2D(p, WithName(fmt.Sprintf("mp_p%d", -p))).Apply(graph.Input(4, 4, 1)),
			fmt.Sprintf("layer mp_p%d (MaxPooling2D)", -p), fmt.Sprintf("pool size must be positive, got [%d]", p))
		wantErr(t, NewAveragePooling1D(p).Apply(graph.Input(4, 1)), fmt.Sprintf("pool size must be positive, got [%d]", p))
		wantErr(t, NewMaxPooling2D(2, WithStrides(p)).Apply(graph.Input(4, 4, 1)), fmt.Sprintf("strides must be positive, got [%d]", p))
		wantErr(t, NewMaxPooling1D(2, WithStrides(p)).Apply(graph.Input(4, 1)), fmt.Sprintf("strides must be positive, got [%d]", p))
	}
	wantErr(t, NewMaxPooling2D(0, WithPoolSize(2, 0)).Apply(graph.Input(4, 4, 1)), "pool size must be positive, got [2 0]")
	wantErr(t, NewMaxPooling2D(2, WithStrides(1, -2)).Apply(graph.Input(4, 4, 1)), "strides must be positive, got [1 -2]")
	wantErr(t, NewMaxPooling2D(2, WithStrides(1, 2, 3)).Apply(graph.Input(4, 4, 1)), "strides takes 1 or 2 values, got [1 2 3]")
	wantErr(t, NewMaxPooling1D(2, WithPoolSize(2, 2)).Apply(graph.Input(4, 1)), "pool size takes 1 value, got [2 2]")
	// graph.Input refuses empty axes; Build checks them too (TF2 does).
	if _, err := NewGlobalAveragePooling1D().Build([]graph.Shape{{0, 3}}); err == nil || !strings.Contains(err.Error(), "axis 1 has size 0: nothing to pool") {
		t.Errorf("empty axis: %v", err)
	}
	if err := NewMaxPooling2D(2).Apply(graph.Input(4, 4, 1)).Err(); err != nil {
		t.Errorf("a valid layer: %v", err)
	}
	if !strings.Contains(fmt.Sprint(NewMaxPooling2D(2).Build([]graph.Shape{{4, 4, 1}, {4, 4, 1}})), "expects 1 input, got 2") {
		t.Error("two inputs accepted")
	}
}
