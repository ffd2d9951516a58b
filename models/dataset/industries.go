package dataset

import (
	"slices"
	"strings"
)

// Industry is one class of the synthetic company-profile task.
type Industry struct {
	ID     string // stable label, e.g. "software_it"
	NameEN string // English display name
	NameZH string // Chinese (Simplified) display name
}

// Language indexes of the bilingual word lists.
const (
	en = 0
	zh = 1
)

// vocab holds an industry's words in both languages ([en], [zh]).
type vocab struct {
	business  [2][]string // the main line of business, as a noun phrase
	products  [2][]string // products and services
	customers [2][]string // customer segments
	certs     [2][]string // industry-specific certifications and licences
	nameWords [2][]string // words that appear in company names
	related   []string    // IDs of industries whose profiles overlap
}

// industry couples the public description with its vocabulary.
type industry struct {
	Industry
	v vocab
}

// Industries returns the industries Synthesize draws from, in a fixed order
// (the order of their IDs is also the order LabelIndex gives).
func Industries() []Industry {
	out := make([]Industry, len(allIndustries))
	for i, ind := range allIndustries {
		out[i] = ind.Industry
	}
	return out
}

// IndustryByID returns the industry with the given label ID.
func IndustryByID(id string) (Industry, bool) {
	i := slices.IndexFunc(allIndustries, func(ind industry) bool { return ind.ID == id })
	if i < 0 {
		return Industry{}, false
	}
	return allIndustries[i].Industry, true
}

// allIndustries is sorted by ID; vocab_*.go define the entries.
var allIndustries = func() []industry {
	all := slices.Concat(industriesA, industriesB)
	slices.SortFunc(all, func(a, b industry) int { return strings.Compare(a.ID, b.ID) })
	return all
}()
