package train

import (
	"fmt"
	"strings"
	"sync"

	"github.com/kerago/kerago/graph"
)

// maxPrograms bounds each program cache: a model whose inputs have None
// axes compiles one program per batch size and concrete input shape, and
// a service fed texts of every length must not keep them all.
const maxPrograms = 16

// maxFreePerKey bounds the idle programs kept for one key: as many as
// goroutines that ran it at once, up to this many.
const maxFreePerKey = 8

// defaultProgramBytes is the default bound on the memory held by one
// cache's idle programs (ProgramCacheBytes).
const defaultProgramBytes = 256 << 20

// programCache holds a model's compiled programs of one mode (train,
// evaluate or predict), keyed by batch size and input shapes. A program
// has its own feed and output buffers, so one goroutine uses it at a time:
// acquire takes an idle one out and release puts it back. The cache keeps
// at most maxPrograms keys and idle programs of at most maxBytes in all
// (graph.Program.Bytes), dropping the least recently used first; the
// program just released is always kept, so a model whose one program is
// larger than the bound still runs without recompiling. It is safe for
// concurrent use.
type programCache struct {
	mu       sync.Mutex
	idle     map[programKey][]*graph.Program
	order    []programKey // least recently used first
	bytes    int64        // held by idle programs
	maxBytes int64
}

// programKey names a program by batch size and, for a network with None
// axes, the concrete input shapes (empty for other networks, so that the
// training loop's lookups allocate nothing).
type programKey struct {
	batch  int
	shapes string
	// weighted programs take sample weights (see Model.head).
	weighted bool
}

func newProgramCache(maxBytes int64) *programCache {
	return &programCache{idle: map[programKey][]*graph.Program{}, maxBytes: maxBytes}
}

// acquire takes an idle program of key out of the cache.
func (c *programCache) acquire(key programKey) (*graph.Program, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := c.idle[key]
	if len(ps) == 0 {
		return nil, false
	}
	p := ps[len(ps)-1]
	c.idle[key] = ps[:len(ps)-1]
	c.bytes -= p.Bytes()
	c.touch(key)
	return p, true
}

// release puts a program of key back, then drops the least recently used
// programs beyond the cache's bounds.
func (c *programCache) release(key programKey, p *graph.Program) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, known := c.idle[key]
	if len(ps) < maxFreePerKey {
		c.idle[key] = append(ps, p)
		c.bytes += p.Bytes()
	}
	if known {
		c.touch(key)
	} else {
		c.order = append(c.order, key)
	}
	for len(c.order) > maxPrograms {
		c.dropOldest()
	}
	for c.bytes > c.maxBytes {
		if c.order[0] != key {
			c.dropOldest()
			continue
		}
		// Only key is left: drop its older idle programs, keep p.
		ps := c.idle[key]
		if len(ps) <= 1 {
			return
		}
		c.bytes -= ps[0].Bytes()
		c.idle[key] = append(ps[:0], ps[1:]...)
	}
}

// dropOldest drops the least recently used key and its idle programs.
func (c *programCache) dropOldest() {
	k := c.order[0]
	for _, p := range c.idle[k] {
		c.bytes -= p.Bytes()
	}
	delete(c.idle, k)
	c.order = append(c.order[:0], c.order[1:]...)
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

// program returns an idle program for batch and d's input shapes, or
// compiles one: on the model's network, or, when its inputs have None
// axes, on the network made concrete for d's shapes. The caller gives it
// back with cache.release(key, p). Compiling is serialized (it builds
// layers, which is not safe for concurrent use).
func (m *Model) program(cache *programCache, d *dataset, batch int, training, withHead bool) (p *graph.Program, key programKey, err error) {
	var shapes []graph.Shape
	if m.net.HasUnknown() {
		shapes = d.inputShapes()
	}
	key = keyOf(batch, shapes)
	key.weighted = d.sw != nil
	if p, ok := cache.acquire(key); ok {
		return p, key, nil
	}
	m.compileMu.Lock()
	defer m.compileMu.Unlock()
	net := m.net
	if shapes != nil {
		if net, err = m.net.Concrete(shapes); err != nil {
			return nil, key, err
		}
	}
	spec := graph.ProgramSpec{Training: training, Batch: batch, Rand: m.dropoutRand}
	if withHead {
		spec.Head = m.unweightedHead
		if key.weighted {
			spec.Head = m.weightedHead
		}
	}
	if p, err = graph.NewProgram(net, spec); err != nil {
		return nil, key, err
	}
	return p, key, nil
}
