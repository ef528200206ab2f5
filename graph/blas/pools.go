package blas

import "sync"

// Pools is a pair of sync.Pools, one per float type: generic code (the
// operations of graph/ops, the optimizers) keeps per-type objects in them
// (scratch buffers, jobs whose callbacks are made once), so that a call
// allocates nothing in steady state.
type Pools struct{ f32, f64 sync.Pool }

// PoolFor is the pool of ps for T.
func PoolFor[T Float](ps *Pools) *sync.Pool {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return &ps.f32
	}
	return &ps.f64
}
