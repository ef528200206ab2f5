package losses

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
)

// Func wraps a Go function as a Loss named name, as Keras accepts a Python
// function. f gets the y_true and y_pred nodes (batch axis first, same
// shape: targets have the output's shape, and only their count is checked)
// and returns one loss per sample, shape (batch,); a node with more axes
// (batch, ...) is averaged over the axes after the batch axis, as Keras
// averages a per-timestep loss. Panics inside f (Gorgonia reports many shape
// errors by panicking) are returned as errors.
func Func(name string, f func(ctx *graph.Context, yTrue, yPred graph.Node) (graph.Node, error)) Loss {
	return &funcLoss{name: name, f: f}
}

type funcLoss struct {
	name string
	f    func(ctx *graph.Context, yTrue, yPred graph.Node) (graph.Node, error)
}

// Name implements Loss.
func (l *funcLoss) Name() string { return l.name }

// TargetShape implements Loss: the output's shape.
func (l *funcLoss) TargetShape(output graph.Shape) (graph.Shape, error) {
	return output.Clone(), nil
}

// CheckTargets implements Loss: only the number of values is checked.
func (l *funcLoss) CheckTargets(y []float64, output graph.Shape) error {
	return wholeSamples(l.name, y, output)
}

// PerSample implements Loss.
func (l *funcLoss) PerSample(ctx *graph.Context, yTrue, yPred graph.Node) (out graph.Node, err error) {
	if l.f == nil {
		return nil, errors.Errorf("loss %s has no function", l.name)
	}
	if ctx == nil || yTrue == nil || yPred == nil {
		return nil, errors.Errorf("loss %s: context, y_true and y_pred must not be nil", l.name)
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, errors.Errorf("loss %s panicked: %v", l.name, r)
		}
	}()
	out, err = l.f(ctx, yTrue, yPred)
	if err != nil {
		return nil, errors.Wrapf(err, "loss %s", l.name)
	}
	if out == nil {
		return nil, errors.Errorf("loss %s returned no node", l.name)
	}
	batch := ctx.Batch()
	s := out.Shape()
	if len(s) == 0 || s[0] != batch {
		return nil, errors.Errorf("loss %s returned shape %v: it must return one value per sample, shape (%d,) or (%d, ...)", l.name, s, batch, batch)
	}
	if out.Dtype() != ctx.DType() {
		return nil, errors.Errorf("loss %s returned a %v node in a %v graph", l.name, out.Dtype(), ctx.DType())
	}
	if len(s) == 1 {
		return out, nil
	}
	axes := make([]int, len(s)-1)
	for i := range axes {
		axes[i] = i + 1
	}
	return G.Mean(out, axes...)
}
