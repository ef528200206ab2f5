package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Kernel is one operation as kerago writes it: what it computes, and
// nothing of Gorgonia's machinery. Apply turns a Kernel into a Gorgonia op
// (the adapter owns Gorgonia's whole method set, the input checks and the
// reuse of output buffers), so that adding an op is writing a Kernel.
type Kernel interface {
	// Name names the op in errors and graph dumps ("BiasAdd", "relu'").
	// It is called on error paths only.
	Name() string
	// Params are everything besides the inputs that the result depends on
	// (axes, strides, a function's name, a mode). Gorgonia merges two nodes
	// whose ops hash alike and whose inputs are the same, and the hash is
	// made of Name and Params, so a kernel that keeps state of its own
	// between runs (saved activations) puts Identity(k) among them.
	Params() []any
	// Shape is the output's shape for the inputs' shapes (a scalar output
	// is tensor.ScalarShape()). Apply calls it once: it is where a kernel
	// rejects inputs it cannot take, so Forward never sees them.
	Shape(in []tensor.Shape) (tensor.Shape, error)
	// Forward writes the result into out, a tensor of Shape's shape and of
	// the first input's dtype. out may hold the previous run's result:
	// Forward writes or zeroes every element. in are the input values:
	// contiguous tensors of the dtypes and sizes Apply saw (a scalar input
	// as a one-element tensor). Forward must not keep them.
	Forward(out *tensor.Dense, in []*tensor.Dense) error
}

// Differentiable is a Kernel with a gradient.
type Differentiable interface {
	Kernel
	// Gradient adds the nodes of dL/d(in[i]) to the graph, given the op's
	// output node and the gradient dL/d(out); an input the kernel gives no
	// gradient (see NoGradient) gets nil.
	Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error)
}

// NoGradient is implemented by a Differentiable kernel some of whose inputs
// get no gradient (targets, masks, indices): NoGradient(i) reports whether
// input i is one of them. Without it every input gets a gradient.
type NoGradient interface {
	NoGradient(i int) bool
}

// Identity is a Params value unique to p (a pointer): a stateful kernel puts
// Identity(itself) among its Params so that no other node is merged with it.
func Identity(p any) any { return identity{p} }

type identity struct{ p any }

func (i identity) String() string { return fmt.Sprintf("%p", i.p) }

// Apply inserts k applied to in into their graph as one node. It checks
// that the first input (whose dtype the output has) is float32 or float64,
// and asks k for the output shape; the other inputs may have any dtype the
// kernel takes (a mask may be bool).
func Apply(k Kernel, in ...*G.Node) (*G.Node, error) {
	op, err := newOp(k, in)
	if err != nil {
		return nil, err
	}
	return G.ApplyOp(op, in...)
}

// op adapts a Kernel to Gorgonia's Op, SDOp and UsePreallocDoer. It records
// the input nodes' shapes and dtypes when it is created, and checks every
// run's values against them. It owns the buffers a run needs besides its
// output (the list handed to Forward, scalar inputs as tensors, a scalar
// output), so that a run allocates nothing once the output exists.
type op struct {
	k      Kernel
	in     []tensor.Shape
	dts    []tensor.Dtype
	out    tensor.Shape
	dt     tensor.Dtype
	hash   uint32
	args   []*tensor.Dense // the list handed to Forward, reused
	scalar []*tensor.Dense // one-element tensors for scalar input values
	// A scalar output: Forward writes into res, the run returns res32 or
	// res64 (Gorgonia's scalar values).
	res   *tensor.Dense
	res32 G.F32
	res64 G.F64
}

func newOp(k Kernel, in []*G.Node) (*op, error) {
	shapes := make([]tensor.Shape, len(in))
	dts := make([]tensor.Dtype, len(in))
	for i, n := range in {
		if n == nil {
			return nil, errors.Errorf("%s: input %d is nil", k.Name(), i)
		}
		shapes[i], dts[i] = n.Shape().Clone(), n.Dtype()
	}
	return opFor(k, shapes, dts)
}

// opFor is the op of k for inputs of the given shapes and dtypes.
func opFor(k Kernel, shapes []tensor.Shape, dts []tensor.Dtype) (*op, error) {
	if len(shapes) == 0 {
		return nil, errors.Errorf("%s: no inputs", k.Name())
	}
	if dts[0] != tensor.Float32 && dts[0] != tensor.Float64 {
		return nil, errors.Errorf("%s: dtype %v not supported (float32 or float64)", k.Name(), dts[0])
	}
	out, err := k.Shape(shapes)
	if err != nil {
		return nil, err
	}
	o := &op{k: k, in: shapes, dts: dts, out: out.Clone(), dt: dts[0]}
	h := fnv.New32a()
	o.WriteHash(h)
	o.hash = h.Sum32()
	o.args = make([]*tensor.Dense, len(shapes))
	o.scalar = make([]*tensor.Dense, len(shapes))
	return o, nil
}

// Arity is the number of inputs Apply was given.
func (o *op) Arity() int { return len(o.in) }

// Type is the function type from the inputs' types to the output's.
func (o *op) Type() hm.Type {
	ts := make([]hm.Type, 0, len(o.in)+1)
	for i, s := range o.in {
		ts = append(ts, typeOf(len(s), o.dts[i]))
	}
	return hm.NewFnType(append(ts, typeOf(len(o.out), o.dt))...)
}

// typeOf is Gorgonia's type of a value with dims axes (a scalar for 0).
func typeOf(dims int, dt tensor.Dtype) hm.Type {
	if dims == 0 {
		return dt
	}
	return G.TensorType{Dims: dims, Of: dt}
}

// InferShape is the shape the kernel gave when the op was created.
func (o *op) InferShape(...G.DimSizer) (tensor.Shape, error) { return o.out.Clone(), nil }

// Do runs the kernel into a new output.
func (o *op) Do(in ...G.Value) (G.Value, error) { return o.run(nil, in) }

// UsePreallocDo runs the kernel into prealloc when it is a contiguous tensor
// of the output's dtype and shape (kerago's executor hands back the previous
// run's output), else into a new output.
func (o *op) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return o.run(prealloc, in)
}

func (o *op) run(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != len(o.in) {
		return nil, errors.Errorf("%s: expected %d inputs, got %d", o.k.Name(), len(o.in), len(in))
	}
	for i, v := range in {
		t, err := o.arg(i, v)
		if err != nil {
			return nil, errors.Wrap(err, o.k.Name())
		}
		o.args[i] = t
	}
	out := o.res
	if len(o.out) > 0 {
		out = outDense(prealloc, o.dt, o.out)
	} else if out == nil {
		out = tensor.New(tensor.Of(o.dt), tensor.WithShape(1))
		o.res = out
	}
	err := o.k.Forward(out, o.args)
	clear(o.args)
	if err != nil {
		return nil, errors.Wrap(err, o.k.Name())
	}
	if len(o.out) > 0 {
		return out, nil
	}
	if o.dt == tensor.Float32 {
		o.res32 = G.F32(out.Float32s()[0])
		return &o.res32, nil
	}
	o.res64 = G.F64(out.Float64s()[0])
	return &o.res64, nil
}

// arg checks input value i against the node Apply saw and returns it as a
// contiguous tensor.
func (o *op) arg(i int, v G.Value) (*tensor.Dense, error) {
	dt, size := o.dts[i], o.in[i].TotalSize()
	switch x := v.(type) {
	case *tensor.Dense:
		if x.Dtype() != dt {
			return nil, errors.Errorf("input %d is %v, built for %v", i, x.Dtype(), dt)
		}
		if n := x.Shape().TotalSize(); n != size {
			return nil, errors.Errorf("input %d has shape %v, built for %v", i, x.Shape(), o.in[i])
		}
		return contiguous(x), nil
	case *G.F32:
		if dt != tensor.Float32 || size != 1 {
			return nil, errors.Errorf("input %d is a float32 scalar, built for %v %v", i, dt, o.in[i])
		}
		s := o.scalarArg(i)
		s.Float32s()[0] = float32(*x)
		return s, nil
	case *G.F64:
		if dt != tensor.Float64 || size != 1 {
			return nil, errors.Errorf("input %d is a float64 scalar, built for %v %v", i, dt, o.in[i])
		}
		s := o.scalarArg(i)
		s.Float64s()[0] = float64(*x)
		return s, nil
	}
	return nil, errors.Errorf("input %d is %T, want a float32 or float64 tensor", i, v)
}

// scalarArg is input i's one-element tensor, made on first use.
func (o *op) scalarArg(i int) *tensor.Dense {
	if o.scalar[i] == nil {
		o.scalar[i] = tensor.New(tensor.Of(o.dts[i]), tensor.WithShape(1))
	}
	return o.scalar[i]
}

// ReturnsPtr is false: results are never views of Gorgonia's registers.
func (o *op) ReturnsPtr() bool { return false }

// CallsExtern is false: kernels run on the CPU.
func (o *op) CallsExtern() bool { return false }

// OverwritesInput is -1: kernels never write into their inputs.
func (o *op) OverwritesInput() int { return -1 }

// WriteHash writes the kernel's type, name and parameters and the inputs'
// shapes and dtypes.
func (o *op) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.%T.%s%v%v%v", o.k, o.k.Name(), o.k.Params(), o.in, o.dts)
}

// Hashcode is the hash WriteHash writes, computed once.
func (o *op) Hashcode() uint32 { return o.hash }

// String is the kernel's name.
func (o *op) String() string { return o.k.Name() }

// DiffWRT says which inputs get a gradient: none for a kernel that is not
// Differentiable, else all but those NoGradient names.
func (o *op) DiffWRT(n int) []bool {
	out := make([]bool, n)
	if _, ok := o.k.(Differentiable); !ok {
		return out
	}
	ng, partial := o.k.(NoGradient)
	for i := range out {
		out[i] = !partial || !ng.NoGradient(i)
	}
	return out
}

// SymDiff asks the kernel for its gradient nodes.
func (o *op) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	d, ok := o.k.(Differentiable)
	if !ok {
		return nil, errors.Errorf("%s has no gradient", o.k.Name())
	}
	return d.Gradient(in, out, grad)
}
