package models

import "unicode/utf8"

// FNV-1a 64 constants (http://www.isthe.com/chongo/tech/comp/fnv/).
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// Feature hashing: h = splitmix64(FNV-1a-64(tag || utf8(a) [|| ' ' || utf8(b)])).
// The FNV-1a hash is fixed and portable; the SplitMix64 finaliser spreads
// its weak low bits over the whole word before the bucket and sign are
// taken. Changing any of this requires a new hashingVersion.

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime64 }

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime64
	}
	return h
}

func fnvRune(h uint64, r rune) uint64 {
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	for _, c := range b[:n] {
		h = (h ^ uint64(c)) * fnvPrime64
	}
	return h
}

// mix64 is the SplitMix64 finaliser (Steele, Lea, Flood 2014).
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// hashFeature hashes tag, a and, if b is not empty, a space and b.
func hashFeature(tag byte, a, b string) uint64 {
	h := fnvByte(fnvOffset64, tag)
	h = fnvString(h, a)
	if b != "" {
		h = fnvByte(h, ' ')
		h = fnvString(h, b)
	}
	return mix64(h)
}

// hashRunePair hashes a Han bigram.
func hashRunePair(a, b rune) uint64 {
	h := fnvByte(fnvOffset64, featureTagHanBigram)
	return mix64(fnvRune(fnvRune(h, a), b))
}

// hashRunes hashes a character n-gram.
func hashRunes(tag byte, rs []rune) uint64 {
	h := fnvByte(fnvOffset64, tag)
	for _, r := range rs {
		h = fnvRune(h, r)
	}
	return mix64(h)
}

func decodeRune(s string) (rune, int) { return utf8.DecodeRuneInString(s) }
