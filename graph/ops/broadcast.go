package ops

import (
	"fmt"
	"slices"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BroadcastTo repeats x along its axes of size 1 up to the shape to, which
// has x's rank and agrees with x on every other axis (NumPy's broadcast_to
// without new leading axes: reshape x first to add them). It is one node;
// the gradient sums the output gradient over the repeated axes. A shape
// equal to x's returns x itself.
func BroadcastTo(x *G.Node, to tensor.Shape) (*G.Node, error) {
	s := x.Shape()
	if len(s) != len(to) || len(s) == 0 {
		return nil, errors.Errorf("broadcast: shape %v cannot be broadcast to %v: the ranks differ or are 0", s, to)
	}
	for i, d := range s {
		if d != to[i] && d != 1 {
			return nil, errors.Errorf("broadcast: shape %v cannot be broadcast to %v: axis %d has size %d, not 1 or %d", s, to, i, d, to[i])
		}
	}
	if sameShape(s, to) {
		return x, nil
	}
	return Apply(newBroadcastKernel(s, to), x)
}

// broadcastKernel repeats its input of shape from up to shape to. Strides
// are in elements: the output's, and the input's with 0 on repeated axes.
type broadcastKernel struct {
	from, to        []int
	stride, xstride []int
}

func newBroadcastKernel(from, to tensor.Shape) broadcastKernel {
	k := broadcastKernel{from: slices.Clone([]int(from)), to: slices.Clone([]int(to)),
		stride: make([]int, len(to)), xstride: make([]int, len(to))}
	so, sx := 1, 1
	for i := len(to) - 1; i >= 0; i-- {
		k.stride[i] = so
		if from[i] == to[i] {
			k.xstride[i] = sx
		}
		so *= to[i]
		sx *= from[i]
	}
	return k
}

func (k broadcastKernel) Name() string  { return fmt.Sprintf("BroadcastTo%v", k.to) }
func (k broadcastKernel) Params() []any { return []any{k.from, k.to} }
func (k broadcastKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if !sameShape(in[0], k.from) {
		return nil, errors.Errorf("%s: input shape %v, want %v", k.Name(), in[0], k.from)
	}
	return tensor.Shape(slices.Clone(k.to)), nil
}

func (k broadcastKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		broadcastWalk(k, 0, dataOf[float32](out), dataOf[float32](in[0]), 0, 0, false)
	} else {
		broadcastWalk(k, 0, dataOf[float64](out), dataOf[float64](in[0]), 0, 0, false)
	}
	return nil
}

// Gradient sums the output gradient back to the input's shape.
func (k broadcastKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := Apply(broadcastSumKernel{k}, grad)
	return G.Nodes{dx}, err
}

// broadcastWalk visits axis d of the big (to-shaped) tensor from offset o
// and the small (from-shaped) one from offset x: it copies small into big,
// or with sum adds big into small.
func broadcastWalk[T Float](k broadcastKernel, d int, big, small []T, o, x int, sum bool) {
	n, so, sx := k.to[d], k.stride[d], k.xstride[d]
	if d < len(k.to)-1 {
		for j := 0; j < n; j++ {
			broadcastWalk(k, d+1, big, small, o+j*so, x+j*sx, sum)
		}
		return
	}
	row := big[o : o+n]
	if sum {
		for j, v := range row {
			small[x+j*sx] += v
		}
		return
	}
	for j := range row {
		row[j] = small[x+j*sx]
	}
}

// broadcastSumKernel is broadcastKernel's gradient: the output gradient
// summed over the repeated axes.
type broadcastSumKernel struct{ b broadcastKernel }

func (k broadcastSumKernel) Name() string  { return k.b.Name() + "'" }
func (k broadcastSumKernel) Params() []any { return k.b.Params() }
func (k broadcastSumKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if !sameShape(in[0], k.b.to) {
		return nil, errors.Errorf("%s: gradient shape %v, want %v", k.Name(), in[0], k.b.to)
	}
	return tensor.Shape(slices.Clone(k.b.from)), nil
}

func (k broadcastSumKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		broadcastSum(k.b, dataOf[float32](in[0]), dataOf[float32](out))
	} else {
		broadcastSum(k.b, dataOf[float64](in[0]), dataOf[float64](out))
	}
	return nil
}

func broadcastSum[T Float](k broadcastKernel, g, dx []T) {
	clear(dx)
	broadcastWalk(k, 0, g, dx, 0, 0, true)
}
