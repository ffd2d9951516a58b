package intent

import (
	"math"
	"testing"

	"github.com/fedb2b/fedb2b/models"
)

func TestNeighboursMaxCosMatchesBruteForce(t *testing.T) {
	rows := models.SliceRows{
		{Idx: []int32{0, 3}, Val: []float64{0.6, 0.8}},
		{Idx: []int32{1, 2}, Val: []float64{0.8, -0.6}},
		{Idx: []int32{2, 3, 4}, Val: []float64{0.48, 0.6, 0.64}},
	}
	ix, err := NewNeighbours(rows, 5)
	if err != nil {
		t.Fatal(err)
	}
	dot := func(a, b models.SparseRow) float64 {
		d := make([]float64, 8)
		for k, j := range a.Idx {
			d[j] = a.Val[k]
		}
		var s float64
		for k, j := range b.Idx {
			s += d[j] * b.Val[k]
		}
		return s
	}
	for _, q := range []models.SparseRow{
		{Idx: []int32{3}, Val: []float64{1}},
		{Idx: []int32{2}, Val: []float64{1}},
		{Idx: []int32{1, 4}, Val: []float64{-0.6, 0.8}},
		{Idx: []int32{0, 7}, Val: []float64{-1, 1}}, // nothing positive; 7 is outside the index
	} {
		want := 0.0
		for _, r := range rows {
			want = max(want, dot(r, q))
		}
		if got := ix.MaxCos(q); math.Abs(got-want) > 1e-6 {
			t.Errorf("query %v: %v, want %v", q, got, want)
		}
	}
	s, err := ix.KNNScore([]float64{1, 2}, models.SliceRows{rows[0], {Idx: []int32{2}, Val: []float64{1}}}, 10)
	if err != nil || math.Abs(s[0]-(1+10)) > 1e-6 || math.Abs(s[1]-(2+10*0.48)) > 1e-6 {
		t.Errorf("KNNScore %v, %v", s, err)
	}
	if _, err := ix.KNNScore([]float64{1}, rows, 1); err == nil {
		t.Error("mismatched lengths accepted")
	}
	if _, err := NewNeighbours(models.SliceRows{{Idx: []int32{9}, Val: []float64{1}}}, 5); err == nil {
		t.Error("a feature outside the dimension was indexed")
	}
}
