package graph

import (
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Head adds nodes on top of a network's outputs: a scalar cost (required in
// training programs, optional otherwise) and any number of report nodes
// (metrics). It may create Placeholders for targets.
type Head func(ctx *Context, outputs []Node) (cost Node, reports []Node, err error)

// ProgramSpec says what to compile a Network into.
type ProgramSpec struct {
	// Training selects training mode: dropout active, and gradients of the
	// cost with respect to every trainable weight that reaches it.
	Training bool
	// Batch is the batch size every feed has.
	Batch int
	// Head adds the cost and reports; nil compiles the outputs alone.
	Head Head
	// Rand fills the Random inputs (dropout masks) before each run. Nil
	// means a source seeded with 0.
	Rand *rand.Rand
	// InputGradients also computes the cost's gradient with respect to the
	// model inputs (used by gradient checks).
	InputGradients bool
	// TapeMachine runs the program on Gorgonia's tape machine instead of
	// kerago's executor (for comparison; the executor is faster, allocates
	// less and turns panics inside ops into errors).
	TapeMachine bool
}

// Program is a Network compiled into one Gorgonia graph and tape machine for
// one mode and batch size. Its buffers are allocated once: write a batch into
// Feeds, call Run, read Outputs, Cost, Reports and Gradients.
type Program struct {
	ctx        *Context
	machine    G.VM
	exec       *executor
	rng        *rand.Rand
	outputs    []*tensor.Dense
	cost       *tensor.Dense
	reports    []*tensor.Dense
	params     []*Weight
	grads      []*tensor.Dense
	inputGrads []*tensor.Dense
	modelFeeds int
	penalty    *tensor.Dense
}

// NewProgram compiles net (whose weights must be initialised) as spec says.
// Errors from layers, heads and Gorgonia, and panics inside them, are
// returned as errors.
func NewProgram(net *Network, spec ProgramSpec) (p *Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, errors.Errorf("compiling the model: %v", r)
		}
	}()
	if net.dt != tensor.Float32 && net.dt != tensor.Float64 {
		return nil, errors.New("the network's weights are not initialised")
	}
	if spec.Batch <= 0 {
		return nil, errors.Errorf("batch size must be positive, got %d", spec.Batch)
	}
	ctx := newContext(net.dt, spec.Training, spec.Batch)
	p = &Program{ctx: ctx, rng: spec.Rand}
	if p.rng == nil {
		p.rng = rand.New(rand.NewPCG(0, 0))
	}
	nodes := map[*Tensor]Node{}
	masks := map[*Tensor]Node{}
	var inputNodes []Node
	for _, t := range net.inputs {
		n := ctx.Placeholder(t.layer.Name(), t.shape.WithBatch(spec.Batch))
		nodes[t] = n
		inputNodes = append(inputNodes, n)
	}
	p.modelFeeds = len(net.inputs)
	for _, c := range net.calls {
		if _, ok := c.layer.(*InputLayer); ok {
			continue
		}
		in := make([]Node, len(c.inputs))
		inMasks := make([]Node, len(c.inputs))
		for i, t := range c.inputs {
			in[i] = nodes[t]
			inMasks[i] = masks[t]
		}
		ctx.inMasks = inMasks
		out, err := c.layer.Emit(ctx, in)
		ctx.inMasks = nil
		if err != nil {
			return nil, errors.Wrapf(err, "layer %s (%s)", c.layer.Name(), c.layer.Class())
		}
		if len(out) != len(c.outputs) {
			return nil, errors.Errorf("layer %s (%s) emitted %d outputs, its Build promised %d", c.layer.Name(), c.layer.Class(), len(out), len(c.outputs))
		}
		for i, t := range c.outputs {
			want := t.shape.WithBatch(spec.Batch)
			if !sameDims(out[i].Shape(), want) {
				return nil, errors.Errorf("layer %s (%s) emitted shape %v for output %d, its Build promised %v", c.layer.Name(), c.layer.Class(), out[i].Shape(), i, want)
			}
			nodes[t] = out[i]
		}
		if ml, ok := c.layer.(MaskLayer); ok {
			outMasks, err := ml.ComputeMask(ctx, in, inMasks)
			if err != nil {
				return nil, errors.Wrapf(err, "layer %s (%s): mask", c.layer.Name(), c.layer.Class())
			}
			for i, t := range c.outputs {
				if i < len(outMasks) && outMasks[i] != nil {
					masks[t] = outMasks[i]
				}
			}
		}
	}
	var outs []Node
	for _, t := range net.outputs {
		outs = append(outs, nodes[t])
		buf := ctx.newDense(t.shape.WithBatch(spec.Batch))
		if err := ctx.capture(nodes[t], buf); err != nil {
			return nil, err
		}
		p.outputs = append(p.outputs, buf)
	}

	var cost Node
	if spec.Head != nil {
		var reports []Node
		cost, reports, err = spec.Head(ctx, outs)
		if err != nil {
			return nil, err
		}
		for _, r := range reports {
			buf := ctx.newDense(r.Shape())
			if r.IsScalar() {
				buf = ctx.newDense([]int{1})
			}
			if err := ctx.capture(r, buf); err != nil {
				return nil, err
			}
			p.reports = append(p.reports, buf)
		}
	}
	if spec.Training && cost == nil {
		return nil, errors.New("a training program needs a cost")
	}
	if cost != nil {
		if !cost.IsScalar() {
			return nil, errors.Errorf("the cost must be a scalar, got shape %v", cost.Shape())
		}
		// Regularization penalties of the weights this graph uses.
		var penalty Node
		for _, w := range net.weights {
			n, used := ctx.weights[w]
			if !used || w.reg == nil {
				continue
			}
			pen, err := w.reg.Penalty(ctx, n)
			if err != nil {
				return nil, errors.Wrapf(err, "regularizer of %s", w.name)
			}
			if penalty == nil {
				penalty = pen
			} else if penalty, err = G.Add(penalty, pen); err != nil {
				return nil, err
			}
		}
		if penalty != nil {
			p.penalty = ctx.newDense([]int{1})
			if err := ctx.capture(penalty, p.penalty); err != nil {
				return nil, err
			}
			if cost, err = G.Add(cost, penalty); err != nil {
				return nil, err
			}
		}
		p.cost = ctx.newDense([]int{1})
		if err := ctx.capture(cost, p.cost); err != nil {
			return nil, err
		}
	}
	if spec.Training {
		reach := ancestors(ctx.g, cost)
		var wrt []Node
		for _, w := range net.weights {
			if n, ok := ctx.weights[w]; ok && w.trainable && reach[n] {
				p.params = append(p.params, w)
				wrt = append(wrt, n)
			}
		}
		if spec.InputGradients {
			for _, n := range inputNodes {
				if !reach[n] {
					return nil, errors.Errorf("input %s does not reach the cost", n.Name())
				}
				wrt = append(wrt, n)
			}
		}
		if len(wrt) > 0 {
			grads, err := G.Grad(cost, wrt...)
			if err != nil {
				return nil, errors.Wrap(err, "differentiating the cost")
			}
			for i, g := range grads {
				buf := ctx.newDense(wrt[i].Shape())
				if err := ctx.capture(g, buf); err != nil {
					return nil, err
				}
				if i < len(p.params) {
					p.grads = append(p.grads, buf)
				} else {
					p.inputGrads = append(p.inputGrads, buf)
				}
			}
		}
	}
	if spec.TapeMachine {
		opts := []G.VMOpt{}
		if !spec.Training {
			opts = append(opts, G.EvalMode())
		}
		p.machine = G.NewTapeMachine(ctx.g, opts...)
	} else if p.exec, err = newExecutor(ctx.g, ctx.captures); err != nil {
		return nil, err
	}
	return p, nil
}

// ancestors returns the nodes from which n can be reached (n included).
func ancestors(g *G.ExprGraph, n Node) map[Node]bool {
	seen := map[Node]bool{}
	stack := []Node{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[x] {
			continue
		}
		seen[x] = true
		it := g.From(x.ID())
		for it.Next() {
			stack = append(stack, it.Node().(Node))
		}
	}
	return seen
}

// Feeds are the buffers the next Run reads: one per model input, then one per
// Placeholder the head created, each with the batch axis first.
func (p *Program) Feeds() []*tensor.Dense {
	out := make([]*tensor.Dense, len(p.ctx.feeds))
	for i, f := range p.ctx.feeds {
		out[i] = f.buf
	}
	return out
}

// Batch is the program's batch size.
func (p *Program) Batch() int { return p.ctx.batch }

// Training reports whether this is a training program.
func (p *Program) Training() bool { return p.ctx.training }

// Run refills the random inputs, executes the graph once and resets the
// machine. With refresh false the random inputs keep their last values
// (gradient checks need a fixed dropout mask).
func (p *Program) Run(refresh bool) (err error) {
	if refresh {
		for _, r := range p.ctx.randoms {
			r.fill(r.tmp, p.rng)
			copyInto(r.buf, r.tmp)
		}
	}
	if p.exec != nil {
		return p.exec.run()
	}
	defer p.machine.Reset()
	if err := p.machine.RunAll(); err != nil {
		return errors.Wrap(err, "running the graph")
	}
	return nil
}

// ApplyUpdates writes the state updates captured in the last run (batch
// normalization's moving statistics) into their weights. The training loop
// calls it after a step whose loss was finite.
func (p *Program) ApplyUpdates() {
	for _, u := range p.ctx.updates {
		switch d := u.w.value.Data().(type) {
		case []float32:
			copy(d, u.buf.Data().([]float32))
		case []float64:
			copy(d, u.buf.Data().([]float64))
		}
	}
}

// Outputs are the model outputs of the last run (batch axis first).
func (p *Program) Outputs() []*tensor.Dense { return p.outputs }

// Cost is the last run's cost, regularization penalties included.
func (p *Program) Cost() float64 {
	if p.cost == nil {
		return 0
	}
	return scalarOf(p.cost)
}

// Penalty is the regularization part of the last run's cost.
func (p *Program) Penalty() float64 {
	if p.penalty == nil {
		return 0
	}
	return scalarOf(p.penalty)
}

// Reports are the values of the head's report nodes in the last run.
func (p *Program) Reports() []*tensor.Dense { return p.reports }

// ReportValue is report i's value in the last run (its first element, for
// a report that is not a scalar), read without allocating.
func (p *Program) ReportValue(i int) float64 { return scalarOf(p.reports[i]) }

// Params are the trainable weights the gradients belong to, in network order.
func (p *Program) Params() []*Weight { return p.params }

// Gradients are d(cost)/d(param) from the last run, aligned with Params.
func (p *Program) Gradients() []*tensor.Dense { return p.grads }

// InputGradients are d(cost)/d(input) (only with ProgramSpec.InputGradients).
func (p *Program) InputGradients() []*tensor.Dense { return p.inputGrads }

// String describes the program.
func (p *Program) String() string {
	mode := "inference"
	if p.ctx.training {
		mode = "training"
	}
	return fmt.Sprintf("%s program, batch %d, %v, %d nodes", mode, p.ctx.batch, p.ctx.dt, len(p.ctx.g.AllNodes()))
}

func scalarOf(t *tensor.Dense) float64 {
	// Typed accessors: Data would box the slice into an interface each call.
	switch t.Dtype() {
	case tensor.Float64:
		return t.Float64s()[0]
	case tensor.Float32:
		return float64(t.Float32s()[0])
	}
	return 0
}

// sameDims compares shapes exactly (tensor.Shape.Eq takes (n), (n,1) and
// (1,n) for equal).
func sameDims(a tensor.Shape, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
