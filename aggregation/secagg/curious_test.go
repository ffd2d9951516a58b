package secagg

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// chiSquare returns Pearson's statistic of counts against a uniform
// expectation.
func chiSquare(counts []int, total int) float64 {
	exp := float64(total) / float64(len(counts))
	var x float64
	for _, c := range counts {
		d := float64(c) - exp
		x += d * d / exp
	}
	return x
}

// TestCuriousCoordinator plays an honest-but-curious coordinator: what it
// stores for one client's masked input looks uniform even though the input
// is constant, and none of the keys it holds opens any share it relays.
func TestCuriousCoordinator(t *testing.T) {
	const d = 1 << 14
	h := newHarness(t, 6, 0, 4, d, 1)
	for i := range h.inputs {
		for j := range h.inputs[i] {
			h.inputs[i][j] = 7 // maximally structured input
		}
	}
	ads := h.advertise(nil)
	h.shareKeys(ads, nil)
	relayed := make([][]*EncryptedShare, 6)
	for to := range uint32(6) {
		list, err := h.srv.SharesFor(to)
		h.must(err)
		relayed[to] = list
	}
	h.checkShares(nil)
	mr, err := h.srv.MaskRequestFor(0)
	h.must(err)
	m, err := h.cl[0].MaskInput(mr, h.inputs[0])
	h.must(err)

	// Byte buckets (256) over the 4d bytes, and the top byte of each word
	// (256 buckets) over d words. 255 degrees of freedom: the 0.1% critical
	// value is 330.5. The seed is fixed, so the test is deterministic.
	bytesCount := make([]int, 256)
	topCount := make([]int, 256)
	raw := make([]byte, 4*d)
	for i, w := range m.Vector {
		binary.LittleEndian.PutUint32(raw[4*i:], w)
		topCount[w>>24]++
	}
	for _, b := range raw {
		bytesCount[b]++
	}
	if x := chiSquare(bytesCount, len(raw)); x > 330.5 {
		t.Fatalf("masked bytes fail the uniformity test: χ² = %.1f", x)
	}
	if x := chiSquare(topCount, d); x > 330.5 {
		t.Fatalf("masked words fail the uniformity test: χ² = %.1f", x)
	}
	// Sanity check of the test itself: the unmasked input fails it.
	plain := make([]int, 256)
	for range h.inputs[0] {
		plain[7]++
	}
	if chiSquare(plain, d) < 330.5 {
		t.Fatal("the uniformity test does not detect a constant vector")
	}

	// Every key the coordinator holds: all advertised public keys (used as
	// if they were secrets), and its own fresh keys.
	var candidates [][32]byte
	for _, a := range ads {
		candidates = append(candidates, a.EncKey, a.MaskKey)
	}
	own, _ := newKeyPair(zeroReader{})
	candidates = append(candidates, own.secret(), [32]byte{})
	for _, list := range relayed {
		for _, sh := range list {
			if bytes.Contains(sh.Ciphertext, []byte(labelSharePlain)) {
				t.Fatal("share plaintext visible in the ciphertext")
			}
			for _, k := range candidates {
				if _, err := openShare(k, sh.Ciphertext); err == nil {
					t.Fatalf("coordinator opened the share from %d to %d", sh.From, sh.To)
				}
			}
		}
	}
}
