package blas

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPackGather checks PackGather (assembly for float32 where the CPU has
// it) and its Go form against the definition on random plans: every row of
// a written panel column is its run's source value or zero, and every cell
// outside the written columns keeps its sentinel.
func TestPackGather(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		mr := []int{1, 4, 6, 8, 12, 16}[trial%6]
		panels := 1 + rng.IntN(4)
		cols := 1 + rng.IntN(40)
		src := make([]float32, 500)
		for i := range src {
			src[i] = float32(i + 1)
		}
		var g Gather
		g.Reset(mr)
		type run struct{ dst, row, src, n int }
		var runs []run
		stride := mr*cols + rng.IntN(5) // gaps between panels stay untouched
		for q := range panels {
			for row := 0; row < mr; {
				n := 1 + rng.IntN(mr-row)
				if rng.IntN(4) > 0 { // some rows supplied by no run
					r := run{q * stride, row, rng.IntN(60), n}
					runs = append(runs, r)
					g.AddRun(r.dst, r.row, r.src, r.n)
				}
				row += n
			}
		}
		if len(runs) == 0 {
			continue
		}
		bases := make([]int32, cols)
		for i := range bases {
			bases[i] = int32(rng.IntN(400))
		}
		want := make([]float32, panels*stride+3)
		for i := range want {
			want[i] = -1
		}
		for _, r := range runs {
			for p := range cols {
				col := want[r.dst+p*mr : r.dst+p*mr+mr]
				for i := range col {
					if col[i] == -1 {
						col[i] = 0
					}
				}
			}
		}
		for _, r := range runs {
			for p := range cols {
				for i := r.row; i < r.row+r.n; i++ {
					want[r.dst+p*mr+i] = src[int(bases[p])+r.src+i-r.row]
				}
			}
		}
		check := func(name string, got []float32) {
			t.Helper()
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("trial %d (%s, mr %d, %d columns): dst[%d] = %v, want %v", trial, name, mr, cols, i, got[i], want[i])
				}
			}
		}
		fresh := func() []float32 {
			d := make([]float32, len(want))
			for i := range d {
				d[i] = -1
			}
			return d
		}
		d := fresh()
		PackGather(&g, d, src, bases)
		check("PackGather", d)
		d = fresh()
		packGatherGo(&g, d, src, bases)
		check("Go", d)
		d64, s64 := make([]float64, len(want)), make([]float64, len(src))
		for i := range d64 {
			d64[i] = -1
		}
		for i := range s64 {
			s64[i] = float64(src[i])
		}
		PackGather(&g, d64, s64, bases)
		for i := range want {
			if d64[i] != float64(want[i]) {
				t.Fatalf("trial %d (float64): dst[%d] = %v, want %v", trial, i, d64[i], want[i])
			}
		}
	}
}

// TestPackGatherRefuses checks the panics of a bad plan or bad slices.
func TestPackGatherRefuses(t *testing.T) {
	panics := func(name, want string, f func()) {
		t.Helper()
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), want) {
				t.Errorf("%s: panic %v, want one containing %q", name, r, want)
			}
		}()
		f()
	}
	var g Gather
	panics("mr 17", "17 rows per panel", func() { g.Reset(17) })
	g.Reset(8)
	panics("run past the panel", "rows [6, 9) of a panel of 8", func() { g.AddRun(0, 6, 0, 3) })
	g.AddRun(0, 0, 5, 4)
	panics("overlap", "runs overlap", func() { g.AddRun(0, 2, 0, 3) })
	src, dst := make([]float32, 20), make([]float32, 16)
	panics("source too short", "runs read [5, 21) of a source of 20", func() { PackGather(&g, dst, src, []int32{0, 12}) })
	panics("source before 0", "runs read [-6,", func() { PackGather(&g, dst, src, []int32{-11}) })
	panics("dst too short", "columns write up to 24 of 16", func() { PackGather(&g, dst, src, []int32{0, 1, 2}) })
}
