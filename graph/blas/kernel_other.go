//go:build !amd64 || purego

package blas

import "runtime"

var (
	sgemmCfg = goConfig[float32](runtime.GOARCH)
	dgemmCfg = goConfig[float64](runtime.GOARCH)
)

// archConfigs are the assembly configurations this CPU can run: none.
func archConfigs() (s []*config[float32], d []*config[float64]) { return nil, nil }
