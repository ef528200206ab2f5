package blas

import (
	"runtime"
)

// FillA writes the block A[r0:r0+rows, c0:c0+cols] of a matrix A that is
// never stored whole into dst, row-major with row stride cols. It must
// write every element of the block.
type FillA[T Float] func(r0, c0, rows, cols int, dst []T)

// GemmFunc computes C = op(A)·op(B) + beta·C as Sgemm and Dgemm do with
// alpha = 1, except that A is not stored: fill produces the blocks of A
// the blocked product packs, at most the product's cache block of A (mc×kc
// elements) at a time, straight into a buffer that stays in cache. A is
// m×k, or k×m when transA (op(A) = Aᵀ). A convolution passes its im2col
// matrix this way, without writing the whole matrix to memory and reading
// it back.
//
// Each block of A is filled once per column block of C (nc columns, so
// once for n ≤ nc). Large products are split across goroutines as Sgemm
// splits them, so fill and post may be called concurrently, on disjoint
// blocks.
//
// post, when not nil, is called once for every block of C (rows
// [i0, i0+rows), columns [j0, j0+cols)) as soon as its values are final,
// on the goroutine that computed it, while the block is still in cache;
// the blocks are disjoint and cover C. It may rewrite the block (a bias
// and activation, say).
//
// It panics, as Sgemm does, on bad sizes, B and C strides or lengths.
func GemmFunc[T Float](transA, transB bool, m, n, k int, fill FillA[T], b []T, ldb int, beta T, c []T, ldc int, post func(i0, j0, rows, cols int)) {
	GemmFuncPacked(transA, transB, m, n, k, fill, nil, b, ldb, beta, c, ldc, post)
}

// PackA writes the block of op(A) with rows [i0, i0+rows) and columns
// [p0, p0+cols) into dst already packed as the product packs it: as
// micro-panels of mr rows, panel q (rows i0+q·mr onwards) at q·mr·cols,
// element (i, p) of a panel at p·mr+i, the rows of the last panel past
// rows zero. It reports false when it cannot produce this block, which the
// product then gets from its FillA instead (dst may have been written).
type PackA[T Float] func(i0, p0, rows, cols, mr int, dst []T) bool

// GemmFuncPacked is GemmFunc with a second source for A: pack, when not
// nil, writes each block of op(A) straight into the packed layout the
// micro-kernel reads, which saves copying every filled block into that
// layout; fill is used for the blocks pack declines. Results, concurrency
// and panics are GemmFunc's.
//
// A product with few rows and columns and a long depth (a convolution's
// kernel gradient) and no post is split across goroutines along its depth
// instead, each part summed into C at the end.
func GemmFuncPacked[T Float](transA, transB bool, m, n, k int, fill FillA[T], pack PackA[T], b []T, ldb int, beta T, c []T, ldc int, post func(i0, j0, rows, cols int)) {
	if m == 0 || n == 0 {
		return
	}
	lda := k
	if transA {
		lda = m
	}
	checkDims(transA, transB, m, n, k, max(1, lda), ldb, ldc)
	if k > 0 {
		checkLenB(transB, n, k, len(b), ldb)
	}
	if len(c) < (m-1)*ldc+n {
		panic(shortC)
	}
	cfg := cfgOf[T]()
	if k == 0 {
		scale(m, n, beta, c, ldc)
		if post != nil {
			post(0, 0, m, n)
		}
		return
	}
	// As gemm's estimate, plus a charge for filling A.
	work := m*n*k + 16*m*n + 16*m*k
	threads := runtime.GOMAXPROCS(0)
	f := cfg.getGemmFunc()
	defer cfg.putGemmFunc(f)
	f.tA, f.tB, f.k, f.fill, f.pack, f.b, f.ldb, f.beta, f.c, f.ldc, f.post = transA, transB, k, fill, pack, b, ldb, beta, c, ldc, post
	if threads >= 2 && post == nil && k >= 4*max(m, n) && k >= 2*threads*cfg.kc && work >= cfg.parallelMin/8 {
		f.splitK(m, n, threads)
		return
	}
	if threads < 2 || work < cfg.parallelMin {
		f.serial(0, 0, m, n)
		return
	}
	splitN, size, per := splitPlan(m, n, cfg.mr, cfg.nr, threads)
	if per >= size {
		f.serial(0, 0, m, n)
		return
	}
	f.m, f.n, f.splitN, f.size, f.per = m, n, splitN, size, per
	shares := (size + per - 1) / per
	SplitRange(shares, shares, f.shares)
}

// gemmFunc is one GemmFunc or GemmFuncPacked product. Its callbacks for
// SplitRange (shares, kRanges) are made once and read its fields, and the
// struct is reused through its configuration's pool: a product allocates
// nothing to run in parallel.
type gemmFunc[T Float] struct {
	cfg    *config[T]
	tA, tB bool
	k      int
	fill   FillA[T]
	pack   PackA[T]
	b      []T
	ldb    int
	beta   T
	c      []T
	ldc    int
	post   func(i0, j0, rows, cols int)

	// The split: m×n split along n (splitN) or m, size elements in shares
	// of per; or (splitK) the depth in ranges of per, partial sums in parts.
	m, n, size, per int
	splitN          bool
	parts           []T
	shares, kRanges func(lo, hi int)
}

// getGemmFunc returns a pooled gemmFunc of cfg; putGemmFunc gives it back,
// dropping its references to the caller's data and functions.
func (cfg *config[T]) getGemmFunc() *gemmFunc[T] {
	if f, ok := cfg.funcs.Get().(*gemmFunc[T]); ok {
		return f
	}
	f := &gemmFunc[T]{cfg: cfg}
	f.shares = func(s0, s1 int) {
		for s := s0; s < s1; s++ {
			lo, hi := s*f.per, min((s+1)*f.per, f.size)
			if f.splitN {
				f.serial(0, lo, f.m, hi-lo)
			} else {
				f.serial(lo, 0, hi-lo, f.n)
			}
		}
	}
	f.kRanges = func(r0, r1 int) {
		m, n := f.m, f.n
		for r := r0; r < r1; r++ {
			k0, k1 := r*f.per, min((r+1)*f.per, f.k)
			if r == 0 {
				f.serialK(0, 0, m, n, k0, k1, f.c, f.ldc, f.beta)
			} else {
				f.serialK(0, 0, m, n, k0, k1, f.parts[(r-1)*m*n:r*m*n], n, 0)
			}
		}
	}
	return f
}

func (cfg *config[T]) putGemmFunc(f *gemmFunc[T]) {
	f.fill, f.pack, f.b, f.c, f.post, f.parts = nil, nil, nil, nil, nil, nil
	cfg.funcs.Put(f)
}

// splitK computes C (no post) as threads products over contiguous ranges
// of the depth k, run concurrently: a product with few rows and columns
// and a long depth (a convolution's kernel gradient) cannot be split
// otherwise, and splitting it so packs each block of A and B only once.
// The first range accumulates into C with beta; the others are written
// (beta 0) into pooled scratch matrices, added to C in order at the end.
func (f *gemmFunc[T]) splitK(m, n, threads int) {
	f.m, f.n = m, n
	f.per = roundUp((f.k+threads-1)/threads, f.cfg.kc)
	ranges := (f.k + f.per - 1) / f.per
	scratch := f.cfg.getBuffers(0)
	defer f.cfg.pool.Put(scratch)
	if need := (ranges - 1) * m * n; cap(scratch.parts) < need {
		scratch.parts = make([]T, need)
	}
	f.parts = scratch.parts[:(ranges-1)*m*n]
	SplitRange(ranges, ranges, f.kRanges)
	for r := 1; r < ranges; r++ {
		part := f.parts[(r-1)*m*n : r*m*n]
		for i := 0; i < m; i++ {
			row := f.c[i*f.ldc : i*f.ldc+n]
			for j, v := range part[i*n : i*n+n] {
				row[j] += v
			}
		}
	}
}

// serial computes rows [i0, i0+m) and columns [j0, j0+n) of C on the
// calling goroutine.
func (f *gemmFunc[T]) serial(i0, j0, m, n int) {
	f.serialK(i0, j0, m, n, 0, f.k, f.c, f.ldc, f.beta)
}

// serialK computes rows [i0, i0+m) and columns [j0, j0+n) of the product
// over the depth range [k0, k1) only, into c (stride ldc, indexed as C)
// scaled by beta first, on the calling goroutine; post is called only
// when k1 is the whole depth.
func (f *gemmFunc[T]) serialK(i0, j0, m, n, k0, k1 int, c []T, ldc int, beta T) {
	cfg, k := f.cfg, k1
	bufs := cfg.getBuffers(n)
	defer cfg.pool.Put(bufs)
	mc, kc, nc := cfg.mc, cfg.kc, cfg.nc
	for jc := j0; jc < j0+n; jc += nc {
		nb := min(nc, j0+n-jc)
		for pc := k0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			bp := packB(f.tB, f.b, f.ldb, pc, jc, kb, nb, bufs.b, cfg.nr)
			bt := beta
			if pc > k0 {
				bt = 1
			}
			for ic := i0; ic < i0+m; ic += mc {
				mb := min(mc, i0+m-ic)
				if f.pack == nil || !f.pack(ic, pc, mb, kb, cfg.mr, bufs.a[:roundUp(mb, cfg.mr)*kb]) {
					if len(bufs.src) < cfg.mc*cfg.kc {
						bufs.src = make([]T, cfg.mc*cfg.kc)
					}
					src := bufs.src[:mb*kb]
					if f.tA {
						f.fill(pc, ic, kb, mb, src)
						packA(true, src, mb, 0, 0, mb, kb, bufs.a, cfg.mr)
					} else {
						f.fill(ic, pc, mb, kb, src)
						packA(false, src, kb, 0, 0, mb, kb, bufs.a, cfg.mr)
					}
				}
				macroKernel(cfg, mb, nb, kb, 1, bufs.a, bp, bt, c[ic*ldc+jc:], ldc, bufs.tile)
				if f.post != nil && pc+kb == f.k {
					f.post(ic, jc, mb, nb)
				}
			}
		}
	}
}
