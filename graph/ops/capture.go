package ops

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Capture copies x's value into dst each time the machine computes x, and
// returns the inserted node (a scalar nobody needs to consume).
//
// Reading x.Value() after a run is unsafe in graphs with gradient nodes: the
// backward pass may reuse x's register. The copy made here happens while the
// value is still x's. dst must hold exactly as many elements as x, in x's
// dtype.
func Capture(x *G.Node, dst *tensor.Dense) (*G.Node, error) {
	if x.Dtype() != dst.Dtype() {
		return nil, errors.Errorf("capture: node %v is %v, destination %v", x.Name(), x.Dtype(), dst.Dtype())
	}
	if dst.RequiresIterator() {
		return nil, errors.Errorf("capture: the destination of %v is not contiguous", x.Name())
	}
	return Apply(&captureKernel{dst: dst}, x)
}

// captureKernel copies its input into dst; its result is always 0. It holds
// a destination of its own, so it is never merged with another capture.
type captureKernel struct{ dst *tensor.Dense }

func (k *captureKernel) Name() string  { return "capture" }
func (k *captureKernel) Params() []any { return []any{Identity(k)} }
func (k *captureKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].TotalSize() != k.dst.Shape().TotalSize() {
		return nil, errors.Errorf("capture: node has shape %v, destination %v", in[0], k.dst.Shape())
	}
	return tensor.ScalarShape(), nil
}

func (k *captureKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		copy(k.dst.Float32s(), in[0].Float32s())
		out.Float32s()[0] = 0
	} else {
		copy(k.dst.Float64s(), in[0].Float64s())
		out.Float64s()[0] = 0
	}
	return nil
}
