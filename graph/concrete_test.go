package graph_test

import (
	"testing"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/graphtest"
	"github.com/kerago/kerago/layers"
	"gorgonia.org/tensor"
)

// TestUnknownShapes checks Shape's handling of Unknown (None) axes.
func TestUnknownShapes(t *testing.T) {
	s := graph.Shape{graph.Unknown, 3}
	if s.Known() || s.Size() != graph.Unknown || s.String() != "(None, None, 3)" {
		t.Errorf("Known %v, Size %d, String %s", s.Known(), s.Size(), s)
	}
	if !s.Fits(graph.Shape{7, 3}) || s.Fits(graph.Shape{7, 4}) || s.Fits(graph.Shape{7}) {
		t.Error("Fits: (None, 3) must take (7, 3) only")
	}
	if !graph.SameDim(graph.Unknown, 5) || graph.SameDim(4, 5) {
		t.Error("SameDim")
	}
	if err := graph.Input(0, 3).Err(); err == nil {
		t.Error("Input(0, 3) must fail")
	}
}

// TestConcreteNetwork builds Embedding → GRU → Dense on sequences of any
// length: the network itself does not compile, each concrete one does and
// shares the weights; a shape that does not fit is refused.
func TestConcreteNetwork(t *testing.T) {
	in := graph.Input(graph.Unknown)
	x := graph.Apply1(layers.NewEmbedding(10, 4), in)
	seq := graph.Apply1(layers.NewGRU(3, layers.WithReturnSequences()), x)
	out := graph.Apply1(layers.NewDense(2), seq)
	net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Initialise(tensor.Float64, 1); err != nil {
		t.Fatal(err)
	}
	if got := out.Shape().String(); got != "(None, None, 2)" || !net.HasUnknown() {
		t.Fatalf("output shape %s", got)
	}
	_, err = graph.NewProgram(net, graph.ProgramSpec{Batch: 2})
	graphtest.WantErr(t, "compiling a network with None axes", err, "input", "(None, None)", "Network.Concrete")
	for _, steps := range []int{1, 5} {
		cn, err := net.Concrete([]graph.Shape{{steps}})
		if err != nil {
			t.Fatal(err)
		}
		if got := cn.Outputs()[0].Shape(); !got.Equal(graph.Shape{steps, 2}) {
			t.Errorf("%d steps: output %s", steps, got)
		}
		if len(cn.Weights()) != len(net.Weights()) || cn.Weights()[0] != net.Weights()[0] {
			t.Errorf("%d steps: the concrete network does not share the weights", steps)
		}
		p, err := graph.NewProgram(cn, graph.ProgramSpec{Batch: 2})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Outputs()[0].Shape(); !got.Eq(tensor.Shape{2, steps, 2}) {
			t.Errorf("%d steps: program output %v", steps, got)
		}
	}
	_, err = net.Concrete([]graph.Shape{{3, 1}})
	graphtest.WantErr(t, "a shape of another rank", err, "shape (None, 3, 1) does not fit (None, None)")
	_, err = net.Concrete(nil)
	graphtest.WantErr(t, "no shapes", err, "1 inputs, 0 shapes")
}
