package forecast

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/privacy"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestErrorsHandComputed(t *testing.T) {
	var e Errors
	for i, p := range []float64{2, 0, 5} {
		e.Add(p, []float64{1, 2, 5}[i])
	}
	// |errors| 1, 2, 0; squares 1, 4, 0; Σ|y| = 8.
	if !near(e.MAE(), 1) || !near(e.RMSE(), math.Sqrt(5.0/3)) || !near(e.WAPE(), 3.0/8) {
		t.Fatalf("MAE %v RMSE %v WAPE %v, want 1, %v, 0.375", e.MAE(), e.RMSE(), e.WAPE(), math.Sqrt(5.0/3))
	}
	var a, b Errors
	a.Add(2, 1)
	b.Add(0, 2)
	b.Add(5, 5)
	a.Merge(b)
	if a != e {
		t.Fatalf("merged %+v, want %+v", a, e)
	}
	var empty Errors
	if empty.MAE() != 0 || empty.RMSE() != 0 || !math.IsNaN(empty.WAPE()) {
		t.Fatalf("empty metrics: %v %v %v", empty.MAE(), empty.RMSE(), empty.WAPE())
	}
}

func TestBaselinesHandComputed(t *testing.T) {
	s := &Series{Qty: []float64{1, 2, 3, 4, 5}}
	for _, c := range []struct {
		got, want float64
		name      string
	}{
		{SeasonalNaive(s, 5, 1), 5, "naive t=5"},
		{SeasonalNaive(s, 5, 2), 4, "season 2 t=5"},
		{SeasonalNaive(s, 1, 2), 0, "before start"},
		{MovingAverage(s, 5, 4), 3.5, "ma4 t=5"},
		{MovingAverage(s, 2, 4), 1.5, "ma4 t=2 (two weeks)"},
		{MovingAverage(s, 0, 4), 0, "ma4 t=0"},
		// Quantile of {1, 2, 3, 4} (t=4): position q·3.
		{Quantile(s, 4, 4, 0.4), 2.2, "q0.4 t=4"},
		{Quantile(s, 4, 4, 0.5), Median(s, 4, 4), "q0.5 is the median (even count)"},
		{Quantile(s, 5, 5, 0.5), Median(s, 5, 5), "q0.5 is the median (odd count)"},
		{Quantile(s, 4, 4, 0), 1, "q0 is the minimum"},
		{Quantile(s, 4, 4, 1), 4, "q1 is the maximum"},
		{Quantile(s, 4, 4, 2), 4, "q above 1 is the maximum"},
		{Quantile(s, 2, 8, 0.4), 1.4, "q0.4 of the two weeks before t=2"},
		{Quantile(s, 0, 8, 0.4), 0, "no week before t=0"},
		{Quantile(s, 7, 3, 0.4), 5, "weeks past the series are skipped (only week 4 is left)"},
	} {
		if !near(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestCalendarWeeks(t *testing.T) {
	wed := time.Date(2010, 12, 1, 8, 26, 0, 0, time.UTC)
	if w := Week(wed); !w.Equal(time.Date(2010, 11, 29, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("Week(Wed 1 Dec 2010) = %v, want Mon 29 Nov", w)
	}
	sun := time.Date(2010, 12, 5, 23, 0, 0, 0, time.UTC)
	mon := time.Date(2010, 12, 6, 0, 0, 0, 0, time.UTC)
	cal, err := CalendarOf([]Transaction{{Time: wed}, {Time: mon}})
	if err != nil {
		t.Fatal(err)
	}
	if cal.Weeks != 2 || cal.Index(sun) != 0 || cal.Index(mon) != 1 || cal.Index(time.Date(2010, 11, 28, 0, 0, 0, 0, time.UTC)) != -1 {
		t.Fatalf("calendar %+v: idx(sun)=%d idx(mon)=%d", cal, cal.Index(sun), cal.Index(mon))
	}
}

func TestLoadBadRows(t *testing.T) {
	tx, rep, err := LoadTransactionsFile("testdata/bad.csv", OnlineRetailColumns())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 8 || rep.Loaded != 3 || rep.Skipped != 5 {
		t.Fatalf("report %+v", rep)
	}
	want := []string{"bad quantity", "bad date", "empty customer", "bad unit price", "ragged row"}
	for i, b := range rep.Bad {
		if !strings.Contains(b.Reason, want[i]) || b.Line != i+3 {
			t.Errorf("bad row %d: %v, want line %d %q", i, b, i+3, want[i])
		}
	}
	if tx[0].Product != "85123A" || tx[0].Quantity != 6 || tx[0].UnitPrice != 2.55 || tx[0].Country != "United Kingdom" {
		t.Errorf("first row %+v", tx[0])
	}
	if IsProduct(tx[1].Product) || !IsProduct(tx[2].Product) || tx[2].Quantity != -2 {
		t.Errorf("rows %+v %+v", tx[1], tx[2])
	}
	_, _, err = LoadTransactions(strings.NewReader("date,cust\n"), "x.csv", Columns{Date: "date", Customer: "cust"})
	if !errors.Is(err, ErrColumns) || !strings.Contains(err.Error(), `"stock_code"`) {
		t.Fatalf("missing column error: %v", err)
	}
	// Mapped column names.
	in := "Day,Buyer,SKU,Units,Price\n2011-01-03,c1,10001,5,1.5\n"
	tx, _, err = LoadTransactions(strings.NewReader(in), "m.csv", Columns{Date: "day", Customer: "buyer", Product: "sku", Quantity: "units", UnitPrice: "price", DateLayout: "2006-01-02"})
	if err != nil || len(tx) != 1 || tx[0].Customer != "c1" || tx[0].Quantity != 5 {
		t.Fatalf("mapped load: %v %+v", err, tx)
	}
}

func TestWeeklySeries(t *testing.T) {
	d := func(day int) time.Time { return time.Date(2011, 1, day, 10, 0, 0, 0, time.UTC) }
	tx := []Transaction{
		{Time: d(3), Product: "10001", Description: "A", Quantity: 5, UnitPrice: 1},
		{Time: d(4), Product: "10001", Quantity: 7, UnitPrice: 3},
		{Time: d(5), Product: "10001", Quantity: -4, UnitPrice: 3}, // return: not demand
		{Time: d(12), Product: "10001", Description: "A2", Quantity: 1, UnitPrice: 2},
		{Time: d(12), Product: "POST", Quantity: 1, UnitPrice: 18},
	}
	cal, _ := CalendarOf(tx)
	ss := WeeklySeries(tx, cal, false)
	if len(ss) != 1 || ss[0].Qty[0] != 12 || ss[0].Qty[1] != 1 || !near(ss[0].Price, 2) || ss[0].Description != "A2" {
		t.Fatalf("series %+v", ss)
	}
}

func TestHeadDPSGDClipsAndLearns(t *testing.T) {
	rng, _ := privacy.NewRand(privacy.SeededReader(3))
	var x [][]float64
	var z []float64
	for i := 0; i < 2000; i++ {
		a := rng.Float64()
		x = append(x, []float64{1, a})
		z = append(z, 0.2+0.5*a)
	}
	h := &Head{W: []float64{0, 0}, Delta: 1}
	cfg := TrainConfig{Steps: 2000, LearningRate: 0.5, Private: true, SampleRate: 0.05, ClipNorm: 1, NoiseMultiplier: 1, ExpectedBatch: 100}
	if err := h.Train(x, z, cfg, rng); err != nil {
		t.Fatal(err)
	}
	if math.Abs(h.W[0]-0.2) > 0.05 || math.Abs(h.W[1]-0.5) > 0.1 {
		t.Fatalf("weights %v, want ≈ [0.2 0.5]", h.W)
	}
	// One example with a huge residual moves w by at most lr·C/B plus noise.
	h2 := &Head{W: []float64{0}, Delta: 100}
	err := h2.Train([][]float64{{1}}, []float64{1000}, TrainConfig{Steps: 1, LearningRate: 1, Private: true, SampleRate: 1, ClipNorm: 0.5, NoiseMultiplier: 1e-9, ExpectedBatch: 1}, rng)
	if err != nil || !near(math.Round(h2.W[0]*1e6)/1e6, 0.5) {
		t.Fatalf("clipped step gave %v (%v), want 0.5", h2.W, err)
	}
	if err := h.Train(x, z[:1], cfg, rng); err == nil {
		t.Fatal("length mismatch accepted")
	}
	if err := h.Train(x, z, TrainConfig{Steps: 1, LearningRate: 1, Private: true}, rng); err == nil {
		t.Fatal("private config without q, C, z accepted")
	}
}

func TestFeatureRow(t *testing.T) {
	cal := Calendar{Epoch: time.Date(2011, 1, 3, 0, 0, 0, 0, time.UTC), Weeks: 10}
	f, err := NewFeaturizer(nil, 0, 0, cal)
	if err != nil {
		t.Fatal(err)
	}
	s := &Series{Qty: []float64{0, 3, 0, 0, 7, 0}, Price: math.E - 1}
	row := make([]float64, f.Dim())
	f.Row(row, s, nil, 5)
	l := func(v float64) float64 { return math.Log1p(v) / Scale }
	want := map[int]float64{0: 1, 1: l(7), 2: l(0), 4: l(3), 5: l(10.0 / 4), 6: l(10.0 / 5), 8: 2.0 / 8, 9: math.Log1p(1) / Scale, 10: math.Log1p(4) / Scale, 11: 1 / Scale}
	for i, w := range want {
		if !near(row[i], w) {
			t.Errorf("%s = %v, want %v", BaseFeatureNames[i], row[i], w)
		}
	}
	if !Active(s, 5) || Active(s, 1) || Active(&Series{Qty: make([]float64, 30)}, 20) {
		t.Error("Active")
	}
}
