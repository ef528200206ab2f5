package layers

import (
	"fmt"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// fixedMask passes its input (N, T, F) on and gives it a fixed (N, T) mask
// (1 = real step), as an Embedding(mask_zero) or Masking layer would. Being
// a constant, the mask does not change when a gradient check perturbs the
// input.
type fixedMask struct {
	graph.Base
	mask []float64
}

func newFixedMask(mask ...float64) *fixedMask {
	return &fixedMask{Base: graph.NewBase("FixedMask", ""), mask: mask}
}
func (l *fixedMask) apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(l, x) }
func (l *fixedMask) Build(in []graph.Shape) ([]graph.Shape, error) {
	return []graph.Shape{in[0]}, nil
}
func (l *fixedMask) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) { return in, nil }
func (l *fixedMask) OutputMasked([]bool) []bool                                   { return []bool{true} }
func (l *fixedMask) ComputeMask(ctx *graph.Context, in []graph.Node, _ []graph.Node) ([]graph.Node, error) {
	s := in[0].Shape()
	if s[0]*s[1] != len(l.mask) {
		return nil, fmt.Errorf("fixed mask has %d values for shape %v", len(l.mask), s)
	}
	return []graph.Node{ctx.Const([]int{s[0], s[1]}, l.mask)}, nil
}

// Three sequences of 5 steps: lengths 5, 3 (right-padded), 2 (left-padded),
// and one with a hole (steps 1 and 3 masked).
var (
	varMask = []float64{
		1, 1, 1, 1, 1,
		1, 1, 1, 0, 0,
		0, 0, 0, 1, 1,
		1, 0, 1, 0, 1,
	}
	varBatch = 4
	varSteps = 5
)

// realSteps lists the unmasked steps of sequence i.
func realSteps(i int) []int {
	var out []int
	for t := 0; t < varSteps; t++ {
		if varMask[i*varSteps+t] == 1 {
			out = append(out, t)
		}
	}
	return out
}

// TestMaskedEqualsAlone: in a padded batch, every sequence (padding filled
// with large non-zero junk) gets exactly what it gets when run alone
// without its padding: the last output, the final states, and the sequence
// output at its real steps (the masked steps repeat the carried state). Also
// through Bidirectional, whose masked sequence outputs are zero.
func TestMaskedEqualsAlone(t *testing.T) {
	const f, h = 3, 4
	x := randomValues(varBatch*varSteps*f, 71)
	for i, m := range varMask {
		if m == 0 {
			for j := 0; j < f; j++ {
				x[i*f+j] = 7.5 // junk that must not matter
			}
		}
	}
	makers := maskMakers(h)
	for name, make := range makers {
		for _, impl := range implementations() {
			for _, back := range []bool{false, true} {
				for _, dt := range dtypes {
					opts := []RNNOption{WithReturnSequences(), WithReturnState()}
					if back {
						opts = append(opts, WithGoBackwards())
					}
					l := make(impl, opts...)
					label := fmt.Sprintf("%s %s go_backwards=%v %v", name, impl, back, dt)
					in := graph.Input(varSteps, f)
					outs := applyAll(l, newFixedMask(varMask...).apply(in))
					if !outs[0].Masked() {
						t.Fatalf("%s: the sequence output does not carry the mask", label)
					}
					for _, o := range outs[1:] {
						if o.Masked() {
							t.Fatalf("%s: a state output carries a mask", label)
						}
					}
					batch := runModel(t, []*graph.Tensor{in}, outs, dt, varBatch, [][]float64{x}, nil)
					width := len(batch[0]) / (varBatch * varSteps)
					_, bidi := l.(*Bidirectional)
					for i := 0; i < varBatch; i++ {
						steps := realSteps(i)
						var xi []float64
						for _, s := range steps {
							xi = append(xi, x[(i*varSteps+s)*f:(i*varSteps+s+1)*f]...)
						}
						ain := graph.Input(len(steps), f)
						alone := runModel(t, []*graph.Tensor{ain}, applyAll(l, ain), dt, 1, [][]float64{xi}, nil)
						awidth := len(alone[0]) / len(steps)
						// Sequence output at real steps. Processing order: with
						// go_backwards (not re-reversed; in Bidirectional
						// both halves then are in reversed time, as in Keras)
						// the k-th output belongs to input step T-1-k.
						last := -1
						for k := 0; k < varSteps; k++ {
							tIn := k
							if back {
								tIn = varSteps - 1 - k
							}
							got := batch[0][(i*varSteps+k)*width : (i*varSteps+k+1)*width]
							pos := indexOf(steps, tIn)
							if pos < 0 {
								if bidi {
									if err := closeTo(got, make0(width), tol{}); err != nil {
										t.Errorf("%s: sequence %d masked step %d not zero: %v", label, i, k, err)
									}
								} else if last >= 0 {
									prev := batch[0][(i*varSteps+last)*width : (i*varSteps+last+1)*width]
									if err := closeTo(got, prev, tol{}); err != nil {
										t.Errorf("%s: sequence %d masked step %d does not repeat the state: %v", label, i, k, err)
									}
								}
								continue
							}
							last = k
							ak := pos
							if back {
								ak = len(steps) - 1 - pos
							}
							want := alone[0][ak*awidth : (ak+1)*awidth]
							if err := closeTo(got, want, rnnTol(dt)); err != nil {
								t.Errorf("%s: sequence %d step %d: %v", label, i, k, err)
							}
						}
						for o := 1; o < len(outs); o++ {
							w := len(batch[o]) / varBatch
							if err := closeTo(batch[o][i*w:(i+1)*w], alone[o], rnnTol(dt)); err != nil {
								t.Errorf("%s: sequence %d state output %d: %v", label, i, o, err)
							}
						}
					}
				}
			}
		}
	}
}

// maskMaker makes a recurrent layer (or a Bidirectional one) of a kind with
// an implementation and options.
type maskMaker func(impl string, opts ...RNNOption) graph.Layer

// maskMakers are the layers TestMaskedEqualsAlone runs, by name, of h units.
func maskMakers(h int) map[string]maskMaker {
	return map[string]maskMaker{
		"SimpleRNN": func(_ string, o ...RNNOption) graph.Layer {
			return NewSimpleRNN(h, optionsAs[SimpleRNNOption](append(o, randomBias))...)
		},
		"GRU": func(i string, o ...RNNOption) graph.Layer {
			return NewGRU(h, optionsAs[GRUOption](append(o, randomBias, WithImplementation(i)))...)
		},
		"GRU reset_before hard_sigmoid": func(i string, o ...RNNOption) graph.Layer {
			return NewGRU(h, append(optionsAs[GRUOption](o), randomBias, WithResetAfter(false), WithRecurrentActivation("hard_sigmoid"), WithImplementation(i))...)
		},
		"LSTM": func(i string, o ...RNNOption) graph.Layer {
			return NewLSTM(h, optionsAs[LSTMOption](append(o, randomBias, WithImplementation(i)))...)
		},
		"Bidirectional GRU": func(i string, o ...RNNOption) graph.Layer {
			return NewBidirectional(NewGRU(h, optionsAs[GRUOption](append(o, randomBias, WithImplementation(i)))...))
		},
		"Bidirectional LSTM sum": func(i string, o ...RNNOption) graph.Layer {
			return NewBidirectional(NewLSTM(h, optionsAs[LSTMOption](append(o, randomBias, WithImplementation(i)))...), WithMergeMode("sum"))
		},
	}
}

func indexOf(xs []int, v int) int {
	for i, x := range xs {
		if x == v {
			return i
		}
	}
	return -1
}

func make0(n int) []float64 { return make([]float64, n) }

// TestMaskedLastOutput: with return_sequences=false the mask is consumed
// and the last output is the state at the last real step.
func TestMaskedLastOutput(t *testing.T) {
	in := graph.Input(varSteps, 2)
	g := NewGRU(3, randomBias)
	out := g.Apply(newFixedMask(varMask...).apply(in))
	if out.Masked() {
		t.Fatal("a last-output GRU passed the mask on")
	}
	x := randomValues(varBatch*varSteps*2, 72)
	got := runModel(t, []*graph.Tensor{in}, []*graph.Tensor{out}, tensor.Float64, varBatch, [][]float64{x}, nil)[0]
	// Sequence 1 has 3 real steps: the same as its first 3 steps alone.
	ain := graph.Input(3, 2)
	alone := runModel(t, []*graph.Tensor{ain}, []*graph.Tensor{g.Apply(ain)}, tensor.Float64, 1, [][]float64{x[10:16]}, nil)[0]
	if err := closeTo(got[3:6], alone, rnnTol(tensor.Float64)); err != nil {
		t.Error(err)
	}
}

// TestMaskedGradients checks gradients through masked steps.
func TestMaskedGradients(t *testing.T) {
	for _, impl := range implementations() {
		for i, l := range []graph.Layer{
			NewSimpleRNN(3, randomBias, WithReturnSequences()),
			NewGRU(3, randomBias, WithReturnSequences(), WithReturnState(), WithImplementation(impl)),
			NewGRU(3, randomBias, WithResetAfter(false), WithGoBackwards(), WithImplementation(impl)),
			NewLSTM(3, randomBias, WithReturnState(), WithImplementation(impl)),
			NewBidirectional(NewGRU(2, randomBias, WithReturnSequences(), WithImplementation(impl))),
			NewBidirectional(NewLSTM(2, randomBias, WithImplementation(impl)), WithMergeMode("mul")),
		} {
			in := graph.Input(varSteps, 2)
			outs := applyAll(l, newFixedMask(varMask...).apply(in))
			gradCheckInputs(t, fmt.Sprintf("masked %s %s", l.Class(), impl), []*graph.Tensor{in}, outs, varBatch, uint64(80+i))
		}
	}
}

// TestEmbeddingMaskZeroGRU: Embedding(mask_zero) → GRU gives each padded
// sequence the value of the sequence alone; the embedding output carries
// the mask x ≠ 0.
func TestEmbeddingMaskZeroGRU(t *testing.T) {
	for _, impl := range implementations() {
		for _, dt := range dtypes {
			e := NewEmbedding(10, 4, WithMaskZero())
			g := NewGRU(3, randomBias, WithImplementation(impl))
			in := graph.Input(6)
			emb := e.Apply(in)
			if !emb.Masked() {
				t.Fatal("Embedding(mask_zero) output not masked")
			}
			out := g.Apply(emb)
			idx := []float64{
				3, 1, 4, 1, 5, 9,
				2, 6, 5, 0, 0, 0,
				0, 0, 7, 0, 8, 0,
			}
			got := runModel(t, []*graph.Tensor{in}, []*graph.Tensor{out}, dt, 3, [][]float64{idx}, nil)[0]
			for i, seq := range [][]float64{{3, 1, 4, 1, 5, 9}, {2, 6, 5}, {7, 8}} {
				ain := graph.Input(len(seq))
				alone := runModel(t, []*graph.Tensor{ain}, []*graph.Tensor{g.Apply(e.Apply(ain))}, dt, 1, [][]float64{seq}, nil)[0]
				if err := closeTo(got[i*3:(i+1)*3], alone, rnnTol(dt)); err != nil {
					t.Errorf("%s %v sequence %d: %v", impl, dt, i, err)
				}
			}
			// Without mask_zero the padding is read as index 0.
			e2 := NewEmbedding(10, 4)
			if e2.Apply(graph.Input(6)).Masked() {
				t.Error("Embedding without mask_zero is masked")
			}
		}
	}
}
