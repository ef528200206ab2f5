package graph

import "github.com/pkg/errors"

// MaskLayer is implemented by layers that take part in Keras masking. A mask
// is a (batch, time) node of 1s for real time steps and 0s for padding,
// produced by a layer such as Embedding(mask_zero=True) and carried along
// with a tensor to the layers that use it (recurrent layers skip masked
// steps). Applying a layer that does not implement MaskLayer to a masked
// tensor is an error, as in Keras.
type MaskLayer interface {
	// OutputMasked says, at Apply time, which outputs carry a mask given
	// which inputs do.
	OutputMasked(inMasked []bool) []bool
	// ComputeMask emits the output masks (nil for none) from the input
	// nodes and the input masks (nil for none).
	ComputeMask(ctx *Context, in []Node, masks []Node) ([]Node, error)
}

// PassMask implements MaskLayer for one-input, one-output layers that keep
// the time axis and pass the mask on unchanged (Dense, Dropout, Activation…).
// Layers embed it to support masking.
type PassMask struct{}

// OutputMasked implements MaskLayer.
func (PassMask) OutputMasked(in []bool) []bool { return []bool{len(in) > 0 && in[0]} }

// ComputeMask implements MaskLayer.
func (PassMask) ComputeMask(_ *Context, _ []Node, masks []Node) ([]Node, error) {
	if len(masks) == 0 {
		return []Node{nil}, nil
	}
	return []Node{masks[0]}, nil
}

// ConsumeMask implements MaskLayer for layers that use or ignore the mask
// and output none (global pooling, a recurrent layer returning its last
// state).
type ConsumeMask struct{}

// OutputMasked implements MaskLayer.
func (ConsumeMask) OutputMasked(in []bool) []bool { return []bool{false} }

// ComputeMask implements MaskLayer.
func (ConsumeMask) ComputeMask(*Context, []Node, []Node) ([]Node, error) { return []Node{nil}, nil }

// Masked reports whether the tensor carries a Keras mask.
func (t *Tensor) Masked() bool { return t.masked }

// InputMask returns the mask of the current layer's input i during Emit, or
// nil if that input carries none.
func (c *Context) InputMask(i int) Node {
	if i < len(c.inMasks) {
		return c.inMasks[i]
	}
	return nil
}

// checkMask checks an explicit mask against the shape of the input it
// masks: (time steps), the input's first axis.
func checkMask(mask *Tensor, in Shape) error {
	if mask == nil {
		return nil
	}
	if mask.err != nil {
		return mask.err
	}
	if len(mask.shape) != 1 || len(in) < 1 || !SameDim(mask.shape[0], in[0]) {
		return errors.Errorf("mask has shape %s, the input %s: want (None, %d)", mask.shape, in, in[0])
	}
	return nil
}

// outputMasked decides, at Apply time, which outputs of l carry masks.
func outputMasked(l Layer, in []*Tensor, explicit bool, nOut int) ([]bool, error) {
	inMasked := make([]bool, len(in))
	any := false
	for i, t := range in {
		inMasked[i] = t.masked || (i == 0 && explicit)
		any = any || inMasked[i]
	}
	ml, ok := l.(MaskLayer)
	if !ok {
		if any {
			return nil, errors.New("does not support masking, but its input carries a mask (from Embedding(mask_zero) or a Masking layer)")
		}
		return make([]bool, nOut), nil
	}
	out := ml.OutputMasked(inMasked)
	if len(out) != nOut {
		return nil, errors.Errorf("says %d outputs are masked or not, but has %d outputs", len(out), nOut)
	}
	return out, nil
}
