package blas

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// kerago's parallel loops (the blocked products here, the operations of
// graph/ops) share one set of helper goroutines, one per CPU beyond the
// first. A call publishes its ranges as the current job and claims them
// one at a time itself; idle helpers claim the rest. Nothing waits for a
// helper to wake up: a call whose helpers are asleep claims every range
// itself, as a serial loop would, and a helper that wakes late finds
// nothing left. Helpers spin for a while after each job before they sleep
// (helperSpin), as OpenMP runtimes do, so that a program calling parallel
// loops back to back (a training step's operations, a server's Predict
// calls) hands ranges over in well under a microsecond instead of waking a
// sleeping thread, which costs tens of microseconds on a virtual machine.
// One job is current at a time: a call made while another is current (a
// loop nested in another's range, or a second goroutine's loop) runs all
// its ranges on its own goroutine, so nesting never deadlocks and never
// oversubscribes the CPUs.

// helperSpin is how long a helper keeps looking for work after its last
// range before it sleeps.
const helperSpin = 200 * time.Microsecond

// rangeJob is one SplitRange call. Its fields are written only while no
// helper holds a reference (refs) and before it is published, so a
// helper that sees it current reads them consistently.
type rangeJob struct {
	f    func(lo, hi int)
	n, p int
	next atomic.Int64 // the next range to claim
	done atomic.Int64 // ranges finished
	refs atomic.Int32 // helpers looking at the job
}

var (
	helpersOnce sync.Once
	current     atomic.Pointer[rangeJob] // the job helpers work on, or nil
	sleeping    atomic.Int32             // helpers asleep or about to be
	wake        chan struct{}            // one token per helper to wake
	rangeJobs   = sync.Pool{New: func() any { return new(rangeJob) }}
)

// startHelpers starts one helper per CPU beyond the first (at least one,
// so that a later GOMAXPROCS increase still finds a helper).
func startHelpers() {
	n := max(runtime.NumCPU()-1, 1)
	wake = make(chan struct{}, n)
	for i := range n {
		go helper(i)
	}
}

// helper i claims ranges of the current job; without one it spins for
// helperSpin, reading the job pointer (and now and then yielding its
// thread to any other runnable goroutine), then sleeps until a call wakes
// it. Only the first GOMAXPROCS−1 helpers spin: the others (a machine
// whose CPUs the process may not all use, a container's quota say) would
// take turns with the callers for the processors, so they sleep as soon
// as they are idle.
func helper(i int) {
	idleSince := time.Now()
	spinner := i < runtime.GOMAXPROCS(0)-1 // read again after each sleep
	for spins := 1; ; spins++ {
		j := current.Load()
		if j == nil {
			if spinner && spins%1024 != 0 {
				continue
			}
			if !spinner || time.Since(idleSince) > helperSpin {
				sleeping.Add(1)
				if current.Load() == nil {
					<-wake
				}
				sleeping.Add(-1)
				idleSince = time.Now()
				spinner = i < runtime.GOMAXPROCS(0)-1
				continue
			}
			runtime.Gosched()
			continue
		}
		j.refs.Add(1)
		if current.Load() == j { // still published: its fields are this call's
			j.run()
		}
		j.refs.Add(-1)
		idleSince = time.Now()
	}
}

// run claims and runs ranges of j until none is left.
func (j *rangeJob) run() {
	for {
		i := int(j.next.Add(1) - 1)
		if i >= j.p {
			return
		}
		j.f(i*j.n/j.p, (i+1)*j.n/j.p)
		j.done.Add(1)
	}
}

// SplitRange calls f on p contiguous ranges [lo, hi) covering [0, n)
// (the ranges of p > n are empty and skipped), concurrently on the calling
// goroutine and the shared helpers that are free, and returns when all are
// done. Ranges never overlap, so f may write the elements of its own
// range; which goroutine runs which range is not fixed.
func SplitRange(n, p int, f func(lo, hi int)) {
	p = min(p, n)
	if p <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	if current.Load() != nil { // another job is current: this one runs here, whole
		splitInline(n, p, f)
		return
	}
	helpersOnce.Do(startHelpers)
	j := rangeJobs.Get().(*rangeJob)
	j.f, j.n, j.p = f, n, p
	j.next.Store(0)
	j.done.Store(0)
	if !current.CompareAndSwap(nil, j) { // one became current meanwhile
		j.f = nil
		rangeJobs.Put(j)
		splitInline(n, p, f)
		return
	}
	// Wake as many sleeping helpers as there are ranges beyond the first.
	for range min(int(sleeping.Load()), p-1) {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	j.run()
	current.Store(nil)
	// Wait for the ranges helpers claimed, then for every helper to let
	// go of the job before it is reused.
	for spins := 0; j.done.Load() < int64(p) || j.refs.Load() != 0; spins++ {
		if spins > 16 {
			runtime.Gosched()
		}
	}
	j.f = nil
	rangeJobs.Put(j)
}

// splitInline is SplitRange's p ranges run one after the other on the
// calling goroutine.
func splitInline(n, p int, f func(lo, hi int)) {
	for i := range p {
		f(i*n/p, (i+1)*n/p)
	}
}
