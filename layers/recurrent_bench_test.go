package layers

import (
	"math/rand/v2"
	"testing"

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
				benchTraining(b, in, graph.Apply1(m.mk(impl), in), batch, func(r *rand.Rand) float32 { return float32(r.NormFloat64()) })
			})
		}
	}
}
