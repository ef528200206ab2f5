package graph_test

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
)

// maskFromZeros outputs its input and the mask x != 0 (like Embedding(mask_zero)).
type maskFromZeros struct{ graph.Base }

func (l *maskFromZeros) Build(in []graph.Shape) ([]graph.Shape, error) { return in, nil }
func (l *maskFromZeros) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) {
	return in, nil
}
func (l *maskFromZeros) OutputMasked([]bool) []bool { return []bool{true} }
func (l *maskFromZeros) ComputeMask(ctx *graph.Context, in []graph.Node, _ []graph.Node) ([]graph.Node, error) {
	zero := ctx.Scalar(0)
	m, err := G.Ne(in[0], zero, true)
	return []graph.Node{m}, err
}

// applyMask multiplies its (N, T, 1) input by its mask and consumes it.
type applyMask struct {
	graph.Base
	graph.ConsumeMask
}

func (l *applyMask) Build(in []graph.Shape) ([]graph.Shape, error) { return in, nil }
func (l *applyMask) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	m := ctx.InputMask(0)
	if m == nil {
		return in, nil
	}
	y, err := G.HadamardProd(in[0], m)
	return []graph.Node{y}, err
}

func TestMasksFlowThroughPassingLayers(t *testing.T) {
	in := graph.Input(4, 1)
	x := graph.Apply1(&maskFromZeros{Base: graph.NewBase("MaskFromZeros", "")}, in)
	if !x.Masked() {
		t.Fatal("producer output not masked")
	}
	d := layers.NewDense(1, layers.WithoutBias())
	y := d.Apply(x)
	if !y.Masked() {
		t.Fatal("Dense did not pass the mask on")
	}
	out := graph.Apply1(&applyMask{Base: graph.NewBase("ApplyMask", "")}, y)
	if out.Masked() {
		t.Fatal("consumer output still masked")
	}
	net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	net.Initialise(tensor.Float64, 1)
	d.Kernel().SetFloat64s([]float64{2})
	p, err := net.RunOnce(graph.ProgramSpec{Batch: 1}, [][]float64{{3, 0, 5, 0}})
	if err != nil {
		t.Fatal(err)
	}
	got := graph.Float64s(p.Outputs()[0])
	want := []float64{6, 0, 10, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("masked output %v, want %v", got, want)
		}
	}
	// A layer that does not support masking refuses a masked input.
	bad := layers.NewFlatten(layers.WithName("flat")).Apply(x)
	if err := bad.Err(); err == nil || !strings.Contains(err.Error(), "flat (Flatten): does not support masking") {
		t.Fatalf("Flatten on a masked tensor: %v", err)
	}
}

// runningMean keeps the batch mean of its input as non-trainable state.
type runningMean struct {
	graph.Base
	state *graph.Weight
}

func (l *runningMean) Build(in []graph.Shape) ([]graph.Shape, error) {
	if l.state == nil {
		l.state = l.AddWeight("mean", graph.Shape{in[0][0]}, layers.Zeros(), nil, false)
	}
	return in, nil
}

func (l *runningMean) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	m, err := G.Mean(in[0], 0)
	if err != nil {
		return nil, err
	}
	if err := ctx.AddUpdate(l.state, m); err != nil {
		return nil, err
	}
	return in, nil
}

func TestStateUpdatesApplyOnlyInTraining(t *testing.T) {
	in := graph.Input(2)
	rm := &runningMean{Base: graph.NewBase("RunningMean", "")}
	x := graph.Apply1(rm, in)
	out := layers.NewDense(1).Apply(x)
	net, _ := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
	net.Initialise(tensor.Float64, 1)
	feeds := [][]float64{{1, 2, 3, 6}}
	inf, err := net.RunOnce(graph.ProgramSpec{Batch: 2}, feeds)
	if err != nil {
		t.Fatal(err)
	}
	inf.ApplyUpdates()
	if s := rm.state.Float64s(); s[0] != 0 || s[1] != 0 {
		t.Fatalf("inference changed state: %v", s)
	}
	head := func(ctx *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
		c, err := G.Sum(outs[0])
		return c, nil, err
	}
	tr, err := net.RunOnce(graph.ProgramSpec{Training: true, Batch: 2, Head: head}, feeds)
	if err != nil {
		t.Fatal(err)
	}
	if s := rm.state.Float64s(); s[0] != 0 {
		t.Fatalf("state changed before ApplyUpdates: %v", s)
	}
	tr.ApplyUpdates()
	if s := rm.state.Float64s(); s[0] != 2 || s[1] != 4 {
		t.Fatalf("state after update %v, want [2 4]", s)
	}
	if len(tr.Params()) != 2 {
		t.Fatalf("non-trainable state among params: %d params", len(tr.Params()))
	}
}
