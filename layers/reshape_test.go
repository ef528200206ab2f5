package layers

import (
	"testing"

	"github.com/kerago/kerago/graph"
)

// iota returns 0.5, 1.5, 2.5, … (n values).
func iota(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i) + 0.5
	}
	return v
}

// TestFlatten: output shapes (tf.keras semantics, rank-1 and rank-2 inputs
// included) and row-major order of the values.
func TestFlatten(t *testing.T) {
	cases := []struct {
		in, want graph.Shape
	}{
		{graph.Shape{2, 3, 4}, graph.Shape{24}},
		{graph.Shape{4, 1}, graph.Shape{4}},
		{graph.Shape{5}, graph.Shape{5}},
		{graph.Shape{}, graph.Shape{1}},
	}
	for _, c := range cases {
		for _, dt := range dtypes {
			in := graph.Input(c.in...)
			out := NewFlatten().Apply(in)
			if out.Err() != nil {
				t.Fatalf("Flatten on %s: %v", c.in, out.Err())
			}
			if !out.Shape().Equal(c.want) {
				t.Fatalf("Flatten on %s gives %s, want %s", c.in, out.Shape(), c.want)
			}
			// Row-major: the values keep their order.
			x := iota(3 * c.in.Size())
			net := newNet(t, in, out, dt, 1)
			got, _ := runOnce(t, net, graph.ProgramSpec{Batch: 3}, x)
			if err := closeTo(got, x, tol{}); err != nil {
				t.Errorf("Flatten on %s %v: %v", c.in, dt, err)
			}
		}
	}
}

// TestReshape: docs/SEMANTICS.md §24.16 and the values' row-major order.
func TestReshape(t *testing.T) {
	out := NewReshape([]int{-1, 2, 2}).Apply(graph.Input(12))
	if out.Err() != nil || !out.Shape().Equal(graph.Shape{3, 2, 2}) {
		t.Fatalf("(None,12) reshaped to (-1,2,2): %s, %v; want (None, 3, 2, 2)", out.Shape(), out.Err())
	}
	cases := []struct {
		in     graph.Shape
		target []int
		want   graph.Shape
	}{
		{graph.Shape{12}, []int{-1, 2, 2}, graph.Shape{3, 2, 2}},
		{graph.Shape{2, 6}, []int{3, 4}, graph.Shape{3, 4}},
		{graph.Shape{2, 3, 2}, []int{-1}, graph.Shape{12}},
		{graph.Shape{6}, []int{6}, graph.Shape{6}},
		{graph.Shape{4}, []int{2, -1, 1}, graph.Shape{2, 2, 1}},
	}
	for _, c := range cases {
		for _, dt := range dtypes {
			in := graph.Input(c.in...)
			r := NewReshape(c.target)
			out := r.Apply(in)
			if out.Err() != nil {
				t.Fatalf("%s → %v: %v", c.in, c.target, out.Err())
			}
			if !out.Shape().Equal(c.want) {
				t.Fatalf("%s → %v gives %s, want %s", c.in, c.target, out.Shape(), c.want)
			}
			x := iota(2 * c.in.Size())
			net := newNet(t, in, out, dt, 1)
			got, _ := runOnce(t, net, graph.ProgramSpec{Batch: 2}, x)
			if err := closeTo(got, x, tol{}); err != nil {
				t.Errorf("%s → %v %v: %v", c.in, c.target, dt, err)
			}
			if tg := r.TargetShape(); len(tg) != len(c.target) {
				t.Errorf("TargetShape %v", tg)
			}
		}
	}
}

// TestFlattenOrderThroughDense: a Dense after Flatten sees the elements in
// C order: kernel row k multiplies element k = (i·cols + j).
func TestFlattenOrderThroughDense(t *testing.T) {
	for _, dt := range dtypes {
		in := graph.Input(2, 3)
		d := NewDense(1, WithoutBias())
		net := newNet(t, in, d.Apply(NewFlatten().Apply(in)), dt, 1)
		k := make([]float64, 6)
		k[4] = 1 // row 1, column 1
		setWeight(t, d.Kernel(), k)
		x := []float64{
			1, 2, 3, 4, 5, 6, // sample 0: [[1,2,3],[4,5,6]]
			7, 8, 9, 10, 11, 12,
		}
		got, _ := runOnce(t, net, graph.ProgramSpec{Batch: 2}, x)
		if err := closeTo(got, []float64{5, 11}, tol{}); err != nil {
			t.Errorf("%v: %v", dt, err)
		}
	}
}
