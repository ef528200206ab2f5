package blas

import "unsafe"

// PackedB is a matrix op(B) (k×n) packed once into the micro-panels of
// this package's blocked product, for many products C = alpha·op(A)·op(B)
// + beta·C against it. Recurrent layers multiply every step's state by
// the same recurrent kernel; packing it once per sequence instead of once
// per step saves a copy of the kernel per step, which for their small
// products costs about as much as the arithmetic.
//
// T is float32 or float64. The zero value is empty; Pack fills it,
// reusing its memory. Gemm only reads the packed panels, so goroutines
// may share one PackedB for products into disjoint parts of C.
type PackedB[T Float] struct {
	k, n int
	data []T
}

// cfgOf is the product configuration for T.
func cfgOf[T Float]() *config[T] {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return any(sgemmCfg).(*config[T])
	}
	return any(dgemmCfg).(*config[T])
}

// K is the packed matrix's row count.
func (p *PackedB[T]) K() int { return p.k }

// N is the packed matrix's column count.
func (p *PackedB[T]) N() int { return p.n }

// Pack packs op(B), k×n, with b's row stride ldb (op(B) = Bᵀ when
// transB). It panics, as Sgemm does, on bad sizes, strides or lengths.
func (p *PackedB[T]) Pack(transB bool, k, n int, b []T, ldb int) {
	if k < 0 {
		panic(kLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	checkLdB(transB, n, k, ldb)
	if k > 0 && n > 0 {
		checkLenB(transB, n, k, len(b), ldb)
	}
	cfg := cfgOf[T]()
	p.k, p.n = k, n
	size := 0
	for jc := 0; jc < n; jc += cfg.nc {
		size += k * roundUp(min(cfg.nc, n-jc), cfg.nr)
	}
	if cap(p.data) < size {
		p.data = make([]T, size)
	}
	p.data = p.data[:size]
	off := 0
	for jc := 0; jc < n; jc += cfg.nc {
		nb := min(cfg.nc, n-jc)
		w := roundUp(nb, cfg.nr)
		for pc := 0; pc < k; pc += cfg.kc {
			kb := min(cfg.kc, k-pc)
			dst := p.data[off : off+kb*w]
			if src := packB(transB, b, ldb, pc, jc, kb, nb, dst, cfg.nr); &src[0] != &dst[0] {
				copy(dst, src) // B was its own packing: keep a copy
			}
			off += kb * w
		}
	}
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C on the calling goroutine,
// op(A) m×k with a's row stride lda (op(A) = Aᵀ when transA), op(B) the
// packed matrix, C m×n with row stride ldc. With beta = 0, C is not read.
// It panics, as Sgemm does, on bad sizes, strides or lengths.
func (p *PackedB[T]) Gemm(transA bool, m int, alpha T, a []T, lda int, beta T, c []T, ldc int) {
	k, n := p.k, p.n
	if m == 0 || n == 0 {
		return
	}
	checkDims(transA, false, m, n, k, lda, max(1, n), ldc)
	if transA {
		if len(a) < (k-1)*lda+m && k > 0 {
			panic(shortA)
		}
	} else if len(a) < (m-1)*lda+k {
		panic(shortA)
	}
	if len(c) < (m-1)*ldc+n {
		panic(shortC)
	}
	if alpha == 0 || k == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	cfg := cfgOf[T]()
	bufs := cfg.getBuffers(0)
	defer cfg.pool.Put(bufs)
	mc, kc, nc := cfg.mc, cfg.kc, cfg.nc
	off := 0
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		w := roundUp(nb, cfg.nr)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			bp := p.data[off : off+kb*w]
			off += kb * w
			bt := beta
			if pc > 0 {
				bt = 1
			}
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				packA(transA, a, lda, ic, pc, mb, kb, bufs.a, cfg.mr)
				macroKernel(cfg, mb, nb, kb, alpha, bufs.a, bp, bt, c[ic*ldc+jc:], ldc, bufs.tile)
			}
		}
	}
}
