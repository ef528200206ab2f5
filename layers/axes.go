package layers

import (
	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
)

// perAxis expands a size option (kernel size, pool size, strides,
// dilation) to one value per spatial axis: none means 1 everywhere, one
// value applies to every axis, otherwise there must be one per axis. Every
// value must be positive; errors name the option (what) and the values.
func perAxis(what string, v []int, n int) ([]int, error) {
	out := make([]int, n)
	switch len(v) {
	case 0:
		for i := range out {
			out[i] = 1
		}
	case 1:
		for i := range out {
			out[i] = v[0]
		}
	case n:
		copy(out, v)
	default:
		if n == 1 {
			return nil, errors.Errorf("%s takes 1 value, got %v", what, v)
		}
		return nil, errors.Errorf("%s takes 1 or %d values, got %v", what, n, v)
	}
	for _, x := range out {
		if x <= 0 {
			return nil, errors.Errorf("%s must be positive, got %v", what, v)
		}
	}
	return out, nil
}

// resolveAxes is perAxis for a layer's constructor: it returns the values
// expanded to n axes or, if they are invalid, records the error on b and
// returns v unchanged.
func resolveAxes(b *graph.Base, what string, v []int, n int) []int {
	out, err := perAxis(what, v, n)
	if err != nil {
		b.Fail(err)
		return v
	}
	return out
}

// fixInputAxis adds a fixed axis size to the layer's first input spec, as a
// Keras layer does once built (Dense: InputSpec(min_ndim=2, axes={-1:
// input_dim})); the next Apply checks it.
func fixInputAxis(b *graph.Base, axis, size int) {
	specs := append([]graph.InputSpec(nil), b.InputSpec()...)
	if len(specs) == 0 {
		specs = make([]graph.InputSpec, 1)
	}
	specs[0].Axes = map[int]int{axis: size}
	b.SetInputSpec(specs...)
}
