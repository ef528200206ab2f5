package ops

import (
	"math"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// dot is Σ y·p per row, with gradient y.
var dot = &RowFunc{
	Name: "dot",
	F: func(y, p []float64) float64 {
		s := 0.0
		for j := range p {
			s += y[j] * p[j]
		}
		return s
	},
	DF: func(y, p []float64, g float64, dp []float64) {
		for j := range dp {
			dp[j] = g * y[j]
		}
	},
}

// pick is p[label] per row, sparse, without a derivative.
var pick = &RowFunc{Name: "pick", Sparse: true, F: func(y, p []float64) float64 { return p[int(y[0])] }}

func tensorOf(dt tensor.Dtype, shape []int, vals []float64) *tensor.Dense {
	t := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	switch d := t.Data().(type) {
	case []float64:
		copy(d, vals)
	case []float32:
		for i, v := range vals {
			d[i] = float32(v)
		}
	}
	return t
}

// TestRowFunc checks per-sample means over rows, the gradient (through a
// Sum cost, whose gradient reaches the op as a broadcast vector) and a
// non-differentiable sparse function in the same graph, in both dtypes.
func TestRowFunc(t *testing.T) {
	p := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} // (2, 3, 2)
	y := []float64{1, 0, 0, 1, 1, 1, 2, 0, 0, 0, 1, -1}
	labels := []float64{1, 0, 1, 0, 0, 1} // (2, 3)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		g := G.NewGraph()
		pn := G.NewTensor(g, dt, 3, G.WithShape(2, 3, 2), G.WithName("p"), G.WithValue(tensorOf(dt, []int{2, 3, 2}, p)))
		yn := G.NewTensor(g, dt, 3, G.WithShape(2, 3, 2), G.WithName("y"), G.WithValue(tensorOf(dt, []int{2, 3, 2}, y)))
		ln := G.NewTensor(g, dt, 2, G.WithShape(2, 3), G.WithName("labels"), G.WithValue(tensorOf(dt, []int{2, 3}, labels)))
		out, err := dot.Apply(yn, pn)
		if err != nil {
			t.Fatal(err)
		}
		picked, err := pick.Apply(ln, pn)
		if err != nil {
			t.Fatal(err)
		}
		cost := G.Must(G.Sum(out))
		var outV, pickV, costV G.Value
		G.Read(out, &outV)
		G.Read(picked, &pickV)
		G.Read(cost, &costV)
		grads, err := G.Grad(cost, pn)
		if err != nil {
			t.Fatal(err)
		}
		var gradV G.Value
		G.Read(grads[0], &gradV)
		m := G.NewTapeMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		m.Close()
		// sample 0 rows: 1, 4, 11 → mean 16/3; sample 1 rows: 14, 0, -1 → 13/3.
		want := []float64{16.0 / 3, 13.0 / 3}
		got := Float64s(outV)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-5 {
				t.Errorf("%v: per-sample %v, want %v", dt, got, want)
			}
		}
		// picks: sample 0: 2, 3, 6 → 11/3; sample 1: 7, 9, 12 → 28/3.
		wantPick := []float64{11.0 / 3, 28.0 / 3}
		gotPick := Float64s(pickV)
		for i := range wantPick {
			if math.Abs(gotPick[i]-wantPick[i]) > 1e-5 {
				t.Errorf("%v: picks %v, want %v", dt, gotPick, wantPick)
			}
		}
		gotGrad := Float64s(gradV)
		for i := range y {
			if math.Abs(gotGrad[i]-y[i]/3) > 1e-6 {
				t.Fatalf("%v: gradient %v, want y/3", dt, gotGrad)
			}
		}
	}
}

func TestRowFuncErrors(t *testing.T) {
	g := G.NewGraph()
	p := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("p"))
	cases := []struct {
		f    *RowFunc
		y    *G.Node
		p    *G.Node
		want string
	}{
		{dot, G.NewMatrix(g, tensor.Float64, G.WithShape(2, 2), G.WithName("y1")), p, "dot: y_true has shape (2, 2), y_pred (2, 3): they must be equal"},
		{dot, G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("y2")), p, "dot: y_true is float32 but y_pred is float64"},
		{dot, G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("y3")), G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("p3")), "must have a batch axis and a last axis"},
		{pick, G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("y4")), p, "pick: y_true has shape (2, 3); class indices for y_pred of shape (2, 3) need shape (2)"},
		{&RowFunc{Name: "empty"}, p, p, "no function given"},
	}
	for _, c := range cases {
		_, err := c.f.Apply(c.y, c.p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error containing %q", err, c.want)
		}
	}
	// A label out of range is an error from the machine, not a panic.
	g = G.NewGraph()
	lab := G.NewVector(g, tensor.Float64, G.WithShape(2), G.WithName("lab"), G.WithValue(tensorOf(tensor.Float64, []int{2}, []float64{0, 3})))
	pv := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("pv"), G.WithValue(tensorOf(tensor.Float64, []int{2, 3}, make([]float64, 6))))
	if _, err := pick.Apply(lab, pv); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	err := m.RunAll()
	if err == nil || !strings.Contains(err.Error(), "pick: label 3 of sample 1 is not a class index in [0, 3)") {
		t.Errorf("got %v, want the label error", err)
	}
}

// Row functions: dense targets with a derivative, sparse targets without.
var _ = registerExample(kernelExample{name: "rowfunc", build: func(in *exampleInputs) ([]*G.Node, error) {
	p := in.x(in.n, 4, 5)
	a, err := dot.Apply(in.input(tieRand(in.rng, in.n*20, false), []int{in.n, 4, 5}, false), p)
	if err != nil {
		return nil, err
	}
	b, err := pick.Apply(in.labels(5, in.n, 4), p)
	return []*G.Node{a, b}, err
}})
