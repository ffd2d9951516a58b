package bert

import (
	"reflect"
	"strings"
	"testing"
)

func testTokenizer(t *testing.T) *Tokenizer {
	t.Helper()
	vocab := map[string]int{"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4,
		"cafe": 5, "un": 6, "##aff": 7, "##ord": 8, "##able": 9, ".": 10, "你": 11, "好": 12, "a": 13, "##a": 14}
	tok, err := NewTokenizer(vocab, 8)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenizerBasic(t *testing.T) {
	tok := testTokenizer(t)
	got := tok.Tokenize("Café\tUNAFFORDABLE.\n")
	if want := []string{"cafe", "un", "##aff", "##ord", "##able", "."}; !reflect.DeepEqual(got, want) {
		t.Errorf("accents/lower/tab: %v, want %v", got, want)
	}
	if got, want := tok.Tokenize("你好ab"), []string{"你", "好", "[UNK]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("CJK: %v, want %v", got, want)
	}
	// NUL and a format character (U+200B, category Cf) are dropped; the
	// combining acute of "A\u0301" is stripped.
	if got, want := tok.Tokenize("a\x00\u200bA\u0301"), []string{"a", "##a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("control chars: %v, want %v", got, want)
	}
	if got, want := tok.Tokenize("[MASK] a.[CLS]"), []string{"[MASK]", "a", ".", "[UNK]", "[UNK]", "[UNK]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("special tokens: %v, want %v", got, want)
	}
	tok.LowerCase, tok.StripAccents = false, false
	if got, want := tok.Tokenize("Cafe cafe"), []string{"[UNK]", "cafe"}; !reflect.DeepEqual(got, want) {
		t.Errorf("cased: %v, want %v", got, want)
	}
}

func TestTokenizerLimits(t *testing.T) {
	tok := testTokenizer(t)
	long := strings.Repeat("a", 100)
	if got := tok.Tokenize(long); len(got) != 100 {
		t.Errorf("100-char word: %d pieces, want 100", len(got))
	}
	if got := tok.Tokenize(long + "a"); !reflect.DeepEqual(got, []string{"[UNK]"}) {
		t.Errorf("101-char word: %v, want [UNK]", got)
	}
	ids := tok.Encode("a a a a a a a a a a")
	if want := []int{2, 13, 13, 13, 13, 13, 13, 3}; !reflect.DeepEqual(ids, want) {
		t.Errorf("truncation to 8: %v, want %v", ids, want)
	}
	if ids := tok.Encode(""); !reflect.DeepEqual(ids, []int{2, 3}) {
		t.Errorf("empty text: %v", ids)
	}
	if _, err := NewTokenizer(map[string]int{"[UNK]": 0}, 8); err == nil {
		t.Error("vocabulary without [CLS] accepted")
	}
}

func FuzzTokenizer(f *testing.F) {
	for _, s := range []string{"Café équipement", "客户询问：订单12345", "a\x00b\u200b\tc", "[MASK] [CLS]x", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := testTokenizer(t)
		ids := tok.Encode(s)
		if len(ids) < 2 || len(ids) > tok.MaxLen || ids[0] != tok.cls || ids[len(ids)-1] != tok.sep {
			t.Fatalf("ids %v", ids)
		}
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("id %d outside the vocabulary", id)
			}
		}
	})
}
