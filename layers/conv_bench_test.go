package layers

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// BenchmarkConv2DForwardBackward times one training step's forward and
// backward pass (no optimizer) of the MNIST demo's convolutions, float32,
// batch 64, cost = Σ output: the first layer 28×28×1 → Conv2D(32, 3, relu),
// the same without relu (the convolution's own cost), and a second layer
// 13×13×32 → Conv2D(64, 3). It reports ns/op (one step) and samples/s.
func BenchmarkConv2DForwardBackward(b *testing.B) {
	const batch = 64
	cases := []struct {
		name string
		in   []int
		l    func() *Conv2D
	}{
		{"28x28x1_to_32_relu", []int{28, 28, 1}, func() *Conv2D { return NewConv2D(32, 3, WithActivation("relu")) }},
		// The first layer without its activation: what the convolution itself costs.
		{"28x28x1_to_32_linear", []int{28, 28, 1}, func() *Conv2D { return NewConv2D(32, 3) }},
		{"13x13x32_to_64", []int{13, 13, 32}, func() *Conv2D { return NewConv2D(64, 3) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			in := graph.Input(c.in...)
			benchTraining(b, in, c.l().Apply(in), batch, func(r *rand.Rand) float32 { return r.Float32() })
		})
	}
}

// benchTraining benchmarks training steps (the summed output as the cost)
// of the network from in to out, for batch samples drawn by draw; it
// reports allocations and samples per second.
func benchTraining(b *testing.B, in, out *graph.Tensor, batch int, draw func(*rand.Rand) float32) {
	b.Helper()
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
		x[i] = draw(rng)
	}
	if err := p.Run(true); err != nil { // warm-up: scratch buffers
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
}
