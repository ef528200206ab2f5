package layers

import (
	"math/rand/v2"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// Cell is the computation of one step of a recurrent layer, as Keras's
// SimpleRNNCell, GRUCell and LSTMCell: the recurrent loop (SimpleRNN, GRU
// and LSTM share one) runs it over a sequence. A cell owns its weights —
// kernel (features, P), recurrent_kernel (units, P) and bias, created on its
// layer by Build — and splits a step in two: the input projections of every
// step, computed at once (one matrix product for the whole sequence), and
// the step proper from one step's projection and the previous states.
//
// The interface is sealed (its core method is unexported): kerago's three
// cells implement it.
type Cell interface {
	// Units is the state size H.
	Units() int
	// StateCount is the number of states: 1, or 2 for LSTM's h and c.
	StateCount() int
	// Build creates the cell's weights on layer for inputs of the given
	// number of features (Keras's cell.build).
	Build(layer *graph.Base, features int)
	// Begin emits what the steps of one sequence x (N, T, F) share: the
	// input projections of every step, (N, T, P) with the input bias, and
	// the nodes the step function reuses (the recurrent kernel and its
	// slices, a recurrent dropout mask named after layer). The step function
	// maps one step's projection (N, P) and the states to the next states.
	Begin(ctx *graph.Context, layer string, x graph.Node) (proj graph.Node, step StepFunc, err error)

	core() *cellCore
}

// StepFunc is one step of a cell: the next states from the step's input
// projection and the previous states.
type StepFunc func(xt graph.Node, states []graph.Node) ([]graph.Node, error)

// FusedCell is a Cell that can also run a whole sequence as one op with a
// hand-written backward pass (kerago's CuDNNGRU and CuDNNLSTM, on the
// CPU), as Keras's backend gru() and lstm() do when the configuration
// allows: the recurrent loop uses it then, and the unrolled steps otherwise.
type FusedCell interface {
	Cell
	// CanFuse says why the cell's configuration cannot run fused (nil when
	// it can).
	CanFuse() error
	// Fused runs x (N, T, F) from the initial states with an optional mask
	// (N, T), reading backwards with goBackwards, and returns the outputs
	// of every step in processing order (only when sequence is set) and
	// the final states.
	Fused(ctx *graph.Context, x graph.Node, states []graph.Node, mask graph.Node, goBackwards, sequence bool) (graph.Node, []graph.Node, error)
}

// cellCore is what the three cells share: the state size, the number of
// gate blocks in the weights, the activation, the configuration of the
// weights and the weights themselves.
type cellCore struct {
	units, gates int
	act          ActivationFunc
	cfg          RecurrentConfig
	recDropout   float64

	kernel, recurrent, bias *graph.Weight
}

// newCellCore checks the settings every cell has.
func newCellCore(cfg RecurrentConfig, gates int) (cellCore, error) {
	cfg.KernelConfig = cfg.KernelConfig.withDefaults()
	cfg.RecurrentInitializer = orDefault(cfg.RecurrentInitializer, defaultRecurrent().RecurrentInitializer)
	c := cellCore{units: cfg.Units, gates: gates, cfg: cfg, recDropout: cfg.RecurrentDropout}
	if cfg.Units <= 0 {
		return c, errors.Errorf("units must be positive, got %d", cfg.Units)
	}
	act, err := Activation(cfg.Activation)
	c.act = act
	return c, err
}

// checkDropout checks the recurrent dropout rate (after the activations,
// as Keras reports them).
func (c *cellCore) checkDropout() error {
	if !(c.recDropout >= 0 && c.recDropout < 1) {
		return errors.Errorf("recurrent_dropout must be in [0, 1), got %v", c.recDropout)
	}
	return nil
}

func (c *cellCore) core() *cellCore { return c }

// Units is the state size.
func (c *cellCore) Units() int { return c.units }

// StateCount is 1: one state, h (LSTMCell overrides it).
func (c *cellCore) StateCount() int { return 1 }

// build creates kernel (features, G·H), recurrent_kernel (H, G·H) and,
// with a bias, the bias of the given shape and initializer, in that order.
func (c *cellCore) build(layer *graph.Base, features int, biasShape graph.Shape, biasInit graph.Initializer) {
	gh := c.gates * c.units
	c.kernel = layer.AddWeight("kernel", graph.Shape{features, gh}, c.cfg.KernelInitializer, c.cfg.KernelRegularizer, true)
	c.recurrent = layer.AddWeight("recurrent_kernel", graph.Shape{c.units, gh}, c.cfg.RecurrentInitializer, c.cfg.RecurrentRegularizer, true)
	if c.cfg.UseBias {
		c.bias = layer.AddWeight("bias", biasShape, biasInit, c.cfg.BiasRegularizer, true)
	}
}

// weightNodes returns the kernel, recurrent kernel and bias (nil without
// bias) nodes.
func (c *cellCore) weightNodes(ctx *graph.Context) (k, u, b graph.Node, err error) {
	if k, err = ctx.Weight(c.kernel); err != nil {
		return
	}
	if u, err = ctx.Weight(c.recurrent); err != nil {
		return
	}
	if c.bias != nil {
		b, err = ctx.Weight(c.bias)
	}
	return
}

// begin emits what every cell's sequence starts with: its weight nodes
// (the recurrent kernel u and the bias b are returned), the input
// projections x·W + the input bias — the whole bias, or what inBias takes
// from it (GRU's reset-after row) when inBias is not nil — and the
// recurrent dropout mask (nil without one).
func (c *cellCore) begin(ctx *graph.Context, layer string, x graph.Node, inBias func(b graph.Node) (graph.Node, error)) (proj, u, b, drop graph.Node, err error) {
	k, u, b, err := c.weightNodes(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ib := b
	if b != nil && inBias != nil {
		if ib, err = inBias(b); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	if proj, err = project(x, k, ib); err != nil {
		return nil, nil, nil, nil, err
	}
	return proj, u, b, c.recurrentDropMask(ctx, layer, x.Shape()[0]), nil
}

// project is x·k + inBias (inBias nil: none) for every step of x (N, T, F)
// at once: (N, T, P).
func project(x, k, inBias graph.Node) (graph.Node, error) {
	xs := x.Shape()
	n, steps, f := xs[0], xs[1], xs[2]
	x2, err := G.Reshape(x, []int{n * steps, f})
	if err != nil {
		return nil, err
	}
	xp, err := G.Mul(x2, k)
	if err != nil {
		return nil, err
	}
	if inBias != nil {
		if xp, err = ops.BiasAdd(xp, inBias); err != nil {
			return nil, err
		}
	}
	return G.Reshape(xp, []int{n, steps, k.Shape()[1]})
}

// recurrentDropMask is the recurrent dropout mask (N, H) of a training
// program, one per sequence; nil when there is none.
func (c *cellCore) recurrentDropMask(ctx *graph.Context, layer string, n int) graph.Node {
	if !ctx.Training() || c.recDropout == 0 {
		return nil
	}
	full := []int{n, c.units}
	return ctx.Random(layer+"/recurrent_dropout_mask", full, dropoutFill(full, []bool{false, false}, c.recDropout))
}

// recurrentProduct is (h ⊙ drop) · u, drop being the recurrent dropout
// mask or nil.
func recurrentProduct(h, drop, u graph.Node) (graph.Node, error) {
	if drop != nil {
		var err error
		if h, err = G.HadamardProd(h, drop); err != nil {
			return nil, err
		}
	}
	return G.Mul(h, u)
}

// gateSlices splits (N, G·H) into G blocks of H columns.
func gateSlices(x graph.Node, gates, units int) ([]graph.Node, error) {
	out := make([]graph.Node, gates)
	for i := range out {
		var err error
		if out[i], err = ops.SliceAxis(x, 1, i*units, (i+1)*units, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lastStep returns all[:, T-1, :] of a fused op's (N, T, C) result.
func lastStep(all graph.Node) (graph.Node, error) {
	steps := all.Shape()[1]
	return ops.SliceAxis(all, 1, steps-1, steps, true)
}

// gatedCell is what GRUCell and LSTMCell add to cellCore: the recurrent
// (gate) activation, by name and as a function.
type gatedCell struct {
	cellCore
	recActName string
	recAct     ActivationFunc
}

// newGatedCell checks the settings of a cell with gates.
func newGatedCell(cfg RecurrentConfig, gates int, recAct string) (gatedCell, error) {
	core, err := newCellCore(cfg, gates)
	g := gatedCell{cellCore: core, recActName: recAct}
	if err != nil {
		return g, err
	}
	if g.recAct, err = Activation(recAct); err != nil {
		return g, err
	}
	return g, g.checkDropout()
}

// CanFuse says why the fused kernels cannot run this configuration, or nil
// when they can: activation tanh, recurrent activation sigmoid or
// hard_sigmoid, no recurrent dropout.
func (g *gatedCell) CanFuse() error {
	var why []string
	if g.cfg.Activation != "tanh" {
		why = append(why, "activation tanh (got "+quoteName(g.cfg.Activation)+")")
	}
	if g.recActName != "sigmoid" && g.recActName != "hard_sigmoid" {
		why = append(why, "recurrent activation sigmoid or hard_sigmoid (got "+quoteName(g.recActName)+")")
	}
	if g.recDropout != 0 {
		why = append(why, "no recurrent dropout")
	}
	if len(why) > 0 {
		return errors.Errorf("implementation \"fused\" needs %s", strings.Join(why, ", "))
	}
	return nil
}

func quoteName(s string) string { return "\"" + s + "\"" }

// fusedSpec is the fused kernels' description of the cell.
func (g *gatedCell) fusedSpec(resetAfter, goBackwards bool) ops.RecurrentSpec {
	return ops.RecurrentSpec{Units: g.units, ResetAfter: resetAfter,
		HardSigmoid: g.recActName == "hard_sigmoid", GoBackwards: goBackwards}
}

// unitForgetBias is LSTM's unit_forget_bias initializer: the inner
// initializer on the i, c, o blocks and ones on the forget block.
type unitForgetBias struct {
	inner graph.Initializer
	units int
}

// Fill implements graph.Initializer.
func (u unitForgetBias) Fill(dst []float64, shape graph.Shape, rng *rand.Rand) error {
	h := u.units
	if err := u.inner.Fill(dst[:h], graph.Shape{h}, rng); err != nil {
		return err
	}
	for i := h; i < 2*h; i++ {
		dst[i] = 1
	}
	return u.inner.Fill(dst[2*h:], graph.Shape{2 * h}, rng)
}
