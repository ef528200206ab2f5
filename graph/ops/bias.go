package ops

import (
	"runtime"

	"github.com/kerago/kerago/graph/blas"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BiasAdd returns x + b with b (shape (C,)) added along x's last axis, as
// one node; its gradient with respect to b sums over every other axis.
func BiasAdd(x, b *G.Node) (*G.Node, error) {
	return Apply(biasAddKernel{}, x, b)
}

// biasAddKernel is x + b along x's last axis.
type biasAddKernel struct{}

func (biasAddKernel) Name() string  { return "BiasAdd" }
func (biasAddKernel) Params() []any { return nil }
func (biasAddKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	xs, bs := in[0], in[1]
	if len(xs) < 1 || len(bs) != 1 || xs[len(xs)-1] != bs[0] {
		return nil, errors.Errorf("bias add: bias shape %v does not match the last axis of %v", bs, xs)
	}
	return xs, nil
}

func (biasAddKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		biasAdd(in[0].Float32s(), in[1].Float32s(), out.Float32s())
	} else {
		biasAdd(in[0].Float64s(), in[1].Float64s(), out.Float64s())
	}
	return nil
}

func (biasAddKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	db, err := Apply(sumToLastKernel{}, grad)
	return G.Nodes{grad, db}, err
}

// biasAdd writes x + b, b added to every row of len(b) values.
func biasAdd[T Float](x, b, out []T) {
	c := len(b)
	if c == 0 {
		return
	}
	rows := len(x) / c
	if serial(rows, len(x)) {
		biasAddRows(x, b, out, 0, rows)
		return
	}
	parallelRange(rows, len(x), func(lo, hi int) { biasAddRows(x, b, out, lo, hi) })
}

// biasAddRows is biasAdd over rows [lo, hi).
func biasAddRows[T Float](x, b, out []T, lo, hi int) {
	c := len(b)
	for r := lo; r < hi; r++ {
		row, orow := x[r*c:(r+1)*c], out[r*c:(r+1)*c]
		row = row[:len(b)]
		for j, v := range b {
			orow[j] = row[j] + v
		}
	}
}

// sumToLastKernel sums a tensor over every axis but the last.
type sumToLastKernel struct{}

func (sumToLastKernel) Name() string  { return "SumToLast" }
func (sumToLastKernel) Params() []any { return nil }
func (sumToLastKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[0]) == 0 {
		return nil, errors.New("bias gradient: input is a scalar")
	}
	return tensor.Shape{in[0][len(in[0])-1]}, nil
}

func (sumToLastKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		sumRows(in[0].Float32s(), out.Float32s())
	} else {
		sumRows(in[0].Float64s(), out.Float64s())
	}
	return nil
}

// sumRows writes into out the sum of the rows of len(out) values of x,
// the rows split over goroutines when there are enough of them: GOMAXPROCS
// contiguous parts, each summed into its own partial sum (pooled scratch),
// the partial sums added in order, so that the result does not depend on
// which goroutine finishes first.
func sumRows[T Float](x, out []T) {
	clear(out)
	c := len(out)
	if c == 0 {
		return
	}
	rows := len(x) / c
	if serial(rows, len(x)) {
		sumRowsInto(x[:rows*c], out)
		return
	}
	j := getSumRowsJob[T]()
	defer putSumRowsJob(j)
	p := min(runtime.GOMAXPROCS(0), rows)
	buf := convGetScratch[T](p * c)
	defer convPutScratch(buf)
	j.x, j.parts, j.rows, j.c, j.p = x, *buf, rows, c, p
	clear(j.parts)
	splitRange(p, p, j.run)
	for i := range p {
		addRows(out, j.parts[i*c:(i+1)*c])
	}
}

// sumRowsJob is one parallel sumRows: its arguments and its SplitRange
// callback, made once and reused through sumRowsJobs.
type sumRowsJob[T Float] struct {
	x, parts   []T
	rows, c, p int
	run        func(i0, i1 int)
}

var sumRowsJobs blas.Pools

func getSumRowsJob[T Float]() *sumRowsJob[T] {
	if j, ok := blas.PoolFor[T](&sumRowsJobs).Get().(*sumRowsJob[T]); ok {
		return j
	}
	j := &sumRowsJob[T]{}
	j.run = func(i0, i1 int) {
		c := j.c
		for i := i0; i < i1; i++ {
			lo, hi := i*j.rows/j.p, (i+1)*j.rows/j.p
			sumRowsInto(j.x[lo*c:hi*c], j.parts[i*c:(i+1)*c])
		}
	}
	return j
}

func putSumRowsJob[T Float](j *sumRowsJob[T]) {
	j.x, j.parts = nil, nil
	blas.PoolFor[T](&sumRowsJobs).Put(j)
}

// sumRowsInto adds every row of len(out) values of x to out.
func sumRowsInto[T Float](x, out []T) {
	c := len(out)
	for i := 0; i+c <= len(x); i += c {
		addRows(out, x[i:i+c])
	}
}

// addRows is out += row element-wise (len(row) ≥ len(out)), vectorised for
// float32 as convAdd.
func addRows[T Float](out, row []T) {
	convAdd(out, row)
}
