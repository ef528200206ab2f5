package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// executor runs a Gorgonia graph in place of Gorgonia's tape machine: it
// evaluates, in topological order, only the nodes the program's captures
// need, calls each op in the caller's goroutine (so a panic becomes an
// error), and hands every op that can reuse memory (UsePreallocDoer) its
// own output from the previous run, so that a program allocates little
// after its first run. Nothing is computed in place of an input.
type executor struct {
	nodes []Node // every needed node, children before parents
	vals  []G.Value
	steps []step
	leafs []int // indices of input and constant nodes, reloaded each run
}

type step struct {
	node   Node
	op     G.Op
	args   []int
	argv   []G.Value
	out    int
	reuse  G.UsePreallocDoer // nil when the op cannot reuse its output
	last   G.Value
	tested bool // whether the output was checked for sharing memory with an input
}

func newExecutor(g *G.ExprGraph, roots []Node) (*executor, error) {
	e := &executor{}
	index := map[Node]int{}
	state := map[Node]int{} // 0 new, 1 on stack, 2 done
	var visit func(n Node) error
	visit = func(n Node) error {
		switch state[n] {
		case 1:
			return errors.Errorf("the graph has a cycle at %v", n.Name())
		case 2:
			return nil
		}
		state[n] = 1
		it := g.From(n.ID())
		var children []Node
		for it.Next() {
			children = append(children, it.Node().(Node))
		}
		for _, c := range children {
			if err := visit(c); err != nil {
				return err
			}
		}
		state[n] = 2
		index[n] = len(e.nodes)
		e.nodes = append(e.nodes, n)
		if n.Op() == nil || len(children) == 0 {
			e.leafs = append(e.leafs, index[n])
			return nil
		}
		s := step{node: n, op: n.Op(), out: index[n]}
		for _, c := range children {
			s.args = append(s.args, index[c])
		}
		s.argv = make([]G.Value, len(s.args))
		if r, ok := n.Op().(G.UsePreallocDoer); ok {
			s.reuse = r
		}
		e.steps = append(e.steps, s)
		return nil
	}
	for _, r := range roots {
		if err := visit(r); err != nil {
			return nil, err
		}
	}
	e.vals = make([]G.Value, len(e.nodes))
	return e, nil
}

// run evaluates every step once.
func (e *executor) run() (err error) {
	var cur *step
	defer func() {
		if r := recover(); r != nil {
			name := "?"
			if cur != nil {
				name = cur.node.Name()
			}
			err = errors.Errorf("running %s: panic: %v", name, r)
		}
	}()
	for _, i := range e.leafs {
		n := e.nodes[i]
		v := n.Value()
		if v == nil {
			if n.Op() != nil {
				if v, err = n.Op().Do(); err != nil {
					return errors.Wrapf(err, "constant %s", n.Name())
				}
			} else {
				return errors.Errorf("input %s has no value", n.Name())
			}
		}
		e.vals[i] = v
	}
	for k := range e.steps {
		s := &e.steps[k]
		cur = s
		for j, a := range s.args {
			s.argv[j] = e.vals[a]
		}
		var v G.Value
		if s.reuse != nil && s.last != nil {
			v, err = s.reuse.UsePreallocDo(s.last, s.argv...)
		} else {
			v, err = s.op.Do(s.argv...)
		}
		if err != nil {
			return errors.Wrapf(err, "running %v", s.node.Name())
		}
		if s.reuse != nil && !s.tested {
			// An output that shares memory with an input (a view) must
			// not be written into next time.
			s.tested = true
			for _, in := range s.argv {
				if overlaps(v, in) {
					s.reuse = nil
					break
				}
			}
			if _, ok := v.(tensor.Tensor); !ok {
				s.reuse = nil
			}
		}
		s.last = v
		e.vals[s.out] = v
	}
	return nil
}

// overlaps reports whether two values' memory overlaps.
func overlaps(a, b G.Value) bool {
	ta, ok1 := a.(tensor.Tensor)
	tb, ok2 := b.(tensor.Tensor)
	if !ok1 || !ok2 {
		return false
	}
	pa, pb := ta.Uintptr(), tb.Uintptr()
	sa, sb := uintptr(ta.MemSize()), uintptr(tb.MemSize())
	return pa < pb+sb && pb < pa+sa
}
