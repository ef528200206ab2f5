package graph

import (
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Initializer fills a new weight's values, like a Keras initializer. shape is
// the weight's full shape; dst has Shape.Size() elements; rng is the weight's
// own seeded source.
type Initializer interface {
	Fill(dst []float64, shape Shape, rng *rand.Rand) error
}

// Regularizer adds a penalty on a weight to the training loss, like a Keras
// regularizer: the penalty node must be a scalar of the weight's dtype.
type Regularizer interface {
	Penalty(ctx *Context, w Node) (Node, error)
}

// Weight is one weight tensor of a layer (a kernel, a bias, a moving mean).
// It holds its values in one *tensor.Dense, shared by every Program that uses
// it. Values exist once a Network has initialised the weight.
type Weight struct {
	name      string
	shape     Shape
	init      Initializer
	reg       Regularizer
	trainable bool
	// frozen is set while the weight's layer is not trainable.
	frozen bool
	value  *tensor.Dense
}

// Name is "<layer>/<weight>", for example "dense/kernel".
func (w *Weight) Name() string { return w.name }

// Shape is the weight's full shape (weights have no batch axis).
func (w *Weight) Shape() Shape { return w.shape.Clone() }

// Trainable reports whether optimizers update the weight: it was created
// trainable (a kernel, not a moving mean) and its layer is trainable.
func (w *Weight) Trainable() bool { return w.trainable && !w.frozen }

// Regularizer is the weight's regularizer, or nil.
func (w *Weight) Regularizer() Regularizer { return w.reg }

// Value is the tensor that holds the weight's values (nil before
// initialisation). Writing into it changes the weight everywhere.
func (w *Weight) Value() *tensor.Dense { return w.value }

// Float64s returns a copy of the weight's values as float64s.
func (w *Weight) Float64s() []float64 {
	if w.value == nil {
		return nil
	}
	return Float64s(w.value)
}

// SetFloat64s overwrites the weight's values (converted to its dtype).
func (w *Weight) SetFloat64s(vals []float64) error {
	if w.value == nil {
		return errors.Errorf("weight %s: not initialised yet (create the model first)", w.name)
	}
	if len(vals) != w.shape.Size() {
		return errors.Errorf("weight %s: got %d values, shape %v needs %d", w.name, len(vals), []int(w.shape), w.shape.Size())
	}
	copyInto(w.value, vals)
	return nil
}

// initialise allocates the weight in dtype and fills it from init with rng.
func (w *Weight) initialise(dt tensor.Dtype, rng *rand.Rand) error {
	vals := make([]float64, w.shape.Size())
	if w.init != nil {
		if err := w.init.Fill(vals, w.shape.Clone(), rng); err != nil {
			return errors.Wrapf(err, "initialising %s", w.name)
		}
	}
	var backing interface{}
	switch dt {
	case tensor.Float64:
		backing = vals
	case tensor.Float32:
		v32 := make([]float32, len(vals))
		for i, v := range vals {
			v32[i] = float32(v)
		}
		backing = v32
	default:
		return errors.Errorf("weight %s: dtype %v not supported (float32 or float64)", w.name, dt)
	}
	w.value = tensor.New(tensor.WithShape(w.shape...), tensor.WithBacking(backing))
	return nil
}
