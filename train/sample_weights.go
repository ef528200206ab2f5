package train

import (
	"math"

	"github.com/pkg/errors"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/metrics"
)

// SampleWeight weighs each sample in the loss and in the WeightedMetrics,
// as Keras's sample_weight: one non-negative weight per sample (a
// []float64, []float32 or *tensor.Dense of shape (n) or (n, 1)) for every
// output, or train.Multi(w1, w2, ...) with one array per output. The loss
// of a batch becomes Σ w·loss / batch size (Keras's sum_over_batch_size),
// a weighted metric Σ w·value / Σ w. For Fit and Evaluate; with
// ValidationSplit the weights are split with the samples.
func SampleWeight(w any) FitOption {
	return func(c *fitConfig) { c.mark("SampleWeight"); c.sampleWeight = w }
}

// ClassWeight weighs each training sample by the weight of its class, as
// Keras's class_weight: the class is the target's index (sparse targets),
// its argmax (one-hot targets) or its rounded value (one binary target);
// classes not in the map weigh 1. Only for a single-output model, not
// with SampleWeight; the validation data are not weighted. For Fit.
func ClassWeight(w map[int]float64) FitOption {
	return func(c *fitConfig) { c.mark("ClassWeight"); c.classWeight = w }
}

// sampleWeights checks the weights sw (SampleWeight's argument) for d and
// sets d.sw; what names the data in errors.
func (m *Model) sampleWeights(d *dataset, what string, sw any) error {
	arrays, err := new(arraySet).convert("sample weights", sw)
	if err != nil {
		return errors.Wrap(err, what)
	}
	_, isMulti := sw.(multi)
	return m.checkSampleWeights(d, what, arrays, isMulti)
}

// checkSampleWeights checks converted sample weights (one array for every
// output, or with several one per output) for d and sets d.sw.
func (m *Model) checkSampleWeights(d *dataset, what string, arrays []*array, several bool) error {
	outs := len(m.losses)
	if several && len(arrays) != outs {
		return errors.Errorf("%s: %d sample weight arrays for a model with %d outputs", what, len(arrays), outs)
	}
	for len(arrays) < outs {
		arrays = append(arrays, arrays[0])
	}
	for i, a := range arrays {
		if a.n != d.n {
			return errors.Errorf("%s: the sample weights of output %s have %d values for %d samples", what, m.outputName(i), a.n, d.n)
		}
		if a.shape.Size() != 1 {
			return errors.Errorf("%s: the sample weights of output %s have shape %s per sample; give one weight per sample, shape (n) or (n, 1)", what, m.outputName(i), sampleShape(a.shape))
		}
		a.float64s()
		a.shape = graph.Shape{}
		for j, v := range a.data {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return errors.Errorf("%s: sample weight %v of sample %d (output %s) must be finite and not negative", what, v, j, m.outputName(i))
			}
		}
	}
	d.sw = arrays
	return nil
}

// checkClassWeights refuses class weights cw the model cannot use: several
// outputs, targets of more than one axis, a class the output does not
// have, a weight that is negative or not finite. call names the entry
// point in errors.
func (m *Model) checkClassWeights(call string, cw map[int]float64) error {
	if len(m.losses) != 1 {
		return errors.Errorf("%s: ClassWeight is only supported for models with a single output; this one has %d (use SampleWeight)", call, len(m.losses))
	}
	out := m.net.Outputs()[0].Shape()
	t := m.targets[0]
	if len(t) > 1 || len(out) != 1 {
		return errors.Errorf("%s: ClassWeight needs targets with at most one axis per sample (class index, one-hot or binary), got targets of shape %s", call, sampleShape(t))
	}
	classes := out[0]
	if classes == 1 {
		classes = 2
	}
	for k, v := range cw {
		if k < 0 || k >= classes {
			return errors.Errorf("%s: ClassWeight has a weight for class %d, but output %s has %d classes (0 to %d)", call, k, m.outputName(0), classes, classes-1)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return errors.Errorf("%s: ClassWeight: the weight %v of class %d must be finite and not negative", call, v, k)
		}
	}
	return nil
}

// classWeights sets d.sw from class weights cw (checked by
// checkClassWeights) and d's targets.
func (m *Model) classWeights(d *dataset, cw map[int]float64) {
	y := d.ys[0]
	size := max(y.rowSize(), 1)
	w := &array{n: d.n, shape: graph.Shape{}, data: make([]float64, d.n), finite: true}
	for s := range d.n {
		row := y.data[s*size : (s+1)*size]
		class := int(math.RoundToEven(row[0]))
		if size > 1 {
			class = metrics.Argmax(row)
		}
		w.data[s] = 1
		if v, ok := cw[class]; ok {
			w.data[s] = v
		}
	}
	d.sw = []*array{w}
}
