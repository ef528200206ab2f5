package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// TestFusedAndUnrolledAgreeFloat32 runs every option combination the fused
// kernels claim, in float32, with the same weights and inputs through both
// implementations: outputs agree within 1e-5 and gradients within 1e-4
// (relative to the largest gradient of the tensor, for scale).
func TestFusedAndUnrolledAgreeFloat32(t *testing.T) {
	const batch, steps, features, units = 4, 6, 3, 5
	configs := agreeConfigs(units)
	rng := rand.New(rand.NewPCG(4, 4))
	for _, c := range configs {
		// Inputs: indices into an embedding (0 = padding, right-padded when
		// masked), so the mask path is exercised through mask_zero.
		idx := make([]float64, batch*steps)
		for i := range idx {
			idx[i] = float64(1 + rng.IntN(7))
		}
		if c.masked {
			for b, n := range []int{6, 3, 1, 4} {
				for s := n; s < steps; s++ {
					idx[b*steps+s] = 0
				}
			}
		}
		run := func(impl string) (out []float64, grads [][]float64) {
			in := graph.Input(steps)
			var opts []EmbeddingOption
			if c.masked {
				opts = append(opts, WithMaskZero())
			}
			x := NewEmbedding(8, features, append(opts, WithEmbeddingsInitializer(RandomUniform(-1, 1)))...).Apply(in)
			y := graph.Apply1(c.layer(impl), x)
			net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{y})
			if err != nil {
				t.Fatal(err)
			}
			if err := net.Initialise(tensor.Float32, 7); err != nil {
				t.Fatal(err)
			}
			p, err := net.RunOnce(graph.ProgramSpec{Training: true, Batch: batch, Head: graph.ProjectionHead(9)}, [][]float64{idx})
			if err != nil {
				t.Fatalf("%s %s: %v", c.name, impl, err)
			}
			for _, g := range p.Gradients() {
				grads = append(grads, graph.Float64s(g))
			}
			return graph.Float64s(p.Outputs()[0]), grads
		}
		fo, fg := run("fused")
		uo, ug := run("unrolled")
		for i := range fo {
			if math.Abs(fo[i]-uo[i]) > 1e-5 {
				t.Fatalf("%s: output %d: fused %v, unrolled %v", c.name, i, fo[i], uo[i])
			}
		}
		if len(fg) != len(ug) {
			t.Fatalf("%s: %d gradients fused, %d unrolled", c.name, len(fg), len(ug))
		}
		for k := range fg {
			scale := 1.0
			for _, v := range ug[k] {
				scale = math.Max(scale, math.Abs(v))
			}
			for i := range fg[k] {
				if math.Abs(fg[k][i]-ug[k][i]) > 1e-4*scale {
					t.Fatalf("%s: gradient %d[%d]: fused %v, unrolled %v", c.name, k, i, fg[k][i], ug[k][i])
				}
			}
		}
	}
}

// agreeConfig is one layer configuration TestFusedAndUnrolledAgreeFloat32
// runs with both implementations.
type agreeConfig struct {
	name   string
	layer  func(impl string) graph.Layer
	masked bool
}

// agreeConfigs are every GRU and LSTM configuration the fused kernels
// claim: both GRU forms, both recurrent activations, both directions, with
// and without bias (GRU) and mask.
func agreeConfigs(units int) []agreeConfig {
	var configs []agreeConfig
	for _, resetAfter := range []bool{true, false} {
		for _, act := range []string{"sigmoid", "hard_sigmoid"} {
			for _, back := range []bool{false, true} {
				for _, bias := range []bool{true, false} {
					for _, masked := range []bool{false, true} {
						resetAfter, act, back, bias := resetAfter, act, back, bias
						configs = append(configs, agreeConfig{
							name: fmt.Sprintf("GRU/reset_after=%v/%s/backwards=%v/bias=%v/masked=%v", resetAfter, act, back, bias, masked),
							layer: func(impl string) graph.Layer {
								biasOpt := randomBias
								if !bias {
									biasOpt = WithoutBias()
								}
								opts := []GRUOption{WithImplementation(impl), WithResetAfter(resetAfter), WithRecurrentActivation(act),
									WithReturnSequences(), biasOpt}
								if back {
									opts = append(opts, WithGoBackwards())
								}
								return NewGRU(units, opts...)
							},
							masked: masked,
						})
					}
				}
			}
		}
	}
	for _, act := range []string{"sigmoid", "hard_sigmoid"} {
		for _, back := range []bool{false, true} {
			for _, masked := range []bool{false, true} {
				act, back := act, back
				configs = append(configs, agreeConfig{
					name: fmt.Sprintf("LSTM/%s/backwards=%v/masked=%v", act, back, masked),
					layer: func(impl string) graph.Layer {
						opts := []LSTMOption{WithImplementation(impl), WithRecurrentActivation(act), WithReturnSequences(), randomBias}
						if back {
							opts = append(opts, WithGoBackwards())
						}
						return NewLSTM(units, opts...)
					},
					masked: masked,
				})
			}
		}
	}
	return configs
}
