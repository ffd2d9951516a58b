package dataset

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func hasHan(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
}

func TestSynthesizeDeterministic(t *testing.T) {
	a := Synthesize(SynthConfig{Seed: 7, Records: 300})
	b := Synthesize(SynthConfig{Seed: 7, Records: 300})
	if !slices.Equal(a, b) {
		t.Fatal("same seed gave different examples")
	}
	c := Synthesize(SynthConfig{Seed: 8, Records: 300})
	if slices.Equal(a, c) {
		t.Fatal("different seeds gave the same examples")
	}
	if got := Synthesize(SynthConfig{Seed: 7, Records: 0}); got != nil {
		t.Fatalf("Records 0 gave %d examples", len(got))
	}
}

func TestSynthesizeCoverage(t *testing.T) {
	ex := Synthesize(SynthConfig{Seed: 1, Records: 2000})
	if len(ex) != 2000 {
		t.Fatalf("got %d examples, want 2000", len(ex))
	}
	perLabel := map[string]int{}
	var zhCount int
	texts := map[string]bool{}
	for _, e := range ex {
		perLabel[e.Label]++
		if hasHan(e.Text) {
			zhCount++
		}
		texts[e.Text] = true
		if strings.Contains(e.Text, "{") || strings.Contains(e.Text, "}") {
			t.Fatalf("unfilled slot in %q", e.Text)
		}
		if e.Line != 0 {
			t.Fatalf("synthetic example has Line %d, want 0", e.Line)
		}
	}
	inds := Industries()
	if len(inds) < 12 {
		t.Fatalf("%d industries, want at least 12", len(inds))
	}
	for _, ind := range inds {
		// 2000 draws over 15 classes: about 133 each; 80 is far in the tail.
		if perLabel[ind.ID] < 80 {
			t.Errorf("industry %s has %d examples of 2000", ind.ID, perLabel[ind.ID])
		}
	}
	if len(perLabel) != len(inds) {
		t.Errorf("labels %v are not exactly the industries", perLabel)
	}
	if frac := float64(zhCount) / 2000; math.Abs(frac-0.5) > 0.05 {
		t.Errorf("Chinese fraction %.3f, want about 0.5", frac)
	}
	if u := float64(len(texts)) / 2000; u < 0.9 {
		t.Errorf("only %.1f%% unique texts", 100*u)
	}
}

func TestSynthesizeLanguageMix(t *testing.T) {
	for _, tc := range []struct {
		frac     float64
		min, max float64
	}{{EnglishOnly, 0, 0}, {1, 1, 1}, {5, 1, 1}, {0.2, 0.15, 0.25}} {
		ex := Synthesize(SynthConfig{Seed: 3, Records: 1000, ZhFraction: tc.frac})
		zhCount := 0
		for _, e := range ex {
			if hasHan(e.Text) {
				zhCount++
			}
		}
		if f := float64(zhCount) / 1000; f < tc.min || f > tc.max {
			t.Errorf("ZhFraction %v: Chinese share %.3f, want [%v, %v]", tc.frac, f, tc.min, tc.max)
		}
	}
}

func TestIndustriesVocabulary(t *testing.T) {
	ids := map[string]bool{}
	for _, ind := range allIndustries {
		if ids[ind.ID] {
			t.Errorf("duplicate industry ID %s", ind.ID)
		}
		ids[ind.ID] = true
		if ind.NameEN == "" || !hasHan(ind.NameZH) {
			t.Errorf("%s: missing display names", ind.ID)
		}
		for lang := range 2 {
			if n := len(ind.v.products[lang]); n < 10 {
				t.Errorf("%s: %d products in language %d, want >= 10", ind.ID, n, lang)
			}
			for _, l := range [][]string{ind.v.business[lang], ind.v.customers[lang], ind.v.certs[lang], ind.v.nameWords[lang]} {
				if len(l) == 0 {
					t.Errorf("%s: an empty word list", ind.ID)
				}
			}
		}
		if len(ind.v.products[en]) != len(ind.v.products[zh]) {
			t.Errorf("%s: product lists differ in length", ind.ID)
		}
	}
	for _, ind := range allIndustries {
		for _, rel := range ind.v.related {
			if !ids[rel] || rel == ind.ID {
				t.Errorf("%s: bad related industry %q", ind.ID, rel)
			}
		}
		got, ok := IndustryByID(ind.ID)
		if !ok || got != ind.Industry {
			t.Errorf("IndustryByID(%s) = %v, %v", ind.ID, got, ok)
		}
	}
	if _, ok := IndustryByID("nope"); ok {
		t.Error("IndustryByID found an unknown ID")
	}
	if !slices.IsSortedFunc(Industries(), func(a, b Industry) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("Industries not sorted by ID")
	}
	for lang := range 2 {
		for _, list := range [][]string{introTemplates[lang], productTemplates[lang], scaleTemplates[lang],
			customerTemplates[lang], certTemplates[lang], genericTemplates[lang], noiseTemplates[lang]} {
			if len(list) < 6 {
				t.Errorf("language %d: a template list has %d entries", lang, len(list))
			}
		}
		if len(introTemplates[lang]) < 8 {
			t.Errorf("language %d: %d opening templates, want >= 8", lang, len(introTemplates[lang]))
		}
	}
}

func TestSynthesizeTemplateVariety(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for lang := range 2 {
		used := map[int]bool{}
		for i := 0; i < 500; i++ {
			_, intro := synthOne(r, &allIndustries[i%len(allIndustries)], lang)
			used[intro] = true
		}
		if len(used) != len(introTemplates[lang]) {
			t.Errorf("language %d: %d of %d opening templates used", lang, len(used), len(introTemplates[lang]))
		}
	}
}

func TestSynthesizeNotTriviallySeparable(t *testing.T) {
	train := Synthesize(SynthConfig{Seed: 11, Records: 3000})
	test := Synthesize(SynthConfig{Seed: 12, Records: 1000})
	nb := trainNB(train)
	correct := 0
	for _, e := range test {
		if nb.predict(e.Text) == e.Label {
			correct++
		}
	}
	acc := float64(correct) / float64(len(test))
	t.Logf("naive Bayes on character 1-3-grams: accuracy %.3f", acc)
	if acc < 0.80 || acc > 0.97 {
		t.Errorf("accuracy %.3f outside [0.80, 0.97]: the task is too hard or too easy", acc)
	}
}

// nbModel is a multinomial naive Bayes classifier on character 1-3-grams, a
// stand-in for the linear bag-of-n-grams models the data is meant for.
type nbModel struct {
	labels []string
	prior  map[string]float64
	counts map[string]map[string]float64
	totals map[string]float64
	vocab  map[string]bool
}

func grams(s string) []string {
	rs := []rune(strings.ToLower(s))
	var out []string
	for n := 1; n <= 3; n++ {
		for i := 0; i+n <= len(rs); i++ {
			out = append(out, string(rs[i:i+n]))
		}
	}
	return out
}

func trainNB(ex []Example) *nbModel {
	m := &nbModel{prior: map[string]float64{}, counts: map[string]map[string]float64{},
		totals: map[string]float64{}, vocab: map[string]bool{}}
	for _, e := range ex {
		if m.counts[e.Label] == nil {
			m.counts[e.Label] = map[string]float64{}
			m.labels = append(m.labels, e.Label)
		}
		m.prior[e.Label]++
		for _, g := range grams(e.Text) {
			m.counts[e.Label][g]++
			m.totals[e.Label]++
			m.vocab[g] = true
		}
	}
	slices.Sort(m.labels)
	return m
}

func (m *nbModel) predict(text string) string {
	best, bestScore := "", math.Inf(-1)
	gs := grams(text)
	v := float64(len(m.vocab))
	for _, l := range m.labels {
		s := math.Log(m.prior[l])
		for _, g := range gs {
			s += math.Log((m.counts[l][g] + 0.1) / (m.totals[l] + 0.1*v))
		}
		if s > bestScore {
			best, bestScore = l, s
		}
	}
	return best
}
