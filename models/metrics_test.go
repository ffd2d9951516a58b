package models

import (
	"errors"
	"math"
	"testing"
)

func cmFrom(t *testing.T, classes int, truth, pred []int) ConfusionMatrix {
	t.Helper()
	m, err := NewConfusionMatrix(classes)
	if err != nil {
		t.Fatal(err)
	}
	for i := range truth {
		if err := m.Add(truth[i], pred[i]); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// Hand-computed: pairs (0,0) (0,1) (1,1) (1,1) (2,0) (2,2), class 3 unused.
// F1: class 0 = 2·1/(2+1+1) = 1/2, class 1 = 4/5, class 2 = 2/3;
// class 3 has no support and no predictions and is excluded (scikit-learn
// f1_score(average="macro") gives (1/2+4/5+2/3)/3 = 0.65555...).
func TestMetricsHandComputed(t *testing.T) {
	m := cmFrom(t, 4, []int{0, 0, 1, 1, 2, 2}, []int{0, 1, 1, 1, 0, 2})
	if m.Total() != 6 || math.Abs(m.Accuracy()-4.0/6) > 1e-15 {
		t.Fatalf("total %d accuracy %v", m.Total(), m.Accuracy())
	}
	if got, want := m.MacroF1(), (0.5+0.8+2.0/3)/3; math.Abs(got-want) > 1e-15 {
		t.Fatalf("macro F1 %v, want %v", got, want)
	}
	if _, ok := m.F1(3); ok {
		t.Fatal("class 3 F1 should be undefined")
	}
	// A class only predicted (never true) counts with F1 = 0:
	// add (2,3): class 2 = 2/(2+0+2) = 1/2, class 3 = 0.
	if err := m.Add(2, 3); err != nil {
		t.Fatal(err)
	}
	if got, want := m.MacroF1(), (0.5+0.8+0.5+0)/4; math.Abs(got-want) > 1e-15 {
		t.Fatalf("macro F1 %v, want %v", got, want)
	}
	empty, _ := NewConfusionMatrix(3)
	if empty.Accuracy() != 0 || empty.MacroF1() != 0 {
		t.Fatal("empty matrix metrics should be 0")
	}
	if err := m.Add(4, 0); err == nil {
		t.Fatal("out-of-range class accepted")
	}
}

// TestMetricsMergeIsUnion checks that summing tenants' matrices equals the
// matrix of the pooled examples.
func TestMetricsMergeIsUnion(t *testing.T) {
	t1, p1 := []int{0, 1, 2, 2}, []int{0, 2, 2, 1}
	t2, p2 := []int{1, 1, 0}, []int{1, 0, 0}
	a := cmFrom(t, 3, t1, p1)
	b := cmFrom(t, 3, t2, p2)
	all := cmFrom(t, 3, append(t1, t2...), append(p1, p2...))
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	for i := range all.Counts {
		if a.Counts[i] != all.Counts[i] {
			t.Fatalf("merged counts %v, pooled %v", a.Counts, all.Counts)
		}
	}
	if a.MacroF1() != all.MacroF1() {
		t.Fatal("macro F1 of merge differs from pooled")
	}
	if err := a.Merge(ConfusionMatrix{Classes: 2, Counts: make([]int64, 4)}); err == nil {
		t.Fatal("shape mismatch accepted")
	}
	if err := a.Merge(ConfusionMatrix{Classes: 3, Counts: make([]int64, 8)}); err == nil {
		t.Fatal("wrong count length accepted")
	}
	neg := ConfusionMatrix{Classes: 3, Counts: make([]int64, 9)}
	neg.Counts[4] = -1
	if err := a.Merge(neg); err == nil {
		t.Fatal("negative count accepted")
	}
	big := ConfusionMatrix{Classes: 3, Counts: make([]int64, 9)}
	big.Counts[0] = math.MaxInt64
	if err := a.Merge(big); !errors.Is(err, ErrCountOverflow) {
		t.Fatalf("overflow: %v", err)
	}
	if _, err := NewConfusionMatrix(0); err == nil {
		t.Fatal("zero classes accepted")
	}
}
