// Package memtest measures the heap of a test while it runs, for tests that
// bound the memory of hostile input. It is for tests only.
package memtest

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Watch is a running heap measurement; see Start.
type Watch struct {
	start time.Time
	base  runtime.MemStats
	done  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	peak  uint64
}

// Stats is what a Watch measured.
type Stats struct {
	// Peak is the highest live heap (runtime.MemStats.HeapAlloc) seen,
	// sampled every millisecond and at Stop.
	Peak uint64
	// Base is the live heap when the watch started, after a GC.
	Base uint64
	// Alloc counts the bytes allocated between Start and Stop, freed or
	// not (the growth of TotalAlloc).
	Alloc   uint64
	Elapsed time.Duration
}

// Growth is Peak above Base.
func (s Stats) Growth() uint64 { return s.Peak - min(s.Peak, s.Base) }

func (s Stats) String() string {
	return fmt.Sprintf("%.2fs, peak heap %.1f MiB (%.1f MiB above the %.1f MiB before), %.1f MiB allocated",
		s.Elapsed.Seconds(), mib(s.Peak), mib(s.Growth()), mib(s.Base), mib(s.Alloc))
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// Start collects garbage and starts sampling the heap. Sampling reads
// runtime.MemStats, which stops the world briefly: it slows what it
// watches by a few per cent.
func Start() *Watch {
	runtime.GC()
	w := &Watch{done: make(chan struct{})}
	runtime.ReadMemStats(&w.base)
	w.peak = w.base.HeapAlloc
	w.start = time.Now()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				w.mu.Lock()
				w.peak = max(w.peak, m.HeapAlloc)
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// Stop ends the measurement and returns it.
func (w *Watch) Stop() Stats {
	elapsed := time.Since(w.start)
	close(w.done)
	w.wg.Wait()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return Stats{
		Peak:    max(w.peak, m.HeapAlloc),
		Base:    w.base.HeapAlloc,
		Alloc:   m.TotalAlloc - w.base.TotalAlloc,
		Elapsed: elapsed,
	}
}
