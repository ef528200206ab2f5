package ops

import G "gorgonia.org/gorgonia"

// Softmax along the last and a middle axis, and l2-normalization (one
// vector all zeros, so that the clamp is active).
var _ = registerExample(kernelExample{name: "softmax and l2normalize", build: func(in *exampleInputs) ([]*G.Node, error) {
	x := in.x(in.n, 4, 5)
	a, err := SoftmaxLast(x)
	if err != nil {
		return nil, err
	}
	b, err := Softmax(x, 1)
	if err != nil {
		return nil, err
	}
	c, err := L2Normalize(x, 1, 1e-12)
	if err != nil {
		return nil, err
	}
	zeros := in.input(make([]float64, in.n*3), []int{in.n, 3}, true)
	d, err := L2Normalize(zeros, 1, 1e-12)
	return []*G.Node{a, b, c, d}, err
}})
