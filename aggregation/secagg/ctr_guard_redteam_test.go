//go:build linux

package secagg

import (
	"bytes"
	"encoding/binary"
	"slices"
	"syscall"
	"testing"
	"unsafe"
)

// TestRedKeyStreamGuardPages runs the keystream and the fused mask on
// buffers that end (and start) at an inaccessible page: a kernel that
// reads or writes one byte outside its slice kills the test binary.
func TestRedKeyStreamGuardPages(t *testing.T) {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 4*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	if err := syscall.Mprotect(mem[3*page:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	data := mem[page : 3*page : 3*page]
	key := [16]byte{1, 2, 3}
	var iv [16]byte
	binary.BigEndian.PutUint64(iv[8:], ^uint64(5)) // a low-half wrap inside
	ref := refKeystream(key, iv, len(data))
	for _, n := range []int{1, 15, 16, 17, 63, 64, 65, 511, 512, 513, 1000, len(data)} {
		for _, atEnd := range []bool{true, false} {
			b := data[:n:n]
			if atEnd {
				b = data[len(data)-n:]
			}
			newKeyStream(key, iv).fill(b)
			if !bytes.Equal(b, ref[:n]) {
				t.Fatalf("fill(%d, at end %v) differs from crypto/aes CTR", n, atEnd)
			}
			words := n / 4
			w := unsafe.Slice((*uint32)(unsafe.Pointer(&data[0])), len(data)/4)
			ww := w[:words:words]
			if atEnd {
				ww = w[len(w)-words:]
			}
			clear(ww)
			applyStream(newKeyStream(key, iv), ww, make([]byte, 4*words), false)
			want := make([]uint32, words)
			for i := range want {
				want[i] = binary.LittleEndian.Uint32(ref[4*i:])
			}
			if !slices.Equal(ww, want) {
				t.Fatalf("apply(%d words, at end %v) differs from crypto/aes CTR", words, atEnd)
			}
		}
	}
}
