package blas

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/tensor"
)

// gemmCase is one product to check.
type gemmCase struct {
	tA, tB      bool
	m, n, k     int
	padA, padB  int // extra leading-dimension elements
	padC        int
	alpha, beta float64
	nanC        bool // fill C with NaN (only meaningful with beta = 0)
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,pad=%d/%d/%d,alpha=%g,beta=%g,nan=%v",
		tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.padA, tc.padB, tc.padC, tc.alpha, tc.beta, tc.nanC)
}

// dims returns the stored shapes and leading dimensions.
func (tc gemmCase) dims() (ra, lda, rb, ldb, ldc int) {
	ra, lda = tc.m, tc.k
	if tc.tA {
		ra, lda = tc.k, tc.m
	}
	rb, ldb = tc.k, tc.n
	if tc.tB {
		rb, ldb = tc.n, tc.k
	}
	return ra, max(1, lda) + tc.padA, rb, max(1, ldb) + tc.padB, max(1, tc.n) + tc.padC
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// checkCase runs tc through every float32 and float64 path (the public
// functions, Implementation, and each kernel configuration directly)
// and compares with gonum.
func checkCase(t *testing.T, rng *rand.Rand, tc gemmCase) {
	t.Helper()
	a64, b64, c64 := tc.operands(rng)
	scale := tc.scale(a64, b64, c64)
	checkCase32(t, tc, to32(a64), to32(b64), to32(c64), scale)
	checkCase64(t, tc, a64, b64, c64, scale)
}

// operands draws A, B and C for tc from rng (in [-1, 1); C all NaN with
// nanC), stored with tc's leading dimensions; the padding columns of C
// hold 12345, which no product may change.
func (tc gemmCase) operands(rng *rand.Rand) (a64, b64, c64 []float64) {
	ra, lda, rb, ldb, ldc := tc.dims()
	lenA, lenB, lenC := max(0, (ra-1)*lda+lda), max(0, (rb-1)*ldb+ldb), max(0, (tc.m-1)*ldc+ldc)
	a64 = make([]float64, lenA)
	b64 = make([]float64, lenB)
	c64 = make([]float64, lenC)
	for i := range a64 {
		a64[i] = rng.Float64()*2 - 1
	}
	for i := range b64 {
		b64[i] = rng.Float64()*2 - 1
	}
	for i := range c64 {
		c64[i] = rng.Float64()*2 - 1
		if tc.nanC {
			c64[i] = math.NaN()
		}
	}
	// The padding of C (columns n..ldc) must be left alone.
	for i := 0; i < tc.m; i++ {
		for j := tc.n; j < ldc; j++ {
			c64[i*ldc+j] = 12345
		}
	}
	return a64, b64, c64
}

// scale is the scale of each element of the product, for the tolerance:
// |alpha|·Σ|a||b| + |beta·c|.
func (tc gemmCase) scale(a64, b64, c64 []float64) []float64 {
	_, lda, _, ldb, ldc := tc.dims()
	scale := make([]float64, tc.m*tc.n)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var s float64
			for p := 0; p < tc.k; p++ {
				var av, bv float64
				if tc.tA {
					av = a64[p*lda+i]
				} else {
					av = a64[i*lda+p]
				}
				if tc.tB {
					bv = b64[j*ldb+p]
				} else {
					bv = b64[p*ldb+j]
				}
				s += math.Abs(av * bv)
			}
			s *= math.Abs(tc.alpha)
			if tc.beta != 0 {
				s += math.Abs(tc.beta * c64[i*ldc+j])
			}
			scale[i*tc.n+j] = s + 1e-30
		}
	}
	return scale
}

// checkCase32 compares every float32 path with gonum's Sgemm and checks
// that none modifies A or B.
func checkCase32(t *testing.T, tc gemmCase, a32, b32, c32 []float32, scale []float64) {
	t.Helper()
	_, lda, _, ldb, ldc := tc.dims()
	want32 := append([]float32(nil), c32...)
	gonum.Implementation{}.Sgemm(trans(tc.tA), trans(tc.tB), tc.m, tc.n, tc.k, float32(tc.alpha), a32, lda, b32, ldb, float32(tc.beta), want32, ldc)
	tol32 := 1e-6 * float64(tc.k+4)
	run32 := map[string]func(c []float32){
		"Sgemm": func(c []float32) {
			Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, float32(tc.alpha), a32, lda, b32, ldb, float32(tc.beta), c, ldc)
		},
		"Implementation": func(c []float32) {
			Implementation{}.Sgemm(trans(tc.tA), trans(tc.tB), tc.m, tc.n, tc.k, float32(tc.alpha), a32, lda, b32, ldb, float32(tc.beta), c, ldc)
		},
	}
	for _, cfg := range sConfigs() {
		run32[cfg.name] = func(c []float32) {
			if tc.m > 0 && tc.n > 0 {
				gemm(cfg, tc.tA, tc.tB, tc.m, tc.n, tc.k, float32(tc.alpha), a32, lda, b32, ldb, float32(tc.beta), c, ldc)
			}
		}
	}
	for name, run := range run32 {
		got := append([]float32(nil), c32...)
		a0, b0 := append([]float32(nil), a32...), append([]float32(nil), b32...)
		run(got)
		if !sameBits(a0, a32) || !sameBits(b0, b32) {
			t.Fatalf("%s float32 %v: A or B modified", name, tc)
		}
		compare(t, "float32 "+name, tc, ldc, tol32, scale, widen(want32), widen(got))
	}
}

// checkCase64 compares every float64 path with gonum's Dgemm.
func checkCase64(t *testing.T, tc gemmCase, a64, b64, c64, scale []float64) {
	t.Helper()
	_, lda, _, ldb, ldc := tc.dims()
	want64 := append([]float64(nil), c64...)
	gonum.Implementation{}.Dgemm(trans(tc.tA), trans(tc.tB), tc.m, tc.n, tc.k, tc.alpha, a64, lda, b64, ldb, tc.beta, want64, ldc)
	tol64 := 1e-14 * float64(tc.k+4)
	run64 := map[string]func(c []float64){
		"Dgemm": func(c []float64) {
			Dgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a64, lda, b64, ldb, tc.beta, c, ldc)
		},
		"Implementation": func(c []float64) {
			Implementation{}.Dgemm(trans(tc.tA), trans(tc.tB), tc.m, tc.n, tc.k, tc.alpha, a64, lda, b64, ldb, tc.beta, c, ldc)
		},
	}
	for _, cfg := range dConfigs() {
		run64[cfg.name] = func(c []float64) {
			if tc.m > 0 && tc.n > 0 {
				gemm(cfg, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a64, lda, b64, ldb, tc.beta, c, ldc)
			}
		}
	}
	for name, run := range run64 {
		got := append([]float64(nil), c64...)
		run(got)
		compare(t, "float64 "+name, tc, ldc, tol64, scale, want64, got)
	}
}

// sConfigs and dConfigs are the kernel configurations to test: the one
// in use and the pure-Go ones.
// Every assembly kernel the CPU supports and both pure-Go kernels are
// tested.
var testS, testD = func() ([]*config[float32], []*config[float64]) {
	s, d := archConfigs()
	s = append(s, goConfig[float32]("amd64"), goConfig[float32]("arm64"))
	d = append(d, goConfig[float64]("amd64"), goConfig[float64]("arm64"))
	return s, d
}()

func sConfigs() []*config[float32] { return inUseFirst(sgemmCfg, testS) }

func dConfigs() []*config[float64] { return inUseFirst(dgemmCfg, testD) }

// inUseFirst is the configuration in use followed by the others of cfgs.
func inUseFirst[T Float](inUse *config[T], cfgs []*config[T]) []*config[T] {
	out := []*config[T]{inUse}
	for _, c := range cfgs {
		if c.name != inUse.name {
			out = append(out, c)
		}
	}
	return out
}

func compare(t *testing.T, name string, tc gemmCase, ldc int, tol float64, scale, want, got []float64) {
	t.Helper()
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc; j++ {
			w, g := want[i*ldc+j], got[i*ldc+j]
			if j >= tc.n {
				if g != 12345 {
					t.Fatalf("%s %v: C[%d,%d] (padding) = %v, changed", name, tc, i, j, g)
				}
				continue
			}
			if math.IsNaN(g) || math.IsInf(g, 0) {
				t.Fatalf("%s %v: C[%d,%d] = %v", name, tc, i, j, g)
			}
			if d := math.Abs(w - g); d > tol*scale[i*tc.n+j] {
				t.Fatalf("%s %v: C[%d,%d] = %v, want %v (|diff| %.3g > %.3g)", name, tc, i, j, g, w, d, tol*scale[i*tc.n+j])
			}
		}
	}
	// Rows past m (none here) and the tail of c are not ours to check.
}

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

func widen(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

var transCombos = [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}}

func TestTiny(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	shapes := [][3]int{
		{1, 1, 1}, {1, 7, 1}, {1, 1, 7}, {7, 1, 1}, {1, 33, 5}, {2, 3, 4}, {3, 2, 1},
		{0, 3, 4}, {3, 0, 4}, {3, 4, 0}, {0, 0, 0},
	}
	for _, s := range shapes {
		for _, tr := range transCombos {
			checkCase(t, rng, gemmCase{tA: tr[0], tB: tr[1], m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0})
			checkCase(t, rng, gemmCase{tA: tr[0], tB: tr[1], m: s[0], n: s[1], k: s[2], alpha: 1.5, beta: -0.5})
		}
	}
}

func TestSkinny(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	shapes := [][3]int{
		{1, 300, 200}, {300, 1, 200}, {1, 1, 5000}, {200, 150, 1}, {1, 1000, 1},
		{1000, 1, 1}, {513, 2, 700}, {2, 513, 700}, {17, 19, 3000}, {43264 / 8, 32, 9},
	}
	for _, s := range shapes {
		for _, tr := range transCombos {
			checkCase(t, rng, gemmCase{tA: tr[0], tB: tr[1], m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0})
			checkCase(t, rng, gemmCase{tA: tr[0], tB: tr[1], m: s[0], n: s[1], k: s[2], alpha: 0.5, beta: 1})
		}
	}
}

// TestRowProduct checks the unpacked path for a few rows of A (one sample
// through a Dense layer): every row count it takes, whole and partial
// blocks of rowWidth columns, padded operands, alpha and beta, and NaN in
// a C that beta = 0 must not read.
func TestRowProduct(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, m := range []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 47, 48, 49, 128, 255, 256, 257} {
		// Widths below rowWidth and tails past it (the masked kernel's
		// 16-column chunks, a last one partial), and one multiple of both.
		for _, n := range []int{1, 10, 16, 17, 33, rowWidth, 2 * rowWidth, 2*rowWidth + 3, 3*rowWidth - 1} {
			for _, k := range []int{1, 2, 5, 97} {
				checkCase(t, rng, gemmCase{m: m, n: n, k: k, alpha: 1, beta: 0, nanC: true})
				checkCase(t, rng, gemmCase{m: m, n: n, k: k, padA: 3, padB: 5, padC: 2, alpha: -0.5, beta: 1.5})
			}
		}
	}
	// The Dense layers' shapes (784→128, 128→10), for one sample, a few,
	// and a batch.
	for _, m := range []int{1, 4, 33} {
		checkCase(t, rng, gemmCase{m: m, n: 2 * rowWidth, k: 784, alpha: 1, beta: 0, nanC: true})
		checkCase(t, rng, gemmCase{m: m, n: 10, k: 128, alpha: 1, beta: 0, nanC: true})
	}
}

func TestRandomSweep(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	n := 400
	if testing.Short() {
		n = 100
	}
	alphas := []float64{1, -1, 0.75, 2}
	betas := []float64{0, 1, -0.25, 3}
	for it := 0; it < n; it++ {
		tc := gemmCase{
			tA: rng.Intn(2) == 1, tB: rng.Intn(2) == 1,
			m: 1 + rng.Intn(70), n: 1 + rng.Intn(70), k: 1 + rng.Intn(70),
			alpha: alphas[rng.Intn(len(alphas))], beta: betas[rng.Intn(len(betas))],
		}
		if rng.Intn(3) == 0 {
			tc.padA, tc.padB, tc.padC = rng.Intn(5), rng.Intn(5), rng.Intn(5)
		}
		tc.nanC = tc.beta == 0 && rng.Intn(2) == 0
		checkCase(t, rng, tc)
	}
}

func TestBlockEdges(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	sizes := []int{127, 129, 257, 513}
	for _, s := range sizes {
		for _, tr := range transCombos {
			checkCase(t, rng, gemmCase{tA: tr[0], tB: tr[1], m: s, n: s - 2, k: s + 1, padA: 3, padB: 1, padC: 2, alpha: 1, beta: 0, nanC: true})
		}
	}
	// Depth past several kc blocks, widths past nc (float64 nc is 2040).
	checkCase(t, rng, gemmCase{m: 37, n: 45, k: 1100, alpha: 1, beta: 0.5})
	checkCase(t, rng, gemmCase{tB: true, m: 13, n: 4200, k: 300, alpha: 1, beta: 0, nanC: true})
}

func TestAlphaBeta(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, alpha := range []float64{0, 1, -2.5} {
		for _, beta := range []float64{0, 1, -1, 0.5} {
			for _, nan := range []bool{false, true} {
				if nan && beta != 0 {
					continue
				}
				for _, s := range [][3]int{{5, 7, 3}, {40, 50, 60}, {130, 70, 260}} {
					tc := gemmCase{m: s[0], n: s[1], k: s[2], padC: 3, alpha: alpha, beta: beta, nanC: nan}
					checkCase(t, rng, tc)
					tc.tA, tc.tB = true, true
					checkCase(t, rng, tc)
				}
			}
		}
	}
}

func TestParallel(t *testing.T) {
	// Split even these moderate products.
	for _, cfg := range sConfigs() {
		defer func(v int) { cfg.parallelMin = v }(cfg.parallelMin)
		cfg.parallelMin = 0
	}
	for _, cfg := range dConfigs() {
		defer func(v int) { cfg.parallelMin = v }(cfg.parallelMin)
		cfg.parallelMin = 0
	}
	rng := rand.New(rand.NewSource(6))
	for _, procs := range []int{2, 3, 8} {
		old := runtime.GOMAXPROCS(procs)
		for _, tr := range transCombos {
			checkCase(t, rng, gemmCase{tA: tr[0], tB: tr[1], m: 300, n: 200, k: 150, padA: 1, padB: 2, padC: 3, alpha: 1, beta: 0, nanC: true})
			checkCase(t, rng, gemmCase{tA: tr[0], tB: tr[1], m: 100, n: 333, k: 170, alpha: -1, beta: 2})
		}
		checkCase(t, rng, gemmCase{m: 3000, n: 20, k: 40, alpha: 1, beta: 1})
		checkCase(t, rng, gemmCase{m: 5, n: 3000, k: 40, alpha: 1, beta: 0})
		runtime.GOMAXPROCS(old)
	}
}

func TestLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large products in -short mode")
	}
	rng := rand.New(rand.NewSource(7))
	checkCase(t, rng, gemmCase{m: 512, n: 512, k: 512, alpha: 1, beta: 0})
	checkCase(t, rng, gemmCase{tA: true, m: 784, n: 128, k: 128, alpha: 1, beta: 1})
	checkCase(t, rng, gemmCase{tB: true, m: 128, n: 784, k: 128, alpha: 1, beta: 0})
}

func TestPanics(t *testing.T) {
	a := make([]float32, 100)
	cases := []struct {
		tA, tB           blas.Transpose
		m, n, k          int
		la, lda, lb, ldb int
		lc, ldc          int
	}{
		{blas.Transpose('x'), blas.NoTrans, 2, 2, 2, 4, 2, 4, 2, 4, 2},
		{blas.NoTrans, blas.Transpose('x'), 2, 2, 2, 4, 2, 4, 2, 4, 2},
		{blas.NoTrans, blas.NoTrans, -1, 2, 2, 4, 2, 4, 2, 4, 2},
		{blas.NoTrans, blas.NoTrans, 2, -1, 2, 4, 2, 4, 2, 4, 2},
		{blas.NoTrans, blas.NoTrans, 2, 2, -1, 4, 2, 4, 2, 4, 2},
		{blas.NoTrans, blas.NoTrans, 2, 2, 3, 6, 2, 6, 2, 4, 2}, // lda < k
		{blas.Trans, blas.NoTrans, 3, 2, 2, 6, 2, 4, 2, 6, 2},   // lda < m
		{blas.NoTrans, blas.NoTrans, 2, 3, 2, 4, 2, 6, 2, 6, 3}, // ldb < n
		{blas.NoTrans, blas.Trans, 2, 2, 3, 6, 3, 6, 2, 4, 2},   // ldb < k
		{blas.NoTrans, blas.NoTrans, 2, 3, 2, 4, 2, 6, 3, 6, 2}, // ldc < n
		{blas.NoTrans, blas.NoTrans, 2, 2, 2, 3, 2, 4, 2, 4, 2}, // short a
		{blas.NoTrans, blas.NoTrans, 2, 2, 2, 4, 2, 3, 2, 4, 2}, // short b
		{blas.NoTrans, blas.NoTrans, 2, 2, 2, 4, 2, 4, 2, 3, 2}, // short c
		{blas.NoTrans, blas.NoTrans, 0, 2, 3, 0, 2, 6, 2, 0, 2}, // lda < k with m = 0
		{blas.NoTrans, blas.NoTrans, 0, 2, 2, 0, 2, 4, 2, 0, 2}, // m = 0: no panic
		{blas.NoTrans, blas.NoTrans, 2, 2, 2, 4, 2, 4, 2, 4, 2}, // fine
	}
	recovered := func(f func()) (msg any) {
		defer func() { msg = recover() }()
		f()
		return nil
	}
	for i, c := range cases {
		want := recovered(func() {
			gonum.Implementation{}.Sgemm(c.tA, c.tB, c.m, c.n, c.k, 1, a[:c.la], c.lda, a[:c.lb], c.ldb, 0, make([]float32, c.lc), c.ldc)
		})
		got := recovered(func() {
			Implementation{}.Sgemm(c.tA, c.tB, c.m, c.n, c.k, 1, a[:c.la], c.lda, a[:c.lb], c.ldb, 0, make([]float32, c.lc), c.ldc)
		})
		if got != want {
			t.Errorf("case %d: Sgemm panicked with %v, gonum with %v", i, got, want)
		}
		a64 := make([]float64, 100)
		got = recovered(func() {
			Implementation{}.Dgemm(c.tA, c.tB, c.m, c.n, c.k, 1, a64[:c.la], c.lda, a64[:c.lb], c.ldb, 0, make([]float64, c.lc), c.ldc)
		})
		if got != want {
			t.Errorf("case %d: Dgemm panicked with %v, gonum with %v", i, got, want)
		}
		if c.m != 0 && c.n != 0 && c.tA != 'x' && c.tB != 'x' {
			got = recovered(func() {
				Sgemm(c.tA == blas.Trans, c.tB == blas.Trans, c.m, c.n, c.k, 1, a[:c.la], c.lda, a[:c.lb], c.ldb, 0, make([]float32, c.lc), c.ldc)
			})
			if got != want {
				t.Errorf("case %d: package Sgemm panicked with %v, gonum with %v", i, got, want)
			}
		}
	}
}

// TestInstall checks that Gorgonia's tensor matrix product runs through
// Implementation once installed.
func TestInstall(t *testing.T) {
	Install()
	defer tensor.Use(gonum.Implementation{})
	rng := rand.New(rand.NewSource(8))
	const m, k, n = 70, 90, 50
	av, bv := make([]float32, m*k), make([]float32, k*n)
	for i := range av {
		av[i] = rng.Float32()
	}
	for i := range bv {
		bv[i] = rng.Float32()
	}
	a := tensor.New(tensor.WithShape(m, k), tensor.WithBacking(av))
	b := tensor.New(tensor.WithShape(k, n), tensor.WithBacking(bv))
	c, err := a.MatMul(b)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, m*n)
	gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, av, k, bv, n, 0, want, n)
	got := c.Data().([]float32)
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-4*float64(k) {
			t.Fatalf("C[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if _, ok := tensor.WhichBLAS().(Implementation); !ok {
		t.Fatalf("tensor BLAS is %T after Install", tensor.WhichBLAS())
	}
}

func TestKernelInUse(t *testing.T) {
	t.Logf("float32 kernel %s, float64 kernel %s", sgemmCfg.name, dgemmCfg.name)
}

// TestNoAllocs checks that a serial product allocates nothing once the
// packing buffers are pooled.
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates: allocation counts are not checked under -race")
	}
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	const n = 100
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	allocs := testing.AllocsPerRun(20, func() {
		Sgemm(false, true, n, n, n, 1, a, n, b, n, 0, c, n)
	})
	if allocs > 0 {
		t.Errorf("Sgemm allocated %v times per call", allocs)
	}
}
