package ops

import G "gorgonia.org/gorgonia"

// Every reduction over a middle axis, with and without keepDims, and a sum
// over every axis (a scalar).
var _ = registerExample(kernelExample{name: "reduce", build: func(in *exampleInputs) ([]*G.Node, error) {
	x := in.ties(in.n, 4, 5)
	var outs []*G.Node
	for _, kind := range []string{ReduceSum, ReduceMean, ReduceMax, ReduceMin} {
		for _, keep := range []bool{false, true} {
			y, err := Reduce(x, kind, []int{1}, keep)
			if err != nil {
				return nil, err
			}
			outs = append(outs, y)
		}
	}
	all, err := Reduce(x, ReduceSum, nil, false)
	return append(outs, all), err
}})
