package layers

import (
	"encoding/json"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// Bidirectional is Keras's Bidirectional wrapper: a forward copy of a
// recurrent layer (named forward_<name>) and a backward copy with
// go_backwards flipped (backward_<name>), each with its own fresh weights
// and the wrapped layer's configuration (the wrapped layer itself is only a
// template and is never applied). With return_sequences the backward output
// is reversed back in time before merging, so both halves are aligned with
// the input steps; without, the backward output is its state after reading
// the first step. (Wrapping a layer that itself goes backwards makes the
// forward copy read backwards and the backward copy forwards; as in Keras,
// the sequence output is then in reversed time.)
//
// Merge modes (WithMergeMode): "concat" (default, 2·units on the last axis),
// "sum", "mul", "ave" (mean of the two), "none" (two outputs, forward then
// backward). With return_state the outputs are the merged output(s), then
// the forward states, then the backward states. ApplyWithState takes the
// forward initial states followed by the backward ones. With an input mask
// and return_sequences the masked steps of both directions' outputs are 0
// (TF2's zero_output_for_mask), and the output carries the mask.
//
// Weights are the forward layer's, then the backward layer's.
type Bidirectional struct {
	graph.Base
	cfg           BidirectionalConfig
	layer         RecurrentLayer
	fwd, bwd      RecurrentLayer
	nMergedOutput int
}

// BidirectionalConfig is Bidirectional's configuration: Keras's
// Bidirectional arguments.
type BidirectionalConfig struct {
	LayerConfig
	// Layer is the wrapped recurrent layer, the template of both
	// directions (required).
	Layer graph.Layer `json:"layer" keras:"required"`
	// MergeMode is "concat" (the default), "sum", "mul", "ave" or "none"
	// (Keras's None).
	MergeMode MergeMode `json:"merge_mode"`
}

// MergeMode is how Bidirectional combines its directions: "concat",
// "sum", "mul", "ave" or "none". Keras writes "none" as null.
type MergeMode string

// MarshalJSON writes "none" as null.
func (m MergeMode) MarshalJSON() ([]byte, error) {
	if m == "none" {
		return []byte("null"), nil
	}
	return json.Marshal(string(m))
}

// UnmarshalJSON reads null as "none".
func (m *MergeMode) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.Errorf("merge_mode must be a string or null, got %s", b)
	}
	if s == nil {
		*m = "none"
	} else {
		*m = MergeMode(*s)
	}
	return nil
}

// DefaultBidirectionalConfig is Keras's default Bidirectional configuration
// (layer unset): merge mode concat.
func DefaultBidirectionalConfig() BidirectionalConfig {
	return BidirectionalConfig{MergeMode: "concat"}
}

// BidirectionalOption is an option of NewBidirectional: WithName or
// WithMergeMode.
type BidirectionalOption interface{ applyBidirectional(*BidirectionalConfig) }

func (o NameOption) applyBidirectional(c *BidirectionalConfig) { o.applyLayer(&c.LayerConfig) }

// bidirectionalOption is an option only Bidirectional takes.
type bidirectionalOption func(*BidirectionalConfig)

func (o bidirectionalOption) applyBidirectional(c *BidirectionalConfig) { o(c) }

// WithMergeMode sets how Bidirectional combines its two directions:
// "concat" (default), "sum", "mul", "ave" or "none" (two outputs).
func WithMergeMode(mode string) BidirectionalOption {
	return bidirectionalOption(func(c *BidirectionalConfig) { c.MergeMode = MergeMode(mode) })
}

var mergeModes = map[string]bool{"concat": true, "sum": true, "mul": true, "ave": true, "none": true}

// NewBidirectional wraps a recurrent layer (SimpleRNN, GRU, LSTM). Options:
// WithName, WithMergeMode. A layer that is not recurrent, or an unknown
// merge mode, makes Apply return the error.
func NewBidirectional(layer graph.Layer, opts ...BidirectionalOption) *Bidirectional {
	cfg := DefaultBidirectionalConfig()
	cfg.Layer = layer
	return NewBidirectionalFromConfig(configure(cfg, opts, BidirectionalOption.applyBidirectional))
}

// NewBidirectionalFromConfig creates a Bidirectional layer from its
// configuration.
func NewBidirectionalFromConfig(cfg BidirectionalConfig) *Bidirectional {
	b := &Bidirectional{Base: newBase("Bidirectional", &cfg.LayerConfig)}
	b.cfg = cfg
	rl, ok := cfg.Layer.(RecurrentLayer)
	switch {
	case cfg.Layer == nil:
		b.Fail(errors.New("needs a recurrent layer to wrap, got nil"))
	case !ok:
		b.Fail(errors.Errorf("wraps recurrent layers (SimpleRNN, GRU, LSTM); layer %s is a %s", cfg.Layer.Name(), cfg.Layer.Class()))
	}
	if !mergeModes[string(cfg.MergeMode)] {
		b.Fail(errors.Errorf("invalid merge mode %q; merge mode should be one of concat, sum, mul, ave, none", cfg.MergeMode))
	}
	if b.Err() == nil {
		b.layer = rl
		b.fwd = rl.Clone("forward_"+rl.Name(), rl.GoBackwards())
		b.bwd = rl.Clone("backward_"+rl.Name(), !rl.GoBackwards())
		if !graph.IsTrainable(rl) {
			b.SetTrainable(false)
		}
	}
	b.nMergedOutput = 1
	if cfg.MergeMode == "none" {
		b.nMergedOutput = 2
	}
	return b
}

// SetTrainable freezes or unfreezes the wrapper and both directions.
func (b *Bidirectional) SetTrainable(trainable bool) {
	b.Base.SetTrainable(trainable)
	for _, l := range []graph.Layer{b.layer, b.fwd, b.bwd} {
		if t, ok := l.(graph.Trainability); ok {
			t.SetTrainable(trainable)
		}
	}
}

// Config returns the layer's configuration.
func (b *Bidirectional) Config() BidirectionalConfig { return b.cfg }

// Apply applies the layer to x and returns its output. With merge mode
// "none" or a layer that returns its states there are several outputs: use
// ApplyAll or ApplyWithState.
func (b *Bidirectional) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(b, x) }

// ApplyAll applies the layer to x and returns all its outputs.
func (b *Bidirectional) ApplyAll(x *graph.Tensor) []*graph.Tensor { return graph.Apply(b, x) }

// ApplyWithState applies the layer to x from initial states: the forward
// layer's, then the backward layer's (an even number).
func (b *Bidirectional) ApplyWithState(x *graph.Tensor, states ...*graph.Tensor) []*graph.Tensor {
	return graph.Apply(b, append([]*graph.Tensor{x}, states...)...)
}

// Layer is the wrapped layer, the template of both directions.
func (b *Bidirectional) Layer() RecurrentLayer { return b.layer }

// Forward is the forward layer (nil if the wrapper is invalid).
func (b *Bidirectional) Forward() RecurrentLayer { return b.fwd }

// Backward is the backward layer (nil if the wrapper is invalid).
func (b *Bidirectional) Backward() RecurrentLayer { return b.bwd }

// MergeMode is the merge mode.
func (b *Bidirectional) MergeMode() string { return string(b.cfg.MergeMode) }

// Weights implements graph.Layer: forward weights, then backward weights.
func (b *Bidirectional) Weights() []*graph.Weight {
	if b.fwd == nil {
		return nil
	}
	return append(append([]*graph.Weight(nil), b.fwd.Weights()...), b.bwd.Weights()...)
}

// Build implements graph.Layer.
func (b *Bidirectional) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) == 0 {
		return nil, errors.New("expects an input")
	}
	ns := b.fwd.NumStates()
	states := in[1:]
	if len(states) != 0 && len(states) != 2*ns {
		return nil, errors.Errorf("layer has %d states per direction, so initial states must be 0 or %d tensors (forward, then backward), got %d", ns, 2*ns, len(states))
	}
	fin, bin := []graph.Shape{in[0]}, []graph.Shape{in[0]}
	if len(states) > 0 {
		fin = append(fin, states[:ns]...)
		bin = append(bin, states[ns:]...)
	}
	fo, err := graph.Build(b.fwd, fin)
	if err != nil {
		return nil, errors.Wrapf(err, "forward layer %s", b.fwd.Name())
	}
	bo, err := graph.Build(b.bwd, bin)
	if err != nil {
		return nil, errors.Wrapf(err, "backward layer %s", b.bwd.Name())
	}
	var out []graph.Shape
	switch b.cfg.MergeMode {
	case "concat":
		s := fo[0].Clone()
		s[len(s)-1] *= 2
		out = append(out, s)
	case "none":
		out = append(out, fo[0], bo[0])
	default:
		out = append(out, fo[0])
	}
	out = append(out, fo[1:]...)
	return append(out, bo[1:]...), nil
}

// OutputMasked implements graph.MaskLayer: the merged output(s) carry the
// input's mask with return_sequences; states never do.
func (b *Bidirectional) OutputMasked(in []bool) []bool {
	n := b.nMergedOutput
	if b.fwd != nil && b.fwd.ReturnState() {
		n += 2 * b.fwd.NumStates()
	}
	out := make([]bool, n)
	if b.fwd != nil && b.fwd.ReturnSequences() && len(in) > 0 && in[0] {
		for i := 0; i < b.nMergedOutput; i++ {
			out[i] = true
		}
	}
	return out
}

// ComputeMask implements graph.MaskLayer.
func (b *Bidirectional) ComputeMask(_ *graph.Context, _ []graph.Node, masks []graph.Node) ([]graph.Node, error) {
	flags := b.OutputMasked([]bool{len(masks) > 0 && masks[0] != nil})
	out := make([]graph.Node, len(flags))
	for i, f := range flags {
		if f {
			out[i] = masks[0]
		}
	}
	return out, nil
}

// Emit implements graph.Layer. Both directions see the wrapper's input mask.
func (b *Bidirectional) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	ns := b.fwd.NumStates()
	fin, bin := []graph.Node{in[0]}, []graph.Node{in[0]}
	if len(in) > 1 {
		fin = append(fin, in[1:1+ns]...)
		bin = append(bin, in[1+ns:]...)
	}
	fo, err := b.fwd.Emit(ctx, fin)
	if err != nil {
		return nil, errors.Wrapf(err, "forward layer %s", b.fwd.Name())
	}
	bo, err := b.bwd.Emit(ctx, bin)
	if err != nil {
		return nil, errors.Wrapf(err, "backward layer %s", b.bwd.Name())
	}
	y, yr := fo[0], bo[0]
	if b.fwd.ReturnSequences() {
		if yr, err = ops.ReverseTime(yr); err != nil {
			return nil, err
		}
		if mask := ctx.InputMask(0); mask != nil {
			m, err := expandMask(ctx, mask, b.fwd.Units())
			if err != nil {
				return nil, err
			}
			if b.fwd.GoBackwards() {
				// Both halves are in reversed time (Keras reverses the
				// backward output whatever the directions are).
				if m, err = ops.ReverseTime(m); err != nil {
					return nil, err
				}
			}
			if y, err = G.HadamardProd(y, m); err != nil {
				return nil, err
			}
			if yr, err = G.HadamardProd(yr, m); err != nil {
				return nil, err
			}
		}
	}
	var out []graph.Node
	switch b.cfg.MergeMode {
	case "concat":
		m, err := ops.Concat(y.Dims()-1, y, yr)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	case "sum", "ave":
		m, err := G.Add(y, yr)
		if err != nil {
			return nil, err
		}
		if b.cfg.MergeMode == "ave" {
			if m, err = G.Mul(m, ctx.Scalar(0.5)); err != nil {
				return nil, err
			}
		}
		out = append(out, m)
	case "mul":
		m, err := G.HadamardProd(y, yr)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	case "none":
		out = append(out, y, yr)
	}
	out = append(out, fo[1:]...)
	return append(out, bo[1:]...), nil
}

// The Keras class of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("Bidirectional", DefaultBidirectionalConfig, NewBidirectionalFromConfig, (*Bidirectional).Config)
}
