package bert

// Block sizes of sgemmNN: the inner dimension per pass, so that a 16-column
// strip of W (kcNN×16 float32, 16 KiB) stays in L1 while every group of
// four rows of x uses it.
const kcNN = 256

// sgemmNN adds x·W to c: x is T×k (row stride ldx), W is k×n (ldw), c is
// T×n (ldc), all row-major float32. Groups of 4 rows × 16 columns run in
// the assembly kernel; the ragged edges in plain Go. Only call it when
// haveKernel.
func sgemmNN(T, n, k int, x []float32, ldx int, w []float32, ldw int, c []float32, ldc int) {
	if T == 0 || n == 0 || k == 0 {
		return
	}
	if len(x) < (T-1)*ldx+k || len(w) < (k-1)*ldw+n || len(c) < (T-1)*ldc+n {
		panic("bert: sgemmNN: slice too short")
	}
	T4, n16 := T-T%4, n-n%16
	for k0 := 0; k0 < k; k0 += kcNN {
		kc := min(kcNN, k-k0)
		for j := 0; j < n16; j += 16 {
			for i := 0; i < T4; i += 4 {
				kern4x16(kc, &x[i*ldx+k0], ldx, &w[k0*ldw+j], ldw, &c[i*ldc+j], ldc)
			}
		}
	}
	// Edges: rows T4.. for all columns, columns n16.. for rows ..T4.
	edge := func(i0, i1, j0, j1 int) {
		if j0 == j1 {
			return
		}
		for i := i0; i < i1; i++ {
			for l := range k {
				xv := x[i*ldx+l]
				wr := w[l*ldw+j0 : l*ldw+j1]
				cr := c[i*ldc+j0 : i*ldc+j1]
				for j, wv := range wr {
					cr[j] += xv * wv
				}
			}
		}
	}
	edge(T4, T, 0, n)
	edge(0, T4, n16, n)
}
