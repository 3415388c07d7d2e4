package bridge

import (
	"runtime"
	"sync"
)

// A large fan-out is split across a few goroutines when the process may run
// on more than one CPU: a 720p keyframe for 100 subscribers is a few
// milliseconds of work, and split it reaches the last subscriber sooner.
// Each worker owns a contiguous share of the subscribers for the fan-out and
// is handed its share once per packet (audio) or frame (video), by
// reference; the caller sends the first share itself and waits for the
// others, so the shared packet stays put until every share is done.
const (
	// parallelMin is the fewest subscribers that are split: below it the
	// hand-off costs more than it saves.
	parallelMin = 32
	// maxFanWorkers is the most goroutines one fan-out uses, the caller's
	// included.
	maxFanWorkers = 4
)

// fanShare is one worker's share: subscribers lo to hi-1.
type fanShare struct{ lo, hi int }

// fanOut runs work over [0, n) in shares. Its workers start with the first
// fan-out large enough to split and end with stop.
type fanOut struct {
	work    func(lo, hi int)
	procs   int // worker goroutines to use, the caller's excluded
	workers []chan fanShare
	wg      sync.WaitGroup
}

func newFanOut(work func(lo, hi int)) *fanOut {
	return &fanOut{work: work, procs: min(runtime.GOMAXPROCS(0), maxFanWorkers) - 1}
}

// run calls work on every share of [0, n) and returns when all are done.
func (f *fanOut) run(n int) {
	shares := min(f.procs+1, n/(parallelMin/2))
	if shares <= 1 {
		f.work(0, n)
		return
	}
	if f.workers == nil {
		f.start()
	}
	per := (n + shares - 1) / shares
	f.wg.Add(shares - 1)
	for s := 1; s < shares; s++ {
		f.workers[s-1] <- fanShare{lo: s * per, hi: min((s+1)*per, n)}
	}
	f.work(0, per)
	f.wg.Wait()
}

func (f *fanOut) start() {
	f.workers = make([]chan fanShare, f.procs)
	for i := range f.workers {
		ch := make(chan fanShare, 1)
		f.workers[i] = ch
		go func() {
			for s := range ch {
				f.work(s.lo, s.hi)
				f.wg.Done()
			}
		}()
	}
}

// stop ends the workers; run must not be called after it.
func (f *fanOut) stop() {
	for _, ch := range f.workers {
		close(ch)
	}
	f.workers = nil
}
