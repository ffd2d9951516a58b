package bert

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ReadVocabTxt reads a vocab.txt file: one token per line, id = line index.
func ReadVocabTxt(path string) (map[string]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bert: reading vocabulary: %w", err)
	}
	vocab := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for id := 0; sc.Scan(); id++ {
		tok := strings.TrimRight(sc.Text(), "\r")
		if _, dup := vocab[tok]; !dup {
			vocab[tok] = id
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("bert: %s: %w", path, err)
	}
	return vocab, nil
}

// tokenizerJSON is the part of a Hugging Face tokenizer.json we use.
type tokenizerJSON struct {
	Normalizer *struct {
		Type         string `json:"type"`
		Lowercase    *bool  `json:"lowercase"`
		StripAccents *bool  `json:"strip_accents"`
		ChineseChars *bool  `json:"handle_chinese_chars"`
		CleanText    *bool  `json:"clean_text"`
	} `json:"normalizer"`
	Model struct {
		Type          string         `json:"type"`
		UnkToken      string         `json:"unk_token"`
		Prefix        *string        `json:"continuing_subword_prefix"`
		MaxInputChars int            `json:"max_input_chars_per_word"`
		Vocab         map[string]int `json:"vocab"`
	} `json:"model"`
}

// tokenizerConfig is the part of tokenizer_config.json we use.
type tokenizerConfig struct {
	DoLowerCase  *bool    `json:"do_lower_case"`
	StripAccents *bool    `json:"strip_accents"`
	ChineseChars *bool    `json:"tokenize_chinese_chars"`
	MaxLength    *float64 `json:"model_max_length"`
}

// LoadTokenizer builds the tokenizer of a Hugging Face model folder from
// vocab.txt (preferred) or tokenizer.json, with the normalisation settings
// of tokenizer_config.json (or, failing that, of tokenizer.json's
// normalizer). maxPos is the model's max_position_embeddings, the upper
// bound of the sequence length.
func LoadTokenizer(dir string, maxPos int) (*Tokenizer, error) {
	var tj *tokenizerJSON
	if b, err := os.ReadFile(filepath.Join(dir, "tokenizer.json")); err == nil {
		tj = new(tokenizerJSON)
		if err := json.Unmarshal(b, tj); err != nil {
			return nil, fmt.Errorf("bert: %s: malformed JSON: %w", filepath.Join(dir, "tokenizer.json"), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("bert: reading tokenizer.json: %w", err)
	}
	vocab, err := ReadVocabTxt(filepath.Join(dir, "vocab.txt"))
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist) && tj != nil:
		if tj.Model.Type != "WordPiece" {
			return nil, fmt.Errorf("bert: %s: tokenizer model %q is not WordPiece", dir, tj.Model.Type)
		}
		vocab = tj.Model.Vocab
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("bert: %s: missing file: neither vocab.txt nor tokenizer.json exists", dir)
	default:
		return nil, err
	}
	tok, err := NewTokenizer(vocab, maxPos)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	stripSet := false
	if tj != nil {
		if n := tj.Normalizer; n != nil && n.Type == "BertNormalizer" {
			if n.Lowercase != nil {
				tok.LowerCase = *n.Lowercase
			}
			if n.ChineseChars != nil {
				tok.ChineseChars = *n.ChineseChars
			}
			if n.StripAccents != nil {
				tok.StripAccents, stripSet = *n.StripAccents, true
			}
		}
		if tj.Model.Prefix != nil {
			tok.Prefix = *tj.Model.Prefix
		}
		if tj.Model.MaxInputChars > 0 {
			tok.MaxWordChars = tj.Model.MaxInputChars
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json")); err == nil {
		var tc tokenizerConfig
		if err := json.Unmarshal(b, &tc); err != nil {
			return nil, fmt.Errorf("bert: %s: malformed JSON: %w", filepath.Join(dir, "tokenizer_config.json"), err)
		}
		if tc.DoLowerCase != nil {
			tok.LowerCase = *tc.DoLowerCase
		}
		if tc.ChineseChars != nil {
			tok.ChineseChars = *tc.ChineseChars
		}
		if tc.StripAccents != nil {
			tok.StripAccents, stripSet = *tc.StripAccents, true
		}
		if tc.MaxLength != nil && *tc.MaxLength >= 2 && *tc.MaxLength < float64(tok.MaxLen) {
			tok.MaxLen = int(*tc.MaxLength)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("bert: reading tokenizer_config.json: %w", err)
	}
	if !stripSet {
		// Hugging Face: strip_accents unset follows lower-casing.
		tok.StripAccents = tok.LowerCase
	}
	return tok, nil
}
