package ops

import (
	"math"

	G "gorgonia.org/gorgonia"
)

// Element-wise functions, with and without slice kernels, on a tensor and
// on a scalar.
var _ = registerExample(kernelExample{name: "unary", build: func(in *exampleInputs) ([]*G.Node, error) {
	sq := &UnaryFunc{Name: "square", F: func(x float64) float64 { return x * x }, DF: func(x, _ float64) float64 { return 2 * x }}
	relu := &UnaryFunc{Name: "relu",
		F: func(x float64) float64 { return math.Max(x, 0) },
		DF: func(x, _ float64) float64 {
			if x > 0 {
				return 1
			}
			return 0
		},
		Map32: func(x, out []float32) {
			for i, v := range x {
				out[i] = max(v, 0)
			}
		},
		Grad32: func(x, _, g, out []float32) {
			for i, v := range x {
				out[i] = 0
				if v > 0 {
					out[i] = g[i]
				}
			}
		},
	}
	x := in.x(in.n, 7, 9, 5)
	a, err := sq.Apply(x)
	if err != nil {
		return nil, err
	}
	b, err := relu.Apply(x)
	if err != nil {
		return nil, err
	}
	m, err := Mean(x)
	if err != nil {
		return nil, err
	}
	c, err := sq.Apply(m)
	return []*G.Node{a, b, c}, err
}})
