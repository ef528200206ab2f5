package backend_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/backend"
	"github.com/kerago/kerago/layers"
)

var dtypes = []tensor.Dtype{tensor.Float32, tensor.Float64}

// arr is a test input: a full shape and row-major values.
type arr struct {
	shape []int
	vals  []float64
}

// eval builds a graph with the inputs as value nodes of dtype dt, applies
// fn, runs it, and returns the output's values and shape.
func eval(dt tensor.Dtype, fn func(xs []graph.Node) (graph.Node, error), ins ...arr) ([]float64, tensor.Shape, error) {
	g := G.NewGraph()
	xs := make([]graph.Node, len(ins))
	for i, a := range ins {
		var t *tensor.Dense
		if dt == tensor.Float32 {
			v := make([]float32, len(a.vals))
			for j, x := range a.vals {
				v[j] = float32(x)
			}
			t = tensor.New(tensor.WithShape(a.shape...), tensor.WithBacking(v))
		} else {
			t = tensor.New(tensor.WithShape(a.shape...), tensor.WithBacking(append([]float64(nil), a.vals...)))
		}
		xs[i] = G.NewTensor(g, dt, len(a.shape), G.WithShape(a.shape...), G.WithValue(t), G.WithName(fmt.Sprint("x", i)))
	}
	y, err := fn(xs)
	if err != nil {
		return nil, nil, err
	}
	var v G.Value
	G.Read(y, &v)
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		return nil, nil, err
	}
	switch d := v.(type) {
	case *G.F64:
		return []float64{float64(*d)}, tensor.ScalarShape(), nil
	case *G.F32:
		return []float64{float64(*d)}, tensor.ScalarShape(), nil
	case *tensor.Dense:
		return graph.Float64s(d), d.Shape().Clone(), nil
	}
	return nil, nil, fmt.Errorf("unexpected value %T", v)
}

func tolFor(dt tensor.Dtype) (atol, rtol float64) {
	if dt == tensor.Float32 {
		return 1e-6, 1e-5
	}
	return 1e-12, 1e-10
}

func closeTo(got, want []float64, dt tensor.Dtype) error {
	atol, rtol := tolFor(dt)
	if len(got) != len(want) {
		return fmt.Errorf("got %d values %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		if math.IsNaN(got[i]) != math.IsNaN(want[i]) || math.Abs(got[i]-want[i]) > atol+rtol*math.Abs(want[i]) {
			return fmt.Errorf("element %d: got %.10g, want %.10g (got %v)", i, got[i], want[i], got)
		}
	}
	return nil
}

func one(f func(x graph.Node) (graph.Node, error)) func([]graph.Node) (graph.Node, error) {
	return func(xs []graph.Node) (graph.Node, error) { return f(xs[0]) }
}

// m23 is [[1,5,3],[4,2,6]].
var m23 = arr{[]int{2, 3}, []float64{1, 5, 3, 4, 2, 6}}

// c234 counts 0…23 in shape (2,3,4).
var c234 = func() arr {
	v := make([]float64, 24)
	for i := range v {
		v[i] = float64(i)
	}
	return arr{[]int{2, 3, 4}, v}
}()

func softmaxRef(v []float64) []float64 {
	out := make([]float64, len(v))
	s := 0.0
	for i, x := range v {
		out[i] = math.Exp(x)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// forwardCase is one function applied to inputs, with the output's shape
// and values.
type forwardCase struct {
	name  string
	fn    func([]graph.Node) (graph.Node, error)
	in    []arr
	shape []int
	want  []float64
}

// TestForward checks every function's values and output shape, in float32
// and float64.
func TestForward(t *testing.T) {
	for _, cases := range [][]forwardCase{normalizeCases(), reductionCases(), elementwiseCases(), layoutCases(), dotCases()} {
		for _, c := range cases {
			for _, dt := range dtypes {
				checkForward(t, c, dt)
			}
		}
	}
}

// checkForward evaluates c in dtype dt and compares shape and values.
func checkForward(t *testing.T, c forwardCase, dt tensor.Dtype) {
	t.Helper()
	got, shape, err := eval(dt, c.fn, c.in...)
	if err != nil {
		t.Errorf("%s %v: %v", c.name, dt, err)
		return
	}
	if !shape.Eq(tensor.Shape(c.shape)) && !(len(c.shape) == 0 && shape.IsScalar()) {
		t.Errorf("%s %v: shape %v, want %v", c.name, dt, shape, c.shape)
	}
	if err := closeTo(got, c.want, dt); err != nil {
		t.Errorf("%s %v: %v", c.name, dt, err)
	}
}

// normalizeCases are L2Normalize and Softmax along each kind of axis.
func normalizeCases() []forwardCase {
	sm := softmaxRef([]float64{1, 5, 3})
	sm2 := softmaxRef([]float64{4, 2, 6})
	colA, colB, colC := softmaxRef([]float64{1, 4}), softmaxRef([]float64{5, 2}), softmaxRef([]float64{3, 6})
	return []forwardCase{
		{"L2Normalize G1", one(func(x graph.Node) (graph.Node, error) { return backend.L2Normalize(x, -1) }),
			[]arr{{[]int{3, 2}, []float64{3, 4, 0, 0, 1e-7, 0}}}, []int{3, 2}, []float64{0.6, 0.8, 0, 0, 0.1, 0}},
		{"L2Normalize axis 0", one(func(x graph.Node) (graph.Node, error) { return backend.L2Normalize(x, 0) }),
			[]arr{{[]int{2, 2}, []float64{3, 0, 4, -2}}}, []int{2, 2}, []float64{0.6, 0, 0.8, -1}},
		{"Softmax -1", one(func(x graph.Node) (graph.Node, error) { return backend.Softmax(x, -1) }),
			[]arr{m23}, []int{2, 3}, append(append([]float64{}, sm...), sm2...)},
		{"Softmax 0", one(func(x graph.Node) (graph.Node, error) { return backend.Softmax(x, 0) }),
			[]arr{m23}, []int{2, 3}, []float64{colA[0], colB[0], colC[0], colA[1], colB[1], colC[1]}},
	}
}

// reductionCases are Sum, Mean, Max and Min over one axis, several and all, with and
// without keepdims.
func reductionCases() []forwardCase {
	return []forwardCase{
		{"Sum -1", one(func(x graph.Node) (graph.Node, error) { return backend.Sum(x, []int{-1}, false) }),
			[]arr{m23}, []int{2}, []float64{9, 12}},
		{"Sum -1 keep", one(func(x graph.Node) (graph.Node, error) { return backend.Sum(x, []int{-1}, true) }),
			[]arr{m23}, []int{2, 1}, []float64{9, 12}},
		{"Sum all", one(func(x graph.Node) (graph.Node, error) { return backend.Sum(x, nil, false) }),
			[]arr{m23}, []int{}, []float64{21}},
		{"Sum all keep", one(func(x graph.Node) (graph.Node, error) { return backend.Sum(x, nil, true) }),
			[]arr{m23}, []int{1, 1}, []float64{21}},
		{"Sum 3-D axes 0,2", one(func(x graph.Node) (graph.Node, error) { return backend.Sum(x, []int{0, -1}, false) }),
			[]arr{c234}, []int{3}, []float64{0 + 1 + 2 + 3 + 12 + 13 + 14 + 15, 4 + 5 + 6 + 7 + 16 + 17 + 18 + 19, 8 + 9 + 10 + 11 + 20 + 21 + 22 + 23}},
		{"Mean 3-D axis 1 keep", one(func(x graph.Node) (graph.Node, error) { return backend.Mean(x, []int{1}, true) }),
			[]arr{c234}, []int{2, 1, 4}, []float64{4, 5, 6, 7, 16, 17, 18, 19}},
		{"Mean -1", one(func(x graph.Node) (graph.Node, error) { return backend.Mean(x, []int{-1}, false) }),
			[]arr{m23}, []int{2}, []float64{3, 4}},
		{"Max 0", one(func(x graph.Node) (graph.Node, error) { return backend.Max(x, []int{0}, false) }),
			[]arr{m23}, []int{3}, []float64{4, 5, 6}},
		{"Max all", one(func(x graph.Node) (graph.Node, error) { return backend.Max(x, nil, false) }),
			[]arr{m23}, []int{}, []float64{6}},
		{"Min 1", one(func(x graph.Node) (graph.Node, error) { return backend.Min(x, []int{1}, false) }),
			[]arr{m23}, []int{2}, []float64{1, 2}},
		{"Min 3-D axes 1,2 keep", one(func(x graph.Node) (graph.Node, error) { return backend.Min(x, []int{2, 1}, true) }),
			[]arr{c234}, []int{2, 1, 1}, []float64{0, 12}},
	}
}

// elementwiseCases are the element-wise functions.
func elementwiseCases() []forwardCase {
	e := math.Exp
	return []forwardCase{
		{"Square", one(backend.Square), []arr{{[]int{3}, []float64{-2, 0, 3}}}, []int{3}, []float64{4, 0, 9}},
		{"Sqrt", one(backend.Sqrt), []arr{{[]int{3}, []float64{4, 0, -1}}}, []int{3}, []float64{2, 0, 0}},
		{"Exp", one(backend.Exp), []arr{{[]int{3}, []float64{-1, 0, 2}}}, []int{3}, []float64{e(-1), 1, e(2)}},
		{"Log", one(backend.Log), []arr{{[]int{3}, []float64{1, e(2), 0.5}}}, []int{3}, []float64{0, 2, math.Log(0.5)}},
		{"Abs", one(backend.Abs), []arr{{[]int{3}, []float64{-2, 0, 3}}}, []int{3}, []float64{2, 0, 3}},
		{"Clip", one(func(x graph.Node) (graph.Node, error) { return backend.Clip(x, -1, 2) }),
			[]arr{{[]int{4}, []float64{-3, -0.5, 2, 7}}}, []int{4}, []float64{-1, -0.5, 2, 2}},
	}
}

// layoutCases are the functions that move values: Concatenate, Stack, Transpose,
// ExpandDims and Squeeze.
func layoutCases() []forwardCase {
	return []forwardCase{
		{"Concatenate -1", func(xs []graph.Node) (graph.Node, error) { return backend.Concatenate(-1, xs...) },
			[]arr{{[]int{2, 1}, []float64{1, 2}}, {[]int{2, 2}, []float64{3, 4, 5, 6}}}, []int{2, 3}, []float64{1, 3, 4, 2, 5, 6}},
		{"Concatenate 0", func(xs []graph.Node) (graph.Node, error) { return backend.Concatenate(0, xs...) },
			[]arr{{[]int{1, 2}, []float64{1, 2}}, {[]int{2, 2}, []float64{3, 4, 5, 6}}}, []int{3, 2}, []float64{1, 2, 3, 4, 5, 6}},
		{"Stack 1", func(xs []graph.Node) (graph.Node, error) { return backend.Stack(1, xs...) },
			[]arr{{[]int{2, 2}, []float64{1, 2, 3, 4}}, {[]int{2, 2}, []float64{5, 6, 7, 8}}}, []int{2, 2, 2}, []float64{1, 2, 5, 6, 3, 4, 7, 8}},
		{"Stack -1", func(xs []graph.Node) (graph.Node, error) { return backend.Stack(-1, xs...) },
			[]arr{{[]int{2}, []float64{1, 2}}, {[]int{2}, []float64{3, 4}}, {[]int{2}, []float64{5, 6}}}, []int{2, 3}, []float64{1, 3, 5, 2, 4, 6}},
		{"Transpose", one(func(x graph.Node) (graph.Node, error) { return backend.Transpose(x) }),
			[]arr{m23}, []int{3, 2}, []float64{1, 4, 5, 2, 3, 6}},
		{"Transpose 3-D", one(func(x graph.Node) (graph.Node, error) { return backend.Transpose(x, 0, -1, 1) }),
			[]arr{{[]int{1, 2, 3}, []float64{1, 2, 3, 4, 5, 6}}}, []int{1, 3, 2}, []float64{1, 4, 2, 5, 3, 6}},
		{"Transpose identity", one(func(x graph.Node) (graph.Node, error) { return backend.Transpose(x, 0, 1) }),
			[]arr{m23}, []int{2, 3}, m23.vals},
		{"ExpandDims -1", one(func(x graph.Node) (graph.Node, error) { return backend.ExpandDims(x, -1) }),
			[]arr{m23}, []int{2, 3, 1}, m23.vals},
		{"ExpandDims 1", one(func(x graph.Node) (graph.Node, error) { return backend.ExpandDims(x, 1) }),
			[]arr{m23}, []int{2, 1, 3}, m23.vals},
		{"Squeeze", one(func(x graph.Node) (graph.Node, error) { return backend.Squeeze(x, -2) }),
			[]arr{{[]int{3, 1, 2}, []float64{1, 2, 3, 4, 5, 6}}}, []int{3, 2}, []float64{1, 2, 3, 4, 5, 6}},
		{"Concatenate columns", func(xs []graph.Node) (graph.Node, error) { return backend.Concatenate(1, xs...) },
			[]arr{{[]int{2, 1}, []float64{1, 2}}, {[]int{2, 1}, []float64{3, 4}}}, []int{2, 2}, []float64{1, 3, 2, 4}},
		{"Transpose (2,1,3)", one(func(x graph.Node) (graph.Node, error) { return backend.Transpose(x, 2, 0, 1) }),
			[]arr{{[]int{2, 1, 3}, []float64{1, 2, 3, 4, 5, 6}}}, []int{3, 2, 1}, []float64{1, 4, 2, 5, 3, 6}},
		{"Transpose (3,1)", one(func(x graph.Node) (graph.Node, error) { return backend.Transpose(x) }),
			[]arr{{[]int{3, 1}, []float64{1, 2, 3}}}, []int{1, 3}, []float64{1, 2, 3}},
	}
}

// dotCases are Dot between vectors, matrices and 3-D tensors.
func dotCases() []forwardCase {
	return []forwardCase{
		{"Dot 2-D", func(xs []graph.Node) (graph.Node, error) { return backend.Dot(xs[0], xs[1]) },
			[]arr{m23, {[]int{3, 2}, []float64{1, 0, 0, 1, 1, -1}}}, []int{2, 2}, []float64{4, 2, 10, -4}},
		{"Dot 3-D × 2-D", func(xs []graph.Node) (graph.Node, error) { return backend.Dot(xs[0], xs[1]) },
			[]arr{{[]int{2, 1, 3}, m23.vals}, {[]int{3, 1}, []float64{1, 1, 1}}}, []int{2, 1, 1}, []float64{9, 12}},
		{"Dot 2-D × 3-D", func(xs []graph.Node) (graph.Node, error) { return backend.Dot(xs[0], xs[1]) },
			[]arr{m23, {[]int{3, 1, 2}, []float64{1, 0, 0, 1, 1, -1}}}, []int{2, 1, 2}, []float64{4, 2, 10, -4}},
		{"Dot (1,3)·(3,1)", func(xs []graph.Node) (graph.Node, error) { return backend.Dot(xs[0], xs[1]) },
			[]arr{{[]int{1, 3}, []float64{1, 2, 3}}, {[]int{3, 1}, []float64{1, 1, 2}}}, []int{1, 1}, []float64{9}},
		{"Dot vector × matrix", func(xs []graph.Node) (graph.Node, error) { return backend.Dot(xs[0], xs[1]) },
			[]arr{{[]int{2}, []float64{1, 2}}, m23}, []int{3}, []float64{9, 9, 15}},
	}
}

// randomFeed returns n values in ±(0.1…1) from seed; positive makes them
// all positive.
func randomFeed(n int, seed uint64, positive bool) []float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	v := make([]float64, n)
	for i := range v {
		v[i] = 0.1 + 0.9*rng.Float64()
		if !positive && rng.IntN(2) == 0 {
			v[i] = -v[i]
		}
	}
	return v
}

// gradCheck checks fn's gradient with respect to its inputs by finite
// differences in float64, through a Lambda layer.
func gradCheck(t *testing.T, name string, fn layers.LambdaFunc, batch int, positive bool, shapes ...[]int) {
	t.Helper()
	ins := make([]*graph.Tensor, len(shapes))
	feeds := make([][]float64, len(shapes))
	for i, s := range shapes {
		ins[i] = graph.Input(s...)
		feeds[i] = randomFeed(batch*graph.Shape(s).Size(), uint64(10+i), positive)
	}
	out := layers.NewLambdaN(fn).Apply(ins...)
	if out.Err() != nil {
		t.Fatalf("%s: %v", name, out.Err())
	}
	err := graph.GradCheck{Inputs: ins, Outputs: []*graph.Tensor{out}, Batch: batch, Feeds: feeds, CheckInputs: true, Seed: 3}.Run()
	if err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

func lf(f func(x graph.Node) (graph.Node, error)) layers.LambdaFunc {
	return func(_ *graph.Context, in []graph.Node) (graph.Node, error) { return f(in[0]) }
}

// timesAll is x times reduce(x) over all its axes, a scalar.
func timesAll(reduce func(x graph.Node, axes []int, keepDims bool) (graph.Node, error)) layers.LambdaFunc {
	return lf(func(x graph.Node) (graph.Node, error) {
		s, err := reduce(x, nil, false)
		if err != nil {
			return nil, err
		}
		return G.Mul(x, s)
	})
}

// TestGradients checks every function's gradient in float64.
func TestGradients(t *testing.T) {
	type c struct {
		name     string
		fn       layers.LambdaFunc
		positive bool
		shapes   [][]int
	}
	cases := []c{
		{"L2Normalize -1", lf(func(x graph.Node) (graph.Node, error) { return backend.L2Normalize(x, -1) }), false, [][]int{{3, 4}}},
		{"L2Normalize 1", lf(func(x graph.Node) (graph.Node, error) { return backend.L2Normalize(x, 1) }), false, [][]int{{3, 4}}},
		{"L2Normalize 0 (batch)", lf(func(x graph.Node) (graph.Node, error) { return backend.L2Normalize(x, 0) }), false, [][]int{{4}}},
		{"Softmax -1", lf(func(x graph.Node) (graph.Node, error) { return backend.Softmax(x, -1) }), false, [][]int{{2, 5}}},
		{"Softmax 1", lf(func(x graph.Node) (graph.Node, error) { return backend.Softmax(x, 1) }), false, [][]int{{3, 2}}},
		{"Sum", lf(func(x graph.Node) (graph.Node, error) { return backend.Sum(x, []int{-1}, false) }), false, [][]int{{3, 4}}},
		{"Sum keep", lf(func(x graph.Node) (graph.Node, error) { return backend.Sum(x, []int{1}, true) }), false, [][]int{{3, 4}}},
		{"Mean", lf(func(x graph.Node) (graph.Node, error) { return backend.Mean(x, []int{1, 2}, false) }), false, [][]int{{3, 4}}},
		{"Max", lf(func(x graph.Node) (graph.Node, error) { return backend.Max(x, []int{-1}, false) }), false, [][]int{{3, 4}}},
		{"Min keep", lf(func(x graph.Node) (graph.Node, error) { return backend.Min(x, []int{1}, true) }), false, [][]int{{3, 4}}},
		{"Sum all (scalar) × x", timesAll(backend.Sum), false, [][]int{{3}}},
		{"Max all (scalar) × x", timesAll(backend.Max), false, [][]int{{3}}},
		{"Square", lf(backend.Square), false, [][]int{{5}}},
		{"Sqrt", lf(backend.Sqrt), true, [][]int{{5}}},
		{"Exp", lf(backend.Exp), false, [][]int{{5}}},
		{"Log", lf(backend.Log), true, [][]int{{5}}},
		{"Abs", lf(backend.Abs), false, [][]int{{5}}},
		{"Clip", lf(func(x graph.Node) (graph.Node, error) { return backend.Clip(x, -0.45, 0.55) }), false, [][]int{{6}}},
		{"Concatenate", func(_ *graph.Context, in []graph.Node) (graph.Node, error) { return backend.Concatenate(-1, in...) }, false, [][]int{{2, 1}, {2, 3}}},
		{"Concatenate axis 1", func(_ *graph.Context, in []graph.Node) (graph.Node, error) { return backend.Concatenate(1, in...) }, false, [][]int{{1, 3}, {2, 3}}},
		{"Concatenate columns", func(_ *graph.Context, in []graph.Node) (graph.Node, error) { return backend.Concatenate(-1, in...) }, false, [][]int{{1}, {1}, {2}}},
		{"Stack", func(_ *graph.Context, in []graph.Node) (graph.Node, error) { return backend.Stack(1, in...) }, false, [][]int{{3}, {3}}},
		{"Transpose", lf(func(x graph.Node) (graph.Node, error) { return backend.Transpose(x, 0, 2, 1) }), false, [][]int{{2, 3}}},
		{"Transpose batch last", lf(func(x graph.Node) (graph.Node, error) {
			y, err := backend.Transpose(x, 1, 0)
			if err != nil {
				return nil, err
			}
			return backend.Transpose(y, 1, 0)
		}), false, [][]int{{3}}},
		{"ExpandDims", lf(func(x graph.Node) (graph.Node, error) { return backend.ExpandDims(x, 1) }), false, [][]int{{3}}},
		{"Squeeze", lf(func(x graph.Node) (graph.Node, error) { return backend.Squeeze(x, 1) }), false, [][]int{{1, 3}}},
		{"Dot", func(_ *graph.Context, in []graph.Node) (graph.Node, error) {
			// (N, 2, 3) · (3, 4) through a weight-free constant-like second input
			// reshaped from the batch: use the second input's first sample.
			w, err := G.Slice(in[1], G.S(0))
			if err != nil {
				return nil, err
			}
			return backend.Dot(in[0], w)
		}, false, [][]int{{2, 3}, {3, 4}}},
		{"L2Normalize of a Dot", func(_ *graph.Context, in []graph.Node) (graph.Node, error) {
			w, err := G.Slice(in[1], G.S(0))
			if err != nil {
				return nil, err
			}
			y, err := backend.Dot(in[0], w)
			if err != nil {
				return nil, err
			}
			return backend.L2Normalize(y, -1)
		}, false, [][]int{{3}, {3, 2}}},
	}
	for _, tc := range cases {
		gradCheck(t, tc.name, tc.fn, 3, tc.positive, tc.shapes...)
	}
}

// TestL2NormalizeClampGradient checks the gradient where the clamp is
// active (a tiny vector): the norm is then the constant 1e-6.
func TestL2NormalizeClampGradient(t *testing.T) {
	in := graph.Input(2)
	out := layers.NewLambda(func(_ *graph.Context, x graph.Node) (graph.Node, error) {
		return backend.L2Normalize(x, -1)
	}).Apply(in)
	err := graph.GradCheck{Inputs: []*graph.Tensor{in}, Outputs: []*graph.Tensor{out}, Batch: 2,
		Feeds: [][]float64{{1e-8, -2e-8, 3, 4}}, CheckInputs: true, Seed: 1, Eps: 1e-10, RTol: 1e-3}.Run()
	if err != nil {
		t.Error(err)
	}
}

// TestErrors checks the messages of bad arguments.
func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		fn   func(xs []graph.Node) (graph.Node, error)
		in   []arr
		want string
	}{
		{"L2Normalize axis", one(func(x graph.Node) (graph.Node, error) { return backend.L2Normalize(x, 2) }), []arr{m23},
			"backend.L2Normalize: axis 2 does not exist for shape (2, 3) (rank 2, so axes are -2…1)"},
		{"Softmax axis", one(func(x graph.Node) (graph.Node, error) { return backend.Softmax(x, -3) }), []arr{m23},
			"backend.Softmax: axis -3 does not exist"},
		{"Sum axis", one(func(x graph.Node) (graph.Node, error) { return backend.Sum(x, []int{5}, false) }), []arr{m23},
			"backend.Sum: axis 5 does not exist"},
		{"Mean twice", one(func(x graph.Node) (graph.Node, error) { return backend.Mean(x, []int{1, -1}, false) }), []arr{m23},
			"backend.Mean: axis -1 given twice in [1 -1]"},
		{"Max axis", one(func(x graph.Node) (graph.Node, error) { return backend.Max(x, []int{-3}, false) }), []arr{m23},
			"backend.Max: axis -3 does not exist"},
		{"Min axis", one(func(x graph.Node) (graph.Node, error) { return backend.Min(x, []int{2}, true) }), []arr{m23},
			"backend.Min: axis 2 does not exist"},
		{"Clip bounds", one(func(x graph.Node) (graph.Node, error) { return backend.Clip(x, 1, 0) }), []arr{m23},
			"backend.Clip: the bounds must satisfy min ≤ max, got min 1, max 0"},
		{"Concatenate shapes", func(xs []graph.Node) (graph.Node, error) { return backend.Concatenate(-1, xs...) },
			[]arr{m23, {[]int{3, 1}, []float64{1, 2, 3}}}, "backend.Concatenate: shapes (2, 3) and (3, 1) differ on an axis other than -1"},
		{"Concatenate axis", func(xs []graph.Node) (graph.Node, error) { return backend.Concatenate(2, xs...) },
			[]arr{m23, m23}, "backend.Concatenate: axis 2 does not exist"},
		{"Concatenate none", func(xs []graph.Node) (graph.Node, error) { return backend.Concatenate(0) }, []arr{m23},
			"backend.Concatenate: no tensors given"},
		{"Stack shapes", func(xs []graph.Node) (graph.Node, error) { return backend.Stack(0, xs...) },
			[]arr{m23, {[]int{3, 2}, m23.vals}}, "backend.Stack: tensor 1 is (3, 2) float64, tensor 0 (2, 3) float64"},
		{"Stack axis", func(xs []graph.Node) (graph.Node, error) { return backend.Stack(3, xs...) },
			[]arr{m23, m23}, "backend.Stack: axis 3 does not exist"},
		{"Transpose perm", one(func(x graph.Node) (graph.Node, error) { return backend.Transpose(x, 0, 0) }), []arr{m23},
			"backend.Transpose: [0 0] is not a permutation (axis 0 repeats)"},
		{"Transpose length", one(func(x graph.Node) (graph.Node, error) { return backend.Transpose(x, 0) }), []arr{m23},
			"backend.Transpose: permutation [0] has 1 entries, x has shape (2, 3) (rank 2)"},
		{"Transpose axis", one(func(x graph.Node) (graph.Node, error) { return backend.Transpose(x, 0, 2) }), []arr{m23},
			"backend.Transpose: axis 2 does not exist"},
		{"ExpandDims axis", one(func(x graph.Node) (graph.Node, error) { return backend.ExpandDims(x, 4) }), []arr{m23},
			"backend.ExpandDims: axis 4 does not exist for shape (2, 3) (rank 3"},
		{"Squeeze size", one(func(x graph.Node) (graph.Node, error) { return backend.Squeeze(x, 1) }), []arr{m23},
			"backend.Squeeze: axis 1 of shape (2, 3) has size 3, not 1"},
		{"Squeeze axis", one(func(x graph.Node) (graph.Node, error) { return backend.Squeeze(x, -3) }), []arr{m23},
			"backend.Squeeze: axis -3 does not exist"},
		{"Dot shapes", func(xs []graph.Node) (graph.Node, error) { return backend.Dot(xs[0], xs[1]) }, []arr{m23, m23},
			"backend.Dot: the last axis of a (2, 3) (3) must equal the first axis of b (2, 3) (2)"},
		{"Dot vectors", func(xs []graph.Node) (graph.Node, error) { return backend.Dot(xs[0], xs[1]) },
			[]arr{{[]int{2}, []float64{1, 2}}, {[]int{2}, []float64{1, 2}}}, "backend.Dot: two vectors"},
		{"nil", func([]graph.Node) (graph.Node, error) { return backend.Exp(nil) }, []arr{m23}, "backend.Exp: nil node"},
	}
	for _, c := range cases {
		_, _, err := eval(tensor.Float64, c.fn, c.in...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
