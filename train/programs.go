package train

import (
	"fmt"
	"strings"

	"github.com/kerago/kerago/graph"
)

// maxPrograms bounds each program cache: a model whose inputs have None
// axes compiles one program per batch size and concrete input shape, and
// a service fed texts of every length must not keep them all.
const maxPrograms = 16

// programCache holds a model's compiled programs of one mode (train,
// evaluate or predict), keyed by batch size and input shapes, evicting the
// least recently used beyond maxPrograms.
type programCache struct {
	progs map[programKey]*graph.Program
	order []programKey // least recently used first
}

// programKey names a program by batch size and, for a network with None
// axes, the concrete input shapes (empty for other networks, so that the
// training loop's lookups allocate nothing).
type programKey struct {
	batch  int
	shapes string
}

func newProgramCache() *programCache {
	return &programCache{progs: map[programKey]*graph.Program{}}
}

// get returns the program of key, marking it recently used.
func (c *programCache) get(key programKey) (*graph.Program, bool) {
	p, ok := c.progs[key]
	if ok {
		c.touch(key)
	}
	return p, ok
}

// put adds a program, evicting the least recently used one when full.
func (c *programCache) put(key programKey, p *graph.Program) {
	if len(c.order) >= maxPrograms {
		delete(c.progs, c.order[0])
		c.order = append(c.order[:0], c.order[1:]...)
	}
	c.progs[key] = p
	c.order = append(c.order, key)
}

func (c *programCache) touch(key programKey) {
	last := len(c.order) - 1
	for i, k := range c.order {
		if k == key && i != last {
			copy(c.order[i:], c.order[i+1:])
			c.order[last] = key
			return
		}
	}
}

// len is the number of programs held.
func (c *programCache) len() int { return len(c.progs) }

// inputShapes are the per-sample shapes of d's input arrays.
func (d *dataset) inputShapes() []graph.Shape {
	out := make([]graph.Shape, len(d.xs))
	for i, a := range d.xs {
		out[i] = a.shape
	}
	return out
}

// keyOf is the key of the program for batch and, when not nil, the
// concrete input shapes.
func keyOf(batch int, shapes []graph.Shape) programKey {
	k := programKey{batch: batch}
	if shapes != nil {
		var b strings.Builder
		for _, s := range shapes {
			fmt.Fprintf(&b, "%v", []int(s))
		}
		k.shapes = b.String()
	}
	return k
}

// program returns the cached program for batch and d's input shapes, or
// compiles it: on the model's network, or, when its inputs have None
// axes, on the network made concrete for d's shapes.
func (m *Model) program(cache *programCache, d *dataset, batch int, training, withHead bool) (*graph.Program, error) {
	var shapes []graph.Shape
	if m.net.HasUnknown() {
		shapes = d.inputShapes()
	}
	key := keyOf(batch, shapes)
	if p, ok := cache.get(key); ok {
		return p, nil
	}
	net := m.net
	if shapes != nil {
		var err error
		if net, err = m.net.Concrete(shapes); err != nil {
			return nil, err
		}
	}
	spec := graph.ProgramSpec{Training: training, Batch: batch, Rand: m.dropoutRand}
	if withHead {
		spec.Head = m.head
	}
	p, err := graph.NewProgram(net, spec)
	if err != nil {
		return nil, err
	}
	cache.put(key, p)
	return p, nil
}
