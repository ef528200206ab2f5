package train

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// GetWeights returns a copy of every weight's values, in Keras's
// get_weights() order: the model's Weights() order, which is the network's
// layer order with each layer's weights in Keras order (a Dense layer's
// kernel then bias; a GRU's kernel, recurrent kernel, bias). The tensors
// have the model's dtype and are the caller's to change.
func (m *Model) GetWeights() []*tensor.Dense {
	m.weightsMu.RLock()
	defer m.weightsMu.RUnlock()
	ws := m.Weights()
	out := make([]*tensor.Dense, len(ws))
	for i, w := range ws {
		var backing any
		switch d := w.Value().Data().(type) {
		case []float32:
			backing = append([]float32(nil), d...)
		case []float64:
			backing = append([]float64(nil), d...)
		}
		out[i] = tensor.New(tensor.WithShape(w.Shape()...), tensor.WithBacking(backing))
	}
	return out
}

// SetWeights overwrites every weight with ws, given in GetWeights order, as
// Keras's set_weights. Each tensor must have exactly its weight's shape and
// a float32 or float64 dtype; values are converted to the model's dtype
// (float64 values too large for a float32 model are refused, not rounded to
// infinity), and NaN or ±Inf values are refused. The change is
// all-or-nothing: every tensor is checked before any weight changes. Errors
// name the weight by index and name, and say what was expected.
func (m *Model) SetWeights(ws []*tensor.Dense) error {
	vals, err := m.checkWeights(ws)
	if err != nil {
		return errors.Wrap(err, "SetWeights")
	}
	m.weightsMu.Lock()
	defer m.weightsMu.Unlock()
	for i, w := range m.Weights() {
		switch d := w.Value().Data().(type) {
		case []float32:
			copy(d, vals[i].([]float32))
		case []float64:
			copy(d, vals[i].([]float64))
		}
	}
	return nil
}

// checkWeights checks ws against the model's weights and returns their
// values converted to the model's dtype, one []float32 or []float64 each.
func (m *Model) checkWeights(ws []*tensor.Dense) ([]any, error) {
	model := m.Weights()
	if len(ws) != len(model) {
		return nil, errors.Errorf("got %d weights, the model has %d", len(ws), len(model))
	}
	vals := make([]any, len(ws))
	for i, t := range ws {
		v, err := convertWeight(t, model[i], m.dt)
		if err != nil {
			return nil, errors.Wrapf(err, "weight %d (%s)", i, model[i].Name())
		}
		vals[i] = v
	}
	return vals, nil
}

// convertWeight checks t against w and returns its values as a new slice
// of dtype dt.
func convertWeight(t *tensor.Dense, w *graph.Weight, dt tensor.Dtype) (any, error) {
	if t == nil {
		return nil, errors.Errorf("is nil, want shape %v", []int(w.Shape()))
	}
	if got := []int(t.Shape()); !w.Shape().Equal(got) {
		return nil, errors.Errorf("has shape %v, want %v", got, []int(w.Shape()))
	}
	if t.IsView() {
		t = t.Materialize().(*tensor.Dense)
	}
	switch d := t.Data().(type) {
	case []float32:
		return convertSlice(d, dt)
	case []float64:
		return convertSlice(d, dt)
	}
	return nil, errors.Errorf("has dtype %v, want float32 or float64", t.Dtype())
}

// convertSlice copies src into a new slice of dtype dt (float32 or
// float64), refusing NaN, ±Inf and values that overflow float32.
func convertSlice[T float32 | float64](src []T, dt tensor.Dtype) (any, error) {
	var out32 []float32
	var out64 []float64
	if dt == tensor.Float32 {
		out32 = make([]float32, len(src))
	} else {
		out64 = make([]float64, len(src))
	}
	for j, v := range src {
		f := float64(v)
		switch {
		case math.IsNaN(f) || math.IsInf(f, 0):
			return nil, errors.Errorf("value %d is %v; weights must be finite", j, f)
		case out32 != nil && math.Abs(f) > math.MaxFloat32:
			return nil, errors.Errorf("value %d (%g) overflows float32, the model's dtype", j, f)
		case out32 != nil:
			out32[j] = float32(v)
		default:
			out64[j] = f
		}
	}
	if out32 != nil {
		return out32, nil
	}
	return out64, nil
}
