package layers

import (
	"fmt"
	"testing"

	"github.com/kerago/kerago/graph"
)

// gradCheckInputs is gradCheck for models with several inputs (initial
// states): every input gets random feeds and is checked.
func gradCheckInputs(t *testing.T, name string, inputs []*graph.Tensor, outputs []*graph.Tensor, batch int, seed uint64) {
	t.Helper()
	for _, o := range outputs {
		if o.Err() != nil {
			t.Fatalf("%s: building: %v", name, o.Err())
		}
	}
	var feeds [][]float64
	for i, in := range inputs {
		feeds = append(feeds, randomValues(batch*in.Shape().Size(), seed+uint64(i)*17))
	}
	err := graph.GradCheck{Inputs: inputs, Outputs: outputs, Batch: batch, Feeds: feeds,
		CheckInputs: true, Seed: seed}.Run()
	if err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

// randomBias makes the bias non-zero so that every bias gradient matters.
var randomBias = WithBiasInitializer(RandomUniform(-0.5, 0.5))

// TestRecurrentGradients checks SimpleRNN, GRU (both reset forms, both
// recurrent activations, with and without bias) and LSTM gradients with
// respect to every weight and the input, for sequence and last outputs,
// go_backwards and return_state, with every implementation.
func TestRecurrentGradients(t *testing.T) {
	type cfg struct {
		name string
		mk   func(impl string, extra ...RNNOption) RecurrentLayer
	}
	var cfgs []cfg
	cfgs = append(cfgs, cfg{"SimpleRNN", func(_ string, extra ...RNNOption) RecurrentLayer {
		return NewSimpleRNN(3, append([]SimpleRNNOption{randomBias}, optionsAs[SimpleRNNOption](extra)...)...)
	}})
	for _, ra := range []bool{true, false} {
		for _, act := range []string{"sigmoid", "hard_sigmoid"} {
			ra, act := ra, act
			cfgs = append(cfgs, cfg{fmt.Sprintf("GRU reset_after=%v %s", ra, act), func(impl string, extra ...RNNOption) RecurrentLayer {
				return NewGRU(3, append([]GRUOption{randomBias, WithResetAfter(ra), WithRecurrentActivation(act), WithImplementation(impl)}, optionsAs[GRUOption](extra)...)...)
			}})
		}
	}
	cfgs = append(cfgs, cfg{"GRU no bias", func(impl string, extra ...RNNOption) RecurrentLayer {
		return NewGRU(3, append([]GRUOption{WithoutBias(), WithImplementation(impl)}, optionsAs[GRUOption](extra)...)...)
	}})
	for _, act := range []string{"sigmoid", "hard_sigmoid"} {
		act := act
		cfgs = append(cfgs, cfg{"LSTM " + act, func(impl string, extra ...RNNOption) RecurrentLayer {
			return NewLSTM(3, append([]LSTMOption{randomBias, WithRecurrentActivation(act), WithImplementation(impl)}, optionsAs[LSTMOption](extra)...)...)
		}})
	}
	variants := []struct {
		name string
		opts []RNNOption
	}{
		{"last", nil},
		{"sequences", []RNNOption{WithReturnSequences()}},
		{"go_backwards sequences state", []RNNOption{WithGoBackwards(), WithReturnSequences(), WithReturnState()}},
	}
	for i, c := range cfgs {
		for _, impl := range implementations() {
			if c.name == "SimpleRNN" && impl == "fused" {
				continue
			}
			for j, v := range variants {
				l := c.mk(impl, v.opts...)
				in := graph.Input(4, 2)
				outs := applyAll(l, in)
				gradCheckInputs(t, c.name+" "+impl+" "+v.name, []*graph.Tensor{in}, outs, 3, uint64(100+10*i+j))
			}
		}
	}
}

// applyAll applies any recurrent layer (or Bidirectional) with states.
func applyAll(l graph.Layer, x *graph.Tensor, states ...*graph.Tensor) []*graph.Tensor {
	return graph.Apply(l, append([]*graph.Tensor{x}, states...)...)
}

// TestRecurrentTinyGradients: batch 1, one feature, one unit — the shapes
// whose per-step slices would be scalars (gorgonia#568).
func TestRecurrentTinyGradients(t *testing.T) {
	for _, impl := range implementations() {
		for _, l := range []RecurrentLayer{
			NewSimpleRNN(1, randomBias, WithReturnSequences()),
			NewGRU(1, randomBias, WithReturnSequences(), WithReturnState(), WithImplementation(impl)),
			NewGRU(1, randomBias, WithResetAfter(false), WithImplementation(impl)),
			NewLSTM(1, randomBias, WithReturnState(), WithImplementation(impl)),
		} {
			for _, steps := range []int{1, 3} {
				in := graph.Input(steps, 1)
				gradCheckInputs(t, fmt.Sprintf("%s(1) %s T=%d", l.Class(), impl, steps), []*graph.Tensor{in}, applyAll(l, in), 1, 31)
			}
			b := NewBidirectional(l.Clone("", false))
			in := graph.Input(2, 1)
			gradCheckInputs(t, "Bidirectional "+l.Class()+"(1) "+impl, []*graph.Tensor{in}, applyAll(b, in), 1, 32)
		}
	}
}

// TestRecurrentInitialStateGradients checks gradients with respect to the
// initial states too.
func TestRecurrentInitialStateGradients(t *testing.T) {
	for _, impl := range implementations() {
		{
			in, h0 := graph.Input(3, 2), graph.Input(4)
			g := NewGRU(4, randomBias, WithReturnSequences(), WithImplementation(impl))
			gradCheckInputs(t, "GRU h0 "+impl, []*graph.Tensor{in, h0}, g.ApplyWithState(in, h0), 2, 41)
		}
		{
			in, h0, c0 := graph.Input(3, 2), graph.Input(4), graph.Input(4)
			l := NewLSTM(4, randomBias, WithReturnState(), WithImplementation(impl))
			gradCheckInputs(t, "LSTM h0 c0 "+impl, []*graph.Tensor{in, h0, c0}, l.ApplyWithState(in, h0, c0), 2, 42)
		}
		{
			in, h0 := graph.Input(3, 2), graph.Input(4)
			s := NewSimpleRNN(4, randomBias, WithGoBackwards())
			gradCheckInputs(t, "SimpleRNN h0 "+impl, []*graph.Tensor{in, h0}, s.ApplyWithState(in, h0), 2, 43)
		}
		{
			in := graph.Input(3, 2)
			hf, cf, hb, cb := graph.Input(3), graph.Input(3), graph.Input(3), graph.Input(3)
			b := NewBidirectional(NewLSTM(3, randomBias, WithReturnSequences(), WithReturnState(), WithImplementation(impl)))
			gradCheckInputs(t, "Bidirectional LSTM states "+impl, []*graph.Tensor{in, hf, cf, hb, cb}, b.ApplyWithState(in, hf, cf, hb, cb), 2, 44)
		}
	}
}

// TestBidirectionalGradients checks every merge mode, with sequences and
// last outputs, around GRU and LSTM.
func TestBidirectionalGradients(t *testing.T) {
	for i, mode := range []string{"concat", "sum", "mul", "ave", "none"} {
		for _, impl := range implementations() {
			for j, seqs := range []bool{true, false} {
				opts := []RNNOption{randomBias, WithImplementation(impl)}
				if seqs {
					opts = append(opts, WithReturnSequences())
				}
				for k, l := range []RecurrentLayer{NewGRU(3, optionsAs[GRUOption](opts)...), NewLSTM(2, optionsAs[LSTMOption](append(opts, WithReturnState()))...)} {
					b := NewBidirectional(l, WithMergeMode(mode))
					in := graph.Input(4, 2)
					gradCheckInputs(t, fmt.Sprintf("Bidirectional(%s) %s %s sequences=%v", l.Class(), mode, impl, seqs),
						[]*graph.Tensor{in}, b.ApplyAll(in), 2, uint64(200+20*i+2*j+k))
				}
			}
		}
	}
}

// TestRecurrentDropoutGradients checks gradients with input and recurrent
// dropout active (training program; the masks are drawn once and held).
func TestRecurrentDropoutGradients(t *testing.T) {
	for _, impl := range implementations() {
		in := graph.Input(4, 3)
		g := NewGRU(3, randomBias, WithDropoutRate(0.4), WithReturnSequences(), WithImplementation(impl))
		gradCheckInputs(t, "GRU input dropout "+impl, []*graph.Tensor{in}, g.ApplyAll(in), 3, 51)
		in = graph.Input(4, 3)
		l := NewLSTM(3, randomBias, WithDropoutRate(0.3), WithImplementation(impl))
		gradCheckInputs(t, "LSTM input dropout "+impl, []*graph.Tensor{in}, l.ApplyAll(in), 3, 52)
	}
	for i, l := range []RecurrentLayer{
		NewGRU(3, randomBias, WithRecurrentDropout(0.4), WithReturnSequences()),
		NewGRU(3, randomBias, WithRecurrentDropout(0.4), WithResetAfter(false)),
		NewLSTM(3, randomBias, WithRecurrentDropout(0.4), WithDropoutRate(0.2)),
		NewSimpleRNN(3, randomBias, WithRecurrentDropout(0.4), WithDropoutRate(0.2), WithReturnSequences()),
	} {
		in := graph.Input(4, 3)
		gradCheckInputs(t, l.Class()+" recurrent dropout", []*graph.Tensor{in}, applyAll(l, in), 3, uint64(53+i))
	}
}

// TestEmbeddingTimeDistributedGradients checks Embedding (with repeated
// indices, so the scatter-add sums rows) and TimeDistributed(Dense).
func TestEmbeddingTimeDistributedGradients(t *testing.T) {
	{
		in := graph.Input(5)
		e := NewEmbedding(6, 3)
		x := e.Apply(in)
		out := NewGRU(2, randomBias, WithReturnSequences()).Apply(x)
		if out.Err() != nil {
			t.Fatal(out.Err())
		}
		// Indices are data, not differentiable: only the weights are checked.
		err := graph.GradCheck{Inputs: []*graph.Tensor{in}, Outputs: []*graph.Tensor{out}, Batch: 2,
			Feeds: [][]float64{{1, 2, 1, 5, 0, 3, 3, 3, 4, 1}}, Seed: 61}.Run()
		if err != nil {
			t.Errorf("Embedding→GRU: %v", err)
		}
	}
	{
		in := graph.Input(3, 4)
		out := NewTimeDistributed(NewDense(2, WithActivation("tanh"), randomBias)).Apply(in)
		gradCheck(t, "TimeDistributed(Dense)", in, out, 2, 62)
		in = graph.Input(3, 4)
		x := NewTimeDistributed(NewDense(3, randomBias)).Apply(in)
		out = NewLSTM(2, WithReturnSequences()).Apply(x)
		gradCheck(t, "TimeDistributed(Dense)→LSTM", in, out, 2, 63)
	}
}
