//go:build amd64 && !purego

package blas

// vecPool reports whether the AVX2 pooling and ReLU kernels are used.
var vecPool = useAVX2

// maxInto32Vec is MaxInto32 on n elements, n a positive multiple of 8.
//
//go:noescape
func maxInto32Vec(dst, src *float32, n int)

// reluBiasRows32Vec is ReLUBiasRows32 on rows rows of c elements, c a
// positive multiple of 8; bias nil means none.
//
//go:noescape
func reluBiasRows32Vec(y, bias *float32, rows, c int)

// maxEq2x2RowVec is MaxEq2x2RowF32 with c a positive multiple of 8 and
// nwin positive; keep is all ones without relu, else 0.
//
//go:noescape
func maxEq2x2RowVec(x, dx, y, gy *float32, nwin, c, wstep, r int, keep uint32)
