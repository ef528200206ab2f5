package ops

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The four transposition forms of the batched product, with their
// gradients (BatchMatMul nodes of every form again).
var _ = registerExample(kernelExample{name: "batchmatmul", build: func(in *exampleInputs) ([]*G.Node, error) {
	var outs []*G.Node
	for _, f := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		as, bs := []int{in.n, 2, 3}, []int{in.n, 3, 4}
		if f[0] {
			as = []int{in.n, 3, 2}
		}
		if f[1] {
			bs = []int{in.n, 4, 3}
		}
		y, err := BatchMatMul(in.x(as...), in.x(bs...), f[0], f[1])
		if err != nil {
			return nil, err
		}
		outs = append(outs, y)
	}
	return outs, nil
}})

// naiveBatchMatMul is op(a)·op(b) per sample by the definition.
func naiveBatchMatMul(a, b []float64, n, m, k, p int, tA, tB bool) []float64 {
	out := make([]float64, n*m*p)
	for s := 0; s < n; s++ {
		for i := 0; i < m; i++ {
			for j := 0; j < p; j++ {
				var sum float64
				for l := 0; l < k; l++ {
					ai, bi := s*m*k+i*k+l, s*k*p+l*p+j
					if tA {
						ai = s*m*k + l*m + i
					}
					if tB {
						bi = s*k*p + j*k + l
					}
					sum += a[ai] * b[bi]
				}
				out[s*m*p+i*p+j] = sum
			}
		}
	}
	return out
}

// TestBatchMatMul compares the four forms with the definition in both
// dtypes, and checks the errors.
func TestBatchMatMul(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	n, m, k, p := 3, 2, 4, 5
	a, b := tieRand(rng, n*m*k, false), tieRand(rng, n*k*p, false)
	for _, dt := range bothDtypes {
		for _, f := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			as, bs := tensor.Shape{n, m, k}, tensor.Shape{n, k, p}
			if f[0] {
				as = tensor.Shape{n, k, m}
			}
			if f[1] {
				bs = tensor.Shape{n, p, k}
			}
			y, err := runKernel(batchMatMulKernel{transA: f[0], transB: f[1]}, convDense(dt, as, a), convDense(dt, bs, b))
			if err != nil {
				t.Fatal(err)
			}
			want := naiveBatchMatMul(a, b, n, m, k, p, f[0], f[1])
			name := fmt.Sprintf("%v trans %v", dt, f)
			if !y.Shape().Eq(tensor.Shape{n, m, p}) {
				t.Errorf("%s: shape %v", name, y.Shape())
			}
			for i, v := range Float64s(y) {
				if math.Abs(v-want[i]) > 1e-5*(1+math.Abs(want[i])) {
					t.Errorf("%s: element %d = %v, want %v", name, i, v, want[i])
					break
				}
			}
		}
	}
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float64, 3, G.WithShape(2, 3, 4), G.WithName("x"))
	z := G.NewTensor(g, tensor.Float64, 3, G.WithShape(3, 4, 5), G.WithName("z"))
	v := G.NewTensor(g, tensor.Float64, 2, G.WithShape(2, 4), G.WithName("v"))
	f := G.NewTensor(g, tensor.Float32, 3, G.WithShape(2, 4, 5), G.WithName("f"))
	for _, c := range []struct {
		a, b *G.Node
		want string
	}{
		{x, x, "BatchMatMul(transA=false,transB=false): shapes (2, 3, 4) and (2, 3, 4): the contracted sizes 4 and 3 differ"},
		{x, z, "shapes (2, 3, 4) and (3, 4, 5) must both be (batch, rows, columns) with one batch size"},
		{x, v, "shapes (2, 3, 4) and (2, 4) must both be (batch, rows, columns)"},
		{x, f, "batch matmul: a is float64, b float32"},
	} {
		if _, err := BatchMatMul(c.a, c.b, false, false); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v · %v: %v, want %q", c.a.Shape(), c.b.Shape(), err, c.want)
		}
	}
	if y, err := BatchMatMul(x, x, true, false); err != nil || !y.Shape().Eq(tensor.Shape{2, 4, 4}) {
		t.Errorf("xᵀ·x: %v, %v", y, err)
	}
}
