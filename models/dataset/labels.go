package dataset

import "slices"

// LabelIndex returns the distinct non-empty labels of all the given slices
// in sorted order, and the index of each label in that order. The order is
// stable (it depends only on the set of labels), so tenants that hold the
// same label set agree on class indexes without talking to each other.
func LabelIndex(ex ...[]Example) (names []string, index map[string]int) {
	seen := map[string]bool{}
	for _, part := range ex {
		for _, e := range part {
			if e.Label != "" && !seen[e.Label] {
				seen[e.Label] = true
				names = append(names, e.Label)
			}
		}
	}
	slices.Sort(names)
	index = make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	return names, index
}

// groupByLabel returns the example indexes of each label, labels sorted
// (unlabelled examples form the group ""), indexes in input order.
func groupByLabel(ex []Example) (labels []string, groups [][]int) {
	byLabel := map[string][]int{}
	for i, e := range ex {
		if _, ok := byLabel[e.Label]; !ok {
			labels = append(labels, e.Label)
		}
		byLabel[e.Label] = append(byLabel[e.Label], i)
	}
	slices.Sort(labels)
	groups = make([][]int, len(labels))
	for i, l := range labels {
		groups[i] = byLabel[l]
	}
	return labels, groups
}

// WithLabels keeps the examples whose label is one of labels: their texts,
// their labels' indexes in labels, and how many examples were skipped.
func WithLabels(ex []Example, labels []string) (texts []string, ys []int, skipped int) {
	index := make(map[string]int, len(labels))
	for i, l := range labels {
		index[l] = i
	}
	texts, ys = make([]string, 0, len(ex)), make([]int, 0, len(ex))
	for _, e := range ex {
		y, ok := index[e.Label]
		if !ok {
			skipped++
			continue
		}
		texts, ys = append(texts, e.Text), append(ys, y)
	}
	return texts, ys, skipped
}
