package bert

import (
	"context"
	"slices"
	"testing"
)

func TestCharVocabCoversTexts(t *testing.T) {
	texts := []string{"明天早上七点叫醒我", "播放 Jazz 音乐！", "Café 2 点", "明天"}
	vocab := CharVocab(texts)
	for i, s := range charSpecials {
		if vocab[s] != i {
			t.Fatalf("%s has id %d, want %d", s, vocab[s], i)
		}
	}
	ids := map[int]bool{}
	for tok, id := range vocab {
		if ids[id] {
			t.Fatalf("id %d used twice (token %q)", id, tok)
		}
		ids[id] = true
	}
	if len(ids) != len(vocab) || !ids[len(vocab)-1] {
		t.Fatalf("ids are not 0…%d", len(vocab)-1)
	}
	tok, err := NewTokenizer(vocab, 64)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range texts {
		if got := tok.Encode(text); slices.Contains(got, vocab["[UNK]"]) {
			t.Errorf("%q encodes with [UNK]: %v (tokens %q)", text, got, tok.Tokenize(text))
		}
	}
	// Lower-cased, accents stripped, one token per character of a word.
	if got, want := tok.Tokenize("Café 2 点"), []string{"c", "##a", "##f", "##e", "2", "点"}; !slices.Equal(got, want) {
		t.Errorf("tokens %q, want %q", got, want)
	}
	// A character no text had is unknown.
	if got := tok.Encode("猫"); got[1] != vocab["[UNK]"] {
		t.Errorf("unseen character encoded as %d, want [UNK]", got[1])
	}
	// Each distinct ideograph and punctuation mark once, each Latin word's
	// first character and its continuation pieces (##a shared).
	want := len(charSpecials) + len([]string{"明", "天", "早", "上", "七", "点", "叫", "醒", "我", "播", "放", "j", "##a", "##z", "音", "乐", "！", "c", "##f", "##e", "2"})
	if len(vocab) != want {
		t.Errorf("vocabulary of %d entries, want %d", len(vocab), want)
	}
	if again := CharVocab(texts); len(again) != len(vocab) || again["点"] != vocab["点"] {
		t.Error("CharVocab is not deterministic")
	}
}

func TestRandomCharEncoder(t *testing.T) {
	cfg := Config{ModelType: "bert", HiddenSize: 16, NumLayers: 1, NumHeads: 2, IntermediateSize: 32, HiddenAct: "gelu",
		LayerNormEps: 1e-12, MaxPositionEmbeddings: 16, TypeVocabSize: 2}
	texts := []string{"设置闹钟", "查询天气", "订外卖"}
	enc, err := RandomCharEncoder(cfg, 1, texts, 16, Options{Pooling: PoolCLS, Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := enc.Model().Config().VocabSize; got != len(CharVocab(texts)) {
		t.Errorf("model vocabulary %d, want %d", got, len(CharVocab(texts)))
	}
	vecs, err := enc.Encode(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != 3 || len(vecs[0]) != 16 || slices.Equal(vecs[0], vecs[1]) {
		t.Fatalf("vectors: %d of dim %d; distinct texts must differ", len(vecs), len(vecs[0]))
	}
	same, err := RandomCharEncoder(cfg, 1, texts, 16, Options{Pooling: PoolCLS, Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	if same.ID() != enc.ID() {
		t.Error("the same seed and texts give a different encoder ID")
	}
	if _, err := RandomCharEncoder(cfg, 1, texts, 17, Options{}); err == nil {
		t.Error("max length beyond the position embeddings accepted")
	}
}
