package graph

import (
	"github.com/pkg/errors"
)

// HasUnknown reports whether an input of n has an Unknown axis: then n
// itself cannot compile, and each concrete shape gets its own network from
// Concrete.
func (n *Network) HasUnknown() bool {
	for _, t := range n.inputs {
		if !t.shape.Known() {
			return true
		}
	}
	return false
}

// Concrete applies n's layers again, call by call, to inputs of the given
// concrete shapes (one per input, each fitting the input's shape), and
// returns the network so formed. It shares n's layers and weights: only
// the shapes differ, so that a program can be compiled for them. This is
// how a model with Unknown axes (Keras's None) runs: one concrete network,
// and its programs, per shape met.
func (n *Network) Concrete(shapes []Shape) (*Network, error) {
	if len(shapes) != len(n.inputs) {
		return nil, errors.Errorf("the network has %d inputs, %d shapes were given", len(n.inputs), len(shapes))
	}
	tensors := make(map[*Tensor]*Tensor, len(n.calls))
	ins := make([]*Tensor, len(n.inputs))
	for i, t := range n.inputs {
		if !t.shape.Fits(shapes[i]) || !shapes[i].Known() {
			return nil, errors.Errorf("input %s: shape %s does not fit %s", t.layer.Name(), shapes[i], t.shape)
		}
		in := t.layer.(*InputLayer)
		l := &InputLayer{Base: in.Base, shape: shapes[i].Clone()}
		ins[i] = &Tensor{shape: l.shape, layer: l}
		ins[i].call = &call{layer: l, outputs: []*Tensor{ins[i]}}
		tensors[t] = ins[i]
	}
	for _, c := range n.calls {
		if _, ok := c.layer.(*InputLayer); ok {
			continue
		}
		args := make([]*Tensor, len(c.inputs))
		for i, t := range c.inputs {
			args[i] = tensors[t]
		}
		out := applyMasked(c.layer, tensors[c.mask], args) // a nil mask maps to nil
		if out[0].err != nil {
			return nil, errors.WithMessagef(out[0].err, "for input shapes %s", shapesString(shapes))
		}
		for i, t := range c.outputs {
			tensors[t] = out[i]
		}
	}
	outs := make([]*Tensor, len(n.outputs))
	for i, t := range n.outputs {
		outs[i] = tensors[t]
	}
	cn, err := NewNetwork(ins, outs)
	if err != nil {
		return nil, err
	}
	cn.dt = n.dt
	return cn, nil
}
