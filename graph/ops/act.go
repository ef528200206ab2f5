package ops

import (
	"fmt"
	"hash"
	"math"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph/blas"
)

// Act is an activation that Conv2DBiasAct, Conv1DBiasAct and Dense apply in
// their output pass.
type Act int

const (
	// ActLinear applies no activation.
	ActLinear Act = iota
	// ActReLU is max(x, 0), NaN giving 0; its derivative is 1 where the
	// output is positive, else 0.
	ActReLU
)

// String is "linear" or "relu".
func (a Act) String() string {
	switch a {
	case ActLinear:
		return "linear"
	case ActReLU:
		return "relu"
	}
	return fmt.Sprintf("Act(%d)", int(a))
}

func (a Act) valid() bool { return a == ActLinear || a == ActReLU }

// biasAct overwrites every row of c values of y with act(row + bias); bias
// nil adds nothing.
func biasAct[T convFloat](y, bias []T, c int, act Act) {
	if bias == nil && act == ActLinear {
		return
	}
	rows := len(y) / c
	if serial(rows, len(y)) {
		biasActRows(y, bias, c, act)
		return
	}
	parallelRange(rows, len(y), func(lo, hi int) { biasActRows(y[lo*c:hi*c], bias, c, act) })
}

func biasActRows[T convFloat](y, bias []T, c int, act Act) {
	if act == ActLinear {
		for i := 0; i+c <= len(y); i += c {
			row := y[i : i+c]
			for j, v := range bias[:len(row)] {
				row[j] += v
			}
		}
		return
	}
	var z T
	if unsafe.Sizeof(z) == 4 {
		y32 := actAs32(y)
		var b32 []float32
		if bias != nil {
			b32 = actAs32(bias)
		}
		reluRows32(y32, b32, c)
		return
	}
	for i := 0; i+c <= len(y); i += c {
		row := y[i : i+c]
		for j := range row {
			v := row[j]
			if bias != nil {
				v += bias[j]
			}
			if !(v > 0) {
				v = 0
			}
			row[j] = v
		}
	}
}

// reluRows32 is biasActRows for float32 and ActReLU: blas.ReLUBiasRows32,
// without branches (the sign of a pre-activation is unpredictable) and
// eight lanes at a time with AVX2.
func reluRows32(y, bias []float32, c int) {
	if bias == nil {
		blas.ReLUBiasRows32(y, nil)
		return
	}
	blas.ReLUBiasRows32(y, bias[:c])
}

// actGradOp computes dz = act'·dy from (y, dy), y being the activation's
// output.
type actGradOp struct {
	act  Act
	dims int
	dt   tensor.Dtype
}

func (op actGradOp) Arity() int { return 2 }
func (op actGradOp) Type() hm.Type {
	t := G.TensorType{Dims: op.dims, Of: op.dt}
	return hm.NewFnType(t, t, t)
}
func (op actGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("%v: expected 2 inputs, got %d", op, len(in))
	}
	return shapeOf(in[0])
}
func (op actGradOp) Do(in ...G.Value) (G.Value, error) { return op.do(nil, in) }

// UsePreallocDo is Do writing into prealloc when it is a tensor of y's
// dtype and shape.
func (op actGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	return op.do(prealloc, in)
}

func (op actGradOp) do(prealloc G.Value, in []G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("%v: expected 2 inputs, got %d", op, len(in))
	}
	y, ok := in[0].(*tensor.Dense)
	if !ok || y.Dtype() != op.dt {
		return nil, errors.Errorf("%v: output is %T, not a %v tensor", op, in[0], op.dt)
	}
	y = contiguous(y)
	n := y.Shape().TotalSize()
	out := outDense(prealloc, op.dt, y.Shape())
	switch op.dt {
	case tensor.Float32:
		g, err := gradIn[float32](in[1], n, op.String())
		if err != nil {
			return nil, err
		}
		actGrad(op.act, y.Float32s(), g, out.Float32s())
	case tensor.Float64:
		g, err := gradIn[float64](in[1], n, op.String())
		if err != nil {
			return nil, err
		}
		actGrad(op.act, y.Float64s(), g, out.Float64s())
	default:
		return nil, errors.Errorf("%v: unsupported dtype %v", op, op.dt)
	}
	return out, nil
}

// actGrad writes g·act'(y) into out.
func actGrad[T convFloat](act Act, y, g, out []T) {
	if serial(len(y), 2*len(y)) {
		actGradRange(act, y, g, out)
		return
	}
	parallelRange(len(y), 2*len(y), func(lo, hi int) { actGradRange(act, y[lo:hi], g[lo:hi], out[lo:hi]) })
}

func actGradRange[T convFloat](act Act, y, g, out []T) {
	g, out = g[:len(y)], out[:len(y)]
	if act == ActLinear {
		copy(out, g)
		return
	}
	var z T
	if unsafe.Sizeof(z) == 4 {
		y32, g32, o32 := actAs32(y), actAs32(g), actAs32(out)
		for i, v := range y32 {
			o32[i] = math.Float32frombits(math.Float32bits(g32[i]) & -uint32(b2u(v > 0)))
		}
		return
	}
	for i, v := range y {
		if v > 0 {
			out[i] = g[i]
		} else {
			out[i] = 0
		}
	}
}

func (op actGradOp) ReturnsPtr() bool     { return false }
func (op actGradOp) CallsExtern() bool    { return false }
func (op actGradOp) OverwritesInput() int { return -1 }
func (op actGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "kerago.actgrad.%v.%d.%v", op.act, op.dims, op.dt)
}
func (op actGradOp) Hashcode() uint32 { return hashOf(op) }
func (op actGradOp) String() string {
	// Constant names: String is called on every run (for error messages).
	switch op.act {
	case ActLinear:
		return "linear'"
	case ActReLU:
		return "relu'"
	}
	return op.act.String() + "'"
}

// The gradient op is not differentiated again.
func (op actGradOp) DiffWRT(n int) []bool { return make([]bool, n) }
func (op actGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.Errorf("%v: second derivatives are not implemented", op)
}

// actAs32 reinterprets a float32 slice of a generic type as []float32
// (callers check the element size first).
func actAs32[T convFloat](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
