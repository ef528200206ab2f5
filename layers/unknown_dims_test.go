package layers

import (
	"testing"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// TestUnknownDimShapes checks the output shapes layers infer for inputs
// with None (graph.Unknown) axes, as Keras's compute_output_shape: sizes
// computed from a None axis are None, the others are kept.
func TestUnknownDimShapes(t *testing.T) {
	u := graph.Unknown
	double := func(_ *graph.Context, x graph.Node) (graph.Node, error) { return ops.Concat(1, x, x) }
	cases := []struct {
		name  string
		in    []graph.Shape
		layer graph.Layer
		want  string
	}{
		{"Conv1D same", []graph.Shape{{u, 2}}, NewConv1D(3, 3, WithPadding("same")), "(None, None, 3)"},
		{"MaxPooling1D", []graph.Shape{{u, 2}}, NewMaxPooling1D(2), "(None, None, 2)"},
		{"GlobalMaxPooling1D", []graph.Shape{{u, 2}}, NewGlobalMaxPooling1D(), "(None, 2)"},
		{"Flatten", []graph.Shape{{u, 2}}, NewFlatten(), "(None, None)"},
		{"Reshape with -1", []graph.Shape{{u, 4}}, NewReshape([]int{-1, 2}), "(None, None, 2)"},
		{"Concatenate on time", []graph.Shape{{u, 2}, {3, 2}}, NewConcatenate(WithAxis(1)), "(None, None, 2)"},
		{"Concatenate on features", []graph.Shape{{u, 2}, {u, 3}}, NewConcatenate(), "(None, None, 5)"},
		{"Add", []graph.Shape{{u, 2}, {u, 2}}, NewAdd(), "(None, None, 2)"},
		{"Lambda doubling time", []graph.Shape{{u, 2}}, NewLambda(double), "(None, None, 2)"},
	}
	for _, c := range cases {
		ins := make([]*graph.Tensor, len(c.in))
		for i, s := range c.in {
			ins[i] = graph.Input(s...)
		}
		out := graph.Apply1(c.layer, ins...)
		if out.Err() != nil {
			t.Errorf("%s: %v", c.name, out.Err())
			continue
		}
		if got := out.Shape().String(); got != c.want {
			t.Errorf("%s: output shape %s, want %s", c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		name  string
		layer graph.Layer
	}{{"Dense", NewDense(2)}, {"Conv1D", NewConv1D(2, 1)}, {"GRU", NewGRU(2)}} {
		if err := graph.Apply1(c.layer, graph.Input(3, u)).Err(); err == nil {
			t.Errorf("%s on (None, 3, None): want an error, the weights depend on the None axis", c.name)
		}
	}
}
