package ops

import (
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A capture of a tensor and of a scalar.
var _ = registerExample(kernelExample{name: "capture", build: func(in *exampleInputs) ([]*G.Node, error) {
	x := in.x(in.n, 3)
	a, err := Capture(x, tensor.New(tensor.Of(in.dt), tensor.WithShape(in.n, 3)))
	if err != nil {
		return nil, err
	}
	m, err := Mean(x)
	if err != nil {
		return nil, err
	}
	b, err := Capture(m, tensor.New(tensor.Of(in.dt), tensor.WithShape(1)))
	return []*G.Node{a, b, m}, err
}})

// TestCaptureCopies checks that a capture copies its input into its
// destination and that two captures of one node stay two nodes.
func TestCaptureCopies(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		g := G.NewGraph()
		x := G.NewTensor(g, dt, 2, G.WithShape(2, 3), G.WithName("x"))
		d1 := tensor.New(tensor.Of(dt), tensor.WithShape(2, 3))
		d2 := tensor.New(tensor.Of(dt), tensor.WithShape(6))
		c1, err := Capture(x, d1)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := Capture(x, d2)
		if err != nil {
			t.Fatal(err)
		}
		if c1 == c2 {
			t.Fatalf("%v: two captures of one node were merged", dt)
		}
		in := convDense(dt, tensor.Shape{2, 3}, []float64{1, 2, 3, 4, 5, 6})
		for _, c := range []*G.Node{c1, c2} {
			if _, err := c.Op().Do(in); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range []*tensor.Dense{d1, d2} {
			if !slices.Equal(Float64s(d), Float64s(in)) {
				t.Errorf("%v: captured %v, want %v", dt, d, in)
			}
		}
		if _, err := Capture(x, tensor.New(tensor.Of(dt), tensor.WithShape(5))); err == nil {
			t.Errorf("%v: a destination of the wrong size accepted", dt)
		}
	}
}
