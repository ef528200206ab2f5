package ops

import (
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Slices (keeping and dropping the axis), a stack of steps, a time
// reversal and a repeated mask: the pieces of the unrolled recurrent loop.
var _ = registerExample(kernelExample{name: "sequence", build: func(in *exampleInputs) ([]*G.Node, error) {
	x := in.x(in.n, 4, 3)
	a, err := SliceAxis(x, 2, 1, 3, false)
	if err != nil {
		return nil, err
	}
	var steps []*G.Node
	for t := 0; t < 4; t++ {
		s, err := SliceAxis(x, 1, t, t+1, true)
		if err != nil {
			return nil, err
		}
		steps = append(steps, s)
	}
	b, err := StackTime(steps...)
	if err != nil {
		return nil, err
	}
	c, err := ReverseTime(b)
	if err != nil {
		return nil, err
	}
	pad, err := Apply(padKernel{slice: sliceKernel{axis: 1, start: 1, end: 3}, full: tensor.Shape{in.n, 4, 3}}, in.x(in.n, 2, 3))
	if err != nil {
		return nil, err
	}
	m, err := RepeatLast(in.mask(in.n, 4), 3)
	return []*G.Node{a, c, pad, m}, err
}})

// TestSequenceOps checks the values of a slice, a stack, a reversal and a
// repeat on a small tensor.
func TestSequenceOps(t *testing.T) {
	x := convDense(tensor.Float64, tensor.Shape{1, 3, 2}, []float64{1, 2, 3, 4, 5, 6})
	for _, c := range []struct {
		name string
		k    Kernel
		want []float64
	}{
		{"slice", sliceKernel{axis: 1, start: 1, end: 3}, []float64{3, 4, 5, 6}},
		{"slice drop", sliceKernel{axis: 1, start: 2, end: 3, drop: true}, []float64{5, 6}},
		{"reverse", reverseKernel{}, []float64{5, 6, 3, 4, 1, 2}},
		{"repeat", repeatKernel{h: 2}, []float64{1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6}},
	} {
		y, err := runKernel(c.k, x)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := Float64s(y); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	a := convDense(tensor.Float64, tensor.Shape{2, 1}, []float64{1, 2})
	b := convDense(tensor.Float64, tensor.Shape{2, 1}, []float64{3, 4})
	y, err := runKernel(stackKernel{}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := Float64s(y); !slices.Equal(got, []float64{1, 3, 2, 4}) || !y.Shape().Eq(tensor.Shape{2, 2, 1}) {
		t.Errorf("stack: %v %v", y.Shape(), got)
	}
}
