package ops

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestNormOpArgumentErrors checks that the batch-norm, reduction, axis and
// concatenation ops reject bad arguments with errors naming the problem.
func TestNormOpArgumentErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 3), G.WithName("x"))
	v2 := G.NewVector(g, tensor.Float64, G.WithShape(2), G.WithName("v2"))
	v3 := G.NewVector(g, tensor.Float32, G.WithShape(3), G.WithName("v3"))
	y := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 2), G.WithName("y"))
	check := func(name string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, want)
		}
	}
	_, err := BatchNormTrain(x, v2, nil, 1, 1e-3)
	check("gamma shape", err, "batch norm: gamma has shape (2), want (3) for input (4, 3) on axis 1")
	_, err = BatchNormTrain(x, v3, nil, 1, 1e-3)
	check("gamma dtype", err, "batch norm: gamma is float32, the input float64")
	_, err = BatchNormTrain(x, nil, nil, 2, 1e-3)
	check("axis", err, "batch norm: axis 2 out of range for shape (4, 3)")
	_, err = BatchNormInfer(x, nil, nil, nil, nil, 1, 1e-3)
	check("no statistics", err, "inference needs the mean and the variance")
	_, err = MovingStat(x, v2, 1, 0.99, false)
	check("moving shape", err, "moving statistic: shape (2), want (3)")
	_, err = Reduce(x, "median", nil, false)
	check("reduce kind", err, `reduce: unknown kind "median"`)
	_, err = Reduce(x, ReduceSum, []int{0, 0}, false)
	check("reduce twice", err, "reduce sum: axis 0 given twice")
	_, err = L2Normalize(x, 2, 1e-12)
	check("l2 axis", err, "l2normalize: axis 2 out of range")
	_, err = Softmax(x, -1)
	check("softmax axis", err, "softmax: axis -1 out of range")
	_, err = Concat(0, x, y)
	check("concat shapes", err, "concat: input 1 has shape (3, 2), input 0 (4, 3): they differ on an axis other than 0")
}

// TestBatchNormOpsG9 runs the ops by hand on docs/SEMANTICS.md §24.9.
func TestBatchNormOpsG9(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 1), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(4, 1), tensor.WithBacking([]float64{1, 2, 3, 4}))))
	mm := G.NewVector(g, tensor.Float64, G.WithShape(1), G.WithName("mm"), G.WithValue(tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{0}))))
	mv := G.NewVector(g, tensor.Float64, G.WithShape(1), G.WithName("mv"), G.WithValue(tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{1}))))
	y, err := BatchNormTrain(x, nil, nil, 1, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	nm, err := MovingStat(x, mm, 1, 0.99, false)
	if err != nil {
		t.Fatal(err)
	}
	nv, err := MovingStat(x, mv, 1, 0.99, true)
	if err != nil {
		t.Fatal(err)
	}
	var yv, mv1, vv1 G.Value
	G.Read(y, &yv)
	G.Read(nm, &mv1)
	G.Read(nv, &vv1)
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  []float64
		want []float64
	}{
		{"output", Float64s(yv), []float64{-1.3411045, -0.4470348, 0.4470348, 1.3411045}},
		{"moving mean", Float64s(mv1), []float64{0.025}},
		{"moving variance", Float64s(vv1), []float64{1.0025}},
	} {
		for i := range c.want {
			if d := c.got[i] - c.want[i]; d > 1e-7 || d < -1e-7 {
				t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
				break
			}
		}
	}
}

// Batch norm in training and inference, over the last and a middle axis,
// with and without gamma and beta; the moving statistics.
var _ = registerExample(kernelExample{name: "batchnorm", build: func(in *exampleInputs) ([]*G.Node, error) {
	var outs []*G.Node
	x := in.x(in.n, 7, 9, 5)
	for _, axis := range []int{3, 1} {
		c := x.Shape()[axis]
		gamma, beta := in.x(c), in.x(c)
		mean, variance := in.positive(c), in.positive(c)
		for _, f := range []func() (*G.Node, error){
			func() (*G.Node, error) { return BatchNormTrain(x, gamma, beta, axis, 1e-3) },
			func() (*G.Node, error) { return BatchNormInfer(x, mean, variance, gamma, beta, axis, 1e-3) },
			func() (*G.Node, error) { return BatchNormTrain(x, nil, nil, axis, 1e-3) },
			func() (*G.Node, error) { return MovingStat(x, mean, axis, 0.9, false) },
			func() (*G.Node, error) { return MovingStat(x, variance, axis, 0.9, true) },
		} {
			y, err := f()
			if err != nil {
				return nil, err
			}
			outs = append(outs, y)
		}
	}
	return outs, nil
}})
