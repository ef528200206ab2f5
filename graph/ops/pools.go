package ops

import "sync"

// dtypePools is a pair of sync.Pools, one per float type: generic code
// keeps per-dtype objects (scratch buffers, jobs whose callbacks are made
// once) in them, so that an operation allocates nothing per run.
type dtypePools struct{ f32, f64 sync.Pool }

// forT is the pool of ps for T.
func forT[T Float](ps *dtypePools) *sync.Pool {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return &ps.f32
	}
	return &ps.f64
}
