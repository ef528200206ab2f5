package optimizers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	opt "github.com/kerago/kerago/train/optimizers"
)

// TestOverflowingStepChangesNothing makes steps whose result overflows —
// float32 SGD at lr 1e38, float64 SGD at lr 1e300, Adam with momentum
// slots already set by a good step — and checks that Apply refuses them
// naming the weight and index, and leaves every weight and the iteration
// count as they were.
func TestOverflowingStepChangesNothing(t *testing.T) {
	cases := []struct {
		dt tensor.Dtype
		o  opt.Optimizer
		g  float64
	}{
		{tensor.Float32, opt.SGD(opt.LR(1e38)), 10},
		{tensor.Float64, opt.SGD(opt.LR(1e300)), 1e10},
		{tensor.Float32, opt.SGD(opt.LR(1e37), opt.Momentum(0.9)), 1e3},
	}
	for _, c := range cases {
		ws := network(t, c.dt, 2, 1)
		setAll(t, ws, 0.5)
		grads := make([]*tensor.Dense, len(ws))
		for i, w := range ws {
			g := make([]float64, w.Value().DataSize())
			for j := range g {
				g[j] = 1e-3
			}
			grads[i] = grad(w, g...)
		}
		// One good step first (so that slots hold values), then the bad one.
		if err := c.o.Apply(ws, grads); err != nil {
			t.Fatalf("%v %s: the small step: %v", c.dt, c.o.Name(), err)
		}
		before := make([][]float64, len(ws))
		for i, w := range ws {
			before[i] = w.Float64s()
		}
		big := make([]*tensor.Dense, len(ws))
		for i, w := range ws {
			g := make([]float64, w.Value().DataSize())
			for j := range g {
				g[j] = -c.g
			}
			big[i] = grad(w, g...)
		}
		err := c.o.Apply(ws, big)
		if err == nil || !strings.Contains(err.Error(), "the step would make "+ws[0].Name()+"[0] +Inf") || !strings.Contains(err.Error(), "no weight was changed") {
			t.Errorf("%v %s: got %v", c.dt, c.o.Name(), err)
		}
		for i, w := range ws {
			if !slices.Equal(w.Float64s(), before[i]) {
				t.Errorf("%v %s: weight %s changed by a refused step", c.dt, c.o.Name(), w.Name())
			}
		}
		if c.o.Iterations() != 1 {
			t.Errorf("%v %s: %d iterations after one good and one refused step", c.dt, c.o.Name(), c.o.Iterations())
		}
		// A good step still works afterwards.
		if err := c.o.Apply(ws, grads); err != nil {
			t.Errorf("%v %s: a step after the refused one: %v", c.dt, c.o.Name(), err)
		}
	}
}

// TestOverflowingStepInHalves checks the refused step of a weight large
// enough to be stepped in two halves concurrently: one element overflows
// in the first half (the second half, stepped meanwhile, must be restored
// too), in the second half, or in both (the first is named); every time
// the error names that element and no weight changes.
func TestOverflowingStepInHalves(t *testing.T) {
	for _, bad := range [][]int{{10}, {80000}, {70000, 20}} {
		ws := network(t, tensor.Float32, 300, 300)
		setAll(t, ws, 0.5)
		if n := ws[0].Value().DataSize(); n != 90000 {
			t.Fatalf("kernel of %d elements", n)
		}
		before := make([][]float64, len(ws))
		grads := make([]*tensor.Dense, len(ws))
		for i, w := range ws {
			before[i] = w.Float64s()
			g := make([]float64, w.Value().DataSize())
			for j := range g {
				g[j] = 1e-3
			}
			if i == 0 {
				for _, b := range bad {
					g[b] = -100
				}
			}
			grads[i] = grad(w, g...)
		}
		o := opt.SGD(opt.LR(1e37))
		err := o.Apply(ws, grads)
		first := min(bad[0], bad[len(bad)-1])
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("the step would make %s[%d] +Inf", ws[0].Name(), first)) {
			t.Errorf("bad elements %v: got %v", bad, err)
		}
		for i, w := range ws {
			if !slices.Equal(w.Float64s(), before[i]) {
				t.Errorf("bad elements %v: weight %s changed by a refused step", bad, w.Name())
			}
		}
	}
}

// setAll sets every element of every weight in ws to v.
func setAll(t *testing.T, ws []*graph.Weight, v float64) {
	t.Helper()
	for _, w := range ws {
		vals := make([]float64, w.Value().DataSize())
		for i := range vals {
			vals[i] = v
		}
		set(t, w, vals...)
	}
}
