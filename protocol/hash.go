package protocol

import (
	"crypto/sha256"
	"encoding/binary"
	"math"

	"github.com/fedb2b/fedb2b/privacy/ddg"
)

// UpdateHash is the SHA-256 of a plain update's values, each as 8
// little-endian bytes of its IEEE 754 encoding. Client and coordinator
// both record it in their ledgers, so an auditor can match them.
func UpdateHash(values []float64) [32]byte {
	return hashWords(len(values), func(i int) uint64 { return math.Float64bits(values[i]) })
}

// CountsHash is the SHA-256 of counts as 8 little-endian bytes each (a
// released evaluation statistics vector, say).
func CountsHash(counts []int64) [32]byte {
	return hashWords(len(counts), func(i int) uint64 { return uint64(counts[i]) })
}

func hashWords(n int, word func(int) uint64) [32]byte {
	h := sha256.New()
	var b [8]byte
	for i := range n {
		binary.LittleEndian.PutUint64(b[:], word(i))
		h.Write(b[:])
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// rotationLabel separates the DDG rotation seed from the graph seed.
const rotationLabel = "fedb2b/ddg-rotation/v1"

// RotationSeed derives a round's public DDG rotation seed from its graph
// seed; clients and coordinator compute the same one.
func RotationSeed(graphSeed [32]byte) ddg.RoundSeed {
	h := sha256.New()
	h.Write([]byte(rotationLabel))
	h.Write(graphSeed[:])
	var out ddg.RoundSeed
	h.Sum(out[:0])
	return out
}
