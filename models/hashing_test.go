package models

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
)

func mustHashing(t testing.TB, cfg HashingConfig) *HashingEncoder {
	t.Helper()
	e, err := NewHashingEncoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func encode1(t testing.TB, e *HashingEncoder, s string) []float64 {
	t.Helper()
	v, err := e.Encode(context.Background(), []string{s})
	if err != nil {
		t.Fatal(err)
	}
	return v[0]
}

func l2(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func TestHashingIDAndConfig(t *testing.T) {
	e := mustHashing(t, HashingConfig{})
	want := "hashing-v1:dim=4096:norm=nfkc-lower:hash=fnv1a64-splitmix:word=1-2:char=3-5:han=1-2:tf=1+ln:l2"
	if e.ID() != want || e.Dim() != 4096 {
		t.Fatalf("ID %q dim %d, want %q 4096", e.ID(), e.Dim(), want)
	}
	e2 := mustHashing(t, HashingConfig{Dim: 512, CharNGramMax: -1, NoWordBigrams: true})
	if e2.ID() == e.ID() || !strings.Contains(e2.ID(), "dim=512") || !strings.Contains(e2.ID(), "char=none") ||
		!strings.Contains(e2.ID(), "word=1:") {
		t.Fatalf("ID %q does not reflect settings", e2.ID())
	}
	for _, bad := range []HashingConfig{{Dim: -1}, {Dim: 1 << 30}, {CharNGramMin: 4, CharNGramMax: 2}, {CharNGramMin: 1, CharNGramMax: 9}} {
		if _, err := NewHashingEncoder(bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

func TestHashingDeterministicAndConcurrent(t *testing.T) {
	e := mustHashing(t, HashingConfig{Dim: 1024})
	texts := []string{"Wholesale of industrial machinery", "钢材批发 steel wholesale", "Café—crème 42"}
	ref, _ := e.Encode(context.Background(), texts)
	// A fresh encoder with the same config gives bit-identical vectors.
	again, _ := mustHashing(t, HashingConfig{Dim: 1024}).Encode(context.Background(), texts)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, _ := e.Encode(context.Background(), texts)
			for i := range got {
				for j := range got[i] {
					if got[i][j] != ref[i][j] {
						errs <- "concurrent encode differs"
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Fatal(s)
	}
	for i := range ref {
		for j := range ref[i] {
			if ref[i][j] != again[i][j] {
				t.Fatalf("text %d bucket %d: %v vs %v", i, j, ref[i][j], again[i][j])
			}
		}
		if math.Abs(l2(ref[i])-1) > 1e-12 {
			t.Fatalf("text %d norm %v", i, l2(ref[i]))
		}
	}
}

// TestHashingKnownAnswer pins the hash so that a change of algorithm without
// a version bump fails.
func TestHashingKnownAnswer(t *testing.T) {
	// FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (published test vector).
	if h := fnvString(fnvOffset64, "a"); h != 0xaf63dc4c8601ec8c {
		t.Fatalf("fnv1a64(a) = %#x", h)
	}
	e := mustHashing(t, HashingConfig{Dim: 64, CharNGramMax: -1, NoWordBigrams: true})
	v := encode1(t, e, "a")
	h := hashFeature(featureTagWord, "a", "")
	b := int((h & (1<<63 - 1)) % 64)
	want := 1.0
	if h>>63 == 1 {
		want = -1
	}
	for i, x := range v {
		if (i == b && x != want) || (i != b && x != 0) {
			t.Fatalf("bucket %d = %v; want only bucket %d = %v", i, x, b, want)
		}
	}
}

func TestHashingNormalisation(t *testing.T) {
	e := mustHashing(t, HashingConfig{Dim: 2048})
	pairs := [][2]string{
		{"ＡＢＣ Ｓｔｅｅｌ　１２３", "abc steel 123"}, // full-width letters, digits, ideographic space
		{"STEEL Wholesale", "steel wholesale"},
		{"ﬁne caﬀeine", "fine caffeine"}, // ligatures (NFKC)
		{"Cafe\u0301", "Café"},           // combining accent vs precomposed
		{"钢材，批发", "钢材,批发"},               // full-width comma
	}
	for _, p := range pairs {
		a, b := encode1(t, e, p[0]), encode1(t, e, p[1])
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%q and %q differ at bucket %d", p[0], p[1], i)
			}
		}
	}
	if d := dot(encode1(t, e, "steel"), encode1(t, e, "steal")); d > 0.9 {
		t.Fatalf("different words too similar: %v", d)
	}
}

func TestHashingFeatures(t *testing.T) {
	e := mustHashing(t, HashingConfig{})
	// Latin: word unigram + bigrams + char 3..5-grams of "<ab>".
	got := e.features(nil, "ab cd")
	// words: 2, bigrams: 1, char n-grams of "<ab>" (4 runes): 2+1 = 3 per word (n=3,4; n=5 too long)
	if len(got) != 2+1+3+3 {
		t.Fatalf("latin features: %d, want 9", len(got))
	}
	if !containsHash(got, hashFeature(featureTagWordBigram, "ab", "cd")) ||
		!containsHash(got, hashRunes(featureTagCharNGram, []rune("<ab>"))) {
		t.Fatal("missing word bigram or boundary n-gram")
	}
	// Han: 3 unigrams + 2 bigrams; no word features.
	got = e.features(nil, "钢材厂")
	if len(got) != 5 || !containsHash(got, hashRunePair('钢', '材')) || !containsHash(got, hashFeature(featureTagHan, "厂", "")) {
		t.Fatalf("han features: %d", len(got))
	}
	// Mixed: Han run breaks the word sequence, so no bigram "steel"+"wholesale".
	got = e.features(nil, "steel钢材wholesale")
	if containsHash(got, hashFeature(featureTagWordBigram, "steel", "wholesale")) {
		t.Fatal("han run did not break the word sequence")
	}
	if !containsHash(got, hashFeature(featureTagWord, "wholesale", "")) || !containsHash(got, hashRunePair('钢', '材')) {
		t.Fatal("mixed text lost features")
	}
	// Digits are words; punctuation separates but keeps the bigram.
	got = e.features(nil, "iso-9001")
	if !containsHash(got, hashFeature(featureTagWord, "9001", "")) || !containsHash(got, hashFeature(featureTagWordBigram, "iso", "9001")) {
		t.Fatal("digit word or bigram missing")
	}
	// Shared Chinese vocabulary makes texts similar.
	a, b, c := encode1(t, e, "钢材批发"), encode1(t, e, "钢材零售"), encode1(t, e, "软件开发")
	if dot(a, b) <= dot(a, c) {
		t.Fatalf("similarity: shared %v <= unrelated %v", dot(a, b), dot(a, c))
	}
}

func TestHashingSublinearTF(t *testing.T) {
	e := mustHashing(t, HashingConfig{Dim: 1 << 16, CharNGramMax: -1, NoWordBigrams: true})
	// "x x y": x counted twice → 1+ln 2 against 1 for y (no collision at this dim, checked).
	v := encode1(t, e, "x x y")
	hx, hy := hashFeature(featureTagWord, "x", ""), hashFeature(featureTagWord, "y", "")
	bx, by := (hx&(1<<63-1))%(1<<16), (hy&(1<<63-1))%(1<<16)
	if bx == by {
		t.Skip("collision")
	}
	r := math.Abs(v[bx] / v[by])
	if math.Abs(r-(1+math.Log(2))) > 1e-12 {
		t.Fatalf("tf ratio %v, want %v", r, 1+math.Log(2))
	}
}

func TestHashingEmptyText(t *testing.T) {
	e := mustHashing(t, HashingConfig{Dim: 128})
	vs, err := e.Encode(context.Background(), []string{"", "  ,;! ", "ok"})
	if err != nil {
		t.Fatal(err)
	}
	if !IsZero(vs[0]) || !IsZero(vs[1]) || IsZero(vs[2]) || len(vs[0]) != 128 {
		t.Fatal("empty text must encode to the zero vector of length Dim")
	}
	dst := make([]float64, 127)
	if err := e.EncodeOne(dst, "x"); err == nil {
		t.Fatal("wrong dst length accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Encode(ctx, []string{"a"}); err == nil {
		t.Fatal("cancelled context ignored")
	}
}

func containsHash(hs []uint64, h uint64) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

func BenchmarkHashingEncode(b *testing.B) {
	e := mustHashing(b, HashingConfig{})
	texts := []string{
		"Wholesale of industrial machinery and equipment, except electrical",
		"钢材批发及零售，建筑材料",
		"Software publishers (except video game publishers)",
		"Canola farming, field and seed production",
	}
	var n int64
	for _, t := range texts {
		n += int64(len(t))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Encode(context.Background(), texts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHashingAppendSparseBitIdentical: the sparse path gives exactly
// Sparsify(Encode(text)), also when buckets collide and cancel (tiny Dim).
func TestHashingAppendSparseBitIdentical(t *testing.T) {
	texts := []string{"", "   ", "!!!", "Card payment declined twice", "客户关系管理软件 CRM for 中小企业",
		"ＦＵＬＬ　ｗｉｄｔｈ Ｔｅｘｔ", "a a a a b b", "top up top up top up failed again", "ÉCOLE été 2024 résumé"}
	for i := range 200 {
		texts = append(texts, strings.Repeat(fmt.Sprintf("w%d x%d ", i%7, i%13), 1+i%9))
	}
	for _, dim := range []int{1, 2, 3, 17, 4096, DefaultLinearDim} {
		enc, err := NewHashingEncoder(HashingConfig{Dim: dim})
		if err != nil {
			t.Fatal(err)
		}
		dense, _ := enc.Encode(context.Background(), texts)
		var row SparseRow
		var sc SparseScratch
		for i, text := range texts {
			row = enc.AppendSparse(row, text, &sc)
			want := Sparsify(dense[i])
			if !slices.Equal(row.Idx, want.Idx) || len(row.Val) != len(want.Val) {
				t.Fatalf("dim %d text %q: indices %v, want %v", dim, text, row.Idx, want.Idx)
			}
			for k := range want.Val {
				if math.Float64bits(row.Val[k]) != math.Float64bits(want.Val[k]) {
					t.Fatalf("dim %d text %q entry %d: %v, want %v", dim, text, k, row.Val[k], want.Val[k])
				}
			}
		}
	}
}
