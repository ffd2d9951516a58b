//go:build amd64 && !purego

package secagg

// addBigEndianVec and addVectorVec process the longest prefix of w that is
// a multiple of 32 words with AVX2 and return its length (0 without AVX2);
// the caller finishes the rest.
func addBigEndianVec(w []uint32, b []byte) int {
	n := len(w) &^ 31
	if n == 0 || !useAVX2 {
		return 0
	}
	addBE32AVX2(&w[0], &b[0], n)
	return n
}

func addVectorVec(w, v []uint32) int {
	n := len(w) &^ 31
	if n == 0 || !useAVX2 {
		return 0
	}
	addU32AVX2(&w[0], &v[0], n)
	return n
}

//go:noescape
func addBE32AVX2(w *uint32, b *byte, n int)

//go:noescape
func addU32AVX2(w *uint32, v *uint32, n int)

// storeBigEndianVec stores the longest prefix of w that is a multiple of 32
// words as big-endian bytes with AVX2 and returns its length.
func storeBigEndianVec(b []byte, w []uint32) int {
	n := len(w) &^ 31
	if n == 0 || !useAVX2 {
		return 0
	}
	storeBE32AVX2(&b[0], &w[0], n)
	return n
}

//go:noescape
func storeBE32AVX2(b *byte, w *uint32, n int)
