package bert

import (
	"runtime"
	"sync"
)

// Block sizes of sgemmNT: kcNT inner indices × ncNT columns of Wᵀ are
// packed per pass (64 KiB floats = 256 KiB, in L2), and mcNT rows of x
// (mcNT×kcNT×4 = 64 KiB, in L2) run against each packed 16-column strip
// (16 KiB, in L1) before the next strip.
const (
	kcNT = 256
	ncNT = 256
	mcNT = 64
)

// packPool recycles sgemmNT's packing buffers (kcNT×ncNT float32).
var packPool = sync.Pool{New: func() any { b := make([]float32, kcNT*ncNT); return &b }}

// sgemmNT adds x·Wᵀ to the columns [j0, j1) of c: x is n×k (row stride
// ldx), W is stored [out][k] row-major (ldw) as a Linear's weight, c is
// n×out (ldc). Strips of Wᵀ are packed into a small contiguous buffer per
// block, so no transposed copy of W is kept. Groups of 4 rows × 16 columns
// run in the assembly kernel; rows past the last multiple of 4 and columns
// past the last multiple of 16 in [j0, j1) run in plain Go. Only call it
// when haveKernel.
func sgemmNT(n, k int, x []float32, ldx int, w []float32, ldw int, c []float32, ldc int, j0, j1 int) {
	if n == 0 || k == 0 || j0 >= j1 {
		return
	}
	if j0 < 0 || len(x) < (n-1)*ldx+k || len(w) < (j1-1)*ldw+k || len(c) < (n-1)*ldc+j1 {
		panic("bert: sgemmNT: slice too short")
	}
	n4, j16 := n-n%4, j0+(j1-j0)-(j1-j0)%16
	bp := packPool.Get().(*[]float32)
	buf := *bp
	for k0 := 0; k0 < k; k0 += kcNT {
		kc := min(kcNT, k-k0)
		for jb := j0; jb < j16; jb += ncNT {
			nc := min(ncNT, j16-jb)
			// Strip s holds Wᵀ[k0:k0+kc][jb+16s : jb+16s+16], row-major.
			for s := 0; s < nc/16; s++ {
				strip := buf[s*kc*16 : (s+1)*kc*16]
				for jj := range 16 {
					wr := w[(jb+16*s+jj)*ldw+k0 : (jb+16*s+jj)*ldw+k0+kc]
					for l, v := range wr {
						strip[l*16+jj] = v
					}
				}
			}
			for i0 := 0; i0 < n4; i0 += mcNT {
				i1 := min(i0+mcNT, n4)
				for s := 0; s < nc/16; s++ {
					for i := i0; i < i1; i += 4 {
						kern4x16(kc, &x[i*ldx+k0], ldx, &buf[s*kc*16], 16, &c[i*ldc+jb+16*s], ldc)
					}
				}
			}
		}
	}
	packPool.Put(bp)
	// Edges: rows n4.. for all columns, columns j16.. for rows ..n4.
	edge := func(i0, i1, ja, jb int) {
		for i := i0; i < i1; i++ {
			xr := x[i*ldx : i*ldx+k]
			for j := ja; j < jb; j++ {
				wr := w[j*ldw : j*ldw+k]
				var s float32
				for l, v := range xr {
					s += v * wr[l]
				}
				c[i*ldc+j] += s
			}
		}
	}
	edge(n4, n, j0, j1)
	edge(0, n4, j16, j1)
}

// linearFast sets dst[n][Out] = x[n][In]·Wᵀ + b with sgemmNT, the output
// columns split in multiples of 16 among up to GOMAXPROCS goroutines.
// Only call it when haveKernel.
func linearFast(dst, x []float32, n int, l Linear) {
	out := l.Out
	for r := range n {
		copy(dst[r*out:(r+1)*out], l.B)
	}
	strips := (out + 15) / 16
	p := min(runtime.GOMAXPROCS(0), strips)
	if n*out*l.In < 1<<18 {
		p = 1 // too small to pay for goroutines
	}
	var wg sync.WaitGroup
	for t := range p {
		ja, jb := 16*(strips*t/p), min(out, 16*(strips*(t+1)/p))
		run := func() { sgemmNT(n, l.In, x, l.In, l.W, l.In, dst, out, ja, jb) }
		if t == p-1 {
			run()
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); run() }()
	}
	wg.Wait()
}

// parallelRows runs f on [lo, hi) ranges that split [0, n) among up to
// GOMAXPROCS goroutines (one when n < minRows).
func parallelRows(n, minRows int, f func(lo, hi int)) {
	p := min(runtime.GOMAXPROCS(0), max(1, n/max(1, minRows)))
	var wg sync.WaitGroup
	for t := range p {
		lo, hi := n*t/p, n*(t+1)/p
		if t == p-1 {
			f(lo, hi)
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); f(lo, hi) }()
	}
	wg.Wait()
}
