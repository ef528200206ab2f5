//go:build amd64 && !purego

package blas

// cpuid executes CPUID with the given EAX and ECX.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads extended control register 0 (XCR0).
func xgetbv() (eax, edx uint32)

// hasAVX2FMA reports whether the CPU has AVX2 and FMA and the OS saves
// the YMM registers.
func hasAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}

// hasAVX512 reports whether the CPU has AVX-512F (besides AVX2 and FMA)
// and the OS saves the ZMM registers.
func hasAVX512() bool {
	if !hasAVX2FMA() {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&0xe6 != 0xe6 { // XMM, YMM, opmask, ZMM
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<16) != 0 // AVX512F
}

// sgemmKernelAVX2 is the 6×16 float32 micro-kernel (see microKernel).
//
//go:noescape
func sgemmKernelAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)

// dgemmKernelAVX2 is the 6×8 float64 micro-kernel (see microKernel).
//
//go:noescape
func dgemmKernelAVX2(k int, a, b, c *float64, ldc int, alpha, beta float64)

// sgemmKernelAVX512 is the 12×32 float32 micro-kernel (see microKernel).
//
//go:noescape
func sgemmKernelAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)

// dgemmKernelAVX512 is the 12×16 float64 micro-kernel (see microKernel).
//
//go:noescape
func dgemmKernelAVX512(k int, a, b, c *float64, ldc int, alpha, beta float64)

// sgemvRow64AVX2 computes 64 columns of one row of C:
// c[j] = alpha·Σ_p a[p]·b[p·ldb+j] + beta·c[j] for j < 64, p < k (k > 0); with
// beta = 0, C is only written (AVX2 and FMA).
//
//go:noescape
func sgemvRow64AVX2(k int, a, b *float32, ldb int, c *float32, alpha, beta float32)

// sgemvRows4x64AVX512 computes 64 columns of four rows of C as
// sgemvRow64AVX2 does one: row r of A at a + r·lda, of C at c + r·ldc
// (AVX-512F; k > 0).
//
//go:noescape
func sgemvRows4x64AVX512(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// sgemvRows4x16MaskAVX512 computes the columns in mask (at most the
// first 16) of rows (1 to 4) rows of C as sgemvRows4x64AVX512 does, row r
// of A at a + r·lda, of C at c + r·ldc (AVX-512F; k > 0): the columns of a
// product narrower than 64 (a classifier's ten outputs), or the last ones.
//
//go:noescape
func sgemvRows4x16MaskAVX512(k, rows int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, mask uint32)

var (
	useAVX2   = hasAVX2FMA()
	useAVX512 = hasAVX512()
)

var (
	sgemmCfg = newConfig(avx512SConfig, avx2SConfig)
	dgemmCfg = newConfig(avx512DConfig, avx2DConfig)
)

// newConfig is the configuration this CPU runs best: the AVX-512 one, else
// the AVX2 one, else the pure-Go kernel.
func newConfig[T Float](avx512, avx2 func() *config[T]) *config[T] {
	if useAVX512 {
		return avx512()
	}
	if !useAVX2 {
		return goConfig[T]("amd64")
	}
	return avx2()
}

func avx2SConfig() *config[float32] {
	return &config[float32]{
		name: "avx2-6x16", mr: 6, nr: 16, mc: 144, kc: 256, nc: 4080,
		kernel:         sgemmKernelAVX2,
		smallThreshold: 512,
		parallelMin:    2 << 20,
		rowKernel:      sgemvRow64AVX2,
		rowRows:        4,
	}
}

func avx2DConfig() *config[float64] {
	return &config[float64]{
		name: "avx2-6x8", mr: 6, nr: 8, mc: 96, kc: 256, nc: 2040,
		kernel:         dgemmKernelAVX2,
		smallThreshold: 512,
		parallelMin:    1 << 20,
	}
}

func avx512SConfig() *config[float32] {
	return &config[float32]{
		name: "avx512-12x32", mr: 12, nr: 32, mc: 144, kc: 192, nc: 4096,
		kernel:         sgemmKernelAVX512,
		smallThreshold: 512,
		parallelMin:    4 << 20,
		rowKernel:      sgemvRow64AVX2,
		rowKernel4:     sgemvRows4x64AVX512,
		rowKernelMask:  sgemvRows4x16MaskAVX512,
		rowRows:        256,
	}
}

func avx512DConfig() *config[float64] {
	return &config[float64]{
		name: "avx512-12x16", mr: 12, nr: 16, mc: 96, kc: 192, nc: 2048,
		kernel:         dgemmKernelAVX512,
		smallThreshold: 512,
		parallelMin:    2 << 20,
	}
}

// archConfigs are the assembly configurations this CPU can run (for tests
// and benchmarks).
func archConfigs() (s []*config[float32], d []*config[float64]) {
	if useAVX2 {
		s, d = append(s, avx2SConfig()), append(d, avx2DConfig())
	}
	if useAVX512 {
		s, d = append(s, avx512SConfig()), append(d, avx512DConfig())
	}
	return s, d
}
