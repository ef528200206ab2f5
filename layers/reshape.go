package layers

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
)

// Flatten is Keras's Flatten (tf.keras / Keras 3 semantics): an input of
// shape (N, d1, …, dk) becomes (N, d1·…·dk) in row-major (C) order; an input
// of rank 1, (N,), becomes (N, 1), and a rank-2 input is unchanged.
type Flatten struct {
	graph.Base
	cfg FlattenConfig
}

// FlattenConfig is Flatten's configuration: its name (Keras's only other
// argument, data_format, is channels_last here).
type FlattenConfig struct {
	LayerConfig
}

// DefaultFlattenConfig is Keras's default Flatten configuration.
func DefaultFlattenConfig() FlattenConfig { return FlattenConfig{} }

// NewFlatten creates a Flatten layer. Options: WithName.
func NewFlatten(opts ...Option) *Flatten {
	cfg := DefaultFlattenConfig()
	cfg.LayerConfig = configure(cfg.LayerConfig, opts, Option.applyLayer)
	return NewFlattenFromConfig(cfg)
}

// NewFlattenFromConfig creates a Flatten layer from its configuration.
func NewFlattenFromConfig(cfg FlattenConfig) *Flatten {
	f := &Flatten{Base: newBase("Flatten", &cfg.LayerConfig)}
	f.cfg = cfg
	return f
}

// Config returns the layer's configuration.
func (f *Flatten) Config() FlattenConfig { return f.cfg }

// Apply applies the layer to x and returns its output tensor.
func (f *Flatten) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(f, x) }

// Build implements graph.Layer: the output shape is (N, prod(input dims)).
func (f *Flatten) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	return []graph.Shape{{in[0].Size()}}, nil
}

// Emit implements graph.Layer.
func (f *Flatten) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) {
	return reshapeNode(in[0], []int{in[0].Shape()[0], in[0].Shape().TotalSize() / in[0].Shape()[0]})
}

// reshapeNode reshapes x to shape (row-major), returning x itself when the
// shape is already the same.
func reshapeNode(x graph.Node, shape []int) ([]graph.Node, error) {
	same := x.Dims() == len(shape)
	for i := 0; same && i < len(shape); i++ {
		same = x.Shape()[i] == shape[i]
	}
	if same {
		return []graph.Node{x}, nil
	}
	y, err := G.Reshape(x, shape)
	if err != nil {
		return nil, err
	}
	return []graph.Node{y}, nil
}

// Reshape is Keras's Reshape: the per-sample dims are rearranged, in
// row-major order, into the target shape (batch axis excluded). One target
// dim may be -1: it is inferred from the input's size.
type Reshape struct {
	graph.Base
	cfg ReshapeConfig
}

// ReshapeConfig is Reshape's configuration: Keras's Reshape arguments.
type ReshapeConfig struct {
	LayerConfig
	// TargetShape is the output shape without the batch axis; one dim may
	// be -1, inferred from the input's size (required).
	TargetShape []int `json:"target_shape" keras:"required"`
}

// DefaultReshapeConfig is Keras's default Reshape configuration (target
// shape unset).
func DefaultReshapeConfig() ReshapeConfig { return ReshapeConfig{} }

// NewReshape creates a Reshape layer to the given target shape (batch axis
// excluded), with at most one -1 and every other dim positive. Options:
// WithName.
func NewReshape(targetShape []int, opts ...Option) *Reshape {
	cfg := DefaultReshapeConfig()
	cfg.TargetShape = targetShape
	cfg.LayerConfig = configure(cfg.LayerConfig, opts, Option.applyLayer)
	return NewReshapeFromConfig(cfg)
}

// NewReshapeFromConfig creates a Reshape layer from its configuration.
func NewReshapeFromConfig(cfg ReshapeConfig) *Reshape {
	r := &Reshape{Base: newBase("Reshape", &cfg.LayerConfig)}
	cfg.TargetShape = slices.Clone(cfg.TargetShape)
	r.cfg = cfg
	unknown := 0
	for _, d := range cfg.TargetShape {
		switch {
		case d == -1:
			unknown++
		case d <= 0:
			r.Fail(errors.Errorf("target shape %s: dims must be positive or -1, got %d", dimsString(cfg.TargetShape), d))
			return r
		}
	}
	if unknown > 1 {
		r.Fail(errors.Errorf("target shape %s: can only specify one unknown dimension (-1)", dimsString(cfg.TargetShape)))
	}
	return r
}

// Config returns the layer's configuration.
func (r *Reshape) Config() ReshapeConfig {
	c := r.cfg
	c.TargetShape = slices.Clone(c.TargetShape)
	return c
}

// Apply applies the layer to x and returns its output tensor.
func (r *Reshape) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(r, x) }

// TargetShape is the target shape as given (batch axis excluded, -1 kept).
func (r *Reshape) TargetShape() []int { return append([]int(nil), r.cfg.TargetShape...) }

// Build implements graph.Layer: it resolves -1 and checks that the total
// size is unchanged.
func (r *Reshape) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	original := in[0].Size()
	known, unknown := 1, -1
	for i, d := range r.cfg.TargetShape {
		if d == -1 {
			unknown = i
		} else {
			known *= d
		}
	}
	out := graph.Shape(append([]int(nil), r.cfg.TargetShape...))
	if original == graph.Unknown {
		return []graph.Shape{out}, nil // checked again once the input's size is known
	}
	if unknown >= 0 {
		if original%known != 0 {
			return nil, errors.Errorf("cannot reshape input shape %s into target shape %s: total size of new array must be unchanged (%d elements per sample is not a multiple of %d)", in[0], dimsString(r.cfg.TargetShape), original, known)
		}
		out[unknown] = original / known
	} else if original != known {
		return nil, errors.Errorf("cannot reshape input shape %s into target shape %s: total size of new array must be unchanged (%d elements per sample, the target has %d)", in[0], dimsString(r.cfg.TargetShape), original, known)
	}
	return []graph.Shape{out}, nil
}

// Emit implements graph.Layer.
func (r *Reshape) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) {
	x := in[0]
	batch := x.Shape()[0]
	per := x.Shape().TotalSize() / batch
	shape := []int{batch}
	known := 1
	for _, d := range r.cfg.TargetShape {
		if d != -1 {
			known *= d
		}
	}
	for _, d := range r.cfg.TargetShape {
		if d == -1 {
			d = per / known
		}
		shape = append(shape, d)
	}
	return reshapeNode(x, shape)
}

// dimsString formats a target shape Keras-style: (-1, 2, 2).
func dimsString(dims []int) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = fmt.Sprint(d)
	}
	if len(dims) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// The Keras classes of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("Flatten", DefaultFlattenConfig, NewFlattenFromConfig, (*Flatten).Config)
	registerLayer("Reshape", DefaultReshapeConfig, NewReshapeFromConfig, (*Reshape).Config)
}
