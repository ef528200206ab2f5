package layers

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// BenchmarkRecurrentTrainStep times one training step's forward and
// backward pass (no optimizer) of GRU(64), LSTM(64) and
// Bidirectional(GRU(64)) over batch 64, 50 time steps, 32 features,
// float32, cost = Σ last output, with the fused kernel and with the
// unrolled graph. It reports ns/op (one step) and samples/s.
func BenchmarkRecurrentTrainStep(b *testing.B) {
	const batch, steps, features, units = 64, 50, 32, 64
	models := []struct {
		name string
		mk   func(impl string) graph.Layer
	}{
		{"GRU", func(impl string) graph.Layer { return NewGRU(units, WithImplementation(impl)) }},
		{"LSTM", func(impl string) graph.Layer { return NewLSTM(units, WithImplementation(impl)) }},
		{"BiGRU", func(impl string) graph.Layer { return NewBidirectional(NewGRU(units, WithImplementation(impl))) }},
	}
	for _, m := range models {
		for _, impl := range []string{"fused", "unrolled"} {
			b.Run(m.name+"/"+impl, func(b *testing.B) {
				in := graph.Input(steps, features)
				out := graph.Apply1(m.mk(impl), in)
				net, err := graph.NewNetwork([]*graph.Tensor{in}, []*graph.Tensor{out})
				if err != nil {
					b.Fatal(err)
				}
				if err := net.Initialise(tensor.Float32, 1); err != nil {
					b.Fatal(err)
				}
				p, err := graph.NewProgram(net, graph.ProgramSpec{Training: true, Batch: batch, Head: sumHead})
				if err != nil {
					b.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(1, 2))
				x := p.Feeds()[0].Data().([]float32)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				if err := p.Run(true); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := p.Run(true); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}
