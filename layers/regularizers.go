package layers

import (
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
)

// L1L2Regularizer is Keras's L1L2: penalty = L1·Σ|w| + L2·Σw², summed over
// every element, with no ½ factor, added once per batch to the loss.
type L1L2Regularizer struct{ L1, L2 float64 }

// L1 is Keras's regularizers.l1(l).
func L1(l float64) graph.Regularizer { return L1L2Regularizer{L1: l} }

// L2 is Keras's regularizers.l2(l).
func L2(l float64) graph.Regularizer { return L1L2Regularizer{L2: l} }

// L1L2 is Keras's regularizers.l1_l2(l1, l2).
func L1L2(l1, l2 float64) graph.Regularizer { return L1L2Regularizer{L1: l1, L2: l2} }

// Penalty implements graph.Regularizer.
func (r L1L2Regularizer) Penalty(ctx *graph.Context, w graph.Node) (graph.Node, error) {
	var total graph.Node
	add := func(coef float64, f func(*G.Node) (*G.Node, error)) error {
		if coef == 0 {
			return nil
		}
		t, err := f(w)
		if err != nil {
			return err
		}
		s, err := G.Sum(t)
		if err != nil {
			return err
		}
		p, err := G.Mul(ctx.Scalar(coef), s)
		if err != nil {
			return err
		}
		if total == nil {
			total = p
			return nil
		}
		total, err = G.Add(total, p)
		return err
	}
	if err := add(r.L1, G.Abs); err != nil {
		return nil, err
	}
	if err := add(r.L2, G.Square); err != nil {
		return nil, err
	}
	if total == nil {
		return ctx.Scalar(0), nil
	}
	return total, nil
}
