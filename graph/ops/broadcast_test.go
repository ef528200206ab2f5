package ops

import (
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Broadcasts along a middle axis, along the last one and along two axes at
// once, with their summing gradients.
var _ = registerExample(kernelExample{name: "broadcast", build: func(in *exampleInputs) ([]*G.Node, error) {
	a, err := BroadcastTo(in.x(in.n, 1, 3), tensor.Shape{in.n, 4, 3})
	if err != nil {
		return nil, err
	}
	b, err := BroadcastTo(in.x(in.n, 2, 1), tensor.Shape{in.n, 2, 5})
	if err != nil {
		return nil, err
	}
	c, err := BroadcastTo(in.x(in.n, 1, 3, 1), tensor.Shape{in.n, 2, 3, 2})
	return []*G.Node{a, b, c}, err
}})

// TestBroadcast checks BroadcastTo's values and its gradient's sums by
// hand, and its errors.
func TestBroadcast(t *testing.T) {
	for _, dt := range bothDtypes {
		x := convDense(dt, tensor.Shape{2, 1, 3}, []float64{1, 2, 3, 4, 5, 6})
		k := newBroadcastKernel(tensor.Shape{2, 1, 3}, tensor.Shape{2, 2, 3})
		y, err := runKernel(k, x)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := Float64s(y), []float64{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}; !slices.Equal(got, want) {
			t.Errorf("%v forward: %v, want %v", dt, got, want)
		}
		g := convDense(dt, tensor.Shape{2, 2, 3}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
		dx, err := runKernel(broadcastSumKernel{k}, g)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := Float64s(dx), []float64{5, 7, 9, 17, 19, 21}; !slices.Equal(got, want) || !dx.Shape().Eq(tensor.Shape{2, 1, 3}) {
			t.Errorf("%v gradient: %v %v, want %v", dt, dx.Shape(), got, want)
		}
		k2 := newBroadcastKernel(tensor.Shape{1, 2, 1}, tensor.Shape{2, 2, 2})
		y2, err := runKernel(k2, convDense(dt, tensor.Shape{1, 2, 1}, []float64{1, 2}))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := Float64s(y2), []float64{1, 1, 2, 2, 1, 1, 2, 2}; !slices.Equal(got, want) {
			t.Errorf("%v two axes: %v, want %v", dt, got, want)
		}
	}
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float64, 3, G.WithShape(2, 3, 1), G.WithName("x"))
	for _, c := range []struct {
		to   tensor.Shape
		want string
	}{
		{tensor.Shape{2, 3}, "broadcast: shape (2, 3, 1) cannot be broadcast to (2, 3): the ranks differ or are 0"},
		{tensor.Shape{2, 4, 5}, "broadcast: shape (2, 3, 1) cannot be broadcast to (2, 4, 5): axis 1 has size 3, not 1 or 4"},
	} {
		if _, err := BroadcastTo(x, c.to); err == nil || err.Error() != c.want {
			t.Errorf("to %v: %v, want %q", c.to, err, c.want)
		}
	}
	if y, err := BroadcastTo(x, tensor.Shape{2, 3, 1}); err != nil || y != x {
		t.Errorf("same shape: %v, %v; want x itself", y, err)
	}
}
