package graph

import (
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Network is a DAG of layer applications from input tensors to output
// tensors, in topological order: what a Keras functional Model holds.
type Network struct {
	inputs, outputs []*Tensor
	calls           []*call
	layers          []Layer
	weights         []*Weight
	dt              tensor.Dtype
}

// NewNetwork collects the DAG between inputs and outputs. It returns the
// first error any output carries, and an error if an output depends on an
// input that is not among inputs.
func NewNetwork(inputs, outputs []*Tensor) (*Network, error) {
	if len(inputs) == 0 || len(outputs) == 0 {
		return nil, errors.New("a model needs at least one input and one output")
	}
	for i, t := range inputs {
		if t == nil {
			return nil, errors.Errorf("input %d is nil", i)
		}
		if t.err != nil {
			return nil, t.err
		}
		if _, ok := t.layer.(*InputLayer); !ok {
			return nil, errors.Errorf("model input %d is not an Input (it is %s); pass the tensors made by graph.Input", i, t)
		}
	}
	for i, t := range outputs {
		if t == nil {
			return nil, errors.Errorf("output %d is nil", i)
		}
		if t.err != nil {
			return nil, t.err
		}
	}
	isInput := map[*Tensor]bool{}
	for i, t := range inputs {
		if isInput[t] {
			return nil, errors.Errorf("input %d (%s) is listed twice among the model's inputs", i, t.layer.Name())
		}
		isInput[t] = true
	}
	n := &Network{inputs: inputs, outputs: outputs}
	seen := map[*call]bool{}
	var visit func(t *Tensor) error
	visit = func(t *Tensor) error {
		if seen[t.call] {
			return nil
		}
		if _, ok := t.layer.(*InputLayer); ok && !isInput[t] {
			return errors.Errorf("an output depends on input %s (shape %s), which is not among the model's inputs", t.layer.Name(), t.shape)
		}
		seen[t.call] = true
		deps := t.call.inputs
		if t.call.mask != nil {
			deps = append(append([]*Tensor(nil), deps...), t.call.mask)
		}
		for _, in := range deps {
			if err := visit(in); err != nil {
				return err
			}
		}
		n.calls = append(n.calls, t.call)
		return nil
	}
	for _, t := range inputs {
		if err := visit(t); err != nil {
			return nil, err
		}
	}
	for _, t := range outputs {
		if err := visit(t); err != nil {
			return nil, err
		}
	}
	seenLayer := map[Layer]bool{}
	seenWeight := map[*Weight]bool{}
	byName := map[string]Layer{}
	for _, c := range n.calls {
		if seenLayer[c.layer] {
			continue
		}
		seenLayer[c.layer] = true
		if other, ok := byName[c.layer.Name()]; ok {
			return nil, errors.Errorf("two layers are named %q (a %s and a %s): layer names must be unique in a model, as Keras requires", c.layer.Name(), other.Class(), c.layer.Class())
		}
		byName[c.layer.Name()] = c.layer
		n.layers = append(n.layers, c.layer)
		for _, w := range c.layer.Weights() {
			if !seenWeight[w] {
				seenWeight[w] = true
				n.weights = append(n.weights, w)
			}
		}
	}
	return n, nil
}

// Inputs are the network's input tensors.
func (n *Network) Inputs() []*Tensor { return n.inputs }

// Outputs are the network's output tensors.
func (n *Network) Outputs() []*Tensor { return n.outputs }

// Layers are the network's layers (inputs included), in topological order.
func (n *Network) Layers() []Layer { return n.layers }

// Weights are every layer's weights, in layer order.
func (n *Network) Weights() []*Weight { return n.weights }

// DType is the dtype the weights were initialised with (nil before).
func (n *Network) DType() tensor.Dtype { return n.dt }

// OutputShapes returns, for each layer application, the layer and its output
// shapes, in topological order (what a model summary lists).
func (n *Network) OutputShapes() ([]Layer, [][]Shape) {
	ls := make([]Layer, len(n.calls))
	ss := make([][]Shape, len(n.calls))
	for i, c := range n.calls {
		ls[i] = c.layer
		for _, t := range c.outputs {
			ss[i] = append(ss[i], t.shape.Clone())
		}
	}
	return ls, ss
}

// Initialise gives every weight that has no value yet initial values of
// dtype dt. Weight i (in Weights order) draws from its own source seeded by
// (seed, i), so one seed fixes every initial weight. Weights that already
// hold values (a layer shared with another model) keep them, but must have
// the same dtype.
func (n *Network) Initialise(dt tensor.Dtype, seed uint64) error {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return errors.Errorf("dtype %v not supported: use float32 or float64", dt)
	}
	for i, w := range n.weights {
		if w.value != nil {
			if w.value.Dtype() != dt {
				return errors.Errorf("weight %s already holds %v values, the model wants %v", w.name, w.value.Dtype(), dt)
			}
			continue
		}
		rng := rand.New(rand.NewPCG(seed, uint64(i)+0x9e3779b97f4a7c15))
		if err := w.initialise(dt, rng); err != nil {
			return err
		}
	}
	n.dt = dt
	return nil
}

// Calls returns, for each layer application (in the order of OutputShapes),
// the tensors it was applied to.
func (n *Network) Calls() [][]*Tensor {
	out := make([][]*Tensor, len(n.calls))
	for i, c := range n.calls {
		out[i] = c.inputs
	}
	return out
}

// LayerCall is one application of a layer in a Network (a node of Keras's
// functional graph): the layer, the tensors it was applied to, the
// explicit mask of its first input (ApplyMasked) or nil, and the tensors it
// produced.
type LayerCall struct {
	Layer   Layer
	Inputs  []*Tensor
	Mask    *Tensor
	Outputs []*Tensor
}

// LayerCalls returns every layer application (model inputs included), in
// topological order: what a model configuration lists.
func (n *Network) LayerCalls() []LayerCall {
	out := make([]LayerCall, len(n.calls))
	for i, c := range n.calls {
		out[i] = LayerCall{Layer: c.layer, Inputs: c.inputs, Mask: c.mask, Outputs: c.outputs}
	}
	return out
}
