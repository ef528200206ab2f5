package layers

import (
	"encoding/json"
	"math/rand/v2"
	"slices"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
)

// Dropout is Keras's Dropout: in training programs each element is zeroed
// with probability rate and the kept ones are scaled by 1/(1-rate) (inverted
// dropout), so that inference, where the layer is the identity, needs no
// rescaling. The mask is a per-run random input drawn from the program's
// seeded source, so one seed fixes every mask. The output shape is the input
// shape.
//
// The mask is emitted as a tensor holding 0 or 1/(1-rate) and multiplied in
// with an element-wise product, whose gradient is the same mask.
// (Gorgonia's own Dropout scales its gradient wrongly and is not used.)
type Dropout struct {
	graph.Base
	graph.PassMask
	cfg DropoutConfig
}

// DropoutConfig is Dropout's configuration: Keras's Dropout arguments.
type DropoutConfig struct {
	LayerConfig
	// Rate is the fraction of the elements dropped in training, in [0, 1).
	Rate float64 `json:"rate" keras:"required"`
	// NoiseShape is the mask's shape without the batch axis (Keras's
	// noise_shape has it, as None): a 1 shares one mask value along that
	// axis, a 0 stands for the input's size (Keras's None). nil is the
	// input's shape.
	NoiseShape NoiseShape `json:"noise_shape"`
}

// NoiseShape is Dropout's mask shape without the batch axis, 0 standing for
// the input's size. In Keras's JSON it has the batch axis, and None (null)
// for 0: (None, 1, 5) is NoiseShape{1, 5}.
type NoiseShape []int

// MarshalJSON writes the Keras form: null, or the batch axis and every 0
// as null.
func (n NoiseShape) MarshalJSON() ([]byte, error) {
	if n == nil {
		return []byte("null"), nil
	}
	out := []*int{nil}
	for _, d := range n {
		if d == 0 {
			out = append(out, nil)
		} else {
			out = append(out, &d)
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads the Keras form: null, or a list whose first (batch)
// element is dropped and whose nulls become 0.
func (n *NoiseShape) UnmarshalJSON(b []byte) error {
	var dims []*int
	if err := json.Unmarshal(b, &dims); err != nil {
		return errors.Errorf("noise_shape must be null or a list of sizes, got %s", b)
	}
	if dims == nil {
		*n = nil
		return nil
	}
	if len(dims) == 0 {
		return errors.New("noise_shape must include the batch axis")
	}
	out := make(NoiseShape, 0, len(dims)-1)
	for _, d := range dims[1:] {
		v := 0
		if d != nil {
			v = *d
		}
		out = append(out, v)
	}
	*n = out
	return nil
}

// DefaultDropoutConfig is Keras's default Dropout configuration (rate
// unset): no noise shape.
func DefaultDropoutConfig() DropoutConfig { return DropoutConfig{} }

// DropoutOption is an option of NewDropout: WithName or WithNoiseShape.
type DropoutOption interface{ applyDropout(*DropoutConfig) }

func (o NameOption) applyDropout(c *DropoutConfig) { o.applyLayer(&c.LayerConfig) }

// dropoutOption is an option only Dropout takes.
type dropoutOption func(*DropoutConfig)

func (o dropoutOption) applyDropout(c *DropoutConfig) { o(c) }

// WithNoiseShape is Dropout's noise_shape: the mask's shape without the batch
// axis, where a 1 shares one mask value along that axis and 0 stands for
// "the input's size" (Keras's None).
func WithNoiseShape(shape ...int) DropoutOption {
	return dropoutOption(func(c *DropoutConfig) { c.NoiseShape = append([]int(nil), shape...) })
}

// NewDropout creates a Dropout layer that drops a fraction rate of the
// elements during training; rate must be in [0, 1) (0 makes the layer the
// identity). Options: WithName, WithNoiseShape (the mask shape without the
// batch axis: a 1 shares one mask value along that axis, a 0 stands for the
// input's size, as Keras's None does).
func NewDropout(rate float64, opts ...DropoutOption) *Dropout {
	cfg := DefaultDropoutConfig()
	cfg.Rate = rate
	return NewDropoutFromConfig(configure(cfg, opts, DropoutOption.applyDropout))
}

// NewDropoutFromConfig creates a Dropout layer from its configuration.
func NewDropoutFromConfig(cfg DropoutConfig) *Dropout {
	d := &Dropout{Base: newBase("Dropout", &cfg.LayerConfig)}
	cfg.NoiseShape = slices.Clone(cfg.NoiseShape)
	d.cfg = cfg
	if !(cfg.Rate >= 0 && cfg.Rate < 1) { // also rejects NaN
		d.Fail(errors.Errorf("rate must be in [0, 1), got %v", cfg.Rate))
	}
	for _, n := range cfg.NoiseShape {
		if n < 0 {
			d.Fail(errors.Errorf("noise shape %v: dims must be 0 (the input's size), 1 (shared) or the input's size", cfg.NoiseShape))
			break
		}
	}
	return d
}

// Config returns the layer's configuration.
func (d *Dropout) Config() DropoutConfig {
	c := d.cfg
	c.NoiseShape = slices.Clone(c.NoiseShape)
	return c
}

// Apply applies the layer to x and returns its output tensor.
func (d *Dropout) Apply(x *graph.Tensor) *graph.Tensor { return graph.Apply1(d, x) }

// Rate is the fraction of elements dropped in training.
func (d *Dropout) Rate() float64 { return d.cfg.Rate }

// NoiseShape is the mask shape given with WithNoiseShape (nil: the input's).
func (d *Dropout) NoiseShape() []int { return slices.Clone(d.cfg.NoiseShape) }

// Build implements graph.Layer: it checks the noise shape against the input
// shape and returns the input shape.
func (d *Dropout) Build(in []graph.Shape) ([]graph.Shape, error) {
	if len(in) != 1 {
		return nil, errors.Errorf("expects 1 input, got %d", len(in))
	}
	s, noise := in[0], d.cfg.NoiseShape
	if noise != nil {
		if len(noise) != len(s) {
			return nil, errors.Errorf("noise shape %v (batch axis excluded) must have the input's rank %d", noise, len(s))
		}
		for i, n := range noise {
			if n != 0 && n != 1 && n != s[i] {
				return nil, errors.Errorf("noise shape %v is not broadcastable to the input: axis %d has size %d, the noise %d (use 0, 1 or %d)", noise, i+1, s[i], n, s[i])
			}
		}
	}
	return []graph.Shape{s.Clone()}, nil
}

// Emit implements graph.Layer: x ⊙ mask in training programs with rate > 0,
// x itself otherwise.
func (d *Dropout) Emit(ctx *graph.Context, in []graph.Node) ([]graph.Node, error) {
	x := in[0]
	rate, noise := d.cfg.Rate, d.cfg.NoiseShape
	if !ctx.Training() || rate == 0 {
		return []graph.Node{x}, nil
	}
	full := []int(x.Shape())
	// shared[i] is true where the mask value is repeated along axis i.
	shared := make([]bool, len(full))
	for i := range noise {
		if noise[i] == 1 && full[i+1] != 1 {
			shared[i+1] = true
		}
	}
	fill := dropoutFill(full, shared, rate)
	mask := ctx.Random(d.Name()+"/mask", full, fill)
	y, err := G.HadamardProd(x, mask)
	if err != nil {
		return nil, err
	}
	return []graph.Node{y}, nil
}

// dropoutFill returns the fill function of a mask of the given full shape
// (batch axis first): each element is 1/(1-rate) with probability 1-rate and
// 0 otherwise, one draw per element of the noise shape (the full shape with
// the shared axes reduced to 1), repeated along the shared axes.
func dropoutFill(full []int, shared []bool, rate float64) func(dst []float64, rng *rand.Rand) {
	keep := 1 / (1 - rate)
	// Row-major strides of the full shape and of the noise shape.
	n := len(full)
	noise := make([]int, n)
	for i, d := range full {
		noise[i] = d
		if shared[i] {
			noise[i] = 1
		}
	}
	noiseSize := 1
	noiseStride := make([]int, n)
	for i := n - 1; i >= 0; i-- {
		noiseStride[i] = noiseSize
		noiseSize *= noise[i]
	}
	draws := make([]float64, noiseSize)
	idx := make([]int, n)
	return func(dst []float64, rng *rand.Rand) {
		for i := range draws {
			if rng.Float64() >= rate {
				draws[i] = keep
			} else {
				draws[i] = 0
			}
		}
		if noiseSize == len(dst) {
			copy(dst, draws)
			return
		}
		for i := range idx {
			idx[i] = 0
		}
		for k := range dst {
			off := 0
			for a := 0; a < n; a++ {
				if !shared[a] {
					off += idx[a] * noiseStride[a]
				}
			}
			dst[k] = draws[off]
			for a := n - 1; a >= 0; a-- { // next row-major index
				idx[a]++
				if idx[a] < full[a] {
					break
				}
				idx[a] = 0
			}
		}
	}
}

// The Keras class of this file, for SerializeLayer and DeserializeLayer.
func init() {
	registerLayer("Dropout", DefaultDropoutConfig, NewDropoutFromConfig, (*Dropout).Config)
}
