package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// preallocCase is one op with its input values.
type preallocCase struct {
	name string
	op   G.Op
	in   []G.Value
}

// dirty returns a tensor of t's dtype and shape holding garbage: NaN in
// every element when nan is set, else large values of both signs.
func dirty(t *tensor.Dense, nan bool) *tensor.Dense {
	d := tensor.New(tensor.Of(t.Dtype()), tensor.WithShape(t.Shape().Clone()...))
	fill(d, nan)
	return d
}

func fill(d *tensor.Dense, nan bool) {
	for i := 0; i < d.DataSize(); i++ {
		v := math.NaN()
		if !nan {
			v = 1e30 * float64(1-2*(i%2))
		}
		switch d.Dtype() {
		case tensor.Float32:
			d.Float32s()[i] = float32(v)
		case tensor.Float64:
			d.Float64s()[i] = v
		}
	}
}

// sameBits reports whether two values hold bit-identical elements.
func sameBits(a, b G.Value) error {
	x, y := Float64s(a), Float64s(b)
	if len(x) != len(y) {
		return fmt.Errorf("%d values, want %d", len(x), len(y))
	}
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) && !(math.IsNaN(x[i]) && math.IsNaN(y[i])) {
			return fmt.Errorf("element %d is %v, want %v", i, x[i], y[i])
		}
	}
	if ta, ok := a.(tensor.Tensor); ok {
		if tb, ok := b.(tensor.Tensor); ok && !sameShape(ta.Shape(), tb.Shape()) {
			return fmt.Errorf("shape %v, want %v", ta.Shape(), tb.Shape())
		}
	}
	return nil
}

// checkPrealloc runs c's op through Do and through UsePreallocDo on dirty
// buffers (NaN, then large values, then its own previous result) and on a
// buffer of the wrong shape, and checks that every result equals Do's and
// that a fitting buffer is the one written.
func checkPrealloc(t *testing.T, c preallocCase) {
	t.Helper()
	r, ok := c.op.(G.UsePreallocDoer)
	if !ok {
		t.Errorf("%s: %T does not implement UsePreallocDoer", c.name, c.op)
		return
	}
	want, err := c.op.Do(c.in...)
	if err != nil {
		t.Errorf("%s: Do: %v", c.name, err)
		return
	}
	wd, ok := want.(*tensor.Dense)
	if !ok {
		t.Errorf("%s: Do returned %T, want a *tensor.Dense", c.name, want)
		return
	}
	buf := dirty(wd, true)
	for round, nan := range []bool{true, false, false} {
		if round < 2 {
			fill(buf, nan)
		}
		got, err := r.UsePreallocDo(buf, c.in...)
		if err != nil {
			t.Errorf("%s: UsePreallocDo (round %d): %v", c.name, round, err)
			return
		}
		if got != G.Value(buf) {
			t.Errorf("%s: UsePreallocDo (round %d) did not write into the buffer", c.name, round)
		}
		if err := sameBits(got, want); err != nil {
			t.Errorf("%s: UsePreallocDo (round %d): %v", c.name, round, err)
		}
	}
	// A buffer of another shape is left alone.
	other := tensor.New(tensor.Of(wd.Dtype()), tensor.WithShape(wd.Shape().TotalSize()+1))
	fill(other, true)
	got, err := r.UsePreallocDo(other, c.in...)
	if err != nil {
		t.Errorf("%s: UsePreallocDo with a wrong buffer: %v", c.name, err)
		return
	}
	if got == G.Value(other) {
		t.Errorf("%s: UsePreallocDo wrote into a buffer of the wrong shape", c.name)
	}
	if err := sameBits(got, want); err != nil {
		t.Errorf("%s: UsePreallocDo with a wrong buffer: %v", c.name, err)
	}
	// Do is unchanged by the reuse of buffers.
	again, err := c.op.Do(c.in...)
	if err != nil {
		t.Errorf("%s: second Do: %v", c.name, err)
	} else if err := sameBits(again, want); err != nil {
		t.Errorf("%s: second Do: %v", c.name, err)
	}
}

// tieRand returns n values in [-1, 1] on a grid of quarters (so that
// maxima tie) when ties, else uniform.
func tieRand(rng *rand.Rand, n int, ties bool) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.Float64()*2 - 1
		if ties {
			v[i] = math.Round(v[i]*4) / 4
		}
	}
	return v
}

func preallocCases(t *testing.T, dt tensor.Dtype, big bool) []preallocCase {
	rng := rand.New(rand.NewSource(3))
	dense := func(shape ...int) *tensor.Dense {
		return convDense(dt, shape, tieRand(rng, tensor.Shape(shape).TotalSize(), false))
	}
	ties := func(shape ...int) *tensor.Dense {
		return convDense(dt, shape, tieRand(rng, tensor.Shape(shape).TotalSize(), true))
	}
	var cs []preallocCase
	add := func(name string, op G.Op, in ...G.Value) {
		cs = append(cs, preallocCase{name: fmt.Sprintf("%v/%s", dt, name), op: op, in: in})
	}
	n := 3
	if big {
		n = 40 // large enough for the parallel paths
	}

	// Element-wise functions, with and without slice kernels.
	sq := &UnaryFunc{Name: "square", F: func(x float64) float64 { return x * x }, DF: func(x, _ float64) float64 { return 2 * x }}
	relu := &UnaryFunc{Name: "relu",
		F:  func(x float64) float64 { return math.Max(x, 0) },
		DF: func(x, _ float64) float64 { return map[bool]float64{true: 1}[x > 0] },
		Map32: func(x, out []float32) {
			for i, v := range x {
				out[i] = max(v, 0)
			}
		},
		Grad32: func(x, _, g, out []float32) {
			for i, v := range x {
				out[i] = g[i] * map[bool]float32{true: 1}[v > 0]
			}
		},
	}
	x := dense(n, 7, 9, 5)
	for _, f := range []*UnaryFunc{sq, relu} {
		y, err := unaryOp{f}.Do(x)
		if err != nil {
			t.Fatal(err)
		}
		add(f.Name, unaryOp{f}, x)
		add(f.Name+"'", unaryGradOp{f}, x, y, dense(n, 7, 9, 5))
	}

	// Bias.
	add("biasadd", biasAddOp{dims: 4, dt: dt}, x, dense(5))
	add("sumtolast", sumToLastOp{dims: 4, dt: dt}, x)

	// Convolutions: padded and strided 2-D, dilated and causal 1-D, 1×1.
	for _, cc := range []struct {
		rank   int
		xs, ks tensor.Shape
		spec   ConvSpec
	}{
		{2, tensor.Shape{n, 9, 8, 3}, tensor.Shape{3, 3, 3, 4}, ConvSpec{}},
		{2, tensor.Shape{n, 9, 8, 3}, tensor.Shape{3, 2, 3, 4}, ConvSpec{Padding: "same", Strides: []int{2}}},
		{2, tensor.Shape{n, 6, 6, 3}, tensor.Shape{1, 1, 3, 4}, ConvSpec{}},
		{1, tensor.Shape{n, 11, 3}, tensor.Shape{3, 3, 2}, ConvSpec{Padding: "causal", Dilation: []int{2}}},
	} {
		g, err := newConvGeom(cc.rank, cc.xs, cc.ks, cc.spec)
		if err != nil {
			t.Fatal(err)
		}
		cx, ck, cdy := dense(cc.xs...), dense(cc.ks...), dense(g.yShape()...)
		name := fmt.Sprintf("conv%v%v%+v", cc.xs, cc.ks, cc.spec)
		add(name, convOp{g: g, dt: dt, kind: convForward}, cx, ck)
		add(name+"/dx", convOp{g: g, dt: dt, kind: convGradInput}, ck, cdy)
		add(name+"/dk", convOp{g: g, dt: dt, kind: convGradKern}, cx, cdy)
	}

	// Pooling, valid and same, 2-D and 1-D, with ties.
	for _, pc := range []struct {
		shape         tensor.Shape
		pool, strides []int
		same          bool
	}{
		{tensor.Shape{n, 8, 9, 4}, []int{2, 2}, []int{2, 2}, false},
		{tensor.Shape{n, 8, 9, 4}, []int{3, 2}, []int{1, 2}, false},
		{tensor.Shape{n, 7, 9, 4}, []int{3, 3}, []int{2, 2}, true},
		{tensor.Shape{n, 10, 4}, []int{3}, []int{2}, true},
	} {
		px := ties(pc.shape...)
		for _, kind := range []PoolKind{PoolMax, PoolAverage} {
			op := poolOp{kind: kind, shape: pc.shape, pool: pc.pool, strides: pc.strides, same: pc.same, dt: dt}
			g, err := op.geom()
			if err != nil {
				t.Fatal(err)
			}
			add(op.String(), op, px)
			add(op.String()+"'", poolGradOp{poolOp: op, gdims: len(pc.shape)}, px, dense(g.outShape(len(pc.shape))...))
		}
	}
	gx := ties(n, 5, 6, 4)
	for _, kind := range []PoolKind{PoolMax, PoolAverage} {
		for _, keep := range []bool{false, true} {
			op := globalPoolOp{kind: kind, shape: gx.Shape().Clone(), keepDims: keep, dt: dt}
			add(op.String(), op, gx)
			add(op.String()+"'", globalPoolGradOp{globalPoolOp: op, gdims: len(op.outShape())}, gx, dense(op.outShape()...))
		}
	}
	// Masked: the first sample is fully masked.
	mx := dense(n, 6, 4)
	mask := make([]float64, n*6)
	for i := 6; i < len(mask); i++ {
		mask[i] = float64(rng.Intn(2))
	}
	mop := globalPoolOp{kind: PoolAverage, shape: mx.Shape().Clone(), dt: dt, masked: true, maskDims: 2, maskDt: dt}
	mt := convDense(dt, tensor.Shape{n, 6}, mask)
	add(mop.String(), mop, mx, mt)
	add(mop.String()+"'", globalPoolGradOp{globalPoolOp: mop, gdims: 2}, mx, dense(n, 4), mt)

	// Batch norm, training and inference, over the last and a middle axis.
	for _, axis := range []int{3, 1} {
		c := x.Shape()[axis]
		gamma, beta, mean := dense(c), dense(c), dense(c)
		vd := tieRand(rng, c, false)
		for i := range vd {
			vd[i] = math.Abs(vd[i]) + 0.5
		}
		variance := convDense(dt, tensor.Shape{c}, vd)
		dy := dense(x.Shape()...)
		train := bnOp{axis: axis, dims: 4, eps: 1e-3, training: true, hasGamma: true, hasBeta: true, dt: dt}
		infer := bnOp{axis: axis, dims: 4, eps: 1e-3, hasGamma: true, hasBeta: true, dt: dt}
		bare := bnOp{axis: axis, dims: 4, eps: 1e-3, training: true, dt: dt}
		add(train.String(), train, x, gamma, beta)
		add(infer.String(), infer, x, mean, variance, gamma, beta)
		add(bare.String()+"bare", bare, x)
		for _, wrt := range []int{bnWrtX, bnWrtGamma, bnWrtBeta} {
			add(bnGradOp{bn: train, wrt: wrt}.String(), bnGradOp{bn: train, wrt: wrt}, x, gamma, beta, dy)
			add(bnGradOp{bn: infer, wrt: wrt}.String(), bnGradOp{bn: infer, wrt: wrt}, x, mean, variance, gamma, beta, dy)
		}
		add(bnGradOp{bn: bare, wrt: bnWrtX}.String()+"bare", bnGradOp{bn: bare, wrt: bnWrtX}, x, dy)
		for _, v := range []bool{false, true} {
			op := movingOp{axis: axis, dims: 4, momentum: 0.9, variance: v, dt: dt}
			add(op.String(), op, x, mean)
		}
	}

	// Row functions: dense and sparse targets.
	mse := &RowFunc{Name: "mse",
		F: func(y, p []float64) float64 {
			s := 0.0
			for i := range p {
				s += (p[i] - y[i]) * (p[i] - y[i])
			}
			return s / float64(len(p))
		},
		DF: func(y, p []float64, g float64, dp []float64) {
			for i := range p {
				dp[i] = g * 2 * (p[i] - y[i]) / float64(len(p))
			}
		}}
	pick := &RowFunc{Name: "pick", Sparse: true,
		F: func(y, p []float64) float64 { return -p[int(y[0])] },
		DF: func(y, p []float64, g float64, dp []float64) {
			clear(dp)
			dp[int(y[0])] = -g
		}}
	yp := dense(n, 4, 5)
	labels := make([]float64, n*4)
	for i := range labels {
		labels[i] = float64(rng.Intn(5))
	}
	yl := convDense(dt, tensor.Shape{n, 4}, labels)
	for _, rc := range []struct {
		f  *RowFunc
		yt *tensor.Dense
	}{{mse, dense(n, 4, 5)}, {pick, yl}} {
		op := rowOp{f: rc.f, tdims: rc.yt.Dims(), pdims: 3, dt: dt}
		add(rc.f.Name, op, rc.yt, yp)
		add(rc.f.Name+"'", rowGradOp{rowOp: op, gdims: 1}, rc.yt, yp, dense(n))
	}

	// Reductions.
	rx := ties(n, 4, 5)
	for _, kind := range []string{ReduceSum, ReduceMean, ReduceMax, ReduceMin} {
		for _, keep := range []bool{false, true} {
			op := reduceOp{kind: kind, axes: []int{1}, keep: keep, dims: 3, dt: dt}
			y, err := op.Do(rx)
			if err != nil {
				t.Fatal(err)
			}
			add(op.String(), op, rx)
			add(op.String()+"'", reduceGradOp{op}, rx, y, dense(y.Shape()...))
		}
	}

	// Softmax and l2-normalization.
	for _, op := range []axisOp{{kind: "softmax", axis: 2, dims: 3, dt: dt}, {kind: "l2normalize", eps: 1e-12, axis: 1, dims: 3, dt: dt}} {
		y, err := op.Do(rx)
		if err != nil {
			t.Fatal(err)
		}
		add(op.String(), op, rx)
		add(op.String()+"'", axisGradOp{op}, rx, y, dense(n, 4, 5))
	}

	// Concatenation along a middle axis and the last one.
	for _, axis := range []int{1, 2} {
		a, b := dense(n, 2, 3), dense(n, 2, 3)
		if axis == 1 {
			b = dense(n, 1, 3)
		} else {
			b = dense(n, 2, 1)
		}
		op := concatOp{axis: axis, dims: 3, sizes: []int{a.Shape()[axis], b.Shape()[axis]}, dt: dt}
		y, err := op.Do(a, b)
		if err != nil {
			t.Fatal(err)
		}
		add(op.String(), op, a, b)
		g := dense(y.Shape()...)
		add(op.String()+"'0", concatGradOp{c: op, index: 0, offset: 0}, g)
		add(op.String()+"'1", concatGradOp{c: op, index: 1, offset: op.sizes[0]}, g)
	}
	return cs
}

// TestUsePreallocDo checks every op's UsePreallocDo against its Do on
// dirty buffers, in both dtypes, for small tensors and for tensors large
// enough to take the parallel paths.
func TestUsePreallocDo(t *testing.T) {
	old := parMinWork
	defer func() { parMinWork = old }()
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, big := range []bool{false, true} {
			parMinWork = old
			if big {
				parMinWork = 1 // every loop in parallel
			}
			for _, c := range preallocCases(t, dt, big) {
				checkPrealloc(t, c)
			}
		}
	}
}

// TestUsePreallocDoRNN checks the fused recurrent op and the ops that take
// its gradients apart.
func TestUsePreallocDoRNN(t *testing.T) {
	for _, lstm := range []bool{false, true} {
		c := rnnCase{lstm: lstm, spec: RecurrentSpec{Units: 4}, n: 3, t: 5, f: 2, bias: true, mask: true}
		v := randomVals(c, rand.New(rand.NewSource(7)), 1)
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			r, err := buildRNN(c, v, dt)
			if err != nil {
				t.Fatal(err)
			}
			op := r.out.Op().(*fusedRNNOp)
			vals := make([]G.Value, len(r.values))
			for i, x := range r.values {
				vals[i] = x
			}
			name := fmt.Sprintf("%v/%v", dt, op)
			checkPrealloc(t, preallocCase{name: name, op: op, in: vals})
			packed := convDense(dt, tensor.Shape{40}, tieRand(rand.New(rand.NewSource(1)), 40, false))
			take := rnnTakeOp{idx: 1, offset: 6, shape: tensor.Shape{3, 4}, dt: dt}
			checkPrealloc(t, preallocCase{name: name + "/take", op: take, in: []G.Value{packed}})
		}
	}
}

// TestCaptureOwnsItsResult checks that a capture copies its input and
// returns the same scalar every time, allocating nothing.
func TestCaptureOwnsItsResult(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		dst := tensor.New(tensor.Of(dt), tensor.WithShape(2, 3))
		op := &captureOp{dst: dst, dims: 2, dt: dt}
		x := convDense(dt, tensor.Shape{2, 3}, []float64{1, 2, 3, 4, 5, 6})
		a, err := op.Do(x)
		if err != nil {
			t.Fatal(err)
		}
		b, err := op.UsePreallocDo(a, x)
		if err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Errorf("%v: capture returned two different values", dt)
		}
		if err := sameBits(dst, x); err != nil {
			t.Errorf("%v: captured %v", dt, err)
		}
		if allocs := testing.AllocsPerRun(10, func() { op.UsePreallocDo(a, x) }); allocs != 0 {
			t.Errorf("%v: capture allocates %v times per run", dt, allocs)
		}
	}
}

// TestPreallocAllocs checks that a reused output costs no tensor
// allocation: element-wise ops allocate nothing at all.
func TestPreallocAllocs(t *testing.T) {
	x := convDense(tensor.Float32, tensor.Shape{4, 5}, tieRand(rand.New(rand.NewSource(1)), 20, false))
	b := convDense(tensor.Float32, tensor.Shape{5}, tieRand(rand.New(rand.NewSource(2)), 5, false))
	relu := &UnaryFunc{Name: "relu", F: func(x float64) float64 { return math.Max(x, 0) }, DF: func(x, _ float64) float64 { return 1 }}
	for _, c := range []preallocCase{
		{"relu", unaryOp{relu}, []G.Value{x}},
		{"biasadd", biasAddOp{dims: 2, dt: tensor.Float32}, []G.Value{x, b}},
		{"sumtolast", sumToLastOp{dims: 2, dt: tensor.Float32}, []G.Value{x}},
	} {
		out, err := c.op.Do(c.in...)
		if err != nil {
			t.Fatal(err)
		}
		r := c.op.(G.UsePreallocDoer)
		if allocs := testing.AllocsPerRun(10, func() { r.UsePreallocDo(out, c.in...) }); allocs != 0 {
			t.Errorf("%s: %v allocations per reused run", c.name, allocs)
		}
	}
}
