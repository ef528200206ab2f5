package train

import (
	"testing"

	"gorgonia.org/tensor"
)

// TestFirstValue checks that a report is read from scalars and vectors of
// either dtype without allocating.
func TestFirstValue(t *testing.T) {
	a := tensor.New(tensor.FromScalar(float32(2.5)))
	b := tensor.New(tensor.FromScalar(float64(-1.5)))
	c := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{3}))
	if firstValue(a) != 2.5 || firstValue(b) != -1.5 || firstValue(c) != 3 {
		t.Fatal(firstValue(a), firstValue(b), firstValue(c))
	}
	if n := testing.AllocsPerRun(10, func() { firstValue(a) }); n != 0 {
		t.Fatal("allocs", n)
	}
}
