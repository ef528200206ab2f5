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
	bytes      int64
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
	if err := checkSpec(net, spec); err != nil {
		return nil, err
	}
	c := newCompiler(net, spec)
	c.addInputs()
	if err := c.emitLayers(); err != nil {
		return nil, err
	}
	outs, err := c.captureOutputs()
	if err != nil {
		return nil, err
	}
	cost, err := c.addHead(outs)
	if err != nil {
		return nil, err
	}
	if cost, err = c.captureCost(cost); err != nil {
		return nil, err
	}
	if spec.Training {
		if err := c.differentiate(cost); err != nil {
			return nil, err
		}
	}
	if err := c.buildMachine(); err != nil {
		return nil, err
	}
	return c.p, nil
}

// checkSpec refuses a network without weights and a batch size that is not
// positive.
func checkSpec(net *Network, spec ProgramSpec) error {
	if net.dt != tensor.Float32 && net.dt != tensor.Float64 {
		return errors.New("the network's weights are not initialised")
	}
	if spec.Batch <= 0 {
		return errors.Errorf("batch size must be positive, got %d", spec.Batch)
	}
	for _, t := range net.inputs {
		if !t.shape.Known() {
			return errors.Errorf("input %s has shape %s: compile Network.Concrete(shapes) for the data's shape", t.layer.Name(), t.shape)
		}
	}
	return nil
}

// compiler is what NewProgram's steps share while they build one program:
// the network and spec, the graph context, the program being filled in, and
// the node (and mask, for masked tensors) each network tensor has so far.
type compiler struct {
	net        *Network
	spec       ProgramSpec
	ctx        *Context
	p          *Program
	nodes      map[*Tensor]Node
	masks      map[*Tensor]Node
	inputNodes []Node
}

// newCompiler starts an empty graph and program for spec; the program's
// random source is spec.Rand, or one seeded with 0.
func newCompiler(net *Network, spec ProgramSpec) *compiler {
	ctx := newContext(net.dt, spec.Training, spec.Batch)
	p := &Program{ctx: ctx, rng: spec.Rand}
	if p.rng == nil {
		p.rng = rand.New(rand.NewPCG(0, 0))
	}
	return &compiler{net: net, spec: spec, ctx: ctx, p: p, nodes: map[*Tensor]Node{}, masks: map[*Tensor]Node{}}
}

// addInputs adds a placeholder per model input: the first feeds.
func (c *compiler) addInputs() {
	for _, t := range c.net.inputs {
		n := c.ctx.Placeholder(t.layer.Name(), t.shape.WithBatch(c.spec.Batch))
		c.nodes[t] = n
		c.inputNodes = append(c.inputNodes, n)
	}
	c.p.modelFeeds = len(c.net.inputs)
}

// emitLayers emits every layer call but the inputs, in network order.
func (c *compiler) emitLayers() error {
	for _, cl := range c.net.calls {
		if _, ok := cl.layer.(*InputLayer); ok {
			continue
		}
		if err := c.emitCall(cl); err != nil {
			return err
		}
	}
	return nil
}

// emitCall emits one layer call on the nodes of its inputs (the layer sees
// their masks in ctx.inMasks), checks the outputs against what Build
// promised, and records the output masks of a MaskLayer.
func (c *compiler) emitCall(cl *call) error {
	in := make([]Node, len(cl.inputs))
	inMasks := make([]Node, len(cl.inputs))
	for i, t := range cl.inputs {
		in[i] = c.nodes[t]
		inMasks[i] = c.masks[t]
	}
	if cl.mask != nil {
		inMasks[0] = c.nodes[cl.mask]
	}
	c.ctx.inMasks = inMasks
	out, err := cl.layer.Emit(c.ctx, in)
	c.ctx.inMasks = nil
	if err != nil {
		return errors.Wrapf(err, "layer %s (%s)", cl.layer.Name(), cl.layer.Class())
	}
	if err := c.bindOutputs(cl, out); err != nil {
		return err
	}
	if ml, ok := cl.layer.(MaskLayer); ok {
		return c.bindMasks(cl, ml, in, inMasks)
	}
	return nil
}

// bindOutputs checks the nodes a call emitted against the outputs its Build
// promised, number and shapes, and records them as those outputs' nodes.
func (c *compiler) bindOutputs(cl *call, out []Node) error {
	if len(out) != len(cl.outputs) {
		return errors.Errorf("layer %s (%s) emitted %d outputs, its Build promised %d", cl.layer.Name(), cl.layer.Class(), len(out), len(cl.outputs))
	}
	for i, t := range cl.outputs {
		want := t.shape.WithBatch(c.spec.Batch)
		if !sameDims(out[i].Shape(), want) {
			return errors.Errorf("layer %s (%s) emitted shape %v for output %d, its Build promised %v", cl.layer.Name(), cl.layer.Class(), out[i].Shape(), i, want)
		}
		c.nodes[t] = out[i]
	}
	return nil
}

// bindMasks asks a mask layer for the masks of its outputs and records the
// ones it gives (nil or missing ones leave an output unmasked).
func (c *compiler) bindMasks(cl *call, ml MaskLayer, in, inMasks []Node) error {
	outMasks, err := ml.ComputeMask(c.ctx, in, inMasks)
	if err != nil {
		return errors.Wrapf(err, "layer %s (%s): mask", cl.layer.Name(), cl.layer.Class())
	}
	for i, t := range cl.outputs {
		if i < len(outMasks) && outMasks[i] != nil {
			c.masks[t] = outMasks[i]
		}
	}
	return nil
}

// captureOutputs captures every model output into a buffer of the program
// and returns their nodes, in the network's output order.
func (c *compiler) captureOutputs() ([]Node, error) {
	var outs []Node
	for _, t := range c.net.outputs {
		outs = append(outs, c.nodes[t])
		buf := c.ctx.newDense(t.shape.WithBatch(c.spec.Batch))
		if err := c.ctx.capture(c.nodes[t], buf); err != nil {
			return nil, err
		}
		c.p.outputs = append(c.p.outputs, buf)
	}
	return outs, nil
}

// addHead runs spec.Head on the outputs, captures its reports (a scalar
// into a buffer of shape (1)) and returns its cost; without a head there is
// no cost.
func (c *compiler) addHead(outs []Node) (Node, error) {
	if c.spec.Head == nil {
		return nil, nil
	}
	cost, reports, err := c.spec.Head(c.ctx, outs)
	if err != nil {
		return nil, err
	}
	for _, r := range reports {
		buf := c.ctx.newDense(r.Shape())
		if r.IsScalar() {
			buf = c.ctx.newDense([]int{1})
		}
		if err := c.ctx.capture(r, buf); err != nil {
			return nil, err
		}
		c.p.reports = append(c.p.reports, buf)
	}
	return cost, nil
}

// captureCost checks the head's cost (a training program needs one, and it
// must be a scalar), adds the regularization penalties to it, captures the
// penalty and the total, and returns the total (nil without a cost).
func (c *compiler) captureCost(cost Node) (Node, error) {
	if c.spec.Training && cost == nil {
		return nil, errors.New("a training program needs a cost")
	}
	if cost == nil {
		return nil, nil
	}
	if !cost.IsScalar() {
		return nil, errors.Errorf("the cost must be a scalar, got shape %v", cost.Shape())
	}
	penalty, err := c.penalty()
	if err != nil {
		return nil, err
	}
	if penalty != nil {
		c.p.penalty = c.ctx.newDense([]int{1})
		if err := c.ctx.capture(penalty, c.p.penalty); err != nil {
			return nil, err
		}
		if cost, err = G.Add(cost, penalty); err != nil {
			return nil, err
		}
	}
	c.p.cost = c.ctx.newDense([]int{1})
	if err := c.ctx.capture(cost, c.p.cost); err != nil {
		return nil, err
	}
	return cost, nil
}

// penalty is the sum of the regularization penalties of the trainable
// weights this graph uses (Keras regularizes trainable_weights only), in
// network order, and of the penalties layers added with
// Context.AddPenalty (nil when there are none).
func (c *compiler) penalty() (Node, error) {
	var pens []Node
	for _, w := range c.net.weights {
		n, used := c.ctx.weights[w]
		if !used || w.reg == nil || !w.Trainable() {
			continue
		}
		pen, err := w.reg.Penalty(c.ctx, n)
		if err != nil {
			return nil, errors.Wrapf(err, "regularizer of %s", w.name)
		}
		pens = append(pens, pen)
	}
	var penalty Node
	for _, pen := range append(pens, c.ctx.penalties...) {
		if !pen.IsScalar() {
			return nil, errors.Errorf("a penalty must be a scalar, got shape %v", pen.Shape())
		}
		var err error
		if penalty == nil {
			penalty = pen
		} else if penalty, err = G.Add(penalty, pen); err != nil {
			return nil, err
		}
	}
	return penalty, nil
}

// differentiate adds the gradients of cost with respect to every trainable
// weight that reaches it (and, with spec.InputGradients, every model input)
// and captures them.
func (c *compiler) differentiate(cost Node) error {
	wrt, err := c.gradientTargets(cost)
	if err != nil {
		return err
	}
	if len(wrt) == 0 {
		return nil
	}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		return errors.Wrap(err, "differentiating the cost")
	}
	for i, g := range grads {
		buf := c.ctx.newDense(wrt[i].Shape())
		if err := c.ctx.capture(g, buf); err != nil {
			return err
		}
		if i < len(c.p.params) {
			c.p.grads = append(c.p.grads, buf)
		} else {
			c.p.inputGrads = append(c.p.inputGrads, buf)
		}
	}
	return nil
}

// gradientTargets lists the nodes to differentiate cost with respect to:
// the trainable weights that reach it, in network order (recorded as the
// program's Params), then, with spec.InputGradients, the model inputs, each
// of which must reach it.
func (c *compiler) gradientTargets(cost Node) ([]Node, error) {
	reach := ancestors(c.ctx.g, cost)
	var wrt []Node
	for _, w := range c.net.weights {
		if n, ok := c.ctx.weights[w]; ok && w.Trainable() && reach[n] {
			c.p.params = append(c.p.params, w)
			wrt = append(wrt, n)
		}
	}
	if c.spec.InputGradients {
		for _, n := range c.inputNodes {
			if !reach[n] {
				return nil, errors.Errorf("input %s does not reach the cost", n.Name())
			}
			wrt = append(wrt, n)
		}
	}
	return wrt, nil
}

// buildMachine makes what runs the graph: Gorgonia's tape machine (in eval
// mode for inference) with spec.TapeMachine, kerago's executor otherwise.
func (c *compiler) buildMachine() error {
	c.p.bytes = graphBytes(c.ctx)
	if c.spec.TapeMachine {
		opts := []G.VMOpt{}
		if !c.spec.Training {
			opts = append(opts, G.EvalMode())
		}
		c.p.machine = G.NewTapeMachine(c.ctx.g, opts...)
		return nil
	}
	var err error
	c.p.exec, err = newExecutor(c.ctx.g, c.ctx.captures)
	return err
}

// graphBytes estimates the memory a program holds: the values of every
// node of its graph (operations' outputs, gradients, feeds, captures) from
// their shapes and dtypes, except the weights', which are the network's and
// shared by every program. Scratch memory an operation keeps to itself is
// not counted.
func graphBytes(ctx *Context) int64 {
	weights := make(map[Node]bool, len(ctx.weights))
	for _, n := range ctx.weights {
		weights[n] = true
	}
	var n int64
	for _, node := range ctx.g.AllNodes() {
		if !weights[node] {
			n += int64(node.Shape().TotalSize()) * int64(node.Dtype().Size())
		}
	}
	return n
}

// Bytes estimates the memory the program holds beyond the network's
// weights (see graphBytes): what keeping it idle in a cache costs.
func (p *Program) Bytes() int64 { return p.bytes }

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
func sameDims(a tensor.Shape, b []int) bool { return Shape(a).Equal(b) }
