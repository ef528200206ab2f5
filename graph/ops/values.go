package ops

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/pkg/errors"
)

// Float64s returns the elements of a Gorgonia value as float64s. A float64
// tensor's own backing slice is returned (no copy); float32 values are
// converted into a new slice.
func Float64s(v G.Value) []float64 {
	switch t := v.(type) {
	case *G.F64:
		return []float64{float64(*t)}
	case *G.F32:
		return []float64{float64(*t)}
	case *tensor.Dense:
		// Typed accessors: Data would box the slice into an interface.
		if !t.IsScalar() && !t.RequiresIterator() {
			switch t.Dtype() {
			case tensor.Float64:
				return t.Float64s()
			case tensor.Float32:
				return float64sInto(nil, t.Float32s())
			}
		}
	}
	if t, ok := v.(tensor.Tensor); ok {
		switch d := t.Data().(type) {
		case []float64:
			return d
		case []float32:
			out := make([]float64, len(d))
			for i, x := range d {
				out[i] = float64(x)
			}
			return out
		case float64:
			return []float64{d}
		case float32:
			return []float64{float64(d)}
		}
	}
	return nil
}

// float64sInto converts src into buf (grown when too short) and returns
// the len(src) converted values.
func float64sInto(buf []float64, src []float32) []float64 {
	if cap(buf) < len(src) {
		buf = make([]float64, len(src))
	}
	buf = buf[:len(src)]
	for i, x := range src {
		buf[i] = float64(x)
	}
	return buf
}

// mapValues allocates a value shaped and typed like like, and fills it by
// calling f with the float64 view of like and a float64 output buffer.
func mapValues(like G.Value, f func(x, out []float64)) (G.Value, error) {
	x := Float64s(like)
	if x == nil {
		return nil, errors.Errorf("unsupported value %T (want float32 or float64)", like)
	}
	out := make([]float64, len(x))
	f(x, out)
	return fromFloat64s(like, out)
}

// fromFloat64s builds a value with like's shape and dtype holding data.
func fromFloat64s(like G.Value, data []float64) (G.Value, error) {
	switch t := like.(type) {
	case *G.F64:
		v := G.F64(data[0])
		return &v, nil
	case *G.F32:
		v := G.F32(float32(data[0]))
		return &v, nil
	case tensor.Tensor:
		shape := t.Shape().Clone()
		switch t.Dtype() {
		case tensor.Float64:
			return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data)), nil
		case tensor.Float32:
			d32 := make([]float32, len(data))
			for i, x := range data {
				d32[i] = float32(x)
			}
			return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d32)), nil
		}
	}
	return nil, errors.Errorf("unsupported value %T (want float32 or float64)", like)
}
