package layers

import (
	"testing"

	"github.com/kerago/kerago/graph"
)

// TestExplicitMaskEqualsImplicit checks that a GRU given the mask of its
// tokens explicitly (NotEqual(tokens, 0) through graph.ApplyMasked, as
// Keras's configurations write it) computes what it computes with the mask
// Embedding(mask_zero) carries, and that NotEqual itself marks x ≠ value.
func TestExplicitMaskEqualsImplicit(t *testing.T) {
	tokens := []float64{3, 1, 0, 0, 2, 2, 4, 0}
	build := func(explicit bool) *graph.Network {
		in := graph.Input(4)
		emb := NewEmbedding(5, 3, WithMaskZero(), WithName("emb"))
		gru := NewGRU(2, WithName("gru"))
		x := emb.Apply(in)
		var out *graph.Tensor
		if explicit {
			out = graph.ApplyMasked(gru, NewNotEqual(0).Apply(in), x)[0]
		} else {
			out = gru.Apply(x)
		}
		return newNet(t, in, out, dtypes[1], 3)
	}
	want, _ := runOnce(t, build(false), graph.ProgramSpec{Batch: 2}, tokens)
	got, _ := runOnce(t, build(true), graph.ProgramSpec{Batch: 2}, tokens)
	if err := closeTo(got, want, tolFor(dtypes[1])); err != nil {
		t.Errorf("explicit mask: %v", err)
	}
	in := graph.Input(4)
	got, _ = runOnce(t, newNet(t, in, NewNotEqual(2).Apply(in), dtypes[0], 1), graph.ProgramSpec{Batch: 2}, tokens)
	if err := closeTo(got, []float64{1, 1, 1, 1, 0, 0, 1, 1}, tolFor(dtypes[0])); err != nil {
		t.Errorf("NotEqual(2): %v", err)
	}
	wantErr(t, graph.ApplyMasked(NewGRU(2), in, graph.Input(3, 2))[0], "mask has shape (None, 4), the input (None, 3, 2): want (None, 3)")
}
