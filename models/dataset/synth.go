package dataset

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// SynthConfig configures Synthesize.
type SynthConfig struct {
	// Seed makes the output reproducible: the same config gives the same
	// examples. This randomness protects nothing; it only varies the text.
	Seed uint64
	// Records is the number of examples; zero or negative gives none.
	Records int
	// ZhFraction is the share of Chinese descriptions, in [0, 1]. The zero
	// value means 0.5; use EnglishOnly for none. Values above 1 mean 1.
	ZhFraction float64
}

// EnglishOnly as SynthConfig.ZhFraction gives English descriptions only
// (zero would mean the default mix).
const EnglishOnly = -1.0

// Noise levels of the generator: how often a description borrows from a
// related industry. They keep the task from being trivially separable.
const (
	probConfused     = 0.15 // products drawn partly from a related industry
	probConfusedMain = 0.35 // ... and then also the main business phrase
	probNoise        = 0.20 // a side-business sentence about another industry
)

// Synthesize returns cfg.Records synthetic company-profile descriptions in
// English and Chinese, labelled with Industry IDs. Industries are drawn
// uniformly. Descriptions are made of an opening sentence and zero to three
// further sentences (products, size, customers, certifications, generic
// claims), filled from industry-specific and shared word lists; some borrow
// words from related industries, so a bag-of-n-grams classifier does well
// but not perfectly. The data is synthetic: no real company is described.
func Synthesize(cfg SynthConfig) []Example {
	if cfg.Records <= 0 {
		return nil
	}
	zhFrac := cfg.ZhFraction
	switch {
	case zhFrac == 0:
		zhFrac = 0.5
	case zhFrac < 0 || math.IsNaN(zhFrac):
		zhFrac = 0
	case zhFrac > 1:
		zhFrac = 1
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	out := make([]Example, cfg.Records)
	for i := range out {
		lang := en
		if r.Float64() < zhFrac {
			lang = zh
		}
		ind := &allIndustries[r.IntN(len(allIndustries))]
		out[i], _ = synthOne(r, ind, lang)
	}
	return out
}

// synthOne writes one description; it also returns the index of the
// opening template (for tests of template variety).
func synthOne(r *rand.Rand, ind *industry, lang int) (Example, int) {
	rel := industryByID(ind.v.related[r.IntN(len(ind.v.related))])
	other := &allIndustries[r.IntN(len(allIndustries))]
	for other == ind {
		other = &allIndustries[r.IntN(len(allIndustries))]
	}

	confused := r.Float64() < probConfused
	prodSrc := func() *industry {
		if confused && r.IntN(2) == 0 {
			return rel
		}
		return ind
	}
	main := ind
	if confused && r.Float64() < probConfusedMain {
		main = rel
	}
	ps := pickDistinct(r, 6, len(ind.v.products[lang]))
	slots := map[string]string{
		"b":      pick(r, main.v.business[lang]),
		"p1":     prodSrc().v.products[lang][ps[0]],
		"p2":     prodSrc().v.products[lang][ps[1]],
		"p3":     prodSrc().v.products[lang][ps[2]],
		"p4":     prodSrc().v.products[lang][ps[3]],
		"p5":     prodSrc().v.products[lang][ps[4]],
		"p6":     prodSrc().v.products[lang][ps[5]],
		"cust":   pick(r, ind.v.customers[lang]),
		"cust2":  pick(r, rel.v.customers[lang]),
		"cert":   pick(r, ind.v.certs[lang]),
		"cert2":  pick(r, genericCerts[lang]),
		"gp":     pick(r, genericProducts[lang]),
		"xb":     pick(r, other.v.business[lang]),
		"xp":     pick(r, other.v.products[lang]),
		"region": pick(r, regions[lang]),
		"size":   pick(r, sizes[lang]),
		"year":   strconv.Itoa(1985 + r.IntN(38)),
		"years":  strconv.Itoa(3 + r.IntN(33)),
		"emp":    strconv.Itoa(roundNice(math.Exp(math.Log(8) + r.Float64()*(math.Log(20000)-math.Log(8))))),
		"rev":    strconv.Itoa(1 + r.IntN(500)),
		"n":      strconv.Itoa(2 + r.IntN(79)),
	}
	city := r.IntN(len(cities[lang]))
	slots["city"] = cities[lang][city]
	slots["name"] = companyName(r, ind, rel, lang, city)
	if r.IntN(2) == 0 { // half the time the lead customer is a related industry's
		slots["cust"], slots["cust2"] = slots["cust2"], pick(r, ind.v.customers[lang])
	}

	intro := r.IntN(len(introTemplates[lang]))
	parts := []string{fill(introTemplates[lang][intro], slots)}
	kinds := [][2][]string{productTemplates, scaleTemplates, customerTemplates, certTemplates, genericTemplates}
	r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	extra := []int{0, 1, 1, 1, 2, 2, 2, 3, 3, 1}[r.IntN(10)] // mean 1.6
	for _, k := range kinds[:extra] {
		parts = append(parts, fill(pick(r, k[lang]), slots))
	}
	if r.Float64() < probNoise {
		at := 1 + r.IntN(len(parts))
		parts = append(parts[:at], append([]string{fill(pick(r, noiseTemplates[lang]), slots)}, parts[at:]...)...)
	}
	sep := " "
	if lang == zh {
		sep = ""
	}
	return Example{Text: strings.Join(parts, sep), Label: ind.ID}, intro
}

// companyName builds e.g. "Suzhou Huaxin Precision Machinery Co., Ltd." or
// "苏州华信精密机械有限公司". The name word is the industry's own most of
// the time, sometimes generic and sometimes a related industry's.
func companyName(r *rand.Rand, ind, rel *industry, lang, city int) string {
	var word string
	switch u := r.Float64(); {
	case u < 0.6:
		word = pick(r, ind.v.nameWords[lang])
	case u < 0.9:
		word = pick(r, genericNameWords[lang])
	default:
		word = pick(r, rel.v.nameWords[lang])
	}
	prefix := pick(r, namePrefixes[lang])
	suffix := pick(r, nameSuffixes[lang])
	withCity := r.IntN(2) == 0
	if lang == zh {
		if withCity {
			prefix = cities[zh][city] + prefix
		}
		return prefix + word + suffix
	}
	if withCity {
		prefix = cities[en][city] + " " + prefix
	}
	return prefix + " " + word + " " + suffix
}

// industryByID returns the industry with the given ID; the IDs in the
// related lists are checked by a test.
func industryByID(id string) *industry {
	for i := range allIndustries {
		if allIndustries[i].ID == id {
			return &allIndustries[i]
		}
	}
	panic("dataset: unknown related industry " + id)
}

// pick returns a uniformly chosen element.
func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

// pickDistinct returns k distinct indexes below n (k <= n).
func pickDistinct(r *rand.Rand, k, n int) []int {
	p := r.Perm(n)
	return p[:k]
}

// roundNice rounds an employee count to a plausible figure (two significant
// digits above 100).
func roundNice(x float64) int {
	if x < 100 {
		return int(math.Round(x))
	}
	mag := math.Pow(10, math.Floor(math.Log10(x))-1)
	return int(math.Round(x/mag) * mag)
}

// fill replaces {slot} markers with their values; unknown slots are kept.
func fill(tmpl string, slots map[string]string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		key := tmpl[i+1 : i+j]
		b.WriteString(tmpl[:i])
		if v, ok := slots[key]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(tmpl[i : i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
}
