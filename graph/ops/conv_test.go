package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestConvOutputLength checks the Keras/TensorFlow output sizes and SAME
// padding split (docs/SEMANTICS.md §24.7), and causal padding.
func TestConvOutputLength(t *testing.T) {
	cases := []struct {
		n, k, s, d        int
		pad               string
		out, before, aftr int
	}{
		{7, 3, 2, 1, "valid", 3, 0, 0},
		{7, 3, 2, 1, "same", 4, 1, 1},
		{6, 3, 2, 1, "valid", 2, 0, 0},
		{6, 3, 2, 1, "same", 3, 0, 1},
		{5, 2, 2, 1, "valid", 2, 0, 0},
		{5, 2, 2, 1, "same", 3, 0, 1},
		{28, 5, 1, 1, "valid", 24, 0, 0},
		{28, 5, 1, 1, "same", 28, 2, 2},
		{4, 3, 1, 1, "valid", 2, 0, 0},
		{4, 3, 1, 1, "same", 4, 1, 1},
		{6, 4, 1, 1, "same", 6, 1, 2},
		{7, 3, 1, 2, "valid", 3, 0, 0}, // dilated kernel 5
		{7, 3, 1, 2, "same", 7, 2, 2},
		{9, 3, 1, 2, "causal", 9, 4, 0},
		{9, 2, 2, 1, "causal", 5, 1, 0},
		{1, 3, 1, 1, "same", 1, 1, 1},
		{3, 3, 1, 1, "valid", 1, 0, 0},
	}
	for _, c := range cases {
		out, b, a, err := ConvOutputLength(c.n, c.k, c.s, c.d, c.pad)
		if err != nil || out != c.out || b != c.before || a != c.aftr {
			t.Errorf("n=%d k=%d s=%d d=%d %s: got (%d, %d, %d, %v), want (%d, %d, %d)",
				c.n, c.k, c.s, c.d, c.pad, out, b, a, err, c.out, c.before, c.aftr)
		}
	}
	for _, c := range []struct {
		n, k, s, d int
		pad, msg   string
	}{
		{2, 3, 1, 1, "valid", "larger than the input (size 2): the output size would be 0"},
		{4, 3, 1, 2, "valid", "(size 3, 5 with dilation 2) is larger than the input (size 4)"},
		{4, 3, 1, 1, "full", `padding must be one of "valid", "same", "causal" (got "full")`},
		{4, 0, 1, 1, "same", "must all be positive"},
		{4, 3, 0, 1, "same", "must all be positive"},
	} {
		_, _, _, err := ConvOutputLength(c.n, c.k, c.s, c.d, c.pad)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("n=%d k=%d s=%d d=%d %s: error %v, want one containing %q", c.n, c.k, c.s, c.d, c.pad, err, c.msg)
		}
	}
}

// refConv computes y, dx and dk by direct loops over every output cell and
// kernel tap (float64), the definition the convIm2col version must match.
func refConv(g convGeom, x, k, dy []float64) (y, dx, dk []float64) {
	y = make([]float64, g.n*g.oh*g.ow*g.f)
	dx = make([]float64, len(x))
	dk = make([]float64, len(k))
	for n := 0; n < g.n; n++ {
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				yo := ((n*g.oh+oy)*g.ow + ox) * g.f
				for ky := 0; ky < g.kh; ky++ {
					iy := oy*g.sh - g.pt + ky*g.dh
					if iy < 0 || iy >= g.h {
						continue
					}
					for kx := 0; kx < g.kw; kx++ {
						ix := ox*g.sw - g.pl + kx*g.dw
						if ix < 0 || ix >= g.w {
							continue
						}
						for c := 0; c < g.c; c++ {
							xi := ((n*g.h+iy)*g.w+ix)*g.c + c
							ki := ((ky*g.kw+kx)*g.c + c) * g.f
							for f := 0; f < g.f; f++ {
								y[yo+f] += x[xi] * k[ki+f]
								dx[xi] += dy[yo+f] * k[ki+f]
								dk[ki+f] += x[xi] * dy[yo+f]
							}
						}
					}
				}
			}
		}
	}
	return y, dx, dk
}

func convRand(n int, rng *rand.Rand) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.Float64()*2 - 1
	}
	return v
}

func convDense(dt tensor.Dtype, shape tensor.Shape, v []float64) *tensor.Dense {
	if dt == tensor.Float32 {
		d := make([]float32, len(v))
		for i, x := range v {
			d[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(d))
	}
	return tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(append([]float64(nil), v...)))
}

func convClose(got, want []float64, atol, rtol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		if math.IsNaN(got[i]) || math.Abs(got[i]-want[i]) > atol+rtol*math.Abs(want[i]) {
			return fmt.Errorf("element %d: got %.9g, want %.9g", i, got[i], want[i])
		}
	}
	return nil
}

type convCase struct {
	rank                   int
	x, k                   tensor.Shape
	strides, dilation      []int
	padding                string
	blockElems             int // maxColElems override (0: default)
	outH, outW             int
	padT, padB, padL, padR int
}

var convCases = []convCase{
	{rank: 2, x: tensor.Shape{2, 5, 6, 3}, k: tensor.Shape{3, 3, 3, 4}, padding: "valid", outH: 3, outW: 4},
	{rank: 2, x: tensor.Shape{2, 5, 6, 3}, k: tensor.Shape{3, 3, 3, 4}, padding: "same", outH: 5, outW: 6, padT: 1, padB: 1, padL: 1, padR: 1},
	{rank: 2, x: tensor.Shape{2, 7, 6, 2}, k: tensor.Shape{3, 3, 2, 3}, strides: []int{2}, padding: "same", outH: 4, outW: 3, padT: 1, padB: 1, padL: 0, padR: 1},
	{rank: 2, x: tensor.Shape{2, 7, 6, 2}, k: tensor.Shape{3, 3, 2, 3}, strides: []int{2}, padding: "valid", outH: 3, outW: 2},
	{rank: 2, x: tensor.Shape{2, 5, 5, 2}, k: tensor.Shape{2, 2, 2, 3}, strides: []int{2, 2}, padding: "same", outH: 3, outW: 3, padB: 1, padR: 1},
	{rank: 2, x: tensor.Shape{1, 7, 8, 2}, k: tensor.Shape{3, 3, 2, 2}, dilation: []int{2}, padding: "valid", outH: 3, outW: 4},
	{rank: 2, x: tensor.Shape{1, 7, 8, 2}, k: tensor.Shape{3, 2, 2, 2}, dilation: []int{2, 3}, padding: "same", outH: 7, outW: 8, padT: 2, padB: 2, padL: 1, padR: 2},
	{rank: 2, x: tensor.Shape{3, 6, 5, 3}, k: tensor.Shape{4, 4, 3, 2}, padding: "same", outH: 6, outW: 5, padT: 1, padB: 2, padL: 1, padR: 2},
	{rank: 2, x: tensor.Shape{3, 6, 7, 3}, k: tensor.Shape{2, 4, 3, 2}, strides: []int{1, 2}, padding: "same", blockElems: 1, outH: 6, outW: 4, padT: 0, padB: 1, padL: 1, padR: 2},
	{rank: 2, x: tensor.Shape{5, 6, 7, 3}, k: tensor.Shape{3, 3, 3, 2}, padding: "same", blockElems: 2 * 42 * 27, outH: 6, outW: 7, padT: 1, padB: 1, padL: 1, padR: 1},
	// Large enough for im2col / col2im to run on several goroutines.
	{rank: 2, x: tensor.Shape{4, 12, 12, 8}, k: tensor.Shape{3, 3, 8, 4}, strides: []int{1, 2}, padding: "same", outH: 12, outW: 6, padT: 1, padB: 1, padL: 0, padR: 1},
	{rank: 2, x: tensor.Shape{2, 4, 4, 3}, k: tensor.Shape{1, 1, 3, 5}, padding: "same", outH: 4, outW: 4},
	{rank: 2, x: tensor.Shape{2, 5, 5, 3}, k: tensor.Shape{1, 1, 3, 5}, strides: []int{2}, padding: "valid", outH: 3, outW: 3},
	{rank: 2, x: tensor.Shape{2, 2, 2, 1}, k: tensor.Shape{5, 5, 1, 2}, padding: "same", outH: 2, outW: 2, padT: 2, padB: 2, padL: 2, padR: 2},
	{rank: 1, x: tensor.Shape{2, 9, 3}, k: tensor.Shape{3, 3, 4}, padding: "valid", outH: 1, outW: 7},
	{rank: 1, x: tensor.Shape{2, 9, 3}, k: tensor.Shape{3, 3, 4}, strides: []int{2}, padding: "same", outH: 1, outW: 5, padL: 1, padR: 1},
	{rank: 1, x: tensor.Shape{2, 9, 3}, k: tensor.Shape{3, 3, 4}, dilation: []int{2}, padding: "causal", outH: 1, outW: 9, padL: 4},
	{rank: 1, x: tensor.Shape{2, 9, 3}, k: tensor.Shape{2, 3, 4}, strides: []int{2}, padding: "causal", outH: 1, outW: 5, padL: 1},
	{rank: 1, x: tensor.Shape{3, 8, 2}, k: tensor.Shape{4, 2, 3}, dilation: []int{2}, padding: "same", blockElems: 1, outH: 1, outW: 8, padL: 3, padR: 3},
	{rank: 1, x: tensor.Shape{2, 6, 3}, k: tensor.Shape{1, 3, 2}, padding: "causal", outH: 1, outW: 6},
	// Patch rows longer than the product's depth block (kc = 192 or 256),
	// so blas.GemmFunc asks for parts of rows (convPatchRange).
	{rank: 2, x: tensor.Shape{2, 7, 7, 24}, k: tensor.Shape{3, 3, 24, 5}, padding: "same", outH: 7, outW: 7, padT: 1, padB: 1, padL: 1, padR: 1},
	{rank: 2, x: tensor.Shape{2, 9, 8, 30}, k: tensor.Shape{3, 3, 30, 3}, strides: []int{2}, padding: "same", outH: 5, outW: 4, padT: 1, padB: 1, padL: 0, padR: 1},
	{rank: 2, x: tensor.Shape{1, 8, 8, 30}, k: tensor.Shape{3, 3, 30, 2}, dilation: []int{2}, padding: "same", outH: 8, outW: 8, padT: 2, padB: 2, padL: 2, padR: 2},
	{rank: 1, x: tensor.Shape{2, 9, 90}, k: tensor.Shape{3, 90, 4}, padding: "causal", outH: 1, outW: 9, padL: 2},
	// A single input channel (a first layer), interior fast path.
	{rank: 2, x: tensor.Shape{3, 10, 9, 1}, k: tensor.Shape{3, 3, 1, 32}, padding: "valid", outH: 8, outW: 7},
	// Packed straight into the product's micro-panels (convPackRows,
	// convPackCols): patch rows longer than the depth block, row blocks
	// past mc with a partial last panel, a stride and a vertical dilation,
	// and a kernel gradient deep enough to be split over its depth.
	{rank: 2, x: tensor.Shape{3, 9, 10, 32}, k: tensor.Shape{3, 3, 32, 5}, padding: "valid", outH: 7, outW: 8},
	{rank: 2, x: tensor.Shape{2, 11, 10, 7}, k: tensor.Shape{3, 2, 7, 3}, strides: []int{2, 1}, dilation: []int{2, 1}, padding: "valid", outH: 4, outW: 9},
	{rank: 2, x: tensor.Shape{40, 14, 14, 8}, k: tensor.Shape{3, 3, 8, 4}, padding: "valid", outH: 12, outW: 12},
	// One input channel gathered per kernel position (convPackRowsC1):
	// a vertical stride and dilation, rows of outputs shorter and longer
	// than a panel, samples that end inside a panel; and in one dimension.
	{rank: 2, x: tensor.Shape{3, 12, 11, 1}, k: tensor.Shape{3, 2, 1, 4}, strides: []int{2, 1}, dilation: []int{2, 1}, padding: "valid", outH: 4, outW: 10},
	{rank: 2, x: tensor.Shape{5, 7, 30, 1}, k: tensor.Shape{2, 3, 1, 3}, padding: "valid", outH: 6, outW: 28},
	{rank: 1, x: tensor.Shape{3, 20, 1}, k: tensor.Shape{3, 1, 2}, padding: "valid", outH: 1, outW: 18},
}

// TestConvAgainstReference runs the three ops (forward, input gradient,
// kernel gradient) on many geometries, in float32 and float64, with the
// convIm2col blocks forced small in some cases, against direct loops.
func TestConvAgainstReference(t *testing.T) {
	defer func(v int) { maxColElems = v }(maxColElems)
	rng := rand.New(rand.NewPCG(1, 2))
	for ci, c := range convCases {
		name := fmt.Sprintf("case %d: conv%dd x%v k%v s%v d%v %s", ci, c.rank, c.x, c.k, c.strides, c.dilation, c.padding)
		g, err := newConvGeom(c.rank, c.x, c.k, ConvSpec{Strides: c.strides, Dilation: c.dilation, Padding: c.padding})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g.oh != c.outH || g.ow != c.outW || g.pt != c.padT || g.pb != c.padB || g.pl != c.padL || g.pr != c.padR {
			t.Errorf("%s: out %dx%d pads %d,%d,%d,%d; want %dx%d pads %d,%d,%d,%d", name, g.oh, g.ow, g.pt, g.pb, g.pl, g.pr,
				c.outH, c.outW, c.padT, c.padB, c.padL, c.padR)
		}
		maxColElems = 1 << 22
		if c.blockElems > 0 {
			maxColElems = c.blockElems
		}
		x := convRand(c.x.TotalSize(), rng)
		k := convRand(c.k.TotalSize(), rng)
		dy := convRand(g.yShape().TotalSize(), rng)
		wy, wdx, wdk := refConv(g, x, k, dy)
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			atol, rtol := 1e-12, 1e-10
			if dt == tensor.Float32 {
				atol, rtol = 1e-5, 1e-5
			}
			X, K, DY := convDense(dt, g.xShape(), x), convDense(dt, g.kShape(), k), convDense(dt, g.yShape(), dy)
			for _, r := range []struct {
				kind convKind
				a, b *tensor.Dense
				want []float64
			}{{convForward, X, K, wy}, {convGradInput, K, DY, wdx}, {convGradKern, X, DY, wdk}} {
				k := convKernel{g: g, kind: r.kind}
				v, err := runKernel(k, r.a, r.b)
				if err != nil {
					t.Fatalf("%s %v %s: %v", name, dt, k.Name(), err)
				}
				_, _, wantShape := k.shapes()
				if !v.Shape().Eq(wantShape) {
					t.Errorf("%s %v %s: shape %v, want %v", name, dt, k.Name(), v.Shape(), wantShape)
				}
				if err := convClose(Float64s(v), r.want, atol, rtol); err != nil {
					t.Errorf("%s %v %s: %v", name, dt, k.Name(), err)
				}
			}
		}
	}
}

// TestConvGraphGradients wires Conv2D and Conv1D into a Gorgonia graph,
// differentiates Σ y⊙R, and compares the gradients with the reference.
func TestConvGraphGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, ci := range []int{1, 2, 16} { // same s1, same s2, causal 1-D with dilation
		c := convCases[ci]
		spec := ConvSpec{Strides: c.strides, Dilation: c.dilation, Padding: c.padding}
		gm, err := newConvGeom(c.rank, c.x, c.k, spec)
		if err != nil {
			t.Fatal(err)
		}
		x := convRand(c.x.TotalSize(), rng)
		k := convRand(c.k.TotalSize(), rng)
		r := convRand(gm.yShape().TotalSize(), rng)
		wy, wdx, wdk := refConv(gm, x, k, r)
		g := G.NewGraph()
		xn := G.NewTensor(g, tensor.Float64, len(c.x), G.WithShape(c.x...), G.WithValue(convDense(tensor.Float64, c.x, x)), G.WithName("x"))
		kn := G.NewTensor(g, tensor.Float64, len(c.k), G.WithShape(c.k...), G.WithValue(convDense(tensor.Float64, c.k, k)), G.WithName("k"))
		rn := G.NewConstant(convDense(tensor.Float64, gm.yShape(), r))
		var y *G.Node
		if c.rank == 2 {
			y, err = Conv2D(xn, kn, spec)
		} else {
			y, err = Conv1D(xn, kn, spec)
		}
		if err != nil {
			t.Fatal(err)
		}
		var yv G.Value
		G.Read(y, &yv)
		cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, rn))))
		grads, err := G.Grad(cost, xn, kn)
		if err != nil {
			t.Fatal(err)
		}
		var dxv, dkv G.Value
		G.Read(grads[0], &dxv)
		G.Read(grads[1], &dkv)
		m := G.NewTapeMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		m.Close()
		for _, chk := range []struct {
			what string
			v    G.Value
			want []float64
		}{{"y", yv, wy}, {"dx", dxv, wdx}, {"dk", dkv, wdk}} {
			if err := convClose(Float64s(chk.v), chk.want, 1e-12, 1e-10); err != nil {
				t.Errorf("case %d %s: %v", ci, chk.what, err)
			}
		}
	}
}

// TestConvErrors checks the constructors' and Do's validation.
func TestConvErrors(t *testing.T) {
	g := G.NewGraph()
	node := func(dt tensor.Dtype, s ...int) *G.Node { return G.NewTensor(g, dt, len(s), G.WithShape(s...)) }
	f64, f32 := tensor.Float64, tensor.Float32
	cases := []struct {
		name string
		run  func() (*G.Node, error)
		msg  string
	}{
		{"rank x", func() (*G.Node, error) { return Conv2D(node(f64, 2, 5, 5), node(f64, 3, 3, 1, 2), ConvSpec{}) }, "conv2d: input must be 4-D (batch, height, width, channels), got shape (2, 5, 5)"},
		{"rank k", func() (*G.Node, error) { return Conv2D(node(f64, 2, 5, 5, 1), node(f64, 3, 1, 2), ConvSpec{}) }, "conv2d: kernel must be 4-D"},
		{"channels", func() (*G.Node, error) { return Conv2D(node(f64, 2, 5, 5, 3), node(f64, 3, 3, 2, 4), ConvSpec{}) }, "expects 2 input channels, the input (2, 5, 5, 3) has 3"},
		{"too big", func() (*G.Node, error) { return Conv2D(node(f64, 2, 5, 2, 1), node(f64, 3, 3, 1, 4), ConvSpec{}) }, "conv2d: width: convolution: with padding \"valid\" the kernel (size 3, 3 with dilation 1) is larger than the input (size 2)"},
		{"padding", func() (*G.Node, error) {
			return Conv2D(node(f64, 2, 5, 5, 1), node(f64, 3, 3, 1, 4), ConvSpec{Padding: "full"})
		}, `conv2d: padding must be one of "valid", "same" (got "full")`},
		{"causal 2d", func() (*G.Node, error) {
			return Conv2D(node(f64, 2, 5, 5, 1), node(f64, 3, 3, 1, 4), ConvSpec{Padding: "causal"})
		}, `"causal" is for 1-D convolutions only`},
		{"strides", func() (*G.Node, error) {
			return Conv2D(node(f64, 2, 5, 5, 1), node(f64, 3, 3, 1, 4), ConvSpec{Strides: []int{1, 2, 3}})
		}, "strides takes 1 or 2 values, got [1 2 3]"},
		{"dilation", func() (*G.Node, error) {
			return Conv1D(node(f64, 2, 5, 1), node(f64, 3, 1, 4), ConvSpec{Dilation: []int{0}})
		}, "conv1d: dilation must be positive, got [0]"},
		{"dtype", func() (*G.Node, error) { return Conv1D(node(f64, 2, 5, 1), node(f32, 3, 1, 4), ConvSpec{}) }, "conv1d: input is float64 but kernel is float32"},
		{"rank 1d", func() (*G.Node, error) { return Conv1D(node(f64, 2, 5, 5, 1), node(f64, 3, 1, 4), ConvSpec{}) }, "conv1d: input must be 3-D (batch, steps, channels)"},
		{"padding 1d", func() (*G.Node, error) {
			return Conv1D(node(f64, 2, 5, 1), node(f64, 3, 1, 4), ConvSpec{Padding: "full"})
		}, `"valid", "same", "causal" (got "full")`},
	}
	for _, c := range cases {
		n, err := c.run()
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got (%v, %v), want an error containing %q", c.name, n, err, c.msg)
		}
	}
	// The adapter rejects values that do not match the node instead of
	// panicking inside a machine.
	gm, err := newConvGeom(2, tensor.Shape{1, 4, 4, 1}, tensor.Shape{3, 3, 1, 2}, ConvSpec{})
	if err != nil {
		t.Fatal(err)
	}
	x, k := convDense(f64, tensor.Shape{1, 4, 4, 1}, make([]float64, 16)), convDense(f64, tensor.Shape{3, 3, 1, 2}, make([]float64, 18))
	op, err := opOf(convKernel{g: gm}, x, k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.Do(convDense(f64, tensor.Shape{1, 4, 5, 1}, make([]float64, 20)), k); err == nil || !strings.Contains(err.Error(), "input 0 has shape (1, 4, 5, 1), built for (1, 4, 4, 1)") {
		t.Errorf("wrong shape: %v", err)
	}
	if _, err := op.Do(convDense(f32, tensor.Shape{1, 4, 4, 1}, make([]float64, 16)), k); err == nil || !strings.Contains(err.Error(), "input 0 is float32, built for float64") {
		t.Errorf("wrong dtype: %v", err)
	}
	if _, err := op.Do(x); err == nil {
		t.Error("one input accepted")
	}
	if _, err := opOf(convKernel{g: gm}, convDense(f64, tensor.Shape{1, 4, 5, 1}, make([]float64, 20)), k); err == nil || !strings.Contains(err.Error(), "input 0 has shape (1, 4, 5, 1), expected (1, 4, 4, 1)") {
		t.Errorf("wrong shape at construction: %v", err)
	}
	// Every parameter is in the hash: ops that differ only in padding or
	// stride must not be merged by Gorgonia's hash-consing.
	a, _ := newConvGeom(2, tensor.Shape{1, 5, 5, 1}, tensor.Shape{3, 3, 1, 2}, ConvSpec{Padding: "same"})
	b, _ := newConvGeom(2, tensor.Shape{1, 5, 5, 1}, tensor.Shape{3, 3, 1, 2}, ConvSpec{Padding: "valid"})
	c, _ := newConvGeom(2, tensor.Shape{1, 5, 5, 1}, tensor.Shape{3, 3, 1, 2}, ConvSpec{Padding: "same", Strides: []int{2}})
	hs := map[uint32]bool{}
	for _, kc := range []struct {
		k  convKernel
		dt tensor.Dtype
	}{{convKernel{g: a}, f64}, {convKernel{g: b}, f64}, {convKernel{g: c}, f64}, {convKernel{g: a}, f32}, {convKernel{g: a, kind: convGradInput}, f64}, {convKernel{g: a, kind: convGradKern}, f64}} {
		a, b, _ := kc.k.shapes()
		o, err := opFor(kc.k, []tensor.Shape{a, b}, []tensor.Dtype{kc.dt, kc.dt})
		if err != nil {
			t.Fatal(err)
		}
		hs[o.Hashcode()] = true
	}
	if len(hs) != 6 {
		t.Errorf("%d distinct hashes for 6 different ops", len(hs))
	}
}

// BenchmarkConvIm2col times im2col and col2im for one batch of 64 MNIST
// images under a 3×3 kernel (the demo's first layer) and for 13×13×32.
func BenchmarkConvIm2col(b *testing.B) {
	for _, s := range []tensor.Shape{{64, 28, 28, 1}, {64, 13, 13, 32}} {
		g, err := newConvGeom(2, s, tensor.Shape{3, 3, s[3], 8}, ConvSpec{})
		if err != nil {
			b.Fatal(err)
		}
		x := make([]float32, s.TotalSize())
		cols := make([]float32, g.n*g.oh*g.ow*g.kkc())
		xs, cs := g.h*g.w*g.c, g.oh*g.ow*g.kkc()
		b.Run(fmt.Sprintf("im2col_%dx%dx%d", s[1], s[2], s[3]), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for n := 0; n < g.n; n++ {
					convIm2col(g, x[n*xs:][:xs], cols[n*cs:][:cs])
				}
			}
		})
		b.Run(fmt.Sprintf("col2im_%dx%dx%d", s[1], s[2], s[3]), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for n := 0; n < g.n; n++ {
					convCol2im(g, cols[n*cs:][:cs], x[n*xs:][:xs])
				}
			}
		})
	}
}

// Convolutions: padded and strided 2-D with bias and relu, dilated and
// causal 1-D, 1×1 (the direct path), each with its two gradients.
var _ = registerExample(kernelExample{name: "conv", build: func(in *exampleInputs) ([]*G.Node, error) {
	a, err := Conv2D(in.x(in.n, 9, 8, 3), in.x(3, 3, 3, 4), ConvSpec{})
	if err != nil {
		return nil, err
	}
	b, err := Conv2DBiasAct(in.x(in.n, 9, 8, 3), in.x(3, 2, 3, 4), in.x(4), ConvSpec{Padding: "same", Strides: []int{2}}, ActReLU)
	if err != nil {
		return nil, err
	}
	c, err := Conv2D(in.x(in.n, 6, 6, 3), in.x(1, 1, 3, 4), ConvSpec{})
	if err != nil {
		return nil, err
	}
	d, err := Conv1DBiasAct(in.x(in.n, 11, 3), in.x(3, 3, 2), in.x(2), ConvSpec{Padding: "causal", Dilation: []int{2}}, ActLinear)
	return []*G.Node{a, b, c, d}, err
}})

// BenchmarkConvCNN times the three convolution products (forward, input
// gradient, kernel gradient) of the bench cnn's two layers on one batch of
// 64: 28×28×1 under 3×3×32 and 13×13×32 under 3×3×64.
func BenchmarkConvCNN(b *testing.B) {
	for _, l := range []struct {
		x tensor.Shape
		f int
	}{{tensor.Shape{64, 28, 28, 1}, 32}, {tensor.Shape{64, 13, 13, 32}, 64}} {
		g, err := newConvGeom(2, l.x, tensor.Shape{3, 3, l.x[3], l.f}, ConvSpec{})
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		fill := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return v
		}
		x, k, y := fill(l.x.TotalSize()), fill(g.kkc()*g.f), fill(g.n*g.oh*g.ow*g.f)
		for _, c := range []struct {
			kind      convKind
			a, b, out []float32
		}{{convForward, x, k, make([]float32, len(y))}, {convGradInput, k, y, make([]float32, len(x))}, {convGradKern, x, y, make([]float32, len(k))}} {
			b.Run(fmt.Sprintf("%s_%dx%dx%d", convKindNames[c.kind], l.x[1], l.x[2], l.x[3]), func(b *testing.B) {
				for range b.N {
					runConv(g, c.kind, c.a, c.b, c.out, nil, ActLinear)
				}
			})
		}
	}
}
