package layers

import (
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// Every recurrent error comes back on the output tensor of Apply, naming
// the layer, its class and its input shape.

func TestRecurrentErrors(t *testing.T) {
	// Wrong input rank.
	wantErr(t, NewGRU(3, WithName("g_rank")).Apply(graph.Input(4)),
		"layer g_rank (GRU)", "expected ndim=3 (batch, time, features), found ndim=2", "(input shape (None, 4))")
	wantErr(t, NewLSTM(3, WithName("l_rank")).Apply(graph.Input(2, 3, 4)),
		"layer l_rank (LSTM)", "expected ndim=3", "found ndim=4")
	wantErr(t, NewSimpleRNN(3, WithName("s_rank")).Apply(graph.Input(4)), "layer s_rank (SimpleRNN)", "found ndim=2")
	// Units.
	for _, u := range []int{0, -1} {
		wantErr(t, NewGRU(u, WithName("g_units")).Apply(graph.Input(2, 3)), "layer g_units (GRU)", "units must be positive, got")
		wantErr(t, NewLSTM(u).Apply(graph.Input(2, 3)), "(LSTM)", "units must be positive")
		wantErr(t, NewSimpleRNN(u).Apply(graph.Input(2, 3)), "(SimpleRNN)", "units must be positive")
	}
	// Feature dim fixed after the first application.
	g := NewGRU(2, WithName("g_dim"))
	if err := g.Apply(graph.Input(3, 4)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := g.Apply(graph.Input(7, 4)).Err(); err != nil {
		t.Errorf("another sequence length: %v", err)
	}
	wantErr(t, g.Apply(graph.Input(3, 5)), "layer g_dim (GRU)", "expected axis -1 of input shape to have value 4 but got shape (None, 3, 5)")
	// Rates, activations, implementation.
	wantErr(t, NewGRU(2, WithDropoutRate(1), WithName("g_drop")).Apply(graph.Input(3, 4)), "layer g_drop (GRU)", "dropout must be in [0, 1), got 1")
	wantErr(t, NewLSTM(2, WithRecurrentDropout(-0.5)).Apply(graph.Input(3, 4)), "(LSTM)", "recurrent_dropout must be in [0, 1), got -0.5")
	wantErr(t, NewGRU(2, WithRecurrentActivation("sigmod")).Apply(graph.Input(3, 4)), "(GRU)", `unknown activation "sigmod"`)
	wantErr(t, NewGRU(2, WithImplementation("cudnn"), WithName("g_impl")).Apply(graph.Input(3, 4)),
		"layer g_impl (GRU)", `unknown implementation "cudnn"; valid implementations: auto, fused, unrolled`)
	wantErr(t, NewLSTM(2, WithImplementation("")).Apply(graph.Input(3, 4)), "(LSTM)", `unknown implementation ""`)
	wantErr(t, NewSimpleRNN(2, WithImplementation("fused"), WithName("s_fused")).Apply(graph.Input(3, 4)),
		"layer s_fused (SimpleRNN)", `implementation "fused": SimpleRNN has no fused kernel`)
	wantErr(t, NewGRU(2, WithImplementation("fused"), WithActivation("relu"), WithRecurrentDropout(0.1), WithName("g_fx")).Apply(graph.Input(3, 4)),
		"layer g_fx (GRU)", `implementation "fused" needs activation tanh (got "relu"), no recurrent dropout`)
	wantErr(t, NewLSTM(2, WithImplementation("fused"), WithRecurrentActivation("tanh")).Apply(graph.Input(3, 4)),
		"(LSTM)", `recurrent activation sigmoid or hard_sigmoid (got "tanh")`)
	// Apply on a layer with several outputs.
	wantErr(t, NewGRU(2, WithReturnState(), WithName("g_rs")).Apply(graph.Input(3, 4)),
		"layer g_rs (GRU) returns its states (WithReturnState): use ApplyAll or ApplyWithState")
}

func TestInitialStateErrors(t *testing.T) {
	x := graph.Input(3, 4)
	// Wrong count.
	wantErr(t, NewGRU(2, WithName("g_n")).ApplyWithState(x, graph.Input(2), graph.Input(2))[0],
		"layer g_n (GRU)", "layer has 1 states but was passed 2 initial states", "(input shape [(None, 3, 4), (None, 2), (None, 2)])")
	wantErr(t, NewLSTM(2, WithName("l_n")).ApplyWithState(x, graph.Input(2))[0],
		"layer l_n (LSTM)", "layer has 2 states but was passed 1 initial states")
	// Wrong shape.
	wantErr(t, NewGRU(2, WithName("g_s")).ApplyWithState(x, graph.Input(3))[0],
		"layer g_s (GRU)", "initial state 0 has shape (None, 3), expected (None, 2)")
	wantErr(t, NewLSTM(2, WithName("l_s")).ApplyWithState(x, graph.Input(2), graph.Input(2, 1))[0],
		"layer l_s (LSTM)", "initial state 1 has shape (None, 2, 1), expected (None, 2)")
	wantErr(t, NewSimpleRNN(2).ApplyWithState(x, graph.Input(5))[0], "(SimpleRNN)", "initial state 0 has shape (None, 5)")
	// Bidirectional: forward then backward states.
	wantErr(t, NewBidirectional(NewLSTM(2), WithName("bi_n")).ApplyWithState(x, graph.Input(2), graph.Input(2))[0],
		"layer bi_n (Bidirectional)", "initial states must be 0 or 4 tensors (forward, then backward), got 2")
	wantErr(t, NewBidirectional(NewGRU(2), WithName("bi_s")).ApplyWithState(x, graph.Input(2), graph.Input(3))[0],
		"layer bi_s (Bidirectional)", "backward layer backward_", "initial state 0 has shape (None, 3), expected (None, 2)")
}

func TestBidirectionalErrors(t *testing.T) {
	x := graph.Input(3, 4)
	wantErr(t, NewBidirectional(NewGRU(2), WithMergeMode("max"), WithName("bi_mode")).Apply(x),
		"layer bi_mode (Bidirectional)", `invalid merge mode "max"; merge mode should be one of concat, sum, mul, ave, none`)
	wantErr(t, NewBidirectional(NewDense(2, WithName("not_rnn")), WithName("bi_dense")).Apply(x),
		"layer bi_dense (Bidirectional)", "wraps recurrent layers (SimpleRNN, GRU, LSTM); layer not_rnn is a Dense")
	wantErr(t, NewBidirectional(nil, WithName("bi_nil")).Apply(x), "layer bi_nil (Bidirectional)", "needs a recurrent layer to wrap, got nil")
	wantErr(t, NewBidirectional(NewGRU(0), WithName("bi_units")).Apply(x),
		"layer bi_units (Bidirectional)", "forward layer forward_gru", "units must be positive, got 0")
	wantErr(t, NewBidirectional(NewGRU(2), WithName("bi_rank")).Apply(graph.Input(4)), "layer bi_rank (Bidirectional)", "found ndim=2")
	// Several outputs.
	if err := NewBidirectional(NewGRU(2), WithMergeMode("none")).Apply(x).Err(); err == nil || !strings.Contains(err.Error(), "has 2 outputs") {
		t.Errorf("Apply on merge mode none: %v", err)
	}
}

func TestEmbeddingTimeDistributedErrors(t *testing.T) {
	wantErr(t, NewEmbedding(0, 3, WithName("e_dim")).Apply(graph.Input(4)), "layer e_dim (Embedding)", "input_dim and output_dim must be positive, got 0 and 3")
	wantErr(t, NewEmbedding(5, 3, WithName("e_rank")).Apply(graph.Input()), "layer e_rank (Embedding)", "found ndim=1")
	wantErr(t, NewTimeDistributed(NewDense(2), WithName("td_rank")).Apply(graph.Input(4)), "layer td_rank (TimeDistributed)", "expected min_ndim=3")
	wantErr(t, NewTimeDistributed(nil, WithName("td_nil")).Apply(graph.Input(3, 4)), "layer td_nil (TimeDistributed)", "needs a layer to wrap")
	wantErr(t, NewTimeDistributed(NewDense(0, WithName("inner_d")), WithName("td_in")).Apply(graph.Input(3, 4)),
		"layer td_in (TimeDistributed)", "inner layer inner_d (Dense)", "units must be positive")

	// Indices out of range fail the run (not a panic), naming the layer.
	for _, c := range []struct {
		idx  []float64
		want string
	}{
		{[]float64{1, 2, 5, 0}, "input value 5 at position 2 is not an index in [0, 5)"},
		{[]float64{1, -1, 0, 0}, "input value -1 at position 1"},
		{[]float64{1, 2, 3, 1.5}, "input value 1.5 at position 3"},
	} {
		for _, dt := range dtypes {
			in := graph.Input(2)
			out := NewEmbedding(5, 3, WithName("e_range")).Apply(in)
			net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
			if err != nil {
				t.Fatal(err)
			}
			if err := net.Initialise(dt, 1); err != nil {
				t.Fatal(err)
			}
			_, err = net.RunOnce(graph.ProgramSpec{Batch: 2}, [][]float64{c.idx})
			if err == nil || !strings.Contains(err.Error(), "embedding e_range: "+c.want) {
				t.Errorf("%v %v: error %v, want %q", c.idx, dt, err, c.want)
			}
		}
	}
	// The same in a training program (the gradient reads the indices too).
	in := graph.Input(2)
	out := NewEmbedding(5, 3, WithName("e_train")).Apply(in)
	net, _ := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
	net.Initialise(tensor.Float64, 1)
	_, err := net.RunOnce(graph.ProgramSpec{Batch: 1, Training: true, Head: sumHead}, [][]float64{{7, 1}})
	if err == nil || !strings.Contains(err.Error(), "embedding e_train: input value 7 at position 0") {
		t.Errorf("training run: %v", err)
	}
}
