package models

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// hashingVersion is bumped whenever the features or the hash change, so that
// two encoders with the same ID always produce the same vectors.
const hashingVersion = "hashing-v1"

// Default settings of the hashing encoder.
const (
	DefaultHashingDim    = 4096
	DefaultCharNGramMin  = 3
	DefaultCharNGramMax  = 5
	maxHashingDim        = 1 << 24
	maxCharNGram         = 8
	featureTagWord       = 'w' // word unigram
	featureTagWordBigram = 'b' // word bigram
	featureTagCharNGram  = 'c' // character n-gram of a word with boundary markers
	featureTagHan        = 'h' // Han character unigram
	featureTagHanBigram  = 'H' // Han character bigram
)

// HashingConfig sets up a HashingEncoder. Zero fields take the defaults.
type HashingConfig struct {
	// Dim is the number of hash buckets, the vector length (default 4096).
	Dim int
	// CharNGramMin and CharNGramMax bound the character n-grams taken from
	// every non-Han word wrapped in the boundary markers '<' and '>'
	// (default 3 and 5). CharNGramMax = -1 disables character n-grams.
	CharNGramMin, CharNGramMax int
	// NoWordBigrams disables the word-bigram features.
	NoWordBigrams bool
}

// HashingEncoder is the built-in frozen base encoder: multilingual feature
// hashing of words, word bigrams, character n-grams and Han characters and
// bigrams. It needs no download and is safe for concurrent use.
//
// Text is normalised with Unicode NFKC (so full-width and half-width forms
// agree) and lower-cased. It is then split into runs: a run of Han
// characters gives every character (unigram) and every pair of adjacent
// characters (bigram); a run of other letters, marks and digits is a word,
// giving the word, the bigram with the previous word (punctuation does not
// break the word sequence, a Han run does) and the character n-grams of
// "<word>". Each feature is
// hashed with FNV-1a 64 over a one-byte type tag and its UTF-8 bytes,
// followed by the SplitMix64 finaliser; the top bit of the hash gives the
// sign and the low 63 bits modulo Dim give the bucket. A feature seen c
// times contributes sign·(1+ln c). The vector is scaled to unit L2 norm.
//
// A text with no features (empty, only spaces or punctuation) encodes to
// the zero vector, not an error, so that a batch never fails because of
// one empty row; callers that must reject such rows can test for it with
// IsZero.
type HashingEncoder struct {
	dim                int
	ngramMin, ngramMax int
	wordBigrams        bool
	id                 string
}

var _ Encoder = (*HashingEncoder)(nil)

// NewHashingEncoder checks cfg, fills in defaults and returns the encoder.
func NewHashingEncoder(cfg HashingConfig) (*HashingEncoder, error) {
	if cfg.Dim == 0 {
		cfg.Dim = DefaultHashingDim
	}
	if cfg.Dim < 1 || cfg.Dim > maxHashingDim {
		return nil, fmt.Errorf("models: hashing dim %d out of range [1, %d]", cfg.Dim, maxHashingDim)
	}
	if cfg.CharNGramMin == 0 && cfg.CharNGramMax == 0 {
		cfg.CharNGramMin, cfg.CharNGramMax = DefaultCharNGramMin, DefaultCharNGramMax
	}
	if cfg.CharNGramMax == -1 {
		cfg.CharNGramMin, cfg.CharNGramMax = 0, 0
	} else if cfg.CharNGramMin < 1 || cfg.CharNGramMax < cfg.CharNGramMin || cfg.CharNGramMax > maxCharNGram {
		return nil, fmt.Errorf("models: character n-gram range [%d, %d] invalid (need 1 <= min <= max <= %d)",
			cfg.CharNGramMin, cfg.CharNGramMax, maxCharNGram)
	}
	e := &HashingEncoder{
		dim:         cfg.Dim,
		ngramMin:    cfg.CharNGramMin,
		ngramMax:    cfg.CharNGramMax,
		wordBigrams: !cfg.NoWordBigrams,
	}
	chars := "none"
	if e.ngramMax > 0 {
		chars = fmt.Sprintf("%d-%d", e.ngramMin, e.ngramMax)
	}
	words := "1"
	if e.wordBigrams {
		words = "1-2"
	}
	e.id = fmt.Sprintf("%s:dim=%d:norm=nfkc-lower:hash=fnv1a64-splitmix:word=%s:char=%s:han=1-2:tf=1+ln:l2",
		hashingVersion, e.dim, words, chars)
	return e, nil
}

// ID names the algorithm version and every setting, for example
// "hashing-v1:dim=4096:norm=nfkc-lower:hash=fnv1a64-splitmix:word=1-2:char=3-5:han=1-2:tf=1+ln:l2".
func (e *HashingEncoder) ID() string { return e.id }

// Dim is the vector length.
func (e *HashingEncoder) Dim() int { return e.dim }

// Encode returns one unit-norm vector (or the zero vector for a text without
// features) per text. It fails only if ctx is cancelled.
func (e *HashingEncoder) Encode(ctx context.Context, texts []string) ([][]float64, error) {
	out := make([][]float64, len(texts))
	var hashes []uint64
	for i, t := range texts {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("models: hashing encode interrupted at text %d: %w", i, err)
			}
		}
		v := make([]float64, e.dim)
		hashes = e.features(hashes[:0], t)
		e.accumulate(v, hashes)
		out[i] = v
	}
	return out, nil
}

// EncodeOne encodes a single text into dst, which must have length Dim.
func (e *HashingEncoder) EncodeOne(dst []float64, text string) error {
	if len(dst) != e.dim {
		return fmt.Errorf("models: destination length %d, want %d", len(dst), e.dim)
	}
	clear(dst)
	e.accumulate(dst, e.features(nil, text))
	return nil
}

// IsZero reports whether every entry of v is zero (the encoding of a text
// without features).
func IsZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// accumulate adds sign·(1+ln count) per distinct hash to v and L2-normalises.
func (e *HashingEncoder) accumulate(v []float64, hashes []uint64) {
	if len(hashes) == 0 {
		return
	}
	slices.Sort(hashes)
	dim := uint64(e.dim)
	nb := 0 // hashes[:nb] is reused to hold the touched buckets
	for i := 0; i < len(hashes); {
		j := i + 1
		for j < len(hashes) && hashes[j] == hashes[i] {
			j++
		}
		h := hashes[i]
		w := 1 + math.Log(float64(j-i))
		if h>>63 == 1 {
			w = -w
		}
		b := (h & (1<<63 - 1)) % dim
		v[b] += w
		hashes[nb] = b
		nb++
		i = j
	}
	buckets := hashes[:nb]
	slices.Sort(buckets)
	buckets = slices.Compact(buckets)
	var ss float64
	for _, b := range buckets {
		ss += v[b] * v[b]
	}
	if ss == 0 {
		return // all features cancelled: leave the zero vector
	}
	inv := 1 / math.Sqrt(ss)
	for _, b := range buckets {
		v[b] *= inv
	}
}

// features appends the hash of every feature occurrence of text to dst.
func (e *HashingEncoder) features(dst []uint64, text string) []uint64 {
	s := strings.ToLower(norm.NFKC.String(text))
	var prevWord string
	havePrev := false
	var prevHan rune
	inHan := false
	i := 0
	for i < len(s) {
		r, size := decodeRune(s[i:])
		switch {
		case isHan(r):
			dst = append(dst, hashFeature(featureTagHan, s[i:i+size], ""))
			if inHan {
				dst = append(dst, hashRunePair(prevHan, r))
			}
			prevHan, inHan = r, true
			havePrev = false // a Han run breaks the word sequence
			i += size
		case isWordRune(r):
			inHan = false
			j := i + size
			for j < len(s) {
				r2, sz := decodeRune(s[j:])
				if !isWordRune(r2) || isHan(r2) {
					break
				}
				j += sz
			}
			word := s[i:j]
			dst = append(dst, hashFeature(featureTagWord, word, ""))
			if e.wordBigrams && havePrev {
				dst = append(dst, hashFeature(featureTagWordBigram, prevWord, word))
			}
			dst = e.charNGrams(dst, word)
			prevWord, havePrev = word, true
			i = j
		default:
			inHan = false
			i += size
		}
	}
	return dst
}

// charNGrams appends the character n-grams of "<word>".
func (e *HashingEncoder) charNGrams(dst []uint64, word string) []uint64 {
	if e.ngramMax == 0 {
		return dst
	}
	var buf [64]rune
	runes := append(buf[:0], '<')
	for _, r := range word {
		runes = append(runes, r)
	}
	runes = append(runes, '>')
	for n := e.ngramMin; n <= e.ngramMax; n++ {
		if n > len(runes) {
			break
		}
		for k := 0; k+n <= len(runes); k++ {
			dst = append(dst, hashRunes(featureTagCharNGram, runes[k:k+n]))
		}
	}
	return dst
}

func isHan(r rune) bool { return r >= 0x2e80 && unicode.Is(unicode.Han, r) }

func isWordRune(r rune) bool {
	if r < 0x80 {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || unicode.IsNumber(r)
}

// SparseScratch is AppendSparse's reusable working space.
type SparseScratch struct {
	hashes []uint64
	cs     []contrib
}

// contrib is one distinct feature's contribution to a bucket: key is
// bucket<<32 | rank of the feature's hash, so that sorting by key groups
// each bucket's contributions in Encode's order.
type contrib struct {
	key uint64
	w   float64
}

// AppendSparse encodes text into dst's slices (reused) and returns the
// row: its non-zero entries, Idx increasing. The values are bit for bit
// those of Encode's vector: each bucket sums the same contributions in
// the same order and is scaled by the same factor, without materialising
// Dim numbers. sc may be reused across calls (not concurrently).
func (e *HashingEncoder) AppendSparse(dst SparseRow, text string, sc *SparseScratch) SparseRow {
	dst.Idx, dst.Val = dst.Idx[:0], dst.Val[:0]
	hashes := e.features(sc.hashes[:0], text)
	sc.hashes = hashes
	if len(hashes) == 0 {
		return dst
	}
	slices.Sort(hashes)
	dim := uint64(e.dim)
	cs := sc.cs[:0]
	for i, rank := 0, uint64(0); i < len(hashes); rank++ {
		j := i + 1
		for j < len(hashes) && hashes[j] == hashes[i] {
			j++
		}
		h := hashes[i]
		w := 1 + math.Log(float64(j-i))
		if h>>63 == 1 {
			w = -w
		}
		cs = append(cs, contrib{key: (h&(1<<63-1))%dim<<32 | rank, w: w})
		i = j
	}
	sc.cs = cs
	slices.SortFunc(cs, func(a, b contrib) int { return cmp.Compare(a.key, b.key) })
	for k := 0; k < len(cs); {
		b := cs[k].key >> 32
		v := 0.0
		for ; k < len(cs) && cs[k].key>>32 == b; k++ {
			v += cs[k].w
		}
		dst.Idx, dst.Val = append(dst.Idx, int32(b)), append(dst.Val, v)
	}
	var ss float64
	for _, v := range dst.Val {
		ss += v * v
	}
	if ss == 0 {
		dst.Idx, dst.Val = dst.Idx[:0], dst.Val[:0]
		return dst
	}
	inv := 1 / math.Sqrt(ss)
	n := 0
	for k, v := range dst.Val {
		if v *= inv; v != 0 {
			dst.Idx[n], dst.Val[n] = dst.Idx[k], v
			n++
		}
	}
	dst.Idx, dst.Val = dst.Idx[:n], dst.Val[:n]
	return dst
}
