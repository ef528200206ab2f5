package blas

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSplitRange checks that SplitRange covers [0, n) exactly once with p
// non-overlapping ranges, for p below, at and above n; that ranges nested
// inside ranges (a parallel product inside a parallel operation) complete
// without deadlock; that many goroutines may call it at once; and that
// calls made after the helpers have gone to sleep (past helperSpin) still
// cover their ranges, helped or not, also with one processor, where
// helpers do not spin.
func TestSplitRange(t *testing.T) {
	cover := func(n, p int) {
		hits := make([]int32, n)
		var calls atomic.Int32
		SplitRange(n, p, func(lo, hi int) {
			calls.Add(1)
			if lo >= hi {
				t.Errorf("n=%d p=%d: empty range [%d, %d)", n, p, lo, hi)
			}
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&hits[i], 1)
			}
		})
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("n=%d p=%d: element %d covered %d times", n, p, i, h)
			}
		}
		if want := min(max(p, 1), n); int(calls.Load()) != want {
			t.Fatalf("n=%d p=%d: %d ranges, want %d", n, p, calls.Load(), want)
		}
	}
	for _, n := range []int{0, 1, 2, 3, 7, 100} {
		for _, p := range []int{1, 2, 3, 8, 200} {
			cover(n, p)
		}
	}
	var total atomic.Int64
	SplitRange(4, 4, func(lo, hi int) {
		for range hi - lo {
			SplitRange(50, 4, func(lo, hi int) { total.Add(int64(hi - lo)) })
		}
	})
	if total.Load() != 200 {
		t.Fatalf("nested: %d elements, want 200", total.Load())
	}
	for range 20 {
		time.Sleep(helperSpin + 300*time.Microsecond)
		cover(64, 4)
	}
	// With one processor the helpers do not spin; calls still complete.
	procs := runtime.GOMAXPROCS(1)
	for range 20 {
		time.Sleep(helperSpin + 300*time.Microsecond)
		cover(64, 4)
		cover(7, 3)
	}
	runtime.GOMAXPROCS(procs)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				cover(64, 4)
			}
		}()
	}
	wg.Wait()
}
