package blas

import (
	"runtime"
	"sync"
	"unsafe"
)

// microKernel computes one mr×nr tile of C from packed panels:
//
//	C[i*ldc+j] = alpha·Σ_p a[p*mr+i]·b[p*nr+j] + beta·C[i*ldc+j]
//
// for i < mr, j < nr, p < k. With beta = 0, C is only written. The
// assembly kernels and the pure-Go kernels share this signature.
type microKernel[T Float] func(k int, a, b, c *T, ldc int, alpha, beta T)

// config describes one blocked product: the micro-kernel and its tile
// (mr×nr), the cache blocking (mc rows of A, kc depth, nc columns of B;
// mc is a multiple of mr and nc of nr) and the pool of packing buffers.
type config[T Float] struct {
	name           string // kernel name, for tests and benchmarks
	mr, nr         int
	mc, kc, nc     int
	kernel         microKernel[T]
	smallThreshold int // m·n·k at or below which the product skips packing
	parallelMin    int // work (see gemm) from which the product is split over goroutines
	// rowKernel, when set, computes rowWidth columns of one row of C from
	// an unpacked row of A and B, and rowKernel4, when set, of four rows
	// (see rowProduct); rowRows is the most rows of C rowProduct handles
	// (above it, packing pays). With AVX-512's four-row kernel the unpacked
	// product runs near the FMA units' peak up to 256 rows: Sgemm at 128
	// and 256 and the Dense shape 128×784×128 went from 147, 168 and 135
	// GFLOP/s packed to 205, 198 and 197 unpacked on one core.
	rowKernel  func(k int, a, b *T, ldb int, c *T, alpha, beta T)
	rowKernel4 func(k int, a *T, lda int, b *T, ldb int, c *T, ldc int, alpha, beta T)
	// rowKernelMask, when set, computes the columns in mask (at most
	// rowMaskWidth) of 1 to 4 rows of C the same way: rowProduct's
	// columns past the last multiple of rowWidth, which makes it take
	// products of any width.
	rowKernelMask func(k, rows int, a *T, lda int, b *T, ldb int, c *T, ldc int, alpha, beta T, mask uint32)
	rowRows       int
	pool          sync.Pool // *buffers[T]
	rowJobs       sync.Pool // *rowJob[T]
	funcs         sync.Pool // *gemmFunc[T]
	jobs          sync.Pool // *gemmJob[T]
}

// rowWidth is the number of columns the row kernels compute;
// rowMaskWidth the most the masked row kernel computes.
const (
	rowWidth     = 64
	rowMaskWidth = 16
)

// buffers are one goroutine's packing buffers; src is GemmFunc's buffer
// for the blocks of A it fills and parts splitK's partial sums (both
// allocated on first use).
type buffers[T Float] struct {
	a, b, tile, src, parts []T
}

func (cfg *config[T]) getBuffers(nb int) *buffers[T] {
	bufs, _ := cfg.pool.Get().(*buffers[T])
	if bufs == nil {
		bufs = &buffers[T]{
			a:    make([]T, cfg.mc*cfg.kc),
			tile: make([]T, cfg.mr*cfg.nr),
		}
	}
	need := cfg.kc * roundUp(min(nb, cfg.nc), cfg.nr)
	if cap(bufs.b) < need {
		bufs.b = make([]T, need)
	}
	return bufs
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// gemm computes C = alpha·op(A)·op(B) + beta·C; the arguments have been
// checked and m, n are positive.
func gemm[T Float](cfg *config[T], tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if alpha == 0 || k == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	if m*n*k <= cfg.smallThreshold {
		naive(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if cfg.rowKernel != nil && m <= cfg.rowRows && (n >= rowWidth || cfg.rowKernelMask != nil) && !tA && !tB && m*n*k < rowMaxWork {
		rowProductSplit(cfg, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	// Work estimate: the multiply-adds plus a charge for writing C, which
	// dominates when k is small. Products worth about 20µs of work or more
	// are split in equal shares (parallelMin): a helper spinning between
	// jobs takes its share within a microsecond, and a share whose helper
	// is asleep is claimed by the caller after its own, so the split costs
	// little even then.
	work := m*n*k + 16*m*n
	threads := runtime.GOMAXPROCS(0)
	if threads < 2 || work < cfg.parallelMin {
		gemmSerial(cfg, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}

	splitN, size, per := splitPlan(m, n, cfg.mr, cfg.nr, threads)
	if per >= size {
		gemmSerial(cfg, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	j := cfg.getGemmJob()
	defer cfg.putGemmJob(j)
	*j = gemmJob[T]{cfg: cfg, tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
		splitN: splitN, size: size, per: per, shares: j.shares}
	shares := (size + per - 1) / per
	SplitRange(shares, shares, j.shares)
}

// gemmJob is one blocked product split over goroutines: its arguments and
// the split, and the SplitRange callback over its shares, made once per job
// and reading its fields; jobs are reused through the configuration's
// pool, so that a split product allocates nothing.
type gemmJob[T Float] struct {
	cfg           *config[T]
	tA, tB        bool
	m, n, k       int
	alpha, beta   T
	a, b, c       []T
	lda, ldb, ldc int
	splitN        bool
	size, per     int
	shares        func(s0, s1 int)
}

// getGemmJob returns a pooled gemmJob of cfg (its callback made);
// putGemmJob gives it back, dropping its references to the caller's data.
func (cfg *config[T]) getGemmJob() *gemmJob[T] {
	if j, ok := cfg.jobs.Get().(*gemmJob[T]); ok {
		return j
	}
	j := &gemmJob[T]{}
	j.shares = func(s0, s1 int) {
		for s := s0; s < s1; s++ {
			j.share(s)
		}
	}
	return j
}

func (cfg *config[T]) putGemmJob(j *gemmJob[T]) {
	j.a, j.b, j.c = nil, nil, nil
	cfg.jobs.Put(j)
}

// share computes the job's share s: rows (or columns, splitN) [s·per,
// (s+1)·per) of C.
func (j *gemmJob[T]) share(s int) {
	lo, hi := s*j.per, min((s+1)*j.per, j.size)
	sa, sb, sc := j.a, j.b, j.c
	sm, sn := j.m, j.n
	if j.splitN {
		sn = hi - lo
		sc = j.c[lo:]
		if j.tB {
			sb = j.b[lo*j.ldb:]
		} else {
			sb = j.b[lo:]
		}
	} else {
		sm = hi - lo
		sc = j.c[lo*j.ldc:]
		if j.tA {
			sa = j.a[lo:]
		} else {
			sa = j.a[lo*j.lda:]
		}
	}
	gemmSerial(j.cfg, j.tA, j.tB, sm, sn, j.k, j.alpha, sa, j.lda, sb, j.ldb, j.beta, sc, j.ldc)
}

// splitPlan shares an m×n product among threads goroutines: it splits the
// longer of m and n (n when splitN), of size elements, in shares of per
// elements, whole micro-tiles of mr rows or nr columns. Each goroutine packs
// the whole of the other operand, so this duplicates the smaller one. per >=
// size means a single share.
func splitPlan(m, n, mr, nr, threads int) (splitN bool, size, per int) {
	splitN = n >= m
	size, unit := m, mr
	if splitN {
		size, unit = n, nr
	}
	if size < 2*unit { // too narrow to split that way: try the other
		splitN = !splitN
		size, unit = m, mr
		if splitN {
			size, unit = n, nr
		}
	}
	return splitN, size, roundUp((size+threads-1)/threads, unit)
}

// gemmSerial is the blocked, packed product on one goroutine.
func gemmSerial[T Float](cfg *config[T], tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	bufs := cfg.getBuffers(n)
	defer cfg.pool.Put(bufs)
	mc, kc, nc := cfg.mc, cfg.kc, cfg.nc
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			bp := packB(tB, b, ldb, pc, jc, kb, nb, bufs.b, cfg.nr)
			bt := beta
			if pc > 0 {
				bt = 1
			}
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				packA(tA, a, lda, ic, pc, mb, kb, bufs.a, cfg.mr)
				macroKernel(cfg, mb, nb, kb, alpha, bufs.a, bp, bt, c[ic*ldc+jc:], ldc, bufs.tile)
			}
		}
	}
}

// macroKernel multiplies a packed mb×kb block of A by a packed kb×nb
// panel of B into the mb×nb block of C at c.
func macroKernel[T Float](cfg *config[T], mb, nb, kb int, alpha T, ap, bp []T, beta T, c []T, ldc int, tile []T) {
	mr, nr, kernel := cfg.mr, cfg.nr, cfg.kernel
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		pb := &bp[jr*kb]
		for ir := 0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			pa := &ap[ir*kb]
			if rows == mr && cols == nr {
				kernel(kb, pa, pb, &c[ir*ldc+jr], ldc, alpha, beta)
				continue
			}
			// Edge tile: compute it whole into the scratch tile, then
			// merge the part inside C.
			kernel(kb, pa, pb, &tile[0], nr, alpha, 0)
			for i := 0; i < rows; i++ {
				dst := c[(ir+i)*ldc+jr : (ir+i)*ldc+jr+cols]
				src := tile[i*nr : i*nr+cols]
				if beta == 0 {
					copy(dst, src)
				} else {
					for j, v := range src {
						dst[j] = v + beta*dst[j]
					}
				}
			}
		}
	}
}

// packA packs the mb×kb block of op(A) starting at row i0, column p0 into
// dst as micro-panels of mr rows: element (i, p) of a micro-panel is at
// p*mr+i. Rows past mb are zero.
func packA[T Float](tA bool, a []T, lda, i0, p0, mb, kb int, dst []T, mr int) {
	for ir := 0; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		d := dst[ir*kb : ir*kb+mr*kb]
		if tA {
			// op(A)(i, p) = a[p*lda+i]: rows of the panel are contiguous.
			// Copy whole runs: a full panel is mr contiguous elements
			// of each row of A.
			src := a[(p0)*lda+i0+ir:]
			if rows == mr {
				for p := 0; p < kb; p++ {
					copy(d[p*mr:p*mr+mr], src[p*lda:p*lda+mr])
				}
				continue
			}
			for p := 0; p < kb; p++ {
				dp := d[p*mr : p*mr+mr]
				copy(dp, src[p*lda:p*lda+rows])
				clear(dp[rows:])
			}
			continue
		}
		// op(A)(i, p) = a[i*lda+p]: six rows at a time when mr is a
		// multiple of six.
		if rows == mr && mr%6 == 0 {
			for g := 0; g < mr; g += 6 {
				row := (i0 + ir + g) * lda
				r0 := a[row+p0:]
				r0 = r0[:kb]
				r1 := a[row+lda+p0:]
				r1 = r1[:kb]
				r2 := a[row+2*lda+p0:]
				r2 = r2[:kb]
				r3 := a[row+3*lda+p0:]
				r3 = r3[:kb]
				r4 := a[row+4*lda+p0:]
				r4 = r4[:kb]
				r5 := a[row+5*lda+p0:]
				r5 = r5[:kb]
				for p := range r0 {
					dp := d[p*mr+g : p*mr+g+6]
					dp[0], dp[1], dp[2] = r0[p], r1[p], r2[p]
					dp[3], dp[4], dp[5] = r3[p], r4[p], r5[p]
				}
			}
			continue
		}
		for i := 0; i < rows; i++ {
			src := a[(i0+ir+i)*lda+p0:]
			src = src[:kb]
			for p, v := range src {
				d[p*mr+i] = v
			}
		}
		for i := rows; i < mr; i++ {
			for p := 0; p < kb; p++ {
				d[p*mr+i] = 0
			}
		}
	}
}

// packB packs the kb×nb block of op(B) starting at row p0, column j0 into
// dst as micro-panels of nr columns: element (p, j) of a micro-panel is at
// p*nr+j. Columns past nb are zero. It returns the packed block: dst, or,
// when B is stored as that one micro-panel already (not transposed, nr
// columns wide: a convolution's output gradient with nr filters), B's own
// rows, copied nowhere.
func packB[T Float](tB bool, b []T, ldb, p0, j0, kb, nb int, dst []T, nr int) []T {
	if !tB && j0 == 0 && nb == nr && ldb == nr {
		return b[p0*ldb : (p0+kb)*ldb]
	}
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		d := dst[jr*kb : jr*kb+nr*kb]
		if !tB {
			// op(B)(p, j) = b[p*ldb+j]: rows of the panel are contiguous.
			for p := 0; p < kb; p++ {
				src := b[(p0+p)*ldb+j0+jr:]
				src = src[:cols]
				dp := d[p*nr : p*nr+nr]
				copy(dp, src)
				for j := cols; j < nr; j++ {
					dp[j] = 0
				}
			}
			continue
		}
		// op(B)(p, j) = b[j*ldb+p]: four columns at a time when nr is a
		// multiple of four.
		if cols == nr && nr%4 == 0 {
			for g := 0; g < nr; g += 4 {
				col := (j0 + jr + g) * ldb
				s0 := b[col+p0:]
				s0 = s0[:kb]
				s1 := b[col+ldb+p0:]
				s1 = s1[:kb]
				s2 := b[col+2*ldb+p0:]
				s2 = s2[:kb]
				s3 := b[col+3*ldb+p0:]
				s3 = s3[:kb]
				for p := range s0 {
					dp := d[p*nr+g : p*nr+g+4]
					dp[0], dp[1], dp[2], dp[3] = s0[p], s1[p], s2[p], s3[p]
				}
			}
			continue
		}
		for j := 0; j < cols; j++ {
			src := b[(j0+jr+j)*ldb+p0:]
			src = src[:kb]
			for p, v := range src {
				d[p*nr+j] = v
			}
		}
		for j := cols; j < nr; j++ {
			for p := 0; p < kb; p++ {
				d[p*nr+j] = 0
			}
		}
	}
	return dst
}

// scale sets C = beta·C (C = 0 for beta = 0, without reading C).
func scale[T Float](m, n int, beta T, c []T, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// rowMaxWork bounds the products (m·n·k) gemm gives rowProduct: past it,
// B is too large to stream once per four rows of C, and packing pays.
const rowMaxWork = 1 << 25

// rowSplitMin is the work (m·n·k) from which rowProductSplit splits the
// rows over goroutines: with helpers spinning between jobs (SplitRange)
// a range is handed over in well under a microsecond, and a product of
// 2^18 multiply-adds takes about 1.3µs on one core.
const rowSplitMin = 1 << 18

// rowProductSplit is rowProduct with the rows of C split in two halves
// (in groups of four rows) over the calling goroutine and a helper, when
// the product is large enough and there are at least eight rows (a batch
// through a Dense layer: 32 samples through 784→128 take 29µs on one
// core). Two halves rather than finer ranges: the caller claims the first
// and a helper the second, the same halves a model's input feed copies
// (train's feedSplit), so that each core multiplies the rows it wrote and
// none pulls the other's rows out of its cache.
func rowProductSplit[T Float](cfg *config[T], m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	groups := (m + 3) / 4
	if m < 8 || m*n*k < rowSplitMin || runtime.GOMAXPROCS(0) < 2 {
		rowProduct(cfg, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	j, _ := cfg.rowJobs.Get().(*rowJob[T])
	if j == nil {
		j = &rowJob[T]{}
		j.groups = func(g0, g1 int) {
			r0, r1 := 4*g0, min(4*g1, j.m)
			rowProduct(j.cfg, r1-r0, j.n, j.k, j.alpha, j.a[r0*j.lda:], j.lda, j.b, j.ldb, j.beta, j.c[r0*j.ldc:], j.ldc)
		}
	}
	j.cfg, j.m, j.n, j.k, j.alpha, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc = cfg, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc
	SplitRange(groups, 2, j.groups)
	j.a, j.b, j.c = nil, nil, nil
	cfg.rowJobs.Put(j)
}

// rowJob is one rowProductSplit call: its arguments and the SplitRange
// callback over groups of four rows, made once per job and reading its
// fields; jobs are reused through the configuration's pool, so a split
// product allocates nothing.
type rowJob[T Float] struct {
	cfg           *config[T]
	m, n, k       int
	alpha, beta   T
	a, b, c       []T
	lda, ldb, ldc int
	groups        func(g0, g1 int)
}

// rowProduct computes C = alpha·A·B + beta·C for a few rows of A (neither
// operand transposed, a product too small to split over goroutines)
// without packing: each row of C is the rows of B weighted by the row of
// A, rowWidth columns at a time, four rows of C at a time by
// cfg.rowKernel4 when there is one (B streamed once per four rows) and
// the rest by cfg.rowKernel; the columns past the last multiple of
// rowWidth by cfg.rowKernelMask when there is one, else in Go. For a few
// samples through a Dense layer, packing B would cost about as much as
// the product itself.
func rowProduct[T Float](cfg *config[T], m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	full := n - n%rowWidth
	four := 0
	if cfg.rowKernel4 != nil {
		four = m - m%4
	}
	for i := 0; i < four; i += 4 {
		for j := 0; j < full; j += rowWidth {
			cfg.rowKernel4(k, &a[i*lda], lda, &b[j], ldb, &c[i*ldc+j], ldc, alpha, beta)
		}
	}
	for i := four; i < m && full > 0; i++ {
		for j := 0; j < full; j += rowWidth {
			cfg.rowKernel(k, &a[i*lda], &b[j], ldb, &c[i*ldc+j], alpha, beta)
		}
	}
	if full == n {
		return
	}
	if cfg.rowKernelMask != nil {
		for j := full; j < n; j += rowMaskWidth {
			mask := uint32(1)<<min(rowMaskWidth, n-j) - 1
			for i := 0; i < m; i += 4 {
				cfg.rowKernelMask(k, min(4, m-i), &a[i*lda], lda, &b[j], ldb, &c[i*ldc+j], ldc, alpha, beta, mask)
			}
		}
		return
	}
	for i := range m {
		arow, crow := a[i*lda:i*lda+k], c[i*ldc:i*ldc+n]
		var acc [rowWidth]T
		tail := acc[:n-full]
		for p, ap := range arow {
			for j, bv := range b[p*ldb+full : p*ldb+n] {
				tail[j] += ap * bv
			}
		}
		for j, v := range tail {
			if beta == 0 {
				crow[full+j] = alpha * v
			} else {
				crow[full+j] = alpha*v + beta*crow[full+j]
			}
		}
	}
}

// naive is the unpacked product for very small problems.
func naive[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	sai, sap := lda, 1
	if tA {
		sai, sap = 1, lda
	}
	sbp, sbj := ldb, 1
	if tB {
		sbp, sbj = 1, ldb
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			var s T
			for p := 0; p < k; p++ {
				s += a[i*sai+p*sap] * b[p*sbp+j*sbj]
			}
			if beta == 0 {
				row[j] = alpha * s
			} else {
				row[j] = alpha*s + beta*row[j]
			}
		}
	}
}

// kernelGo4x4 is the pure-Go 4×4 micro-kernel.
func kernelGo4x4[T Float](k int, a, b, c *T, ldc int, alpha, beta T) {
	as := unsafe.Slice(a, 4*k)
	bs := unsafe.Slice(b, 4*k)
	var c00, c01, c02, c03 T
	var c10, c11, c12, c13 T
	var c20, c21, c22, c23 T
	var c30, c31, c32, c33 T
	for p := 0; p < k; p++ {
		ap := as[4*p : 4*p+4 : 4*p+4]
		bp := bs[4*p : 4*p+4 : 4*p+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := ap[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := ap[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := ap[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := ap[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	cs := unsafe.Slice(c, 3*ldc+4)
	r0 := cs[0:4:4]
	r1 := cs[ldc : ldc+4 : ldc+4]
	r2 := cs[2*ldc : 2*ldc+4 : 2*ldc+4]
	r3 := cs[3*ldc : 3*ldc+4 : 3*ldc+4]
	if beta == 0 {
		r0[0], r0[1], r0[2], r0[3] = alpha*c00, alpha*c01, alpha*c02, alpha*c03
		r1[0], r1[1], r1[2], r1[3] = alpha*c10, alpha*c11, alpha*c12, alpha*c13
		r2[0], r2[1], r2[2], r2[3] = alpha*c20, alpha*c21, alpha*c22, alpha*c23
		r3[0], r3[1], r3[2], r3[3] = alpha*c30, alpha*c31, alpha*c32, alpha*c33
		return
	}
	r0[0], r0[1], r0[2], r0[3] = alpha*c00+beta*r0[0], alpha*c01+beta*r0[1], alpha*c02+beta*r0[2], alpha*c03+beta*r0[3]
	r1[0], r1[1], r1[2], r1[3] = alpha*c10+beta*r1[0], alpha*c11+beta*r1[1], alpha*c12+beta*r1[2], alpha*c13+beta*r1[3]
	r2[0], r2[1], r2[2], r2[3] = alpha*c20+beta*r2[0], alpha*c21+beta*r2[1], alpha*c22+beta*r2[2], alpha*c23+beta*r2[3]
	r3[0], r3[1], r3[2], r3[3] = alpha*c30+beta*r3[0], alpha*c31+beta*r3[1], alpha*c32+beta*r3[2], alpha*c33+beta*r3[3]
}

// kernelGo2x4 is the pure-Go 2×4 micro-kernel: eight accumulators, for
// targets with 16 floating-point registers (amd64), where the 4×4 kernel
// spills.
func kernelGo2x4[T Float](k int, a, b, c *T, ldc int, alpha, beta T) {
	as := unsafe.Slice(a, 2*k)
	bs := unsafe.Slice(b, 4*k)
	var c00, c01, c02, c03 T
	var c10, c11, c12, c13 T
	for p := 0; p < k; p++ {
		ap := as[2*p : 2*p+2 : 2*p+2]
		bp := bs[4*p : 4*p+4 : 4*p+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0, a1 := ap[0], ap[1]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	cs := unsafe.Slice(c, ldc+4)
	r0 := cs[0:4:4]
	r1 := cs[ldc : ldc+4 : ldc+4]
	if beta == 0 {
		r0[0], r0[1], r0[2], r0[3] = alpha*c00, alpha*c01, alpha*c02, alpha*c03
		r1[0], r1[1], r1[2], r1[3] = alpha*c10, alpha*c11, alpha*c12, alpha*c13
		return
	}
	r0[0], r0[1], r0[2], r0[3] = alpha*c00+beta*r0[0], alpha*c01+beta*r0[1], alpha*c02+beta*r0[2], alpha*c03+beta*r0[3]
	r1[0], r1[1], r1[2], r1[3] = alpha*c10+beta*r1[0], alpha*c11+beta*r1[1], alpha*c12+beta*r1[2], alpha*c13+beta*r1[3]
}

// goConfig is the blocked product with a pure-Go kernel: 2×4 on amd64
// and 386 (16 vector registers), 4×4 elsewhere (arm64 and most other
// targets have 32 and fuse the multiply-adds).
func goConfig[T Float](goarch string) *config[T] {
	cfg := &config[T]{
		name: "go4x4", mr: 4, nr: 4, mc: 128, kc: 256, nc: 2048,
		kernel:         kernelGo4x4[T],
		smallThreshold: 512,
		parallelMin:    1 << 17, // about 20µs of pure-Go work
	}
	if goarch == "amd64" || goarch == "386" {
		cfg.name, cfg.mr, cfg.kernel = "go2x4", 2, kernelGo2x4[T]
	}
	return cfg
}
