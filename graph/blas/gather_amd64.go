//go:build amd64 && !purego

package blas

// vecGather reports whether PackGather runs in assembly (AVX-512).
var vecGather = useAVX512

// packGather32Vec is PackGather on float32 for n > 0 columns and nl > 0
// runs; smask has the low mr bits set (AVX-512F).
//
//go:noescape
func packGather32Vec(dst *float32, mr int, src *float32, bases *int32, n int, loads *gatherLoad, nl int, smask uint32)
