package bert

import "fmt"

// charSpecials are the special tokens of a character vocabulary, ids 0…4.
var charSpecials = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}

// CharVocab returns a character-level vocabulary covering texts as a
// tokenizer built by NewTokenizer normalises and splits them (lower-cased,
// accents stripped, every CJK ideograph its own word, punctuation split):
// the special tokens [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4, then each
// word-initial character c and each continuation piece "##c" in the order
// first seen. Every text of texts (words up to 100 characters) then
// tokenizes without [UNK]: each ideograph is one token, each other word one
// token per character. It is for experiments with RandomModel, where no
// checkpoint vocabulary exists.
func CharVocab(texts []string) map[string]int {
	vocab := make(map[string]int, len(charSpecials))
	for _, s := range charSpecials {
		vocab[s] = len(vocab)
	}
	add := func(tok string) {
		if _, ok := vocab[tok]; !ok {
			vocab[tok] = len(vocab)
		}
	}
	// A tokenizer over the specials alone: only its basic splitting is used.
	t, err := NewTokenizer(vocab, 2)
	if err != nil {
		panic("bert: CharVocab: " + err.Error()) // the specials are present
	}
	for _, text := range texts {
		for _, w := range t.basic(text) {
			if t.neverSplit[w] {
				continue
			}
			for i, c := range []rune(w) {
				if i == 0 {
					add(string(c))
				} else {
					add(t.Prefix + string(c))
				}
			}
		}
	}
	return vocab
}

// RandomCharEncoder returns an Encoder over a RandomModel of shape cfg
// (seeded; cfg.VocabSize is replaced by the size of the vocabulary) with
// the character vocabulary CharVocab(texts) and sequences of at most
// maxLen tokens, [CLS] and [SEP] included. maxLen must not exceed
// cfg.MaxPositionEmbeddings. Random weights carry no language knowledge:
// this is for mechanics experiments and benchmarks at a real shape.
func RandomCharEncoder(cfg Config, seed uint64, texts []string, maxLen int, opt Options) (*Encoder, error) {
	if maxLen > cfg.MaxPositionEmbeddings {
		return nil, fmt.Errorf("bert: random character encoder: max length %d exceeds %d position embeddings", maxLen, cfg.MaxPositionEmbeddings)
	}
	vocab := CharVocab(texts)
	cfg.VocabSize = len(vocab)
	m, err := RandomModel(cfg, seed)
	if err != nil {
		return nil, err
	}
	tok, err := NewTokenizer(vocab, maxLen)
	if err != nil {
		return nil, fmt.Errorf("bert: random character encoder: %w", err)
	}
	return New(m, tok, opt)
}
