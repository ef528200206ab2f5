package ops

import G "gorgonia.org/gorgonia"

// Bias add over the last axis of a 4-D input, and the fused dense node with
// and without bias and relu.
var _ = registerExample(kernelExample{name: "bias and dense", build: func(in *exampleInputs) ([]*G.Node, error) {
	y, err := BiasAdd(in.x(in.n, 7, 9, 5), in.x(5))
	if err != nil {
		return nil, err
	}
	x, k, b := in.x(in.n, 6), in.x(6, 4), in.x(4)
	d1, err := Dense(x, k, b, ActReLU)
	if err != nil {
		return nil, err
	}
	d2, err := Dense(x, k, nil, ActLinear)
	return []*G.Node{y, d1, d2}, err
}})
