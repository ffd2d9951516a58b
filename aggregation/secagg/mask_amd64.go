//go:build amd64 && !purego

package secagg

// addWordsVec and subWordsVec process the longest prefix of w that is a
// multiple of 16 words with SSE2 (PADDL/PSUBL, baseline on every amd64 CPU)
// and return its length; the caller finishes the tail. Keystream bytes are
// loaded as little-endian uint32 lanes, matching addWordsGeneric.
// len(b) must be ≥ 4·len(w).
func addWordsVec(w []uint32, b []byte) int {
	n := len(w) &^ 15
	if n > 0 {
		addVecSSE2(&w[0], &b[0], n)
	}
	return n
}

func subWordsVec(w []uint32, b []byte) int {
	n := len(w) &^ 15
	if n > 0 {
		subVecSSE2(&w[0], &b[0], n)
	}
	return n
}

//go:noescape
func addVecSSE2(w *uint32, k *byte, n int)

//go:noescape
func subVecSSE2(w *uint32, k *byte, n int)
