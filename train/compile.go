package train

import (
	"fmt"
	"math"
	"slices"
	"strings"

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
//   - loss: a losses.Loss or its Keras name (for every output), a []any
//     with one per output, or a map[string]any from output names to losses
//     (Keras's loss={"out_a": "mse", ...}; every output needs one);
//   - metrics: metrics.Metric values or Keras names ("accuracy" resolves
//     by loss and output shape as in Keras; "mse", "auc", "precision",
//     "top_k_categorical_accuracy", ... see metrics.Resolve), applied to
//     every output; or one map[string][]any from output names to their
//     metrics (Keras's metrics={"out_a": ["mae"]}; outputs not named get
//     none), or one [][]any with a list per output;
//   - LossWeights(...) among the metrics: the weights of the outputs'
//     losses in the total loss (default 1 each);
//   - WeightedMetrics(...) among the metrics: metrics that use the sample
//     weights (SampleWeight, ClassWeight), Keras's weighted_metrics, given
//     in any of the forms metrics take. Plain metrics ignore the weights.
//
// Logs name the metrics as Keras 3 does: "loss", then with several outputs
// "<output>_loss" for each output's (unweighted) loss, then the metrics,
// prefixed "<output>_" with several outputs; a repeated name gets "_1",
// "_2"; a weighted metric whose name is taken becomes "weighted_<name>". A
// metric with several values (metrics.Vector: F1Score per class, Precision
// at several thresholds), which Keras logs as one array, logs
// "<name>[0]", "<name>[1]", ….
// Every name, option and shape is checked here; an error names what was
// wrong (an unknown output name lists the model's). Compiling again
// replaces the previous configuration (weights stay).
func (m *Model) Compile(optimizer any, loss any, metricList ...any) (err error) {
	defer guard("Compile", &err)
	if m.training.Load() {
		return errors.New("Compile: the model is training; compile it before Fit or after it returns")
	}
	opt, err := resolveOptimizer(optimizer)
	if err != nil {
		return err
	}
	var lossWeights, weightedSpec any
	var plain []any
	for _, s := range metricList {
		switch v := s.(type) {
		case compileOption:
			if v.lossWeights != nil {
				lossWeights = v.lossWeights
			} else {
				weightedSpec = v.weighted
			}
		default:
			plain = append(plain, s)
		}
	}
	outs := m.net.Outputs()
	lossList, err := m.perOutputLosses(loss)
	if err != nil {
		return err
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
	lw, err := m.lossWeightList(lossWeights)
	if err != nil {
		return err
	}
	names := []string{"loss"}
	if len(outs) > 1 {
		for i := range outs {
			names = append(names, m.outputName(i)+"_loss")
		}
	}
	var cms []compiledMetric
	seen := map[string]int{}
	for _, weighted := range []bool{false, true} {
		spec := plain
		what := "metrics"
		if weighted {
			what = "WeightedMetrics"
			spec = nil
			if weightedSpec != nil {
				spec = weightedSpec.([]any)
			}
		}
		per, err := m.perOutputMetrics(what, spec)
		if err != nil {
			return err
		}
		for i, list := range per {
			for _, s := range list {
				me, err := resolveMetric(s, ls[i].Name(), targets[i], outs[i].Shape())
				if err != nil && len(outs) > 1 {
					return errors.Wrapf(err, "Compile: %s of output %s", what, m.outputName(i))
				} else if err != nil {
					return errors.Wrapf(err, "Compile: %s", what)
				}
				name, _ := s.(string)
				cm := compiledMetric{Metric: me, output: i, weighted: weighted, spec: name, values: 1}
				if v, ok := me.(metrics.Vector); ok {
					cm.values = v.Len(outs[i].Shape())
				}
				cms = append(cms, cm)
				base := m.logName(seen, i, me.Name(), weighted)
				if cm.values == 1 {
					names = append(names, base)
				}
				for k := 0; k < cm.values && cm.values > 1; k++ {
					names = append(names, fmt.Sprintf("%s[%d]", base, k))
				}
			}
		}
	}
	m.weightsMu.Lock() // no Evaluate may read the compiled state meanwhile
	defer m.weightsMu.Unlock()
	m.opt, m.losses, m.metrics, m.targets, m.names = opt, ls, cms, targets, names
	m.lossWeights = lw
	m.compiledTrainable = m.trainableState()
	m.compiled = true
	m.trainProgs = newProgramCache(m.programBytes)
	m.evalProgs = newProgramCache(m.programBytes)
	return nil
}

// compiledMetric is a metric compiled on output output; weighted ones
// (WeightedMetrics) use the sample weights.
type compiledMetric struct {
	metrics.Metric
	output   int
	weighted bool
	spec     string // the name it was given by, if any (for saving)
	values   int    // how many values it logs (metrics.Vector)
}

// compileOption is a LossWeights or WeightedMetrics argument of Compile.
type compileOption struct {
	lossWeights any
	weighted    any
}

// LossWeights weighs the outputs' losses in the total loss, as Keras's
// loss_weights: a []float64 with one weight per output, or a
// map[string]float64 from output names to weights (outputs not named
// weigh 1). Pass it among Compile's metrics.
func LossWeights(w any) any { return compileOption{lossWeights: w} }

// WeightedMetrics are metrics that use the sample weights given to Fit and
// Evaluate (SampleWeight, ClassWeight), as Keras's weighted_metrics; they
// take the forms Compile's metrics take. Pass it among Compile's metrics.
func WeightedMetrics(list ...any) any { return compileOption{weighted: list} }

// outputNames are the model's output names.
func (m *Model) outputNames() []string {
	var out []string
	for i := range m.net.Outputs() {
		out = append(out, m.outputName(i))
	}
	return out
}

// outputIndex is the index of the output named name, or an error listing
// the model's output names; what names the argument.
func (m *Model) outputIndex(what, name string) (int, error) {
	names := m.outputNames()
	if i := slices.Index(names, name); i >= 0 {
		return i, nil
	}
	return 0, errors.Errorf("Compile: %s names output %q, but the model's outputs are %s", what, name, strings.Join(names, ", "))
}

// perOutputLosses spreads Compile's loss argument over the outputs.
func (m *Model) perOutputLosses(loss any) ([]any, error) {
	n := len(m.net.Outputs())
	switch v := loss.(type) {
	case []any:
		if len(v) != n {
			return nil, errors.Errorf("Compile: %d losses for a model with %d outputs", len(v), n)
		}
		return v, nil
	case map[string]any:
		out := make([]any, n)
		for name, l := range v {
			i, err := m.outputIndex("loss", name)
			if err != nil {
				return nil, err
			}
			out[i] = l
		}
		for i, l := range out {
			if l == nil {
				return nil, errors.Errorf("Compile: the loss map gives no loss for output %s (outputs: %s)", m.outputName(i), strings.Join(m.outputNames(), ", "))
			}
		}
		return out, nil
	}
	out := make([]any, n)
	for i := range out {
		out[i] = loss
	}
	return out, nil
}

// lossWeightList is LossWeights' argument as one weight per output (nil
// when not given: every loss weighs 1).
func (m *Model) lossWeightList(w any) ([]float64, error) {
	if w == nil {
		return nil, nil
	}
	n := len(m.net.Outputs())
	out := make([]float64, n)
	switch v := w.(type) {
	case []float64:
		if len(v) != n {
			return nil, errors.Errorf("Compile: LossWeights has %d weights for a model with %d outputs", len(v), n)
		}
		copy(out, v)
	case map[string]float64:
		for i := range out {
			out[i] = 1
		}
		for name, x := range v {
			i, err := m.outputIndex("LossWeights", name)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
	default:
		return nil, errors.Errorf("Compile: LossWeights takes a []float64 or a map[string]float64, got %T", w)
	}
	for i, x := range out {
		if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			return nil, errors.Errorf("Compile: LossWeights: the weight %v of output %s must be finite and not negative", x, m.outputName(i))
		}
	}
	return out, nil
}

// perOutputMetrics spreads a metrics argument over the outputs: a flat
// list applies to every output, a map[string][]any (or map[string]any) by
// output name, a [][]any by position.
func (m *Model) perOutputMetrics(what string, spec []any) ([][]any, error) {
	n := len(m.net.Outputs())
	out := make([][]any, n)
	if len(spec) == 1 {
		switch v := spec[0].(type) {
		case map[string][]any:
			for name, list := range v {
				i, err := m.outputIndex(what, name)
				if err != nil {
					return nil, err
				}
				out[i] = list
			}
			return out, nil
		case map[string]any:
			for name, one := range v {
				i, err := m.outputIndex(what, name)
				if err != nil {
					return nil, err
				}
				if list, ok := one.([]any); ok {
					out[i] = list
				} else {
					out[i] = []any{one}
				}
			}
			return out, nil
		case [][]any:
			if len(v) != n {
				return nil, errors.Errorf("Compile: %s has %d lists for a model with %d outputs", what, len(v), n)
			}
			return v, nil
		}
	}
	for i := range out {
		out[i] = spec
	}
	return out, nil
}

// resolveMetric is the metric a Compile argument names, checked against
// the output and its targets.
func resolveMetric(spec any, lossName string, target, output graph.Shape) (metrics.Metric, error) {
	var me metrics.Metric
	switch v := spec.(type) {
	case string:
		var err error
		if me, err = metrics.Resolve(v, lossName, output); err != nil {
			return nil, err
		}
	case metrics.Metric:
		if v == nil {
			return nil, errors.New("a metric is nil")
		}
		me = v
	default:
		return nil, errors.Errorf("a metric must be a name or a metrics.Metric, got %T", spec)
	}
	return me, me.Check(target, output)
}

// logName is the log name of metric name on output i, made unique in seen
// as Keras 3 does.
func (m *Model) logName(seen map[string]int, i int, name string, weighted bool) string {
	prefix := ""
	if len(m.net.Outputs()) > 1 {
		prefix = m.outputName(i) + "_"
	}
	full := prefix + name
	if k := seen[full]; k == 0 {
		seen[full] = 1
		return full
	}
	if weighted {
		full = prefix + "weighted_" + name
		if seen[full] == 0 {
			seen[full] = 1
			return full
		}
	}
	k := seen[full]
	seen[full] = k + 1
	return fmt.Sprintf("%s_%d", full, k)
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

// unweightedHead and weightedHead are the heads of programs fed without and
// with sample weights.
func (m *Model) unweightedHead(ctx *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
	return m.head(ctx, outs, false)
}

func (m *Model) weightedHead(ctx *graph.Context, outs []graph.Node) (graph.Node, []graph.Node, error) {
	return m.head(ctx, outs, true)
}

// head adds targets (and, when weighted, one sample-weight placeholder per
// output, shape (batch,), after all the targets), the loss and the metrics'
// statistics on top of the outputs: cost is Σ loss_weight·loss over the
// outputs, each loss the batch mean of the per-sample losses (weighted:
// Σ w·loss / batch size, Keras's sum_over_batch_size); reports are the
// per-output losses (several outputs only) and then every metric's
// statistics node, in MetricsNames order after "loss".
func (m *Model) head(ctx *graph.Context, outs []graph.Node, weighted bool) (graph.Node, []graph.Node, error) {
	yTrue := make([]graph.Node, len(outs))
	for i, out := range outs {
		target, err := m.losses[i].TargetShape(graph.Shape(out.Shape()[1:]))
		if err != nil {
			return nil, nil, err
		}
		yTrue[i] = ctx.Placeholder("y_true", target.WithBatch(ctx.Batch()))
	}
	sw := make([]graph.Node, len(outs))
	if weighted {
		for i := range outs {
			sw[i] = ctx.Placeholder("sample_weight", []int{ctx.Batch()})
		}
	}
	var cost graph.Node
	var lossReports, metricReports []graph.Node
	for i, out := range outs {
		l, err := outputLoss(ctx, m.losses[i], yTrue[i], out, sw[i])
		if err != nil {
			return nil, nil, err
		}
		lossReports = append(lossReports, l)
		if m.lossWeights != nil && m.lossWeights[i] != 1 {
			if l, err = G.Mul(l, ctx.Scalar(m.lossWeights[i])); err != nil {
				return nil, nil, err
			}
		}
		if cost == nil {
			cost = l
		} else if cost, err = G.Add(cost, l); err != nil {
			return nil, nil, err
		}
	}
	for _, cm := range m.metrics {
		var w graph.Node
		if cm.weighted {
			w = sw[cm.output]
		}
		st, err := cm.Stats(ctx, yTrue[cm.output], outs[cm.output], w)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "metric %s", cm.Name())
		}
		metricReports = append(metricReports, st)
	}
	if len(outs) == 1 {
		lossReports = nil
	}
	return cost, append(lossReports, metricReports...), nil
}

// outputLoss is the loss lo of output out: the batch mean of its
// per-sample losses, each weighted by w when w is not nil.
func outputLoss(ctx *graph.Context, lo losses.Loss, yTrue, out, w graph.Node) (graph.Node, error) {
	per, err := lo.PerSample(ctx, yTrue, out)
	if err != nil {
		return nil, errors.Wrapf(err, "loss %s", lo.Name())
	}
	if w != nil {
		if per, err = G.HadamardProd(per, w); err != nil {
			return nil, err
		}
	}
	return ops.Mean(per)
}
