package recommend

import (
	"math"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/privacy"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestMetricsHandComputed(t *testing.T) {
	ranked := []int{5, 3, 9, 1}
	rel := map[int]bool{3: true, 1: true, 7: true}
	// Hits at positions 2 and 4 (1-based); 3 relevant.
	if got := RecallAt(10, ranked, rel); !near(got, 2.0/3) {
		t.Errorf("recall@10 = %v, want 2/3", got)
	}
	if got := RecallAt(2, ranked, rel); !near(got, 1.0/3) {
		t.Errorf("recall@2 = %v, want 1/3", got)
	}
	dcg := 1/math.Log2(3) + 1/math.Log2(5)
	idcg := 1 + 1/math.Log2(3) + 1/math.Log2(4)
	if got := NDCGAt(10, ranked, rel); !near(got, dcg/idcg) {
		t.Errorf("ndcg@10 = %v, want %v", got, dcg/idcg)
	}
	// At k = 2 the ideal list holds two hits: 1 + 1/log2(3).
	if got := NDCGAt(2, ranked, rel); !near(got, (1/math.Log2(3))/(1+1/math.Log2(3))) {
		t.Errorf("ndcg@2 = %v", got)
	}
	if RecallAt(10, ranked, nil) != 0 || NDCGAt(10, ranked, nil) != 0 {
		t.Error("empty relevant set must score 0")
	}
	var a, b Ranking
	a.K, b.K = 10, 10
	a.Add(ranked, rel)
	b.Add([]int{3}, map[int]bool{3: true})
	a.Merge(b)
	if a.Customers != 2 || !near(a.Recall(), (2.0/3+1)/2) || !near(a.NDCG(), (dcg/idcg+1)/2) {
		t.Errorf("merged %+v", a)
	}
	if m := a.Metrics(); len(m) != 2 || m["recall@10"] != a.Recall() {
		t.Errorf("metrics %v", m)
	}
}

func TestTopK(t *testing.T) {
	s := []float64{0.1, 0.9, 0.5, 0.9, -1, 0.7}
	got := TopK(s, 3)
	want := []int{1, 3, 5}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("TopK = %v, want %v", got, want)
	}
	if len(TopK(s, 10)) != 6 || len(TopK(s, 0)) != 0 {
		t.Fatal("TopK bounds")
	}
}

func TestTrainLearnsAndClips(t *testing.T) {
	// Two groups of products with orthogonal features; customers buy from
	// one group. After training, a customer's own group must outscore the
	// other.
	x := [][]float64{{1, 0, 0, 0}, {0.9, 0.1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0.9, 0.1}}
	td := &TenantData{Customers: []string{"a", "b"}, Train: [][]int{{0, 1}, {2, 3}}}
	tw, err := NewTower(2, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	l := &Local{U: [][]float64{{0.1, 0}, {0, 0.1}}}
	rng, _ := privacy.NewRand(privacy.SeededReader(2))
	cfg := TrainConfig{Steps: 300, LearningRate: 0.1, CustomerRate: 0.5, PairsPerCust: 4, SampleRate: 1}
	st, err := Train(tw, l, x, td, cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	// Sampling rate 1: every step takes both customers.
	if st.Steps != 300 || st.Customers != 600 || !(st.MeanLoss > 0 && st.MeanLoss < math.Log(2)) || st.ClippedFraction != 0 {
		t.Fatalf("stats %+v: want 300 steps, 600 customer gradients, mean loss in (0, log 2), nothing clipped", st)
	}
	v := tw.EmbedAll(x)
	sa := Scores(l.U[0], v, make([]float64, 4), nil, 0, 0)
	sb := Scores(l.U[1], v, make([]float64, 4), nil, 0, 0)
	if !(sa[0] > sa[2] && sa[1] > sa[3] && sb[2] > sb[0] && sb[3] > sb[1]) {
		t.Fatalf("scores a %v b %v", sa, sb)
	}
	// One private step with tiny noise moves W by at most lr·C/B per
	// customer (B the public expected batch, here 2).
	w0 := append([]float64(nil), tw.W...)
	pc := TrainConfig{Steps: 1, LearningRate: 1, CustomerRate: 0, PairsPerCust: 1, Private: true, SampleRate: 1, ClipNorm: 1e-3, NoiseMultiplier: 1e-9, ExpectedBatch: 2}
	if st, err = Train(tw, l, x, td, pc, rng); err != nil {
		t.Fatal(err)
	}
	if st.ClippedFraction != 1 {
		t.Fatalf("clip norm 1e-3: clipped fraction %v, want 1", st.ClippedFraction)
	}
	var d2 float64
	for i := range w0 {
		d := tw.W[i] - w0[i]
		d2 += d * d
	}
	if math.Sqrt(d2) > 2*1e-3/2+1e-9 {
		t.Fatalf("private step moved W by %v > 2·C/n", math.Sqrt(d2))
	}
	if _, err := Train(tw, l, x, td, TrainConfig{Steps: 1, LearningRate: 1, PairsPerCust: 1, Private: true, SampleRate: 1, ExpectedBatch: 2}, rng); err == nil {
		t.Fatal("DP config without C and z accepted")
	}
	if _, err := Train(tw, l, x, td, TrainConfig{Steps: 1, LearningRate: 1, PairsPerCust: 1, Private: true, SampleRate: 1, ClipNorm: 1, NoiseMultiplier: 1}, rng); err == nil {
		t.Fatal("DP config without a public expected batch accepted")
	}
}

func TestSplitAndPopularity(t *testing.T) {
	d := func(day int) time.Time { return time.Date(2011, 1, day, 10, 0, 0, 0, time.UTC) }
	tx := []forecast.Transaction{
		{Time: d(3), Customer: "c1", Product: "10001", Description: "A", Quantity: 1},
		{Time: d(3), Customer: "c2", Product: "10001", Description: "A", Quantity: 1},
		{Time: d(4), Customer: "c2", Product: "10002", Description: "B", Quantity: 1},
		{Time: d(4), Customer: "c2", Product: "10003", Description: "C", Quantity: -1},
		{Time: d(12), Customer: "c1", Product: "10002", Quantity: 2},
		{Time: d(12), Customer: "c1", Product: "10009", Quantity: 2}, // new product: not in catalog
	}
	cut := d(10)
	cat := BuildCatalog(tx, cut)
	if len(cat.Codes) != 2 {
		t.Fatalf("catalog %v", cat.Codes)
	}
	td := Split("t", tx, cat, cut)
	if len(td.Customers) != 2 || len(td.Train[1]) != 2 || !td.Test[0][1] || len(td.Test[0]) != 1 || td.Test[1] != nil {
		t.Fatalf("split %+v", td)
	}
	if pop := td.Popularity(2); pop[0] != 2 || pop[1] != 1 {
		t.Fatalf("popularity %v", pop)
	}
}
