package ops

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/pkg/errors"
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
func biasAct[T Float](y, bias []T, c int, act Act) {
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

func biasActRows[T Float](y, bias []T, c int, act Act) {
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
		y32 := blas.As32(y)
		var b32 []float32
		if bias != nil {
			b32 = blas.As32(bias)
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

// actGradKernel computes dz = act'·dy from (y, dy), y being the
// activation's output.
type actGradKernel struct{ act Act }

func (k actGradKernel) Params() []any { return []any{k.act} }
func (k actGradKernel) Name() string  { return k.act.String() + "'" }
func (k actGradKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if in[1].TotalSize() != in[0].TotalSize() {
		return nil, errors.Errorf("%s: output %v and gradient %v differ in size", k.Name(), in[0], in[1])
	}
	return in[0], nil
}

func (k actGradKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		actGrad(k.act, in[0].Float32s(), in[1].Float32s(), out.Float32s())
	} else {
		actGrad(k.act, in[0].Float64s(), in[1].Float64s(), out.Float64s())
	}
	return nil
}

// actGrad writes g·act'(y) into out.
func actGrad[T Float](act Act, y, g, out []T) {
	if serial(len(y), 2*len(y)) {
		actGradRange(act, y, g, out)
		return
	}
	parallelRange(len(y), 2*len(y), func(lo, hi int) { actGradRange(act, y[lo:hi], g[lo:hi], out[lo:hi]) })
}

func actGradRange[T Float](act Act, y, g, out []T) {
	g, out = g[:len(y)], out[:len(y)]
	if act == ActLinear {
		copy(out, g)
		return
	}
	var z T
	if unsafe.Sizeof(z) == 4 {
		y32, g32, o32 := blas.As32(y), blas.As32(g), blas.As32(out)
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
