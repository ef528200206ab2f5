package graph

import (
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph/ops"
)

// Context is what a layer's Emit sees: the Gorgonia graph being built, its
// dtype, the mode (training or inference), the batch size, and the means to
// get weight nodes, per-run random inputs (dropout masks) and regularization
// penalties into the graph.
type Context struct {
	g         *G.ExprGraph
	dt        tensor.Dtype
	training  bool
	batch     int
	weights   map[*Weight]Node
	feeds     []feed
	randoms   []random
	penalties []Node
	seq       int
	inMasks   []Node
	updates   []update
	captures  []Node
}

// capture copies n's value into buf at every run; the capture nodes are the
// roots the program is compiled for (anything they do not need is pruned).
func (c *Context) capture(n Node, buf *tensor.Dense) error {
	node, err := ops.Capture(n, buf)
	if err != nil {
		return err
	}
	c.captures = append(c.captures, node)
	return nil
}

// update is a state change requested by a layer: after a successful
// training step, value's captured contents replace the weight's values.
type update struct {
	w   *Weight
	buf *tensor.Dense
}

type feed struct {
	node Node
	buf  *tensor.Dense
}

type random struct {
	buf  *tensor.Dense
	fill func(dst []float64, rng *rand.Rand)
	tmp  []float64
}

func newContext(dt tensor.Dtype, training bool, batch int) *Context {
	return &Context{g: G.NewGraph(), dt: dt, training: training, batch: batch, weights: map[*Weight]Node{}}
}

// Graph is the Gorgonia graph being built.
func (c *Context) Graph() *G.ExprGraph { return c.g }

// DType is the graph's float dtype (tensor.Float32 or tensor.Float64).
func (c *Context) DType() tensor.Dtype { return c.dt }

// Training reports whether this is a training program (dropout active,
// batch statistics) rather than an inference one.
func (c *Context) Training() bool { return c.training }

// Batch is the program's batch size.
func (c *Context) Batch() int { return c.batch }

// Weight returns w's node in this graph, bound to w's one value tensor.
func (c *Context) Weight(w *Weight) (Node, error) {
	if n, ok := c.weights[w]; ok {
		return n, nil
	}
	if w.value == nil {
		return nil, errors.Errorf("weight %s has no value: the network was not initialised", w.name)
	}
	if w.value.Dtype() != c.dt {
		return nil, errors.Errorf("weight %s is %v but the graph is %v", w.name, w.value.Dtype(), c.dt)
	}
	n := G.NewTensor(c.g, c.dt, len(w.shape), G.WithShape(w.shape...), G.WithValue(w.value), G.WithName(c.unique(w.name)))
	c.weights[w] = n
	return n, nil
}

// Scalar is a constant scalar of the graph's dtype.
func (c *Context) Scalar(v float64) Node {
	if c.dt == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// Const is a constant tensor of the graph's dtype with the given full shape.
func (c *Context) Const(shape []int, vals []float64) Node {
	t := c.newDense(shape)
	copyInto(t, vals)
	return G.NewConstant(t, G.WithName(c.unique("const")))
}

// Placeholder adds an input node with the given full shape whose value the
// caller writes before each run (the Program lists it in Feeds after the
// model inputs, in creation order). Loss heads use it for targets.
func (c *Context) Placeholder(name string, shape []int) Node {
	buf := c.newDense(shape)
	n := G.NewTensor(c.g, c.dt, len(shape), G.WithShape(shape...), G.WithName(c.unique(name)))
	if err := G.Let(n, buf); err != nil {
		panic(err) // shapes and dtypes agree by construction
	}
	c.feeds = append(c.feeds, feed{node: n, buf: buf})
	return n
}

// Random adds an input node with the given full shape that is refilled by
// fill before every run, from the program's seeded random source (dropout
// masks are made this way).
func (c *Context) Random(name string, shape []int, fill func(dst []float64, rng *rand.Rand)) Node {
	buf := c.newDense(shape)
	n := G.NewTensor(c.g, c.dt, len(shape), G.WithShape(shape...), G.WithName(c.unique(name)))
	if err := G.Let(n, buf); err != nil {
		panic(err)
	}
	c.randoms = append(c.randoms, random{buf: buf, fill: fill, tmp: make([]float64, buf.Shape().TotalSize())})
	return n
}

// AddUpdate asks that, after each successful training step, w's values be
// replaced by value's (a node of w's shape): batch normalization's moving
// statistics are kept this way. Inference programs ignore updates; a
// training step whose loss is not finite applies none.
func (c *Context) AddUpdate(w *Weight, value Node) error {
	if !c.training {
		return nil
	}
	if !sameDims(value.Shape(), w.shape) {
		return errors.Errorf("update of %s: value has shape %v, the weight %v", w.name, value.Shape(), []int(w.shape))
	}
	buf := c.newDense(w.shape)
	if err := c.capture(value, buf); err != nil {
		return err
	}
	c.updates = append(c.updates, update{w: w, buf: buf})
	return nil
}

// AddPenalty adds a scalar node to the program's cost, as Keras's add_loss:
// like the weights' regularization penalties it joins the cost of every
// program that has one (training, and evaluation with a loss head) and is
// reported in Penalty; a program without a cost ignores it.
func (c *Context) AddPenalty(n Node) { c.penalties = append(c.penalties, n) }

func (c *Context) unique(name string) string {
	c.seq++
	return fmt.Sprintf("%s#%d", name, c.seq)
}

func (c *Context) newDense(shape []int) *tensor.Dense {
	return tensor.New(tensor.Of(c.dt), tensor.WithShape(append([]int(nil), shape...)...))
}

// copyInto writes float64 values into a float32 or float64 tensor.
func copyInto(t *tensor.Dense, vals []float64) {
	switch d := t.Data().(type) {
	case []float64:
		copy(d, vals)
	case []float32:
		for i, v := range vals {
			d[i] = float32(v)
		}
	}
}
