package coordinator

import (
	"math/bits"
	"sync"
)

// Upload reassembly buffers are recycled between uploads, so that a
// round's masked inputs (n uploads of the same size) reuse the previous
// uploads' memory instead of allocating each buffer and every step of its
// geometric growth afresh. Buffers are pooled by the power of two below
// their capacity; a buffer is handed out only when its capacity is at
// least what is asked and at most the upload's limit, so an upload holds
// no more than its grant allows (Service.UploadBytesPeak counts the
// capacity). Pooled buffers hold earlier uploads' bytes past their length;
// nothing reads beyond the length, and sync.Pool drops idle buffers at
// garbage collection.

// minPooledBuf is the smallest capacity worth pooling.
const minPooledBuf = 64 << 10

var uploadBufs [64]sync.Pool // by ⌊log₂ cap⌋; each holds *[]byte

// getUploadBuf returns an empty buffer with capacity in [n, limit] (n
// exactly if none is pooled).
func getUploadBuf(n, limit int) []byte {
	if n >= minPooledBuf {
		c := bits.Len(uint(n)) - 1
		for _, class := range [2]int{c, c + 1} {
			if class >= len(uploadBufs) {
				break
			}
			if p, _ := uploadBufs[class].Get().(*[]byte); p != nil {
				if b := *p; cap(b) >= n && cap(b) <= limit {
					return b[:0]
				}
				uploadBufs[class].Put(p)
			}
		}
	}
	return make([]byte, 0, n)
}

// putUploadBuf recycles b (nil and small buffers are dropped).
func putUploadBuf(b []byte) {
	if cap(b) < minPooledBuf {
		return
	}
	b = b[:0]
	uploadBufs[bits.Len(uint(cap(b)))-1].Put(&b)
}
