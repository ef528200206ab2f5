package ops

import G "gorgonia.org/gorgonia"

// Concatenation along a middle axis and along the last one, with an axis
// of size 1.
var _ = registerExample(kernelExample{name: "concat", build: func(in *exampleInputs) ([]*G.Node, error) {
	a, err := Concat(1, in.x(in.n, 2, 3), in.x(in.n, 1, 3))
	if err != nil {
		return nil, err
	}
	b, err := Concat(2, in.x(in.n, 2, 3), in.x(in.n, 2, 1))
	return []*G.Node{a, b}, err
}})
