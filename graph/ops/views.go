package ops

import "gorgonia.org/tensor"

// Float64View returns t's values as float64s without allocating when it
// can: a float64 tensor's own backing slice, or a float32 tensor's values
// converted into *buf (grown when too short). For kernels written outside
// this package (the metrics' statistics).
func Float64View(t *tensor.Dense, buf *[]float64) []float64 { return float64View(t, buf) }

// StoreFloat64s writes data into out, a float32 or float64 tensor of
// len(data) elements, converting to out's dtype.
func StoreFloat64s(out *tensor.Dense, data []float64) { storeFloat64s(out, data) }
