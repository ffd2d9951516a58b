package secagg

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelFor calls f(i) for every i in [0, n), on up to GOMAXPROCS
// goroutines (the caller's included), and returns when all calls have
// returned. It is for the per-neighbour public-key work (signature checks,
// age encryption and decryption, X25519 agreements: 50–100 µs each), so
// f must only write to its own index's slot of shared slices.
func parallelFor(n int, f func(i int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			f(i)
		}
	}
	var wg sync.WaitGroup
	for range w - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}
