//go:build !amd64 || purego

package blas

// vecPool reports whether vector pooling and ReLU kernels are used: not
// on this target.
const vecPool = false

func maxInto32Vec(dst, src *float32, n int)           { panic("unreachable") }
func reluBiasRows32Vec(y, bias *float32, rows, c int) { panic("unreachable") }
func maxEq2x2RowVec(x, dx, y, gy *float32, nwin, c, wstep, r int, keep uint32) {
	panic("unreachable")
}
