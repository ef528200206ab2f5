package ops

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// poolRun builds x with the given values, applies f, and returns the
// output and the gradient of Σ output ⊙ w (w = 1, 2, 3, … so that every
// output element weighs differently) with respect to x.
func poolRun(t *testing.T, dt tensor.Dtype, shape []int, vals []float64, f func(x *G.Node) (*G.Node, error)) (out, grad []float64) {
	t.Helper()
	g := G.NewGraph()
	x := G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName("x"), G.WithValue(tensorOf(dt, shape, vals)))
	y, err := f(x)
	if err != nil {
		t.Fatal(err)
	}
	ws := make([]float64, y.Shape().TotalSize())
	for i := range ws {
		ws[i] = float64(i + 1)
	}
	w := G.NewTensor(g, dt, y.Dims(), G.WithShape(y.Shape()...), G.WithName("w"), G.WithValue(tensorOf(dt, y.Shape(), ws)))
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, w))))
	grads, err := G.Grad(cost, x)
	if err != nil {
		t.Fatal(err)
	}
	var yv, gv G.Value
	G.Read(y, &yv)
	G.Read(grads[0], &gv)
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), Float64s(yv)...), append([]float64(nil), Float64s(gv)...)
}

func wantValues(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-6 {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

var bothDtypes = []tensor.Dtype{tensor.Float32, tensor.Float64}

// TestPoolG7 is docs/SEMANTICS.md §24.7's 1-D check: pool 2, stride 1, SAME on
// [1, 2, 3] (pad 0 before, 1 after): the last window holds one valid cell.
func TestPoolG7(t *testing.T) {
	for _, dt := range bothDtypes {
		x := []float64{1, 2, 3}
		out, grad := poolRun(t, dt, []int{1, 3, 1}, x, func(x *G.Node) (*G.Node, error) {
			return Pool(x, PoolAverage, []int{2}, []int{1}, true)
		})
		wantValues(t, dt.String()+" avg", out, []float64{1.5, 2.5, 3})
		// weights 1, 2, 3: x0 gets 1/2, x1 1/2 + 2/2, x2 2/2 + 3/1.
		wantValues(t, dt.String()+" avg grad", grad, []float64{0.5, 1.5, 4})
		out, grad = poolRun(t, dt, []int{1, 3, 1}, x, func(x *G.Node) (*G.Node, error) {
			return Pool(x, PoolMax, []int{2}, []int{1}, true)
		})
		wantValues(t, dt.String()+" max", out, []float64{2, 3, 3})
		wantValues(t, dt.String()+" max grad", grad, []float64{0, 1, 5})
	}
}

// TestPoolNegativeSame checks that SAME padding is ignored, not zero: a max
// over negative values is never 0, and an edge average is not shrunk.
func TestPoolNegativeSame(t *testing.T) {
	x := []float64{-4, -3, -2, -1, -5, -6, -7, -8, -9} // (1, 3, 3, 1)
	for _, dt := range bothDtypes {
		out, _ := poolRun(t, dt, []int{1, 3, 3, 1}, x, func(x *G.Node) (*G.Node, error) {
			return Pool(x, PoolMax, []int{2, 2}, []int{2, 2}, true)
		})
		// out 2×2, pad_total 1 → 0 before, 1 after.
		wantValues(t, "max", out, []float64{-1, -2, -7, -9})
		out, _ = poolRun(t, dt, []int{1, 3, 3, 1}, x, func(x *G.Node) (*G.Node, error) {
			return Pool(x, PoolAverage, []int{2, 2}, []int{2, 2}, true)
		})
		wantValues(t, "avg", out, []float64{-13.0 / 4, -8.0 / 2, -15.0 / 2, -9})
	}
}

// TestPoolTies checks that the gradient of a max goes to the first maximum
// (row-major within the window) only.
func TestPoolTies(t *testing.T) {
	for _, dt := range bothDtypes {
		_, grad := poolRun(t, dt, []int{1, 2, 2, 1}, []float64{1, 5, 5, 5}, func(x *G.Node) (*G.Node, error) {
			return Pool(x, PoolMax, []int{2, 2}, []int{2, 2}, false)
		})
		wantValues(t, "pool ties", grad, []float64{0, 1, 0, 0})
		_, grad = poolRun(t, dt, []int{1, 3, 2}, []float64{2, 7, 1, 7, 2, 0}, func(x *G.Node) (*G.Node, error) {
			return GlobalPool(x, PoolMax, false)
		})
		wantValues(t, "global ties", grad, []float64{1, 2, 0, 0, 0, 0})
	}
}

// TestPoolChannels checks channels-last indexing with several channels and
// samples against a direct loop, and the average's gradient.
func TestPoolChannels(t *testing.T) {
	shape := []int{2, 4, 5, 3}
	x := make([]float64, 2*4*5*3)
	for i := range x {
		x[i] = math.Sin(float64(i) * 1.7)
	}
	at := func(n, h, w, c int) float64 { return x[((n*4+h)*5+w)*3+c] }
	for _, dt := range bothDtypes {
		out, grad := poolRun(t, dt, shape, x, func(x *G.Node) (*G.Node, error) {
			return Pool(x, PoolAverage, []int{2, 3}, []int{2, 2}, false)
		})
		// valid: H out (4-2+2)/2 = 2, W out (5-3+2)/2 = 2.
		var want []float64
		wantGrad := make([]float64, len(x))
		k := 0
		for n := 0; n < 2; n++ {
			for oy := 0; oy < 2; oy++ {
				for ox := 0; ox < 2; ox++ {
					for c := 0; c < 3; c++ {
						s := 0.0
						k++
						for dy := 0; dy < 2; dy++ {
							for dx := 0; dx < 3; dx++ {
								s += at(n, 2*oy+dy, 2*ox+dx, c)
								wantGrad[((n*4+2*oy+dy)*5+2*ox+dx)*3+c] += float64(k) / 6
							}
						}
						want = append(want, s/6)
					}
				}
			}
		}
		wantValues(t, "avg", out, want)
		wantValues(t, "avg grad", grad, wantGrad)
	}
}

// TestGlobalPool checks mean and max over the spatial axes with and without
// keepdims.
func TestGlobalPool(t *testing.T) {
	x := []float64{1, -1, 4, -4, 2, 9, 0, 3, -2, 1, 5, 6} // (1, 2, 2, 3)
	for _, dt := range bothDtypes {
		out, grad := poolRun(t, dt, []int{1, 2, 2, 3}, x, func(x *G.Node) (*G.Node, error) {
			y, err := GlobalPool(x, PoolAverage, true)
			if err == nil && !y.Shape().Eq(tensor.Shape{1, 1, 1, 3}) {
				t.Errorf("keepdims shape %v", y.Shape())
			}
			return y, err
		})
		wantValues(t, "avg", out, []float64{-0.5, 2.25, 4.25})
		wantValues(t, "avg grad", grad, []float64{0.25, 0.5, 0.75, 0.25, 0.5, 0.75, 0.25, 0.5, 0.75, 0.25, 0.5, 0.75})
		out, grad = poolRun(t, dt, []int{1, 2, 2, 3}, x, func(x *G.Node) (*G.Node, error) {
			y, err := GlobalPool(x, PoolMax, false)
			if err == nil && !y.Shape().Eq(tensor.Shape{1, 3}) {
				t.Errorf("shape %v", y.Shape())
			}
			return y, err
		})
		// channel 0 ties (1 at cells 0 and 3): the first wins.
		wantValues(t, "max", out, []float64{1, 5, 9})
		wantValues(t, "max grad", grad, []float64{1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 2, 0})
	}
}

// TestMaskedGlobalAveragePool checks Σ x·m / Σ m with a float and a bool
// mask, a fully masked sample (0, no gradient) and the gradient.
func TestMaskedGlobalAveragePool(t *testing.T) {
	x := []float64{1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60} // (2, 3, 2)
	m := []float64{1, 0, 1, 0, 0, 0}
	for _, dt := range bothDtypes {
		for _, maskDt := range []tensor.Dtype{dt, tensor.Bool} {
			out, grad := poolRun(t, dt, []int{2, 3, 2}, x, func(x *G.Node) (*G.Node, error) {
				var mt *tensor.Dense
				if maskDt == tensor.Bool {
					mt = tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]bool{true, false, true, false, false, false}))
				} else {
					mt = tensorOf(dt, []int{2, 3}, m)
				}
				mn := G.NewTensor(x.Graph(), maskDt, 2, G.WithShape(2, 3), G.WithName("m"), G.WithValue(mt))
				return MaskedGlobalAveragePool(x, mn, false)
			})
			wantValues(t, "masked avg", out, []float64{2, 20, 0, 0})
			wantValues(t, "masked avg grad", grad, []float64{0.5, 1, 0, 0, 0.5, 1, 0, 0, 0, 0, 0, 0})
		}
	}
}

// TestPoolHashes checks that pools differing in any parameter are distinct
// nodes (Gorgonia merges nodes with equal hashes).
func TestPoolHashes(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float64, 4, G.WithShape(1, 4, 4, 2), G.WithName("x"))
	seen := map[*G.Node]string{}
	add := func(name string, n *G.Node, err error) {
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := seen[n]; ok {
			t.Errorf("%s and %s share a node", prev, name)
		}
		seen[n] = name
	}
	n, err := Pool(x, PoolMax, []int{2, 2}, []int{2, 2}, false)
	add("max 2/2 valid", n, err)
	n, err = Pool(x, PoolMax, []int{2, 2}, []int{1, 1}, false)
	add("max 2/1 valid", n, err)
	n, err = Pool(x, PoolMax, []int{2, 2}, []int{2, 2}, true)
	add("max 2/2 same", n, err)
	n, err = Pool(x, PoolAverage, []int{2, 2}, []int{2, 2}, false)
	add("avg 2/2 valid", n, err)
	n, err = Pool(x, PoolMax, []int{2, 1}, []int{2, 2}, false)
	add("max 2x1", n, err)
	n, err = GlobalPool(x, PoolMax, false)
	add("global max", n, err)
	n, err = GlobalPool(x, PoolMax, true)
	add("global max keepdims", n, err)
	n, err = GlobalPool(x, PoolAverage, false)
	add("global avg", n, err)
}

func TestPoolErrors(t *testing.T) {
	g := G.NewGraph()
	x4 := G.NewTensor(g, tensor.Float64, 4, G.WithShape(1, 3, 3, 2), G.WithName("x4"))
	x3 := G.NewTensor(g, tensor.Float32, 3, G.WithShape(2, 5, 2), G.WithName("x3"))
	x2 := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("x2"))
	xi := G.NewTensor(g, tensor.Int, 3, G.WithShape(2, 5, 2), G.WithName("xi"))
	check := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", what, err, want)
		}
	}
	_, err := Pool(x2, PoolMax, []int{2}, []int{2}, false)
	check("rank 2", err, "input must be (N, L, C) or (N, H, W, C), got shape (2, 3)")
	_, err = Pool(x4, PoolMax, []int{4, 2}, []int{1, 1}, false)
	check("too large", err, "pool size [4 2] does not fit input shape (1, 3, 3, 2) with valid padding")
	_, err = Pool(x4, PoolMax, []int{0, 2}, []int{1, 1}, false)
	check("zero pool", err, "must be positive")
	_, err = Pool(x4, PoolMax, []int{2, 2}, []int{1, -1}, false)
	check("negative stride", err, "must be positive")
	_, err = Pool(x4, PoolMax, []int{2}, []int{1}, false)
	check("one pool size for 2-D", err, "a rank-4 input needs 2 pool sizes and strides")
	_, err = Pool(x3, PoolKind(7), []int{2}, []int{1}, false)
	check("kind", err, "unknown kind")
	_, err = Pool(xi, PoolMax, []int{2}, []int{1}, false)
	check("int dtype", err, "dtype int not supported")
	_, err = GlobalPool(x2, PoolAverage, false)
	check("global rank 2", err, "got shape (2, 3)")
	m := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 4), G.WithName("m"))
	_, err = MaskedGlobalAveragePool(x3, m, false)
	check("mask shape", err, "mask shape (2, 4) does not match input (2, 5, 2)")
	_, err = MaskedGlobalAveragePool(x4, m, false)
	check("masked 2-D", err, "input must be (N, T, C)")
	_, err = MaskedGlobalAveragePool(x3, nil, false)
	check("nil mask", err, "nil mask")
}

// TestPoolOutputSize is docs/SEMANTICS.md §24.7's table (n, k, s): valid and
// same output sizes and pad_before.
func TestPoolOutputSize(t *testing.T) {
	cases := []struct{ n, k, s, valid, same, before int }{
		{7, 3, 2, 3, 4, 1}, {6, 3, 2, 2, 3, 0}, {5, 2, 2, 2, 3, 0}, {28, 5, 1, 24, 28, 2}, {4, 3, 1, 2, 4, 1},
		{2, 3, 1, 0, 2, 1}, {8, 2, 3, 3, 3, 0},
	}
	for _, c := range cases {
		v, pv := PoolOutputSize(c.n, c.k, c.s, false)
		s, ps := PoolOutputSize(c.n, c.k, c.s, true)
		if v != c.valid || pv != 0 || s != c.same || ps != c.before {
			t.Errorf("(%d,%d,%d): valid %d (pad %d), same %d (pad %d); want %d, %d (pad %d)", c.n, c.k, c.s, v, pv, s, ps, c.valid, c.same, c.before)
		}
	}
}

// TestPoolBackwardFull checks the branch-free max-pooling gradient of
// windows that lie inside the input against the general window search:
// with ties, NaNs, signed zeros and cells that no window covers.
func TestPoolBackwardFull(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for _, pc := range []struct{ shape, pool, strides []int }{
		{[]int{2, 7, 9, 3}, []int{2, 2}, []int{2, 2}},
		{[]int{2, 6, 8, 5}, []int{2, 2}, []int{2, 2}},
		{[]int{2, 7, 8, 3}, []int{3, 2}, []int{1, 2}},
		{[]int{3, 11, 4}, []int{3}, []int{3}},
		{[]int{3, 11, 4}, []int{3}, []int{2}},
	} {
		shape := pc.shape
		g, err := poolGeometry(shape, pc.pool, pc.strides, false)
		if err != nil {
			t.Fatal(err)
		}
		n := tensor.Shape(shape).TotalSize()
		x := make([]float64, n)
		for i := range x {
			switch r := rng.Intn(20); {
			case r == 0:
				x[i] = math.NaN()
			case r == 1:
				x[i] = math.Copysign(0, -1)
			case r == 2:
				x[i] = 0
			default:
				x[i] = math.Round(rng.Float64()*8-4) / 4
			}
		}
		ys := g.outShape(len(shape)).TotalSize()
		y := make([]float64, ys)
		gy := make([]float64, ys)
		for i := range gy {
			gy[i] = math.Round(rng.Float64()*8) + 1 // sums exact in float32
		}
		poolForward(g, PoolMax, x, y)
		x32, y32, gy32 := make([]float32, n), make([]float32, ys), make([]float32, ys)
		for i, v := range x {
			x32[i] = float32(v)
		}
		for i := range y {
			y32[i], gy32[i] = float32(y[i]), float32(gy[i])
		}
		for _, relu := range []bool{false, true} {
			want := make([]float64, n)
			xs := g.h * g.w * g.c
			for s := 0; s < g.n; s++ {
				poolBackwardSample(g, PoolMax, x[s*xs:][:xs], gy[s*ys/g.n:][:ys/g.n], want[s*xs:][:xs], make([]float64, g.c), make([]int, g.c), relu)
			}
			for _, withY := range []bool{false, true} {
				got := make([]float64, n)
				got32 := make([]float32, n)
				for i := range got {
					got[i], got32[i] = math.NaN(), float32(math.NaN()) // dirty
				}
				yy, yy32 := y, y32
				if !withY {
					yy, yy32 = nil, nil
				}
				poolBackward(g, PoolMax, x, yy, gy, got, relu)
				poolBackward(g, PoolMax, x32, yy32, gy32, got32, relu)
				for i := range want {
					if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
						t.Fatalf("shape %v relu %t y %t: dx[%d] = %v, want %v", shape, relu, withY, i, got[i], want[i])
					}
					if float32(want[i]) != got32[i] {
						t.Fatalf("float32, shape %v relu %t y %t: dx[%d] = %v, want %v", shape, relu, withY, i, got32[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkMaxPoolBackward is the max-pooling gradient of the cnn bench
// workload: (64, 26, 26, 32), 2×2 windows.
func BenchmarkMaxPoolBackward(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	g, err := poolGeometry(tensor.Shape{64, 26, 26, 32}, []int{2, 2}, []int{2, 2}, false)
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float32, 64*26*26*32)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := make([]float32, 64*13*13*32)
	gy := make([]float32, len(y))
	dx := make([]float32, len(x))
	poolForward(g, PoolMax, x, y)
	b.Run("forward", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			poolForward(g, PoolMax, x, y)
		}
	})
	b.Run("backward", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			poolBackward(g, PoolMax, x, y, gy, dx, false)
		}
	})
}

// Pooling, valid and same, 2-D and 1-D, with ties; max pooling and global
// average pooling after a relu convolution (their gradients absorb the
// relu's); global pooling with and without keepDims; masked average.
var _ = registerExample(kernelExample{name: "pool", build: func(in *exampleInputs) ([]*G.Node, error) {
	var outs []*G.Node
	add := func(y *G.Node, err error) error {
		outs = append(outs, y)
		return err
	}
	for _, pc := range []struct {
		shape         []int
		pool, strides []int
		same          bool
	}{
		{[]int{in.n, 8, 9, 4}, []int{2, 2}, []int{2, 2}, false},
		{[]int{in.n, 7, 9, 4}, []int{3, 3}, []int{2, 2}, true},
		{[]int{in.n, 10, 4}, []int{3}, []int{2}, true},
	} {
		x := in.ties(pc.shape...)
		for _, kind := range []PoolKind{PoolMax, PoolAverage} {
			if err := add(Pool(x, kind, pc.pool, pc.strides, pc.same)); err != nil {
				return nil, err
			}
		}
	}
	conv, err := Conv2DBiasAct(in.ties(in.n, 8, 9, 3), in.x(3, 3, 3, 4), in.x(4), ConvSpec{}, ActReLU)
	if err != nil {
		return nil, err
	}
	if err := add(Pool(conv, PoolMax, []int{3, 2}, []int{1, 2}, false)); err != nil {
		return nil, err
	}
	if err := add(GlobalPool(conv, PoolAverage, false)); err != nil {
		return nil, err
	}
	gx := in.ties(in.n, 5, 6, 4)
	for _, kind := range []PoolKind{PoolMax, PoolAverage} {
		for _, keep := range []bool{false, true} {
			if err := add(GlobalPool(gx, kind, keep)); err != nil {
				return nil, err
			}
		}
	}
	err = add(MaskedGlobalAveragePool(in.x(in.n, 6, 4), in.mask(in.n, 6), false))
	return outs, err
}})
