package layers

import (
	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// resolveAxes is ops.PerAxis for a layer's constructor: it returns the values
// expanded to n axes or, if they are invalid, records the error on b and
// returns v unchanged.
func resolveAxes(b *graph.Base, what string, v []int, n int) []int {
	out, err := ops.PerAxis(what, v, n)
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
