package layers

import (
	"encoding/json"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// UnitNormalization is Keras 3's UnitNormalization: each sample is scaled
// to unit L2 norm across the given axes (the saveable form of
// Lambda(l2_normalize)):
//
//	y = x · 1/sqrt(max(Σ_axes x², ε²)),  ε = 1e-12
//
// so a zero vector stays zero. Axes count the batch axis as 0, negative
// values from the end; several axes must be adjacent. The shape is
// unchanged, and a mask passes through.
type UnitNormalization struct {
	graph.Base
	graph.PassMask
	cfg UnitNormalizationConfig
}

// unitNormEpsilon is Keras's ε of UnitNormalization; the squared norm is
// clamped at its square.
const unitNormEpsilon = 1e-12

// UnitNormalizationConfig is UnitNormalization's configuration: Keras's
// UnitNormalization arguments.
type UnitNormalizationConfig struct {
	LayerConfig
	// Axis is the axis or axes to normalize across (default -1).
	Axis Axes `json:"axis"`
}

// Axes is a list of axes that Keras writes as one integer when it holds one
// axis, and as a list otherwise.
type Axes []int

// MarshalJSON writes one axis as an integer, several as a list.
func (a Axes) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]int(a))
}

// UnmarshalJSON reads an integer or a list of integers.
func (a *Axes) UnmarshalJSON(b []byte) error {
	var one int
	if err := json.Unmarshal(b, &one); err == nil {
		*a = Axes{one}
		return nil
	}
	var many []int
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.Errorf("axis must be an integer or a list of integers, got %s", b)
	}
	*a = many
	return nil
}

// DefaultUnitNormalizationConfig is Keras's default: the last axis.
func DefaultUnitNormalizationConfig() UnitNormalizationConfig {
	return UnitNormalizationConfig{Axis: Axes{-1}}
}

// NewUnitNormalization creates a UnitNormalization layer across the given
// axes (none: the last one). Options: WithName.
func NewUnitNormalization(axes []int, opts ...Option) *UnitNormalization {
	cfg := DefaultUnitNormalizationConfig()
	if len(axes) > 0 {
		cfg.Axis = append(Axes(nil), axes...)
	}
	cfg.LayerConfig = configure(cfg.LayerConfig, opts, Option.applyLayer)
	return NewUnitNormalizationFromConfig(cfg)
}

// NewUnitNormalizationFromConfig creates a UnitNormalization layer from its
// configuration.
func NewUnitNormalizationFromConfig(cfg UnitNormalizationConfig) *UnitNormalization {
	u := &UnitNormalization{Base: newBase("UnitNormalization", &cfg.LayerConfig), cfg: cfg}
	if len(cfg.Axis) == 0 {
		u.Fail(errors.New("axis must name at least one axis"))
	}
	return u
}

// Config returns the layer's configuration.
func (u *UnitNormalization) Config() UnitNormalizationConfig { return u.cfg }

// Apply applies the layer to x and returns its output tensor.
func (u *UnitNormalization) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(u, x) }

// axes resolves the configured axes for an input of rank dims (batch axis
// included): non-negative, sorted, adjacent.
func (u *UnitNormalization) axes(dims int) (first, last int, err error) {
	seen := make([]bool, dims)
	first, last = dims, -1
	for _, a := range u.cfg.Axis {
		r := a
		if r < 0 {
			r += dims
		}
		if r < 0 || r >= dims || seen[r] {
			return 0, 0, errors.Errorf("axis %v is out of bounds or repeated for an input of rank %d", []int(u.cfg.Axis), dims)
		}
		seen[r] = true
		first, last = min(first, r), max(last, r)
	}
	if last-first+1 != len(u.cfg.Axis) {
		return 0, 0, errors.Errorf("axes %v must be adjacent", []int(u.cfg.Axis))
	}
	return first, last, nil
}

// Build implements graph.Layer: the output shape is the input shape.
func (u *UnitNormalization) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	if _, _, err := u.axes(len(in[0]) + 1); err != nil {
		return nil, err
	}
	return []graph.Shape{in[0].Clone()}, nil
}

// Emit implements graph.Layer: one l2-normalization node, across the axes
// merged into one by a reshape when there are several.
func (u *UnitNormalization) Emit(_ *graph.Context, in []graph.Node) ([]graph.Node, error) {
	x := in[0]
	s := x.Shape()
	first, last, err := u.axes(len(s))
	if err != nil {
		return nil, err
	}
	if first == last {
		y, err := ops.L2Normalize(x, first, unitNormEpsilon*unitNormEpsilon)
		return []graph.Node{y}, err
	}
	merged := append(append(append([]int(nil), s[:first]...), s[first:last+1].TotalSize()), s[last+1:]...)
	xm, err := G.Reshape(x, merged)
	if err != nil {
		return nil, err
	}
	y, err := ops.L2Normalize(xm, first, unitNormEpsilon*unitNormEpsilon)
	if err != nil {
		return nil, err
	}
	y, err = G.Reshape(y, s.Clone())
	return []graph.Node{y}, err
}

// The Keras class of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("UnitNormalization", DefaultUnitNormalizationConfig, NewUnitNormalizationFromConfig, (*UnitNormalization).Config)
}
