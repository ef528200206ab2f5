package ops

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Maximum and Minimum of two inputs, with their gradients.
var _ = registerExample(kernelExample{name: "minmax", build: func(in *exampleInputs) ([]*G.Node, error) {
	a, b := in.ties(in.n, 4, 2), in.ties(in.n, 4, 2)
	hi, err := Maximum(a, b)
	if err != nil {
		return nil, err
	}
	lo, err := Minimum(a, b)
	return []*G.Node{hi, lo}, err
}})

// minmaxRun returns f(a, b) and the gradients of Σ f(a, b) ⊙ w.
func minmaxRun(t *testing.T, dt tensor.Dtype, shape []int, a, b, w []float64, f func(a, b *G.Node) (*G.Node, error)) (y, da, db []float64) {
	t.Helper()
	g := G.NewGraph()
	an := G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName("a"), G.WithValue(tensorOf(dt, shape, a)))
	bn := G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName("b"), G.WithValue(tensorOf(dt, shape, b)))
	wn := G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName("w"), G.WithValue(tensorOf(dt, shape, w)))
	out, err := f(an, bn)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := G.Grad(G.Must(G.Sum(G.Must(G.HadamardProd(out, wn)))), an, bn)
	if err != nil {
		t.Fatal(err)
	}
	var yv, av, bv G.Value
	G.Read(out, &yv)
	G.Read(grads[0], &av)
	G.Read(grads[1], &bv)
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), Float64s(yv)...), append([]float64(nil), Float64s(av)...), append([]float64(nil), Float64s(bv)...)
}

// TestMinMaxGolden checks Maximum and Minimum and their gradients against
// PyTorch (testdata/golden/minmax.json, gen_minmax.py) in both dtypes.
func TestMinMaxGolden(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/golden/minmax.json")
	if err != nil {
		t.Fatalf("golden values: %v (generate with /usr/bin/python3 testdata/golden/gen_minmax.py)", err)
	}
	var golden struct {
		Cases []struct {
			Name            string
			Shape           []int
			A, B, W, Output []float64
			GradA           []float64 `json:"grad_a"`
			GradB           []float64 `json:"grad_b"`
		}
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	fs := map[string]func(a, b *G.Node) (*G.Node, error){"maximum": Maximum, "minimum": Minimum}
	for _, c := range golden.Cases {
		for _, dt := range bothDtypes {
			tolerance := 1e-12
			if dt == tensor.Float32 {
				tolerance = 1e-6
			}
			y, da, db := minmaxRun(t, dt, c.Shape, c.A, c.B, c.W, fs[c.Name])
			for _, r := range []struct {
				what      string
				got, want []float64
			}{{"output", y, c.Output}, {"grad a", da, c.GradA}, {"grad b", db, c.GradB}} {
				if len(r.got) != len(r.want) {
					t.Fatalf("%s %v %s: %d values, want %d", c.Name, dt, r.what, len(r.got), len(r.want))
				}
				for i := range r.want {
					if math.Abs(r.got[i]-r.want[i]) > tolerance*(1+math.Abs(r.want[i])) {
						t.Errorf("%s %v %s[%d] = %v, want %v", c.Name, dt, r.what, i, r.got[i], r.want[i])
					}
				}
			}
		}
	}
}

// TestMinMaxTiesAndNaN checks TensorFlow's rules where PyTorch differs:
// a tie's gradient goes wholly to the first input, and NaN propagates.
func TestMinMaxTiesAndNaN(t *testing.T) {
	nan := math.NaN()
	a, b, w := []float64{1, 2, nan, 3}, []float64{1, 5, 0, nan}, []float64{1, 1, 1, 1}
	for _, c := range []struct {
		name      string
		f         func(a, b *G.Node) (*G.Node, error)
		y, da, db []float64
	}{
		{"maximum", Maximum, []float64{1, 5, nan, nan}, []float64{1, 0, 1, 0}, []float64{0, 1, 0, 1}},
		{"minimum", Minimum, []float64{1, 2, nan, nan}, []float64{1, 1, 1, 0}, []float64{0, 0, 0, 1}},
	} {
		y, da, db := minmaxRun(t, tensor.Float64, []int{4}, a, b, w, c.f)
		for _, r := range []struct {
			what      string
			got, want []float64
		}{{"output", y, c.y}, {"grad a", da, c.da}, {"grad b", db, c.db}} {
			for i := range r.want {
				if r.got[i] != r.want[i] && !(math.IsNaN(r.got[i]) && math.IsNaN(r.want[i])) {
					t.Errorf("%s %s: %v, want %v", c.name, r.what, r.got, r.want)
					break
				}
			}
		}
	}
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float64, 2, G.WithShape(2, 3), G.WithName("x"))
	z := G.NewTensor(g, tensor.Float64, 2, G.WithShape(3, 2), G.WithName("z"))
	if _, err := Maximum(x, z); err == nil || err.Error() != "Maximum: shapes (2, 3) and (3, 2) differ" {
		t.Errorf("shape mismatch: %v", err)
	}
}
