package graph

import (
	"fmt"

	"github.com/pkg/errors"
)

// Tensor is a symbolic tensor of the model DAG: a model input, or output
// number Index of a layer applied to other tensors. It holds a shape and no
// values. If building it failed, Err says why, and every tensor computed from
// it carries the same error, so that NewModel reports the first failure.
type Tensor struct {
	shape  Shape
	layer  Layer
	inputs []*Tensor
	index  int
	err    error
	call   *call
	masked bool
}

// call is one application of a layer: the layer, its inputs and outputs,
// and the explicit mask of its first input (ApplyMasked), or nil.
type call struct {
	layer   Layer
	inputs  []*Tensor
	outputs []*Tensor
	mask    *Tensor
}

// Shape is the tensor's shape without the batch axis.
func (t *Tensor) Shape() Shape { return t.shape.Clone() }

// Err is the error that building this tensor (or one it depends on) raised.
func (t *Tensor) Err() error { return t.err }

// Layer is the layer that produced the tensor (an *InputLayer for inputs).
func (t *Tensor) Layer() Layer { return t.layer }

// Inputs are the tensors the producing layer was applied to.
func (t *Tensor) Inputs() []*Tensor { return t.inputs }

// Index is the tensor's position among its layer's outputs.
func (t *Tensor) Index() int { return t.index }

// String names the tensor Keras-style: dense_1[0][0]-like "dense_1/0 (None, 10)".
func (t *Tensor) String() string {
	name := "?"
	if t.layer != nil {
		name = t.layer.Name()
	}
	return fmt.Sprintf("%s/%d %s", name, t.index, t.shape)
}

// Errored returns a tensor that carries err; layers return it when they are
// applied wrongly (for example with the wrong number of inputs).
func Errored(err error) *Tensor { return &Tensor{err: err} }

// InputLayer is the layer behind a model input: it has no weights and emits
// nothing; a Program feeds its value.
type InputLayer struct {
	Base
	shape Shape
}

// Input creates a model input of the given shape (batch axis excluded), like
// keras.Input(shape=...). A dim must be positive.
func Input(shape ...int) *Tensor {
	return NamedInput("", shape...)
}

// NamedInput is Input with an explicit layer name ("" picks input, input_1, …).
func NamedInput(name string, shape ...int) *Tensor {
	l := &InputLayer{Base: NewBase("InputLayer", name), shape: Shape(shape).Clone()}
	t := &Tensor{shape: l.shape, layer: l}
	t.call = &call{layer: l, outputs: []*Tensor{t}}
	for _, d := range shape {
		if d <= 0 && d != Unknown {
			t.err = errors.Errorf("Input %s: every dim must be positive or graph.Unknown (None), got shape %v", l.Name(), []int(shape))
		}
	}
	return t
}

// Build returns the input's shape.
func (l *InputLayer) Build([]Shape) ([]Shape, error) { return []Shape{l.shape}, nil }

// Emit is never called for inputs: the Program creates their nodes.
func (l *InputLayer) Emit(*Context, []Node) ([]Node, error) {
	return nil, errors.New("InputLayer emits no nodes")
}

// InputShape is the shape of the input, without the batch axis.
func (l *InputLayer) InputShape() Shape { return l.shape.Clone() }
