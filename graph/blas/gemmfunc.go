package blas

import (
	"runtime"
	"sync"
)

// FillA writes the block A[r0:r0+rows, c0:c0+cols] of a matrix A that is
// never stored whole into dst, row-major with row stride cols. It must
// write every element of the block.
type FillA[T float] func(r0, c0, rows, cols int, dst []T)

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
func GemmFunc[T float](transA, transB bool, m, n, k int, fill FillA[T], b []T, ldb int, beta T, c []T, ldc int, post func(i0, j0, rows, cols int)) {
	if m == 0 || n == 0 {
		return
	}
	lda := k
	if transA {
		lda = m
	}
	checkDims(transA, transB, m, n, k, max(1, lda), ldb, ldc)
	if transB {
		if len(b) < (n-1)*ldb+k && k > 0 {
			panic(shortB)
		}
	} else if k > 0 && len(b) < (k-1)*ldb+n {
		panic(shortB)
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
	f := gemmFunc[T]{cfg: cfg, tA: transA, tB: transB, k: k, fill: fill, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, post: post}
	if threads < 2 || work < cfg.parallelMin {
		f.serial(0, 0, m, n)
		return
	}
	splitN := n >= m
	size, unit := m, cfg.mr
	if splitN {
		size, unit = n, cfg.nr
	}
	if size < 2*unit {
		splitN = !splitN
		size, unit = m, cfg.mr
		if splitN {
			size, unit = n, cfg.nr
		}
	}
	per := roundUp((size+threads-1)/threads, unit)
	if per >= size {
		f.serial(0, 0, m, n)
		return
	}
	var wg sync.WaitGroup
	for lo := 0; lo < size; lo += per {
		hi := min(lo+per, size)
		i0, j0, sm, sn := lo, 0, hi-lo, n
		if splitN {
			i0, j0, sm, sn = 0, lo, m, hi-lo
		}
		if hi == size {
			f.serial(i0, j0, sm, sn)
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.serial(i0, j0, sm, sn)
		}()
	}
	wg.Wait()
}

// gemmFunc is one GemmFunc product.
type gemmFunc[T float] struct {
	cfg    *config[T]
	tA, tB bool
	k      int
	fill   FillA[T]
	b      []T
	ldb    int
	beta   T
	c      []T
	ldc    int
	post   func(i0, j0, rows, cols int)
}

// serial computes rows [i0, i0+m) and columns [j0, j0+n) of C on the
// calling goroutine.
func (f *gemmFunc[T]) serial(i0, j0, m, n int) {
	cfg, k, ldc := f.cfg, f.k, f.ldc
	bufs := cfg.getBuffers(n)
	defer cfg.pool.Put(bufs)
	if len(bufs.src) < cfg.mc*cfg.kc {
		bufs.src = make([]T, cfg.mc*cfg.kc)
	}
	mc, kc, nc := cfg.mc, cfg.kc, cfg.nc
	for jc := j0; jc < j0+n; jc += nc {
		nb := min(nc, j0+n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			packB(f.tB, f.b, f.ldb, pc, jc, kb, nb, bufs.b, cfg.nr)
			bt := f.beta
			if pc > 0 {
				bt = 1
			}
			for ic := i0; ic < i0+m; ic += mc {
				mb := min(mc, i0+m-ic)
				src := bufs.src[:mb*kb]
				if f.tA {
					f.fill(pc, ic, kb, mb, src)
					packA(true, src, mb, 0, 0, mb, kb, bufs.a, cfg.mr)
				} else {
					f.fill(ic, pc, mb, kb, src)
					packA(false, src, kb, 0, 0, mb, kb, bufs.a, cfg.mr)
				}
				macroKernel(cfg, mb, nb, kb, 1, bufs.a, bufs.b, bt, f.c[ic*ldc+jc:], ldc, bufs.tile)
				if f.post != nil && pc+kb == k {
					f.post(ic, jc, mb, nb)
				}
			}
		}
	}
}
