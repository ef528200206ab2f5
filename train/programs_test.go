package train

import (
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/layers"
)

// cacheBytes is the memory the cache's idle programs hold, as it counts it
// and as a sum over them.
func (c *programCache) cacheBytes() (counted, sum int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ps := range c.idle {
		for _, p := range ps {
			sum += p.Bytes()
		}
	}
	return c.bytes, sum
}

// TestProgramCacheBytes: with a byte bound smaller than two programs, the
// predict cache keeps only the most recent program; with the default bound
// it keeps one per batch size; its count always equals the sum over what it
// holds. A program's size grows with its batch (its activations do).
func TestProgramCacheBytes(t *testing.T) {
	build := func(opts ...ModelOption) *Model {
		m, err := Sequential(graph.Input(64), []graph.Layer{layers.NewDense(256, layers.WithActivation("relu")), layers.NewDense(10)}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	predictSizes := func(m *Model, sizes ...int) {
		for _, n := range sizes {
			x := tensor.New(tensor.WithShape(n, 64), tensor.WithBacking(make([]float32, n*64)))
			if _, err := m.Predict(x, BatchSize(n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	m := build()
	predictSizes(m, 1, 2, 4, 8)
	counted, sum := m.predictProgs.cacheBytes()
	if m.predictProgs.len() != 4 || counted != sum {
		t.Fatalf("default bound: %d programs, %d bytes counted, %d held", m.predictProgs.len(), counted, sum)
	}
	one := m.predictProgs.idle[keyOf(1, nil)][0].Bytes()
	eight := m.predictProgs.idle[keyOf(8, nil)][0].Bytes()
	// At least the hidden activations (256 float32s per sample) per sample.
	if one <= 0 || eight-one < 7*256*4 {
		t.Fatalf("program bytes: batch 1 %d, batch 8 %d", one, eight)
	}
	small := build(ProgramCacheBytes(eight))
	predictSizes(small, 8, 4, 2, 1, 8)
	counted, sum = small.predictProgs.cacheBytes()
	if small.predictProgs.len() != 1 || !small.predictProgs.has(keyOf(8, nil)) || counted != sum || counted > eight {
		t.Fatalf("bound %d: %d programs, %d bytes counted, %d held", eight, small.predictProgs.len(), counted, sum)
	}
	none := build(ProgramCacheBytes(0))
	predictSizes(none, 2, 1)
	if none.predictProgs.len() != 1 || !none.predictProgs.has(keyOf(1, nil)) {
		t.Fatalf("bound 0: %d programs; the last one must stay", none.predictProgs.len())
	}
	if _, err := Sequential(graph.Input(2), []graph.Layer{layers.NewDense(1)}, ProgramCacheBytes(-1)); err == nil || err.Error() != "ProgramCacheBytes(-1): the bound must be at least 0" {
		t.Errorf("ProgramCacheBytes(-1): got %v", err)
	}
}
