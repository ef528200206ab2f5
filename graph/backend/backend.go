// Package backend holds differentiable functions on graph nodes, the Go
// counterpart of the Keras backend (`from keras import backend as K`): the
// building blocks of Lambda layers and of users' own losses and metrics.
//
//	out := layers.NewLambda(func(_ *graph.Context, x graph.Node) (graph.Node, error) {
//		return backend.L2Normalize(x, -1)
//	}).Apply(in)
//
// Every function takes and returns Gorgonia nodes of one float dtype
// (float32 or float64), adds nodes to its input's graph, and has a correct
// symbolic gradient. Axes count the batch axis as axis 0, as Keras backend
// functions do, and negative axes count from the end (-1 is the last axis).
// Bad arguments (an axis out of range, mismatched shapes) are returned as
// errors, never panics, naming the function and the shapes.
//
// Where Gorgonia has no correct built-in, the function is one custom op
// forward and one backward (package graph/ops): L2Normalize, Softmax, the
// reductions, the element-wise functions and Concatenate (Gorgonia's Concat
// mistakes (N, 1) columns for vectors). Transpose, the reshaping functions
// and Dot's matrix product use Gorgonia's own ops.
package backend

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/ops"
)

// L2NormalizeEpsilon is the clamp L2Normalize applies to the sum of squares
// (TensorFlow's tf.math.l2_normalize default).
const L2NormalizeEpsilon = 1e-12

// checkNode returns an error unless x is a float32 or float64 node.
func checkNode(fn string, x graph.Node) error {
	if x == nil {
		return errors.Errorf("backend.%s: nil node", fn)
	}
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return errors.Errorf("backend.%s: dtype %v not supported (float32 or float64)", fn, dt)
	}
	return nil
}

// checkNodes returns an error unless xs holds at least one node and each is
// a float32 or float64 node.
func checkNodes(fn string, xs []graph.Node) error {
	if len(xs) == 0 {
		return errors.Errorf("backend.%s: no tensors given", fn)
	}
	for _, x := range xs {
		if err := checkNode(fn, x); err != nil {
			return err
		}
	}
	return nil
}

// normAxis turns axis (negative counts from the end) into an index in
// [0, rank), or explains why it does not exist.
func normAxis(fn string, axis, rank int, shape tensor.Shape) (int, error) {
	a := axis
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		return 0, errors.Errorf("backend.%s: axis %d does not exist for shape %v (rank %d, so axes are -%d…%d)", fn, axis, shape, rank, rank, rank-1)
	}
	return a, nil
}

// nodeAxis checks x (checkNode) and turns axis into an index of x's axes
// (normAxis).
func nodeAxis(fn string, x graph.Node, axis int) (int, error) {
	if err := checkNode(fn, x); err != nil {
		return 0, err
	}
	return normAxis(fn, axis, x.Dims(), x.Shape())
}

// L2Normalize divides x by its L2 norm along axis, as Keras's
// K.l2_normalize(x, axis) (tf.math.l2_normalize): x / sqrt(max(Σ_axis x²,
// 1e-12)). A zero vector gives zeros, not NaN; [1e-7, 0] gives [0.1, 0].
func L2Normalize(x graph.Node, axis int) (graph.Node, error) {
	a, err := nodeAxis("L2Normalize", x, axis)
	if err != nil {
		return nil, err
	}
	return ops.L2Normalize(x, a, L2NormalizeEpsilon)
}

// Softmax is the softmax of x along axis (K.softmax(x, axis)).
func Softmax(x graph.Node, axis int) (graph.Node, error) {
	a, err := nodeAxis("Softmax", x, axis)
	if err != nil {
		return nil, err
	}
	return ops.Softmax(x, a)
}

func reduce(fn, kind string, x graph.Node, axes []int, keepDims bool) (graph.Node, error) {
	if err := checkNode(fn, x); err != nil {
		return nil, err
	}
	if x.Dims() == 0 {
		return nil, errors.Errorf("backend.%s: x is a scalar; there is no axis to reduce", fn)
	}
	norm := make([]int, len(axes))
	seen := map[int]bool{}
	for i, ax := range axes {
		a, err := normAxis(fn, ax, x.Dims(), x.Shape())
		if err != nil {
			return nil, err
		}
		if seen[a] {
			return nil, errors.Errorf("backend.%s: axis %d given twice in %v", fn, ax, axes)
		}
		seen[a] = true
		norm[i] = a
	}
	return ops.Reduce(x, kind, norm, keepDims)
}

// Sum sums x over axes (K.sum(x, axis, keepdims)); nil or empty axes means
// every axis, giving a scalar without keepDims. keepDims keeps each reduced
// axis with size 1.
func Sum(x graph.Node, axes []int, keepDims bool) (graph.Node, error) {
	return reduce("Sum", ops.ReduceSum, x, axes, keepDims)
}

// Mean averages x over axes (K.mean(x, axis, keepdims)); axes and keepDims
// as in Sum.
func Mean(x graph.Node, axes []int, keepDims bool) (graph.Node, error) {
	return reduce("Mean", ops.ReduceMean, x, axes, keepDims)
}

// Max is x's maximum over axes (K.max(x, axis, keepdims)); axes and
// keepDims as in Sum. The gradient goes to the maximal elements, shared
// equally between ties.
func Max(x graph.Node, axes []int, keepDims bool) (graph.Node, error) {
	return reduce("Max", ops.ReduceMax, x, axes, keepDims)
}

// Min is x's minimum over axes (K.min(x, axis, keepdims)); axes and
// keepDims as in Sum, the gradient as in Max.
func Min(x graph.Node, axes []int, keepDims bool) (graph.Node, error) {
	return reduce("Min", ops.ReduceMin, x, axes, keepDims)
}

func unary(fn string, f *ops.UnaryFunc, x graph.Node) (graph.Node, error) {
	if err := checkNode(fn, x); err != nil {
		return nil, err
	}
	return f.Apply(x)
}

var (
	squareFunc = &ops.UnaryFunc{Name: "backend.square",
		F:  func(x float64) float64 { return x * x },
		DF: func(x, _ float64) float64 { return 2 * x }}
	sqrtFunc = &ops.UnaryFunc{Name: "backend.sqrt",
		F: func(x float64) float64 { return math.Sqrt(math.Max(x, 0)) },
		DF: func(x, y float64) float64 {
			if x <= 0 {
				return 0
			}
			return 0.5 / y
		}}
	expFunc = &ops.UnaryFunc{Name: "backend.exp",
		F:  math.Exp,
		DF: func(_, y float64) float64 { return y }}
	logFunc = &ops.UnaryFunc{Name: "backend.log",
		F:  math.Log,
		DF: func(x, _ float64) float64 { return 1 / x }}
	absFunc = &ops.UnaryFunc{Name: "backend.abs",
		F: math.Abs,
		DF: func(x, _ float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		}}
)

// Square is x² element-wise (K.square).
func Square(x graph.Node) (graph.Node, error) { return unary("Square", squareFunc, x) }

// Sqrt is the element-wise square root (K.sqrt), which, as Keras 2's,
// clips negative inputs to 0 first; its gradient is 1/(2·sqrt(x)) for x > 0
// and 0 for x ≤ 0 (rather than +Inf at 0).
func Sqrt(x graph.Node) (graph.Node, error) { return unary("Sqrt", sqrtFunc, x) }

// Exp is e^x element-wise (K.exp).
func Exp(x graph.Node) (graph.Node, error) { return unary("Exp", expFunc, x) }

// Log is the element-wise natural logarithm (K.log): -Inf at 0, NaN below.
func Log(x graph.Node) (graph.Node, error) { return unary("Log", logFunc, x) }

// Abs is |x| element-wise (K.abs); its gradient is sign(x), 0 at 0.
func Abs(x graph.Node) (graph.Node, error) { return unary("Abs", absFunc, x) }

// Clip limits x to [lo, hi] element-wise (K.clip); the gradient passes
// where lo ≤ x ≤ hi and is 0 outside, as tf.clip_by_value's. lo > hi is an
// error (Keras silently raises hi to lo).
func Clip(x graph.Node, lo, hi float64) (graph.Node, error) {
	if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
		return nil, errors.Errorf("backend.Clip: the bounds must satisfy min ≤ max, got min %v, max %v", lo, hi)
	}
	f := &ops.UnaryFunc{Name: fmt.Sprintf("backend.clip(%v,%v)", lo, hi),
		F: func(x float64) float64 { return math.Min(math.Max(x, lo), hi) },
		DF: func(x, _ float64) float64 {
			if x < lo || x > hi {
				return 0
			}
			return 1
		}}
	return unary("Clip", f, x)
}

// Concatenate joins xs along axis (K.concatenate(xs, axis)); every other
// axis must agree.
func Concatenate(axis int, xs ...graph.Node) (graph.Node, error) {
	if err := checkNodes("Concatenate", xs); err != nil {
		return nil, err
	}
	first := xs[0]
	if first.Dims() == 0 {
		return nil, errors.New("backend.Concatenate: scalars cannot be concatenated (use Stack)")
	}
	a, err := normAxis("Concatenate", axis, first.Dims(), first.Shape())
	if err != nil {
		return nil, err
	}
	for i, x := range xs[1:] {
		if x.Dtype() != first.Dtype() {
			return nil, errors.Errorf("backend.Concatenate: tensor %d is %v, tensor 0 %v", i+1, x.Dtype(), first.Dtype())
		}
		if !sameExcept(x.Shape(), first.Shape(), a) {
			return nil, errors.Errorf("backend.Concatenate: shapes %v and %v differ on an axis other than %d", first.Shape(), x.Shape(), axis)
		}
	}
	if len(xs) == 1 {
		return first, nil
	}
	return ops.Concat(a, xs...)
}

func sameExcept(a, b tensor.Shape, axis int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if i != axis && a[i] != b[i] {
			return false
		}
	}
	return true
}

// Stack joins xs, which must have one shape, along a new axis (K.stack(xs,
// axis)); axis ranges over the output's rank, -1 appending the new axis.
func Stack(axis int, xs ...graph.Node) (graph.Node, error) {
	if err := checkNodes("Stack", xs); err != nil {
		return nil, err
	}
	s := xs[0].Shape()
	a, err := normAxis("Stack", axis, len(s)+1, s)
	if err != nil {
		return nil, err
	}
	ex := make([]graph.Node, len(xs))
	for i, x := range xs {
		if !sameShape(x.Shape(), s) || x.Dtype() != xs[0].Dtype() {
			return nil, errors.Errorf("backend.Stack: tensor %d is %v %v, tensor 0 %v %v: they must agree", i, x.Shape(), x.Dtype(), s, xs[0].Dtype())
		}
		if ex[i], err = reshape(x, insertAxis(s, a)); err != nil {
			return nil, err
		}
	}
	if len(ex) == 1 {
		return ex[0], nil
	}
	return ops.Concat(a, ex...)
}

func insertAxis(s tensor.Shape, a int) tensor.Shape {
	out := make(tensor.Shape, 0, len(s)+1)
	out = append(out, s[:a]...)
	out = append(out, 1)
	return append(out, s[a:]...)
}

// reshape is G.Reshape that returns x itself when the shape does not change.
func reshape(x graph.Node, to tensor.Shape) (graph.Node, error) {
	if sameShape(x.Shape(), to) {
		return x, nil
	}
	return G.Reshape(x, to)
}

// sameShape compares dims exactly (tensor.Shape.Eq takes (n) and (n, 1) for
// equal).
func sameShape(a, b tensor.Shape) bool { return graph.Shape(a).Equal(graph.Shape(b)) }

// Transpose permutes x's axes (K.permute_dimensions(x, perm)): output axis
// i is input axis perm[i]. perm must be a permutation of 0…rank-1 (negative
// entries count from the end); no perm reverses the axes.
func Transpose(x graph.Node, perm ...int) (graph.Node, error) {
	if err := checkNode("Transpose", x); err != nil {
		return nil, err
	}
	r := x.Dims()
	if len(perm) == 0 {
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, i)
		}
	}
	if len(perm) != r {
		return nil, errors.Errorf("backend.Transpose: permutation %v has %d entries, x has shape %v (rank %d)", perm, len(perm), x.Shape(), r)
	}
	norm := make([]int, r)
	seen := make([]bool, r)
	identity := true
	for i, p := range perm {
		a, err := normAxis("Transpose", p, r, x.Shape())
		if err != nil {
			return nil, err
		}
		if seen[a] {
			return nil, errors.Errorf("backend.Transpose: %v is not a permutation (axis %d repeats)", perm, p)
		}
		seen[a] = true
		norm[i] = a
		identity = identity && a == i
	}
	if identity {
		return x, nil
	}
	return G.Transpose(x, norm...)
}

// ExpandDims inserts an axis of size 1 at axis (K.expand_dims); axis ranges
// over the output's rank, -1 appending it.
func ExpandDims(x graph.Node, axis int) (graph.Node, error) {
	if err := checkNode("ExpandDims", x); err != nil {
		return nil, err
	}
	s := x.Shape()
	a, err := normAxis("ExpandDims", axis, len(s)+1, s)
	if err != nil {
		return nil, err
	}
	return G.Reshape(x, insertAxis(s, a))
}

// Squeeze removes axis, which must have size 1 (K.squeeze(x, axis)). The
// result must keep at least one axis.
func Squeeze(x graph.Node, axis int) (graph.Node, error) {
	if err := checkNode("Squeeze", x); err != nil {
		return nil, err
	}
	s := x.Shape()
	a, err := normAxis("Squeeze", axis, len(s), s)
	if err != nil {
		return nil, err
	}
	if s[a] != 1 {
		return nil, errors.Errorf("backend.Squeeze: axis %d of shape %v has size %d, not 1", axis, s, s[a])
	}
	if len(s) == 1 {
		return nil, errors.Errorf("backend.Squeeze: squeezing shape %v would leave a scalar", s)
	}
	out := append(append(tensor.Shape{}, s[:a]...), s[a+1:]...)
	return G.Reshape(x, out)
}

// Dot contracts a's last axis with b's first: for a of shape (…, k) and b
// of shape (k, …) the result has shape a.shape[:-1] + b.shape[1:] (for
// matrices, the matrix product; any rank is reshaped to one matrix product).
// Note that Keras's K.dot contracts with b's second-to-last axis when b has
// rank 3 or more; transpose b first to get that. Both must have rank ≥ 1
// and the result rank ≥ 1.
func Dot(a, b graph.Node) (graph.Node, error) {
	if err := checkNode("Dot", a); err != nil {
		return nil, err
	}
	if err := checkNode("Dot", b); err != nil {
		return nil, err
	}
	as, bs := a.Shape(), b.Shape()
	if len(as) == 0 || len(bs) == 0 {
		return nil, errors.Errorf("backend.Dot: operands need rank ≥ 1, got shapes %v and %v", as, bs)
	}
	if a.Dtype() != b.Dtype() {
		return nil, errors.Errorf("backend.Dot: a is %v, b %v", a.Dtype(), b.Dtype())
	}
	k := as[len(as)-1]
	if bs[0] != k {
		return nil, errors.Errorf("backend.Dot: the last axis of a %v (%d) must equal the first axis of b %v (%d)", as, k, bs, bs[0])
	}
	out := append(append(tensor.Shape{}, as[:len(as)-1]...), bs[1:]...)
	if len(out) == 0 {
		return nil, errors.Errorf("backend.Dot: two vectors %v and %v give a scalar; use Sum of a product instead", as, bs)
	}
	rows := as.TotalSize() / k
	cols := bs.TotalSize() / k
	a2, err := reshape(a, tensor.Shape{rows, k})
	if err != nil {
		return nil, err
	}
	b2, err := reshape(b, tensor.Shape{k, cols})
	if err != nil {
		return nil, err
	}
	p, err := G.Mul(a2, b2)
	if err != nil {
		return nil, err
	}
	return reshape(p, out)
}
