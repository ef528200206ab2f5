package ops

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BatchMatMul is the matrix product of a and b sample by sample, as one
// node: a (N, M, K) and b (N, K, P) give (N, M, P). With transA, a is
// stored as (N, K, M) and each of its matrices is transposed; with transB,
// b is stored as (N, P, K). Keras's batch_dot (the Dot layer) reduces to
// it. The gradients are BatchMatMul nodes again.
func BatchMatMul(a, b *G.Node, transA, transB bool) (*G.Node, error) {
	if a.Dtype() != b.Dtype() {
		return nil, errors.Errorf("batch matmul: a is %v, b %v", a.Dtype(), b.Dtype())
	}
	k := batchMatMulKernel{transA: transA, transB: transB}
	if _, err := k.Shape([]tensor.Shape{a.Shape(), b.Shape()}); err != nil {
		return nil, err
	}
	return Apply(k, a, b)
}

// batchMatMulKernel is op(a)·op(b) per sample.
type batchMatMulKernel struct{ transA, transB bool }

func (k batchMatMulKernel) Name() string {
	return fmt.Sprintf("BatchMatMul(transA=%t,transB=%t)", k.transA, k.transB)
}
func (k batchMatMulKernel) Params() []any { return []any{k.transA, k.transB} }

// dims returns the sizes of op(a) (m×k) and op(b) (k×p) for stored shapes
// as and bs, or an error.
func (k batchMatMulKernel) dims(as, bs tensor.Shape) (m, kk, p int, err error) {
	if len(as) != 3 || len(bs) != 3 || as[0] != bs[0] {
		return 0, 0, 0, errors.Errorf("%s: shapes %v and %v must both be (batch, rows, columns) with one batch size", k.Name(), as, bs)
	}
	m, kk = as[1], as[2]
	if k.transA {
		m, kk = kk, m
	}
	kb, p := bs[1], bs[2]
	if k.transB {
		kb, p = p, kb
	}
	if kk != kb {
		return 0, 0, 0, errors.Errorf("%s: shapes %v and %v: the contracted sizes %d and %d differ", k.Name(), as, bs, kk, kb)
	}
	return m, kk, p, nil
}

func (k batchMatMulKernel) Shape(in []tensor.Shape) (tensor.Shape, error) {
	m, _, p, err := k.dims(in[0], in[1])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{in[0][0], m, p}, nil
}

func (k batchMatMulKernel) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	if out.Dtype() == tensor.Float32 {
		return batchMatMul[float32](k, out, in)
	}
	return batchMatMul[float64](k, out, in)
}

func batchMatMul[T Float](k batchMatMulKernel, outT *tensor.Dense, in []*tensor.Dense) error {
	as, bs := in[0].Shape(), in[1].Shape()
	m, kk, p, err := k.dims(as, bs)
	if err != nil {
		return err
	}
	a, b, out := dataOf[T](in[0]), dataOf[T](in[1]), dataOf[T](outT)
	lda, ldb := as[2], bs[2]
	sa, sb, so := as[1]*as[2], bs[1]*bs[2], m*p
	for n := 0; n < as[0]; n++ {
		convGemm(k.transA, k.transB, m, p, kk, a[n*sa:(n+1)*sa], lda, b[n*sb:(n+1)*sb], ldb, 0, out[n*so:(n+1)*so], p)
	}
	return nil
}

// Gradient: for C = op(A)·op(B), dA = dC·op(B)ᵀ (stored transposed when
// transA: op(B)·dCᵀ) and dB = op(A)ᵀ·dC (when transB: dCᵀ·op(A)).
func (k batchMatMulKernel) Gradient(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	a, b := in[0], in[1]
	var da, db *G.Node
	var err error
	if k.transA {
		da, err = Apply(batchMatMulKernel{transA: k.transB, transB: true}, b, grad)
	} else {
		da, err = Apply(batchMatMulKernel{transA: false, transB: !k.transB}, grad, b)
	}
	if err != nil {
		return nil, err
	}
	if k.transB {
		db, err = Apply(batchMatMulKernel{transA: true, transB: k.transA}, grad, a)
	} else {
		db, err = Apply(batchMatMulKernel{transA: !k.transA, transB: false}, a, grad)
	}
	return G.Nodes{da, db}, err
}
