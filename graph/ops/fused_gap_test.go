package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gapGrads builds act(Conv2D(x, k) + b) → global average pooling, with the
// relu either fused into the convolution or a separate Rectify node, and
// returns the gradients of Σ w·pool (+ Σ v·conv when twice, the
// convolution's output then having two consumers) with respect to x, k and
// b, and whether the graph has a fused relu-masked pooling gradient and an
// activation-gradient pass.
func gapGrads(t *testing.T, fused, twice bool, x, k, b, w, v []float64) (grads [3][]float64, masked, actPass bool) {
	t.Helper()
	xs, ks := tensor.Shape{2, 6, 5, 3}, tensor.Shape{3, 3, 3, 4}
	g := G.NewGraph()
	xn := G.NewTensor(g, tensor.Float64, 4, G.WithShape(xs...), G.WithValue(convDense(tensor.Float64, xs, x)), G.WithName("x"))
	kn := G.NewTensor(g, tensor.Float64, 4, G.WithShape(ks...), G.WithValue(convDense(tensor.Float64, ks, k)), G.WithName("k"))
	bn := G.NewVector(g, tensor.Float64, G.WithShape(4), G.WithValue(convDense(tensor.Float64, tensor.Shape{4}, b)), G.WithName("b"))
	var y *G.Node
	var err error
	if fused {
		y, err = Conv2DBiasAct(xn, kn, bn, ConvSpec{}, ActReLU)
	} else {
		if y, err = Conv2DBiasAct(xn, kn, bn, ConvSpec{}, ActLinear); err == nil {
			y, err = G.Rectify(y)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	p, err := GlobalPool(y, PoolAverage, false)
	if err != nil {
		t.Fatal(err)
	}
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(p, G.NewConstant(convDense(tensor.Float64, tensor.Shape{2, 4}, w))))))
	if twice {
		cost = G.Must(G.Add(cost, G.Must(G.Sum(G.Must(G.HadamardProd(y, G.NewConstant(convDense(tensor.Float64, y.Shape(), v))))))))
	}
	gn, err := G.Grad(cost, xn, kn, bn)
	if err != nil {
		t.Fatal(err)
	}
	var vals [3]G.Value
	for i := range vals {
		G.Read(gn[i], &vals[i])
	}
	for _, n := range g.AllNodes() {
		switch k := kernelOf(n).(type) {
		case globalPoolGradKernel:
			masked = masked || k.relu
		case actGradKernel:
			actPass = true
		}
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	for i := range vals {
		grads[i] = append([]float64(nil), Float64s(vals[i])...)
	}
	return grads, masked, actPass
}

// TestConvReluGlobalAverageGradients checks that a relu convolution followed
// by global average pooling, whose pooling gradient applies the relu's
// derivative (the convolution then skipping its own pass), has the
// gradients of the unfused graph, also when the convolution's output has a
// second consumer (the relu pass is then kept).
func TestConvReluGlobalAverageGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x, k := convRand(2*6*5*3, rng), convRand(3*3*3*4, rng)
	b, w, v := convRand(4, rng), convRand(8, rng), convRand(2*4*3*4, rng)
	for _, twice := range []bool{false, true} {
		want, _, _ := gapGrads(t, false, twice, x, k, b, w, v)
		got, masked, actPass := gapGrads(t, true, twice, x, k, b, w, v)
		if !masked {
			t.Errorf("twice=%t: no relu-masked global pooling gradient", twice)
		}
		if actPass != twice {
			t.Errorf("twice=%t: activation-gradient pass present: %t", twice, actPass)
		}
		for i, name := range []string{"dx", "dk", "db"} {
			if err := convClose(got[i], want[i], 1e-12, 1e-10); err != nil {
				t.Errorf("twice=%t %s: %v", twice, name, err)
			}
		}
	}
}
