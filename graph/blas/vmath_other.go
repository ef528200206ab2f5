//go:build !amd64 || purego

package blas

// vecMath reports whether the vector activations are available: never
// on this target.
const vecMath = false

func sigmoid32Vec(v *float32, n int)    { panic("blas: no vector sigmoid") }
func tanh32Vec(v *float32, n int)       { panic("blas: no vector tanh") }
func exp32Vec(v *float32, n int)        { panic("blas: no vector exp") }
func add32Vec(dst, src *float32, n int) { panic("blas: no vector add") }

func allFinite32Vec(v *float32, n int) bool                  { panic("blas: no vector finite check") }
func allFinite64Vec(v *float64, n int) bool                  { panic("blas: no vector finite check") }
func adam32Vec(w, grad, m, v *float32, n int, p *[8]float32) { panic("blas: no vector Adam") }
func copyFinite32Vec(dst, src *float32, n int) bool          { panic("blas: no vector finite check") }

func interleave6Vec(dst *float32, stride int, rows *[6]*float32, n int) {
	panic("blas: no vector interleave")
}

// vecGather reports whether PackGather runs in assembly: never on this
// target.
const vecGather = false

func packGather32Vec(dst *float32, mr int, src *float32, bases *int32, n int, loads *gatherLoad, nl int, smask uint32) {
	panic("blas: no vector gather")
}
