package layers

import (
	"strings"
	"testing"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/backend"
)

// l2Lambda is the article's Lambda: L2-normalize each sample's last axis.
func l2Lambda(opts ...LambdaOption) *Lambda {
	return NewLambda(func(_ *graph.Context, x graph.Node) (graph.Node, error) {
		return backend.L2Normalize(x, -1)
	}, opts...)
}

// TestLambdaL2Normalize is the article's example: a Lambda that
// L2-normalizes the last axis, checked on docs/SEMANTICS.md §24.1 ([3,4] →
// [0.6,0.8], [0,0] → [0,0], [1e-7,0] → [0.1,0]) in float32 and float64, and
// by a finite-difference gradient check after a Dense layer.
func TestLambdaL2Normalize(t *testing.T) {
	for _, dt := range dtypes {
		in := graph.Input(2)
		out := l2Lambda().Apply(in)
		if !out.Shape().Equal(graph.Shape{2}) {
			t.Fatalf("shape %v, want (None, 2)", out.Shape())
		}
		net := newNet(t, in, out, dt, 1)
		got, _ := runOnce(t, net, graph.ProgramSpec{Batch: 3}, []float64{3, 4, 0, 0, 1e-7, 0})
		if err := closeTo(got, []float64{0.6, 0.8, 0, 0, 0.1, 0}, tolFor(dt)); err != nil {
			t.Errorf("%v: %v", dt, err)
		}
	}
	in := graph.Input(5)
	x := NewDense(4, WithActivation("tanh"), WithBiasInitializer(RandomUniform(-0.5, 0.5))).Apply(in)
	gradCheck(t, "Dense→Lambda(l2_normalize)", in, l2Lambda().Apply(x), 3, 31)
	in3 := graph.Input(3, 4)
	gradCheck(t, "Lambda(l2_normalize) 3-D", in3, l2Lambda().Apply(in3), 2, 32)
}

// TestLambdaShapeInference checks that the output shape is traced when not
// declared, agrees with a declared tuple or function, and that a Lambda
// with several inputs works.
func TestLambdaShapeInference(t *testing.T) {
	sum := func(_ *graph.Context, x graph.Node) (graph.Node, error) {
		return backend.Sum(x, []int{-1}, false)
	}
	in := graph.Input(3, 4)
	if s := NewLambda(sum).Apply(in).Shape(); !s.Equal(graph.Shape{3}) {
		t.Errorf("traced shape %v, want (None, 3)", s)
	}
	if err := NewLambda(sum, WithOutputShape(3)).Apply(in).Err(); err != nil {
		t.Errorf("declared (3): %v", err)
	}
	shapeFn := func(in []graph.Shape) (graph.Shape, error) { return in[0][:1], nil }
	if err := NewLambda(sum, WithOutputShapeFunc(shapeFn)).Apply(in).Err(); err != nil {
		t.Errorf("declared by function: %v", err)
	}

	// Two inputs: concatenate on the last axis, then a float64 run.
	a, b := graph.Input(2), graph.Input(3)
	cat := NewLambdaN(func(_ *graph.Context, in []graph.Node) (graph.Node, error) {
		return backend.Concatenate(-1, in...)
	}).Apply(a, b)
	if !cat.Shape().Equal(graph.Shape{5}) {
		t.Fatalf("concatenation shape %v, want (None, 5)", cat.Shape())
	}
	net, err := graph.NewNetwork([]*graph.Tensor{a, b}, []*graph.Tensor{cat})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Initialise(tensor.Float64, 1); err != nil {
		t.Fatal(err)
	}
	p, err := net.RunOnce(graph.ProgramSpec{Batch: 1}, [][]float64{{1, 2}, {3, 4, 5}})
	if err != nil {
		t.Fatal(err)
	}
	if err := closeTo(graph.Float64s(p.Outputs()[0]), []float64{1, 2, 3, 4, 5}, tolFor(tensor.Float64)); err != nil {
		t.Error(err)
	}

	// The function may use the context (dtype constants, the mode).
	in2 := graph.Input(2)
	scaled := NewLambda(func(ctx *graph.Context, x graph.Node) (graph.Node, error) {
		k := 2.0
		if ctx.Training() {
			k = 3
		}
		return G.Mul(x, ctx.Scalar(k))
	}).Apply(in2)
	for _, dt := range dtypes {
		net := newNet(t, in2, scaled, dt, 1)
		got, _ := runOnce(t, net, graph.ProgramSpec{Batch: 1}, []float64{1, -2})
		if err := closeTo(got, []float64{2, -4}, tolFor(dt)); err != nil {
			t.Errorf("%v inference: %v", dt, err)
		}
		got, _ = runOnce(t, net, graph.ProgramSpec{Batch: 1, Training: true, Head: sumHead}, []float64{1, -2})
		if err := closeTo(got, []float64{3, -6}, tolFor(dt)); err != nil {
			t.Errorf("%v training: %v", dt, err)
		}
	}
}

// lamMaskSource outputs its input with the mask x[..., 0] != 0, like
// Embedding(mask_zero=True).
type lamMaskSource struct{ graph.Base }

func (l *lamMaskSource) Build(in []graph.Shape) ([]graph.Shape, error) { return in, nil }
func (l *lamMaskSource) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) {
	return in, nil
}
func (l *lamMaskSource) OutputMasked([]bool) []bool { return []bool{true} }
func (l *lamMaskSource) ComputeMask(ctx *graph.Context, in []graph.Node, _ []graph.Node) ([]graph.Node, error) {
	s, err := backend.Sum(in[0], []int{-1}, false)
	if err != nil {
		return nil, err
	}
	m, err := G.Ne(s, ctx.Scalar(0), true)
	return []graph.Node{m}, err
}

// TestLambdaMask checks that a Lambda passes a mask on when it keeps the
// time axis and drops it when it does not.
func TestLambdaMask(t *testing.T) {
	in := graph.Input(4, 3)
	x := graph.Apply1(&lamMaskSource{Base: graph.NewBase("LamMaskSource", "")}, in)
	kept := l2Lambda().Apply(x)
	if kept.Err() != nil || !kept.Masked() {
		t.Errorf("l2-normalize over features: masked=%v err=%v, want the mask passed on", kept.Masked(), kept.Err())
	}
	pooled := NewLambda(func(_ *graph.Context, x graph.Node) (graph.Node, error) {
		return backend.Mean(x, []int{1}, false)
	}).Apply(x)
	if pooled.Err() != nil || pooled.Masked() {
		t.Errorf("mean over time: masked=%v err=%v, want no mask", pooled.Masked(), pooled.Err())
	}
	net := newNet(t, in, kept, tensor.Float64, 1)
	if _, err := net.RunOnce(graph.ProgramSpec{Batch: 2}, [][]float64{randomValues(24, 3)}); err != nil {
		t.Fatal(err)
	}
}

// TestLambdaErrors checks the messages of a failing or panicking function,
// a declared shape that disagrees (at Apply and at emission), a function
// that drops the batch axis, and bad arguments.
func TestLambdaErrors(t *testing.T) {
	in := graph.Input(4)
	wantErr(t, NewLambda(func(*graph.Context, graph.Node) (graph.Node, error) {
		return nil, errors.New("no luck")
	}, WithName("lam_err")).Apply(in), "layer lam_err (Lambda)", "the function failed: no luck", "(input shape (None, 4))")
	wantErr(t, NewLambda(func(*graph.Context, graph.Node) (graph.Node, error) {
		var s []int
		_ = s[3]
		return nil, nil
	}, WithName("lam_panic")).Apply(in), "layer lam_panic (Lambda)", "the function panicked", "index out of range")
	wantErr(t, NewLambda(func(*graph.Context, graph.Node) (graph.Node, error) { return nil, nil }, WithName("lam_nil")).Apply(in),
		"layer lam_nil (Lambda)", "returned no node")
	wantErr(t, NewLambda(nil, WithName("lam_nofn")).Apply(in), "layer lam_nofn (Lambda)", "no function given")
	wantErr(t, l2Lambda(WithOutputShape(3), WithName("lam_shape")).Apply(in),
		"layer lam_shape (Lambda)", "the function returns shape (None, 4), but the declared output shape is (None, 3)")
	wantErr(t, l2Lambda(WithOutputShapeFunc(func([]graph.Shape) (graph.Shape, error) { return graph.Shape{2, 2}, nil }), WithName("lam_shapefn")).Apply(in),
		"layer lam_shapefn (Lambda)", "declared output shape is (None, 2, 2)")
	wantErr(t, l2Lambda(WithOutputShapeFunc(func([]graph.Shape) (graph.Shape, error) { return nil, errors.New("bad shape") }), WithName("lam_shapeerr")).Apply(in),
		"layer lam_shapeerr (Lambda)", "the output shape function failed: bad shape")
	wantErr(t, l2Lambda(WithOutputShape(0), WithName("lam_zero")).Apply(in), "layer lam_zero (Lambda)", "every dim must be positive")
	wantErr(t, l2Lambda(WithOutputShape(4), WithOutputShapeFunc(func(in []graph.Shape) (graph.Shape, error) { return in[0], nil }), WithName("lam_both")).Apply(in),
		"layer lam_both (Lambda)", "not both")
	wantErr(t, NewLambda(func(_ *graph.Context, x graph.Node) (graph.Node, error) {
		return backend.Sum(x, []int{0}, false)
	}, WithName("lam_batch")).Apply(in), "layer lam_batch (Lambda)", "first axis must be the batch axis")
	wantErr(t, NewLambda(func(_ *graph.Context, x graph.Node) (graph.Node, error) {
		return backend.Softmax(x, 2)
	}, WithName("lam_axis")).Apply(in), "layer lam_axis (Lambda)", "backend.Softmax: axis 2 does not exist for shape (2, 4)")
	wantErr(t, l2Lambda(WithName("lam_two")).Apply(in, graph.Input(4)), "layer lam_two (Lambda)", "expects 1 input, got 2")

	// A function whose shape changes in training is caught at emission,
	// naming the layer.
	grow := NewLambda(func(ctx *graph.Context, x graph.Node) (graph.Node, error) {
		if ctx.Training() {
			return backend.Concatenate(-1, x, x)
		}
		return x, nil
	}, WithOutputShape(4), WithName("lam_train"))
	out := grow.Apply(in)
	net := newNet(t, in, out, tensor.Float64, 1)
	_, err := graph.NewProgram(net, graph.ProgramSpec{Training: true, Batch: 2, Head: sumHead})
	if err == nil || !strings.Contains(err.Error(), "layer lam_train (Lambda)") || !strings.Contains(err.Error(), "the function returned shape (2, 8), but the declared output shape is (None, 4)") {
		t.Errorf("training program of a shape-changing Lambda: %v", err)
	}
}

// TestLambdaDeclaredShapeExact checks that a declared (1) does not accept
// an output of shape (N,) (tensor.Shape.Eq takes (N,) and (N, 1) for equal).
func TestLambdaDeclaredShapeExact(t *testing.T) {
	in := graph.Input(3)
	sum := func(_ *graph.Context, x graph.Node) (graph.Node, error) { return backend.Sum(x, []int{-1}, false) }
	wantErr(t, NewLambda(sum, WithOutputShape(1), WithName("lam_col")).Apply(in),
		"layer lam_col (Lambda)", "the function returns shape (None,), but the declared output shape is (None, 1)")
	keep := func(_ *graph.Context, x graph.Node) (graph.Node, error) { return backend.Sum(x, []int{-1}, true) }
	if err := NewLambda(keep, WithOutputShape(1)).Apply(in).Err(); err != nil {
		t.Error(err)
	}
}
