package graph_test

import (
	"strings"
	"testing"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
)

func TestInputSpecCheck(t *testing.T) {
	for _, c := range []struct {
		spec graph.InputSpec
		in   graph.Shape
		want string // "" for no error
	}{
		{graph.InputSpec{}, graph.Shape{}, ""},
		{graph.InputSpec{NDim: 3}, graph.Shape{2, 3}, ""},
		{graph.InputSpec{NDim: 3}, graph.Shape{2}, "expected ndim=3, found ndim=2"},
		{graph.InputSpec{NDim: 3, Layout: "batch, time, features"}, graph.Shape{2, 3, 4},
			"expected ndim=3 (batch, time, features), found ndim=4"},
		{graph.InputSpec{NDim: 4, RankHints: map[int]string{3: "add a channel axis"}}, graph.Shape{28, 28},
			"expected ndim=4, found ndim=3; add a channel axis"},
		{graph.InputSpec{NDim: 4, RankHints: map[int]string{3: "add a channel axis"}}, graph.Shape{1, 28, 28, 1},
			"expected ndim=4, found ndim=5"},
		{graph.InputSpec{MinNDim: 2, Layout: "batch and features"}, graph.Shape{}, "expected min_ndim=2 (batch and features), found ndim=1"},
		{graph.InputSpec{MinNDim: 2}, graph.Shape{2, 3, 4}, ""},
		{graph.InputSpec{MaxNDim: 3}, graph.Shape{2, 3, 4}, "expected max_ndim=3, found ndim=4"},
		{graph.InputSpec{Axes: map[int]int{-1: 4}}, graph.Shape{3, 4}, ""},
		{graph.InputSpec{Axes: map[int]int{-1: 4}}, graph.Shape{5},
			"expected axis -1 of input shape to have value 4 but got shape (None, 5)"},
		{graph.InputSpec{Axes: map[int]int{1: 3}}, graph.Shape{3, 4}, ""},
		{graph.InputSpec{Axes: map[int]int{2: 3}}, graph.Shape{3, 4},
			"expected axis 2 of input shape to have value 3 but got shape (None, 3, 4)"},
		// The batch axis is never checked, by either index.
		{graph.InputSpec{Axes: map[int]int{0: 7, -3: 7}}, graph.Shape{3, 4}, ""},
		// An axis the input lacks is a mismatch; several axes are checked in order.
		{graph.InputSpec{Axes: map[int]int{3: 2}}, graph.Shape{4}, "expected axis 3 of input shape to have value 2"},
		{graph.InputSpec{Axes: map[int]int{2: 9, 1: 8}}, graph.Shape{1, 1}, "expected axis 1 of input shape to have value 8"},
	} {
		err := c.spec.Check(c.in)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v on %s: %v", c.spec, c.in, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v on %s: error %v, want %q", c.spec, c.in, err, c.want)
		}
	}
}

// specLayer is a weightless layer that declares an input spec and counts
// its builds.
type specLayer struct {
	graph.Base
	builds int
}

func (l *specLayer) Build(in []graph.Shape) ([]graph.Shape, error) {
	l.builds++
	return in, nil
}

func (l *specLayer) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) { return in, nil }

// TestApplyChecksSpecsAndMarksBuilt: Apply reports a configuration error
// first, then a spec mismatch (naming a later input), without calling
// Build; a successful Build marks even a weightless layer built.
func TestApplyChecksSpecsAndMarksBuilt(t *testing.T) {
	l := &specLayer{Base: graph.NewBase("Spec", "spec")}
	l.SetInputSpec(graph.InputSpec{NDim: 3}, graph.InputSpec{Axes: map[int]int{-1: 2}})
	if got := len(l.InputSpec()); got != 2 {
		t.Fatalf("%d specs", got)
	}
	for _, c := range []struct {
		in   []*graph.Tensor
		want string
	}{
		{[]*graph.Tensor{graph.Input(4)}, "layer spec (Spec): expected ndim=3, found ndim=2 (input shape (None, 4))"},
		{[]*graph.Tensor{graph.Input(4, 5), graph.Input(3)}, "layer spec (Spec): input 1: expected axis -1 of input shape to have value 2"},
	} {
		if err := graph.Apply(l, c.in...)[0].Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	if l.builds != 0 || l.Built() {
		t.Fatalf("builds %d, built %v after mismatches", l.builds, l.Built())
	}
	// Inputs past the last spec are not checked.
	if err := graph.Apply(l, graph.Input(4, 5), graph.Input(2), graph.Input(9))[0].Err(); err != nil {
		t.Fatal(err)
	}
	if l.builds != 1 || !l.Built() || len(l.Weights()) != 0 {
		t.Fatalf("builds %d, built %v, %d weights", l.builds, l.Built(), len(l.Weights()))
	}
	bad := &specLayer{Base: graph.NewBase("Spec", "bad")}
	bad.SetInputSpec(graph.InputSpec{NDim: 3})
	bad.Fail(errors.New("units must be positive"))
	bad.Fail(errors.New("a later error"))
	if err := graph.Apply1(bad, graph.Input(4)).Err(); err == nil || !strings.Contains(err.Error(), "layer bad (Spec): units must be positive") {
		t.Fatalf("configuration error: %v", err)
	}
	if _, err := graph.Build(bad, []graph.Shape{{4, 5}}); err == nil || bad.Built() || bad.builds != 0 {
		t.Fatalf("Build of a failed layer: %v, built %v, builds %d", err, bad.Built(), bad.builds)
	}
}
