package graph_test

import (
	"math"
	"strings"
	"testing"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
	"github.com/kerago/kerago/layers"
)

// unaryLayer applies an element-wise function: a minimal Layer for tests.
type unaryLayer struct {
	graph.Base
	f     *ops.UnaryFunc
	panic bool
}

func (u *unaryLayer) Build(in []graph.Shape) ([]graph.Shape, error) {
	if u.panic {
		panic("boom")
	}
	return in, nil
}

func (u *unaryLayer) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) {
	y, err := u.f.Apply(in[0])
	return []graph.Node{y}, err
}

func cube(wrong bool) *ops.UnaryFunc {
	name := "cube"
	df := func(x, _ float64) float64 { return 3 * x * x }
	if wrong {
		name = "cube_wrong"
		df = func(x, _ float64) float64 { return 2.9 * x * x }
	}
	return &ops.UnaryFunc{Name: name, F: func(x float64) float64 { return x * x * x }, DF: df}
}

func TestShapeString(t *testing.T) {
	if s := (graph.Shape{28, 28, 1}).String(); s != "(None, 28, 28, 1)" {
		t.Fatal(s)
	}
	if s := (graph.Shape{}).String(); s != "(None,)" {
		t.Fatal(s)
	}
	if n := (graph.Shape{2, 3, 4}).Size(); n != 24 {
		t.Fatal(n)
	}
}

func TestDefaultNames(t *testing.T) {
	for class, prefix := range map[string]string{
		"Dense": "dense", "BatchNormalization": "batch_normalization", "Conv2D": "conv2d",
		"GlobalAveragePooling2D": "global_average_pooling2d", "LSTM": "lstm", "InputLayer": "input",
	} {
		a, b := graph.NewBase(class, ""), graph.NewBase(class, "")
		if !strings.HasPrefix(a.Name(), prefix) || a.Name() == b.Name() {
			t.Fatalf("%s: names %q, %q (want prefix %q, distinct)", class, a.Name(), b.Name(), prefix)
		}
	}
	if b := graph.NewBase("Dense", "mine"); b.Name() != "mine" {
		t.Fatal(b.Name())
	}
}

func TestGradCheckCatchesAWrongGradient(t *testing.T) {
	run := func(wrong bool) error {
		in := graph.Input(3)
		x := layers.NewDense(3).Apply(in)
		out := graph.Apply1(&unaryLayer{Base: graph.NewBase("Cube", ""), f: cube(wrong)}, x)
		return graph.GradCheck{Inputs: []*graph.Tensor{in}, Outputs: []*graph.Tensor{out}, Batch: 2,
			Feeds: [][]float64{{0.3, -0.5, 0.7, 1.1, -0.2, 0.4}}, CheckInputs: true, Seed: 1}.Run()
	}
	if err := run(false); err != nil {
		t.Fatalf("correct derivative rejected: %v", err)
	}
	err := run(true)
	if err == nil || !strings.Contains(err.Error(), "disagree") {
		t.Fatalf("wrong derivative accepted: %v", err)
	}
}

func TestNetworkErrors(t *testing.T) {
	a, b := graph.Input(2), graph.Input(2)
	out := layers.NewDense(1).Apply(b)
	if _, err := graph.NewNetwork([]*graph.Tensor{a}, []*graph.Tensor{out}); err == nil || !strings.Contains(err.Error(), "not among the model's inputs") {
		t.Fatalf("missing input: %v", err)
	}
	if _, err := graph.NewNetwork(nil, []*graph.Tensor{out}); err == nil {
		t.Fatal("no inputs accepted")
	}
	if _, err := graph.NewNetwork([]*graph.Tensor{out}, []*graph.Tensor{out}); err == nil || !strings.Contains(err.Error(), "not an Input") {
		t.Fatalf("non-input as input: %v", err)
	}
	bad := graph.Input(0, 3)
	if err := bad.Err(); err == nil || !strings.Contains(err.Error(), "positive") {
		t.Fatalf("zero dim: %v", err)
	}
	// A panic in Build becomes the tensor's error, naming the layer.
	p := graph.Apply1(&unaryLayer{Base: graph.NewBase("Cube", "exploding"), panic: true}, graph.Input(2))
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "exploding") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panic in Build: %v", err)
	}
	// Errors flow downstream unchanged.
	down := layers.NewDense(2).Apply(p)
	if down.Err() == nil || down.Err().Error() != p.Err().Error() {
		t.Fatalf("downstream error %v", down.Err())
	}
}

func TestInitialiseIsSeededAndKeepsValues(t *testing.T) {
	values := func(seed uint64) []float64 {
		in := graph.Input(4)
		out := layers.NewDense(3).Apply(in)
		net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
		if err != nil {
			t.Fatal(err)
		}
		if err := net.Initialise(tensor.Float32, seed); err != nil {
			t.Fatal(err)
		}
		return net.Weights()[0].Float64s()
	}
	a, b, c := values(1), values(1), values(2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same seed, different weights")
		}
	}
	same := true
	for i := range a {
		same = same && a[i] == c[i]
	}
	if same {
		t.Fatal("different seeds, same weights")
	}
	// A shared layer keeps its values in a second network, and refuses
	// another dtype.
	in := graph.Input(4)
	d := layers.NewDense(3)
	out := d.Apply(in)
	n1, _ := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
	if err := n1.Initialise(tensor.Float32, 1); err != nil {
		t.Fatal(err)
	}
	before := d.Kernel().Float64s()
	n2, _ := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
	if err := n2.Initialise(tensor.Float32, 99); err != nil {
		t.Fatal(err)
	}
	for i, v := range d.Kernel().Float64s() {
		if v != before[i] {
			t.Fatal("re-initialised a shared weight")
		}
	}
	if err := n2.Initialise(tensor.Float64, 1); err == nil || !strings.Contains(err.Error(), "float32") {
		t.Fatalf("dtype clash: %v", err)
	}
}

// linearNet is Input(2) → Dense(1) without bias, initialised in dt with
// seed 1; d is the Dense layer.
func linearNet(t *testing.T, dt tensor.Dtype) (net *graph.Network, d *layers.Dense) {
	t.Helper()
	in := graph.Input(2)
	d = layers.NewDense(1, layers.WithoutBias())
	net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{d.Apply(in)})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Initialise(dt, 1); err != nil {
		t.Fatal(err)
	}
	return net, d
}

func TestProgramsShareWeightsAndRun(t *testing.T) {
	net, d := linearNet(t, tensor.Float64)
	if err := d.Kernel().SetFloat64s([]float64{2, 3}); err != nil {
		t.Fatal(err)
	}
	p1, err := net.RunOnce(graph.ProgramSpec{Batch: 1}, [][]float64{{1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	p3, err := net.RunOnce(graph.ProgramSpec{Batch: 3}, [][]float64{{1, 1, 1, 0, 0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if got := graph.Float64s(p1.Outputs()[0]); got[0] != 5 {
		t.Fatalf("batch 1 output %v", got)
	}
	if got := graph.Float64s(p3.Outputs()[0]); got[0] != 5 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("batch 3 output %v", got)
	}
	// An update through the Weight is seen by both programs.
	d.Kernel().SetFloat64s([]float64{-1, 4})
	for _, p := range []*graph.Program{p1, p3} {
		if err := p.Run(true); err != nil {
			t.Fatal(err)
		}
		if got := graph.Float64s(p.Outputs()[0])[0]; got != 3 {
			t.Fatalf("after update: %v, want 3", got)
		}
	}
	// Running twice gives the same values (the machine is reset).
	if err := p3.Run(true); err != nil {
		t.Fatal(err)
	}
	if got := graph.Float64s(p3.Outputs()[0]); got[1] != -1 {
		t.Fatalf("second run %v", got)
	}
}

func TestTrainingProgramGradients(t *testing.T) {
	// cost = Σ (x·w)² with x = [1, 2], w = [3, 4]: d/dw = 2(x·w)x = [22, 44].
	net, d := linearNet(t, tensor.Float64)
	d.Kernel().SetFloat64s([]float64{3, 4})
	head := func(ctx *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
		sq, err := G.Square(outs[0])
		if err != nil {
			return nil, nil, err
		}
		c, err := G.Sum(sq)
		return c, []graph.Node{c}, err
	}
	p, err := net.RunOnce(graph.ProgramSpec{Training: true, Batch: 1, Head: head}, [][]float64{{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Cost() != 121 || graph.Float64s(p.Reports()[0])[0] != 121 {
		t.Fatalf("cost %v, report %v", p.Cost(), p.Reports())
	}
	g := graph.Float64s(p.Gradients()[0])
	if math.Abs(g[0]-22) > 1e-12 || math.Abs(g[1]-44) > 1e-12 {
		t.Fatalf("gradient %v, want [22 44]", g)
	}
	// Gradients do not accumulate across runs.
	p.Run(true)
	if g := graph.Float64s(p.Gradients()[0]); g[0] != 22 {
		t.Fatalf("second run gradient %v", g)
	}
}

// TestAddPenaltyReachesTheCost checks that a penalty a layer adds with
// Context.AddPenalty (Keras's add_loss) is part of a training program's
// cost and of its Penalty, and that inference programs ignore it.
func TestAddPenaltyReachesTheCost(t *testing.T) {
	in := graph.Input(2)
	lam := layers.NewLambda(func(ctx *graph.Context, x graph.Node) (graph.Node, error) {
		sq, err := G.Square(x)
		if err != nil {
			return nil, err
		}
		s, err := G.Sum(sq)
		if err != nil {
			return nil, err
		}
		ctx.AddPenalty(s)
		return x, nil
	})
	net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{lam.Apply(in)})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Initialise(tensor.Float64, 1); err != nil {
		t.Fatal(err)
	}
	head := func(ctx *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
		c, err := G.Sum(outs[0])
		return c, nil, err
	}
	p, err := net.RunOnce(graph.ProgramSpec{Training: true, Batch: 1, Head: head, InputGradients: true}, [][]float64{{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	// cost = Σx + Σx² = 3 + 5; d/dx = 1 + 2x.
	if p.Cost() != 8 || p.Penalty() != 5 {
		t.Fatalf("cost %v, penalty %v; want 8 and 5", p.Cost(), p.Penalty())
	}
	if g := graph.Float64s(p.InputGradients()[0]); g[0] != 3 || g[1] != 5 {
		t.Fatalf("input gradient %v, want [3 5]", g)
	}
	q, err := net.RunOnce(graph.ProgramSpec{Batch: 1}, [][]float64{{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if q.Penalty() != 0 {
		t.Fatalf("inference penalty %v", q.Penalty())
	}
}

func TestProgramErrors(t *testing.T) {
	in := graph.Input(2)
	out := layers.NewDense(1).Apply(in)
	net, _ := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
	if _, err := graph.NewProgram(net, graph.ProgramSpec{Batch: 1}); err == nil || !strings.Contains(err.Error(), "not initialised") {
		t.Fatalf("uninitialised: %v", err)
	}
	net.Initialise(tensor.Float32, 1)
	if _, err := graph.NewProgram(net, graph.ProgramSpec{Batch: 0}); err == nil || !strings.Contains(err.Error(), "batch size") {
		t.Fatalf("batch 0: %v", err)
	}
	if _, err := graph.NewProgram(net, graph.ProgramSpec{Batch: 1, Training: true}); err == nil || !strings.Contains(err.Error(), "cost") {
		t.Fatalf("training without cost: %v", err)
	}
	failing := func(*graph.Context, []graph.Node) (graph.Node, []graph.Node, error) {
		return nil, nil, errors.New("head failed")
	}
	if _, err := graph.NewProgram(net, graph.ProgramSpec{Batch: 1, Head: failing}); err == nil || !strings.Contains(err.Error(), "head failed") {
		t.Fatalf("head error: %v", err)
	}
	p, _ := graph.NewProgram(net, graph.ProgramSpec{Batch: 2})
	if err := p.SetFeeds([][]float64{{1, 2, 3}}); err == nil || !strings.Contains(err.Error(), "needs 4") {
		t.Fatalf("feed size: %v", err)
	}
}

// TestExecutorMatchesTapeMachine runs one training program on kerago's
// executor and on Gorgonia's tape machine: costs and gradients agree, over
// several runs (the executor reuses its buffers from the second run on).
func TestExecutorMatchesTapeMachine(t *testing.T) {
	in := graph.Input(3)
	x := layers.NewDense(4, layers.WithActivation("tanh")).Apply(in)
	out := layers.NewDense(2, layers.WithActivation("softmax")).Apply(x)
	net, _ := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
	net.Initialise(tensor.Float32, 3)
	head := func(ctx *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
		sq, err := G.Square(outs[0])
		if err != nil {
			return nil, nil, err
		}
		c, err := G.Mean(sq)
		return c, nil, err
	}
	feeds := [][]float64{{0.1, 0.2, -0.3, 1, 2, 3}, {-1, 0.5, 0.25, 0, 0, 1}}
	for run := 0; run < 3; run++ {
		var got [2][]float64
		var cost [2]float64
		for k, tape := range []bool{false, true} {
			p, err := net.RunOnce(graph.ProgramSpec{Training: true, Batch: 2, Head: head, TapeMachine: tape}, [][]float64{feeds[run%2]})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Run(true); err != nil { // a second run reuses buffers
				t.Fatal(err)
			}
			cost[k] = p.Cost()
			for _, g := range p.Gradients() {
				got[k] = append(got[k], graph.Float64s(g)...)
			}
		}
		if cost[0] != cost[1] {
			t.Fatalf("run %d: cost %v (executor) vs %v (tape machine)", run, cost[0], cost[1])
		}
		for i := range got[0] {
			if got[0][i] != got[1][i] {
				t.Fatalf("run %d: gradient %d: %v vs %v", run, i, got[0][i], got[1][i])
			}
		}
	}
}

func TestReportValueReadsWithoutAllocating(t *testing.T) {
	net, _ := linearNet(t, tensor.Float32)
	head := func(ctx *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
		c, err := G.Sum(outs[0])
		return c, []graph.Node{c}, err
	}
	p, err := net.RunOnce(graph.ProgramSpec{Batch: 2, Head: head}, [][]float64{{1, 2, 3, 4}})
	if err != nil {
		t.Fatal(err)
	}
	if p.ReportValue(0) != p.Cost() || p.Cost() == 0 {
		t.Fatalf("report %v, cost %v", p.ReportValue(0), p.Cost())
	}
	if n := testing.AllocsPerRun(10, func() { p.ReportValue(0); p.Cost() }); n != 0 && !raceEnabled {
		t.Fatalf("%v allocations per read", n)
	}
}
