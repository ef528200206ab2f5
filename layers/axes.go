package layers

import "github.com/pkg/errors"

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
