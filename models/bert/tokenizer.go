package bert

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Tokenizer is a WordPiece tokenizer with the behaviour of Hugging Face's
// BertTokenizer (BasicTokenizer followed by WordpieceTokenizer).
type Tokenizer struct {
	vocab map[string]int
	// LowerCase lower-cases the text (do_lower_case).
	LowerCase bool
	// StripAccents removes combining marks after NFD decomposition.
	// Hugging Face's default (strip_accents null) strips when lower-casing.
	StripAccents bool
	// ChineseChars makes every CJK ideograph its own token.
	ChineseChars bool
	// MaxLen is the maximum sequence length, [CLS] and [SEP] included.
	MaxLen int
	// MaxWordChars: longer words become [UNK] (Hugging Face: 100).
	MaxWordChars int
	// Prefix marks word continuation pieces ("##").
	Prefix string

	unk, cls, sep, pad int
	neverSplit         map[string]bool
}

// NewTokenizer builds a tokenizer over vocab (token → id) with Hugging
// Face's defaults: lower-casing with accent stripping, CJK splitting,
// "##" pieces, 100-character words, and maxLen tokens per sequence.
func NewTokenizer(vocab map[string]int, maxLen int) (*Tokenizer, error) {
	t := &Tokenizer{
		vocab: vocab, LowerCase: true, StripAccents: true, ChineseChars: true,
		MaxLen: maxLen, MaxWordChars: 100, Prefix: "##",
		neverSplit: map[string]bool{},
	}
	for _, s := range []struct {
		tok string
		dst *int
	}{{"[UNK]", &t.unk}, {"[CLS]", &t.cls}, {"[SEP]", &t.sep}, {"[PAD]", &t.pad}} {
		id, ok := vocab[s.tok]
		if !ok {
			return nil, fmt.Errorf("bert: vocabulary has no %s token", s.tok)
		}
		*s.dst = id
		t.neverSplit[s.tok] = true
	}
	if _, ok := vocab["[MASK]"]; ok {
		t.neverSplit["[MASK]"] = true
	}
	if maxLen < 2 {
		return nil, fmt.Errorf("bert: maximum sequence length %d leaves no room for [CLS] and [SEP]", maxLen)
	}
	return t, nil
}

// VocabSize is the number of entries in the vocabulary.
func (t *Tokenizer) VocabSize() int { return len(t.vocab) }

// Tokenize splits text into WordPiece tokens, without [CLS]/[SEP] and
// without truncation.
func (t *Tokenizer) Tokenize(text string) []string {
	var out []string
	for _, w := range t.basic(text) {
		out = append(out, t.wordpiece(w)...)
	}
	return out
}

// Encode returns the input ids of text: [CLS], the tokens truncated to
// MaxLen-2, [SEP].
func (t *Tokenizer) Encode(text string) []int {
	toks := t.Tokenize(text)
	if len(toks) > t.MaxLen-2 {
		toks = toks[:t.MaxLen-2]
	}
	ids := make([]int, 0, len(toks)+2)
	ids = append(ids, t.cls)
	for _, tok := range toks {
		id, ok := t.vocab[tok]
		if !ok {
			id = t.unk
		}
		ids = append(ids, id)
	}
	return append(ids, t.sep)
}

// basic is Hugging Face's BasicTokenizer.tokenize.
func (t *Tokenizer) basic(text string) []string {
	text = cleanText(text)
	if t.ChineseChars {
		text = spaceCJK(text)
	}
	var out []string
	for _, tok := range strings.Fields(text) {
		if t.neverSplit[tok] {
			out = append(out, tok)
			continue
		}
		if t.LowerCase {
			tok = strings.ToLower(tok)
		}
		if t.StripAccents {
			tok = stripAccents(tok)
		}
		out = append(out, splitPunct(tok)...)
	}
	return out
}

// wordpiece is the greedy longest-match-first WordPiece algorithm.
func (t *Tokenizer) wordpiece(word string) []string {
	if utf8.RuneCountInString(word) > t.MaxWordChars {
		return []string{"[UNK]"}
	}
	var pieces []string
	for start := 0; start < len(word); {
		end := len(word)
		found := ""
		for end > start {
			sub := word[start:end]
			if start > 0 {
				sub = t.Prefix + sub
			}
			if _, ok := t.vocab[sub]; ok {
				found = sub
				break
			}
			_, size := utf8.DecodeLastRuneInString(word[start:end])
			end -= size
		}
		if found == "" {
			return []string{"[UNK]"}
		}
		pieces = append(pieces, found)
		start = end
	}
	return pieces
}

// cleanText drops NUL, U+FFFD and control characters and turns every
// whitespace character into a space.
func cleanText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == 0 || r == 0xfffd || isControl(r):
		case isWhitespace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isWhitespace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.Zs, r)
}

// isControl mirrors Python's unicodedata category "C*" except \t, \n, \r.
func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) {
		return true
	}
	// Cn (unassigned): in no category at all.
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C)
}

// isPunct is BERT's punctuation: all non-alphanumeric ASCII and Unicode P*.
func isPunct(r rune) bool {
	if (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126) {
		return true
	}
	return unicode.Is(unicode.P, r)
}

// isCJK covers the CJK Unified Ideographs blocks that BERT splits.
func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

func spaceCJK(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if isCJK(r) {
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func stripAccents(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func splitPunct(s string) []string {
	var out []string
	start := -1
	for i, r := range s {
		if isPunct(r) {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			out = append(out, string(r))
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}
