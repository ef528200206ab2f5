package graph

import "github.com/kerago/kerago/graph/blas"

// Every Gorgonia matrix product (Dense layers, Gorgonia's own ops) runs on
// kerago's GEMM, the same one the custom ops call.
func init() { blas.Install() }
