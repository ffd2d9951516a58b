package coordinator

import "sync"

// Upload reassembly buffers are recycled between uploads, so that a
// round's masked inputs (n uploads of the same size, mostly one after
// another) reuse the previous uploads' memory instead of allocating each
// buffer and every step of its geometric growth afresh. At most
// MaxIdleUploadBuffers buffers are kept idle (never more than one upload's
// grant each, so idle memory is bounded whatever tenants send); a buffer
// is handed out only when its capacity is at least what is asked and at
// most the upload's limit, so an upload holds no more than its grant
// allows (Service.UploadBytesPeak counts the capacity). Idle buffers hold
// earlier uploads' bytes past their length; nothing reads beyond the
// length.

// MaxIdleUploadBuffers bounds the reassembly buffers kept between
// uploads (each at most one upload's grant).
const MaxIdleUploadBuffers = 2

// minPooledBuf is the smallest capacity worth keeping.
const minPooledBuf = 64 << 10

var idleUploads struct {
	mu   sync.Mutex
	bufs [][]byte
}

// getUploadBuf returns an empty buffer with capacity in [n, limit] (n
// exactly if none is idle).
func getUploadBuf(n, limit int) []byte {
	if n >= minPooledBuf {
		idleUploads.mu.Lock()
		for i, b := range idleUploads.bufs {
			if cap(b) >= n && cap(b) <= limit {
				last := len(idleUploads.bufs) - 1
				idleUploads.bufs[i] = idleUploads.bufs[last]
				idleUploads.bufs[last] = nil
				idleUploads.bufs = idleUploads.bufs[:last]
				idleUploads.mu.Unlock()
				return b[:0]
			}
		}
		idleUploads.mu.Unlock()
	}
	return make([]byte, 0, n)
}

// putUploadBuf keeps b for a later upload, replacing the smallest idle
// buffer when MaxIdleUploadBuffers are kept (small buffers are dropped).
func putUploadBuf(b []byte) {
	if cap(b) < minPooledBuf {
		return
	}
	idleUploads.mu.Lock()
	defer idleUploads.mu.Unlock()
	if len(idleUploads.bufs) < MaxIdleUploadBuffers {
		idleUploads.bufs = append(idleUploads.bufs, b[:0])
		return
	}
	small := 0
	for i, x := range idleUploads.bufs {
		if cap(x) < cap(idleUploads.bufs[small]) {
			small = i
		}
	}
	if cap(b) > cap(idleUploads.bufs[small]) {
		idleUploads.bufs[small] = b[:0]
	}
}
