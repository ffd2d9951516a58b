//go:build amd64 && !purego

package secagg

import "testing"

// TestRedKeyStreamWithoutVAES runs the edge-case and seek checks with the
// VAES kernel switched off, as on an amd64 CPU without it (or with
// AVX-512 disabled by the OS): the crypto/aes path must give the same
// keystream and masks.
func TestRedKeyStreamWithoutVAES(t *testing.T) {
	defer func(v bool) { useVAES = v }(useVAES)
	useVAES = false
	t.Run("edges", TestRedKeyStreamEdgeLengthsAndCounters)
	t.Run("seek", TestRedKeyStreamSeek)
	t.Run("parallel", TestApplyAllParallelMatchesSequential)
}
