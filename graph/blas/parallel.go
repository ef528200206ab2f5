package blas

import (
	"runtime"
	"sync"
)

// kerago's parallel loops (the blocked products here, the operations of
// graph/ops) share one pool of worker goroutines instead of starting
// goroutines per call: a call hands its ranges to idle workers through an
// unbuffered channel, so dispatch allocates nothing beyond the caller's
// closure, and a range no worker is free to take (all busy, or a loop
// nested in another's range) runs on the calling goroutine, so nesting
// never deadlocks and never oversubscribes the CPUs.

// rangeTask is one range of a SplitRange call.
type rangeTask struct {
	f      func(lo, hi int)
	lo, hi int
	done   *sync.WaitGroup
}

var (
	workersOnce sync.Once
	workerTasks chan rangeTask
	waitGroups  = sync.Pool{New: func() any { return new(sync.WaitGroup) }}
)

// startWorkers starts one worker per CPU beyond the first (at least one,
// so that a later GOMAXPROCS increase still finds a helper).
func startWorkers() {
	workerTasks = make(chan rangeTask)
	for range max(runtime.NumCPU()-1, 1) {
		go func() {
			for t := range workerTasks {
				t.f(t.lo, t.hi)
				t.done.Done()
			}
		}()
	}
}

// SplitRange calls f on p contiguous ranges [lo, hi) covering [0, n)
// (the ranges of p > n are empty and skipped), concurrently on the shared
// workers that are idle, the first range and any no worker takes on the
// calling goroutine, and returns when all are done. Ranges never overlap,
// so f may write the elements of its own range.
func SplitRange(n, p int, f func(lo, hi int)) {
	p = min(p, n)
	if p <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	workersOnce.Do(startWorkers)
	wg := waitGroups.Get().(*sync.WaitGroup)
	for i := 1; i < p; i++ {
		t := rangeTask{f: f, lo: i * n / p, hi: (i + 1) * n / p, done: wg}
		wg.Add(1)
		select {
		case workerTasks <- t:
		default:
			t.f(t.lo, t.hi)
			wg.Done()
		}
	}
	f(0, n/p)
	wg.Wait()
	waitGroups.Put(wg)
}
