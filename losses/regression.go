package losses

import (
	"math"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// regression is mean squared or mean absolute error.
type regression struct {
	name string
	f    func(y, p []float64) float64
	df   func(y, p []float64, g float64, dp []float64)
}

// MeanSquaredError is Keras's mean_squared_error (mse): mean((p-y)²) over the
// last axis. Targets have the output's shape.
func MeanSquaredError() Loss {
	return &regression{name: "mean_squared_error", f: mseRow, df: mseGrad}
}

// MeanAbsoluteError is Keras's mean_absolute_error (mae): mean(|p-y|) over
// the last axis (its gradient at p = y is 0). Targets have the output's
// shape.
func MeanAbsoluteError() Loss {
	return &regression{name: "mean_absolute_error", f: maeRow, df: maeGrad}
}

// Name implements Loss.
func (l *regression) Name() string { return l.name }

// TargetShape implements Loss: the output's shape.
func (l *regression) TargetShape(output graph.Shape) (graph.Shape, error) {
	if err := needLastAxis(l.name, output); err != nil {
		return nil, err
	}
	return output.Clone(), nil
}

// CheckTargets implements Loss: targets must be finite.
func (l *regression) CheckTargets(y []float64, output graph.Shape) error {
	ts, err := targetShape(l, y, output)
	if err != nil {
		return err
	}
	return eachTarget(l.name, y, ts, "not finite", func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) })
}

// PerSample implements Loss.
func (l *regression) PerSample(ctx *graph.Context, yTrue, yPred graph.Node) (graph.Node, error) {
	if err := checkPred(l, yTrue, yPred); err != nil {
		return nil, err
	}
	f := &ops.RowFunc{Name: l.name, F: l.f, DF: l.df}
	return f.Apply(yTrue, yPred)
}

func mseRow(y, p []float64) float64 {
	s := 0.0
	for j, pj := range p {
		d := pj - y[j]
		s += d * d
	}
	return s / float64(len(p))
}

func mseGrad(y, p []float64, g float64, dp []float64) {
	g *= 2 / float64(len(p))
	for j, pj := range p {
		dp[j] = g * (pj - y[j])
	}
}

func maeRow(y, p []float64) float64 {
	s := 0.0
	for j, pj := range p {
		s += math.Abs(pj - y[j])
	}
	return s / float64(len(p))
}

func maeGrad(y, p []float64, g float64, dp []float64) {
	g /= float64(len(p))
	for j, pj := range p {
		switch d := pj - y[j]; {
		case d > 0:
			dp[j] = g
		case d < 0:
			dp[j] = -g
		default:
			dp[j] = 0
		}
	}
}

// needLastAxis refuses outputs without a feature or class axis.
func needLastAxis(name string, output graph.Shape) error {
	if len(output) == 0 {
		return errors.Errorf("%s needs an output with a last (feature or class) axis, got shape %v", name, output)
	}
	for _, d := range output {
		if d <= 0 {
			return errors.Errorf("%s: invalid output shape %v", name, output)
		}
	}
	return nil
}

// targetShape is l's target shape for output, once y is checked to hold a
// whole number of targets of that shape.
func targetShape(l Loss, y []float64, output graph.Shape) (graph.Shape, error) {
	ts, err := l.TargetShape(output)
	if err != nil {
		return nil, err
	}
	if err := wholeSamples(l.Name(), y, ts); err != nil {
		return nil, err
	}
	return ts, nil
}

// eachTarget checks every value of y (targets of shape ts) with ok; the
// first that fails is named, with its sample and element, as "is " + what.
func eachTarget(name string, y []float64, ts graph.Shape, what string, ok func(v float64) bool) error {
	size := ts.Size()
	for i, v := range y {
		if !ok(v) {
			return errors.Errorf("%s: target %v of sample %d (element %d) is %s", name, v, i/size, i%size, what)
		}
	}
	return nil
}

// wholeSamples checks that y holds a whole number of targets of shape ts.
func wholeSamples(name string, y []float64, ts graph.Shape) error {
	if size := ts.Size(); len(y)%size != 0 {
		return errors.Errorf("%s: %d target values are not a whole number of samples of shape %v (%d values each)", name, len(y), ts, size)
	}
	return nil
}

// checkPred validates the nodes a loss gets: both present, y_pred with a
// batch axis and an output shape the loss accepts.
func checkPred(l Loss, yTrue, yPred graph.Node) error {
	if yTrue == nil || yPred == nil {
		return errors.Errorf("%s: y_true and y_pred must not be nil", l.Name())
	}
	s := yPred.Shape()
	if len(s) < 1 {
		return errors.Errorf("%s: y_pred must have a batch axis, got shape %v", l.Name(), s)
	}
	_, err := l.TargetShape(graph.Shape(s[1:]))
	return err
}
