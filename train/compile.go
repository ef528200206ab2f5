package train

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
	"github.com/kerago/kerago/losses"
	"github.com/kerago/kerago/metrics"
	"github.com/kerago/kerago/train/optimizers"
)

// Compile configures the model for training, like Keras's compile:
//
//   - optimizer: an optimizers.Optimizer or its Keras name ("adam");
//   - loss: a losses.Loss or its Keras name, or a []any with one per output;
//   - metrics: metrics.Metric values or names ("accuracy" resolves by loss
//     and output shape as in Keras), applied to every output.
//
// Every name, option and shape is checked here; an error names what was
// wrong. Compiling again replaces the previous configuration (weights stay).
func (m *Model) Compile(optimizer any, loss any, metricList ...any) (err error) {
	defer guard("Compile", &err)
	if m.training.Load() {
		return errors.New("Compile: the model is training; compile it before Fit or after it returns")
	}
	opt, err := resolveOptimizer(optimizer)
	if err != nil {
		return err
	}
	outs := m.net.Outputs()
	var lossList []any
	if l, ok := loss.([]any); ok {
		lossList = l
	} else {
		for range outs {
			lossList = append(lossList, loss)
		}
	}
	if len(lossList) != len(outs) {
		return errors.Errorf("Compile: %d losses for a model with %d outputs", len(lossList), len(outs))
	}
	var ls []losses.Loss
	var targets []graph.Shape
	for i, l := range lossList {
		lo, err := resolveLoss(l)
		if err != nil {
			return err
		}
		ts, err := lo.TargetShape(outs[i].Shape())
		if err != nil {
			return errors.Wrapf(err, "Compile: loss %s on output %s", lo.Name(), m.outputName(i))
		}
		ls = append(ls, lo)
		targets = append(targets, ts)
	}
	names := []string{"loss"}
	if len(outs) > 1 {
		for i := range outs {
			names = append(names, m.outputName(i)+"_loss")
		}
	}
	ms := make([][]metrics.Metric, len(outs))
	var specs []string
	for _, spec := range metricList {
		if name, ok := spec.(string); ok {
			specs = append(specs, name)
		} else if me, ok := spec.(metrics.Metric); ok {
			specs = append(specs, me.Name())
		}
	}
	seen := map[string]int{}
	for i := range outs {
		for _, spec := range metricList {
			var me metrics.Metric
			switch v := spec.(type) {
			case string:
				me, err = metrics.Resolve(v, ls[i].Name(), outs[i].Shape())
				if err != nil {
					return errors.Wrap(err, "Compile")
				}
			case metrics.Metric:
				me = v
			default:
				return errors.Errorf("Compile: a metric must be a name or a metrics.Metric, got %T", spec)
			}
			ms[i] = append(ms[i], me)
			name := me.Name()
			if len(outs) > 1 {
				name = m.outputName(i) + "_" + name
			}
			if k := seen[name]; k > 0 {
				seen[name] = k + 1
				name = fmt.Sprintf("%s_%d", name, k)
			} else {
				seen[name] = 1
			}
			names = append(names, name)
		}
	}
	m.weightsMu.Lock() // no Evaluate may read the compiled state meanwhile
	defer m.weightsMu.Unlock()
	m.opt, m.losses, m.metrics, m.targets, m.names = opt, ls, ms, targets, names
	m.metricSpecs = specs
	m.compiledTrainable = m.trainableState()
	m.compiled = true
	m.trainProgs = newProgramCache(m.programBytes)
	m.evalProgs = newProgramCache(m.programBytes)
	return nil
}

func (m *Model) outputName(i int) string { return m.net.Outputs()[i].Layer().Name() }

func resolveOptimizer(o any) (optimizers.Optimizer, error) {
	var opt optimizers.Optimizer
	switch v := o.(type) {
	case string:
		var err error
		if opt, err = optimizers.Get(v); err != nil {
			return nil, errors.Wrap(err, "Compile")
		}
	case optimizers.Optimizer:
		opt = v
	case nil:
		return nil, errors.New("Compile: no optimizer given")
	default:
		return nil, errors.Errorf("Compile: the optimizer must be a name or an optimizers.Optimizer, got %T", o)
	}
	if err := opt.Validate(); err != nil {
		return nil, errors.Wrap(err, "Compile")
	}
	return opt, nil
}

func resolveLoss(l any) (losses.Loss, error) {
	switch v := l.(type) {
	case string:
		lo, err := losses.Get(v)
		if err != nil {
			return nil, errors.Wrap(err, "Compile")
		}
		return lo, nil
	case losses.Loss:
		return v, nil
	case nil:
		return nil, errors.New("Compile: the model cannot be compiled because it has no loss to optimize")
	}
	return nil, errors.Errorf("Compile: a loss must be a name or a losses.Loss, got %T", l)
}

// head adds targets, the loss and the metrics on top of the outputs: cost is
// the sum of the per-output batch-mean losses; reports are the per-output
// losses (several outputs only) and then every metric's batch mean, in
// MetricsNames order after "loss". Means are ops.Mean, which allocates
// nothing per run.
func (m *Model) head(ctx *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
	var cost graph.Node
	var lossReports, metricReports []graph.Node
	for i, out := range outs {
		target, err := m.losses[i].TargetShape(graph.Shape(out.Shape()[1:]))
		if err != nil {
			return nil, nil, err
		}
		yTrue := ctx.Placeholder("y_true", target.WithBatch(ctx.Batch()))
		per, err := m.losses[i].PerSample(ctx, yTrue, out)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "loss %s", m.losses[i].Name())
		}
		l, err := ops.Mean(per)
		if err != nil {
			return nil, nil, err
		}
		lossReports = append(lossReports, l)
		if cost == nil {
			cost = l
		} else if cost, err = G.Add(cost, l); err != nil {
			return nil, nil, err
		}
		for _, me := range m.metrics[i] {
			per, err := me.PerSample(ctx, yTrue, out)
			if err != nil {
				return nil, nil, errors.Wrapf(err, "metric %s", me.Name())
			}
			v, err := ops.Mean(per)
			if err != nil {
				return nil, nil, err
			}
			metricReports = append(metricReports, v)
		}
	}
	if len(outs) == 1 {
		lossReports = nil
	}
	return cost, append(lossReports, metricReports...), nil
}
