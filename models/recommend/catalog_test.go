package recommend

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models/forecast"
)

func TestCatalogCSVRoundTripAndHash(t *testing.T) {
	c, err := NewCatalog([]string{"10001", "10002", "2000A"}, []string{"RED MUG", "BLUE, \"BIG\" MUG", ""})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadCatalog(&buf, "mem")
	if err != nil {
		t.Fatal(err)
	}
	if back.Hash() != c.Hash() || len(c.Hash()) != 64 {
		t.Fatalf("hash after round trip %s, before %s", back.Hash(), c.Hash())
	}
	if i, ok := back.Index("2000A"); !ok || i != 2 || back.Descriptions[1] != `BLUE, "BIG" MUG` {
		t.Fatalf("round trip: %+v", back)
	}
	// Any change of text or order changes the hash; so does moving a
	// boundary between code and description.
	for _, o := range [][2][]string{
		{{"10001", "10002", "2000A"}, {"RED MUG", "BLUE, \"BIG\" MUG", "X"}},
		{{"10001", "10002"}, {"RED MUG", "BLUE, \"BIG\" MUG"}},
		{{"1", "10002", "2000A"}, {"0001RED MUG", "BLUE, \"BIG\" MUG", ""}},
	} {
		d, err := NewCatalog(o[0], o[1])
		if err != nil {
			t.Fatal(err)
		}
		if d.Hash() == c.Hash() {
			t.Errorf("catalog %v has the same hash", o)
		}
	}
}

func TestCatalogRejectsBadInput(t *testing.T) {
	for name, in := range map[string]string{
		"header":    "code,description\n1,A\n",
		"unsorted":  "stock_code,description\n2,B\n1,A\n",
		"duplicate": "stock_code,description\n1,A\n1,B\n",
		"empty":     "stock_code,description\n,A\n",
		"fields":    "stock_code,description\n1,A,extra\n",
		"nothing":   "",
	} {
		if _, err := ReadCatalog(strings.NewReader(in), name); err == nil || !strings.Contains(err.Error(), "catalog "+name) {
			t.Errorf("%s: error %v", name, err)
		}
	}
	if _, err := NewCatalog([]string{"1"}, nil); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

// Two tenants over a catalog of four products (hand-computed):
// tenant a: c1 bought {0,1} before, {2} after; c2 bought {1} before, {1,3}
// after. tenant b: c3 bought {2,3} before, {2} after.
// Local popularity a: [1,2,0,0] → top-2 [1,0]; b: [0,0,1,1] → [2,3];
// global [1,2,1,1] → [1,0].
func TestComputeBaselinesHandComputed(t *testing.T) {
	a := &TenantData{Customers: []string{"c1", "c2"}, Train: [][]int{{0, 1}, {1}}, Orders: [][]int{{1, 1}, {3}},
		Test: []map[int]bool{{2: true}, {1: true, 3: true}}}
	b := &TenantData{Customers: []string{"c3", "c4"}, Train: [][]int{{2, 3}, {0}}, Orders: [][]int{{1, 2}, {1}},
		Test: []map[int]bool{{2: true}, nil}}
	got := ComputeBaselines([]*TenantData{a, b}, 4, 2, 0)
	// Popularity recall: c1 0, c2 1/2, c3 1 → 1.5/3.
	// Global: c1 0, c2 1/2 ([1,0]), c3 0 → 0.5/3.
	// Repeat: c1 [1,0] → 0; c2 [1,0] → 1/2; c3 [2,3] → 1 → 1.5/3.
	// Own orders: c1 [0,1] → 0; c2 [1,0] → 1/2; c3 orders 2 of 3, 1 of 2:
	// [3,2] → 1, NDCG 1/log2(3) → recall 1.5/3.
	if got.Popularity.Customers != 3 || !near(got.Popularity.Recall(), 0.5) || !near(got.GlobalPopularity.Recall(), 0.5/3) || !near(got.Repeat.Recall(), 0.5) {
		t.Fatalf("baselines %+v", got)
	}
	// NDCG of own orders: c2 hit at rank 1 of ideal 1 + 1/log2(3); c3 hit
	// at rank 2 of ideal 1.
	wantNDCG := (1/(1+1/math.Log2(3)) + 1/math.Log2(3)) / 3
	if !near(got.OwnOrders.Recall(), 0.5) || !near(got.OwnOrders.NDCG(), wantNDCG) {
		t.Fatalf("baselines %+v", got)
	}
	if a.Evaluated() != 2 || b.Evaluated() != 1 {
		t.Fatalf("evaluated %d, %d", a.Evaluated(), b.Evaluated())
	}
}

func TestHoldoutCut(t *testing.T) {
	// 2011-01-03 is a Monday; data over three weeks.
	d := func(day int) time.Time { return time.Date(2011, 1, day, 10, 0, 0, 0, time.UTC) }
	tx := []forecast.Transaction{{Time: d(4)}, {Time: d(12)}, {Time: d(20)}}
	cut, err := HoldoutCut(tx, 1)
	if err != nil || !cut.Equal(time.Date(2011, 1, 17, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("cut %v, %v", cut, err)
	}
	if _, err := HoldoutCut(tx, 3); err == nil {
		t.Fatal("hold-out of all weeks accepted")
	}
}

// Orders count the distinct days before the cut on which a customer
// ordered a product; returns and held-back days do not count.
func TestSplitOrders(t *testing.T) {
	d := func(day, hour int) time.Time { return time.Date(2011, 1, day, hour, 0, 0, 0, time.UTC) }
	tx := []forecast.Transaction{
		{Time: d(3, 9), Customer: "c1", Product: "10001", Description: "A", Quantity: 1},
		{Time: d(3, 15), Customer: "c1", Product: "10001", Description: "A", Quantity: 4}, // same day
		{Time: d(5, 9), Customer: "c1", Product: "10001", Description: "A", Quantity: 1},
		{Time: d(6, 9), Customer: "c1", Product: "10001", Description: "A", Quantity: -1}, // return
		{Time: d(6, 9), Customer: "c1", Product: "10002", Description: "B", Quantity: 1},
		{Time: d(12, 9), Customer: "c1", Product: "10002", Quantity: 1}, // held back
	}
	cut := d(10, 0)
	td := Split("t", tx, BuildCatalog(tx, cut), cut)
	if len(td.Orders) != 1 || len(td.Orders[0]) != 2 || td.Orders[0][0] != 2 || td.Orders[0][1] != 1 {
		t.Fatalf("orders %v", td.Orders)
	}
	if s := td.OrderScores(0, 3); s[0] != 2 || s[1] != 1 || s[2] != 0 {
		t.Fatalf("order scores %v", s)
	}
	// Order days 3 and 5 January and 6 January, cut 10 January: ages 7, 5
	// and 4 days; half-life 7 days.
	h := td.HistoryScores(0, 3, 7)
	if !near(h[0], math.Exp2(-1)+math.Exp2(-5.0/7)) || !near(h[1], math.Exp2(-4.0/7)) || h[2] != 0 {
		t.Fatalf("history scores %v", h)
	}
	if s := td.HistoryScores(0, 3, 0); s[0] != 2 || s[1] != 1 {
		t.Fatalf("history scores without half-life %v, want the order counts", s)
	}
}
