package forecast

import (
	"math"
	mrand "math/rand/v2"
	"slices"
	"testing"
	"time"
)

// One tenant, weeks 0–5, hold-out 2 (weeks 4 and 5). Product 10001 sells
// 10, 0, 20, 30, 0, 40 (a return in week 1 is not demand); product 10002
// first sells in week 5, so it is not active in the held-back weeks.
//
//	week  y   naive (t−1)  MA4                       median4
//	4     0   30           (10+0+20+30)/4 = 15       (10+20)/2 = 15
//	5     40  0            (0+20+30+0)/4 = 12.5      (0+20)/2 = 10
//
// Croston (α = 0.1): demands in weeks 0, 2, 3 before week 4: z = 10, p = 1;
// then z = 11, p = 1.1; then z = 12.9, p = 1.09: forecast 12.9/1.09 for
// both held-back weeks (week 4 has no demand), SBA 0.95 of that.
func TestHoldoutBaselinesHandComputed(t *testing.T) {
	epoch := time.Date(2010, 11, 29, 0, 0, 0, 0, time.UTC)
	at := func(week int) time.Time { return epoch.AddDate(0, 0, 7*week+2) }
	var tx []Transaction
	for w, q := range []float64{10, 0, 20, 30, 0, 40} {
		if q > 0 {
			tx = append(tx, Transaction{Time: at(w), Product: "10001", Quantity: q, UnitPrice: 1})
		}
	}
	tx = append(tx, Transaction{Time: at(1), Product: "10001", Quantity: -7},
		Transaction{Time: at(5), Product: "10002", Quantity: 9})
	cal := Calendar{Epoch: epoch, Weeks: 6}
	b, err := HoldoutBaselines([][]Transaction{tx}, cal, 2, Panel(1, 4))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 12 {
		t.Fatalf("%d baselines, want 12", len(b))
	}
	check := func(name string, e Errors, mae, rmse, wape float64) {
		t.Helper()
		if e.N != 2 || !near(e.MAE(), mae) || !near(e.RMSE(), rmse) || !near(e.WAPE(), wape) {
			t.Errorf("%s: n=%d %v, want MAE %v RMSE %v WAPE %v", name, e.N, e.Metrics(), mae, rmse, wape)
		}
	}
	check("seasonal naive", b["seasonal_naive"], 35, math.Sqrt((900+1600)/2.0), 70.0/40)
	check("moving average", b["moving_average_4"], 21.25, math.Sqrt((225+27.5*27.5)/2), 42.5/40)
	check("median", b["median_4"], 22.5, math.Sqrt((225+900)/2.0), 45.0/40)
	check("zero", b["zero"], 20, math.Sqrt(1600/2.0), 1)
	// 0.4 quantiles: week 4 of {0, 10, 20, 30} at position 1.2 is 12,
	// week 5 of {0, 0, 10, 20, 30} at position 1.6 is 6 (both windows
	// are shorter than 8 weeks, so the 8- and 13-week ones agree).
	for _, n := range []string{"quantile40_8", "quantile40_13"} {
		check(n, b[n], (12+34)/2.0, math.Sqrt((144+34*34)/2.0), 46.0/40)
	}
	c := 12.9 / 1.09
	check("croston", b["croston"], (c+40-c)/2, math.Sqrt((c*c+(40-c)*(40-c))/2), 40.0/40)
	s := 0.95 * c
	check("sba", b["sba"], (s+40-s)/2, math.Sqrt((s*s+(40-s)*(40-s))/2), 40.0/40)
	if _, err := HoldoutBaselines([][]Transaction{tx}, cal, 5, Panel(1, 4)); err == nil {
		t.Error("a hold-out of 5 of 6 weeks accepted")
	}
}

func TestSetupOptionsRoundTrip(t *testing.T) {
	cal := Calendar{Epoch: time.Date(2010, 11, 29, 0, 0, 0, 0, time.UTC), Weeks: 44}
	for _, s := range []Setup{
		{Calendar: cal},
		{Calendar: cal, Holdout: 6, Season: 2, Window: 8, TextDim: -1, EvalClip: 123.5},
		{Calendar: cal, TextDim: 32, EvalClip: MaxEvalClip},
	} {
		want, err := s.Filled()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseSetup(want.Options())
		if err != nil || got != want {
			t.Errorf("%+v: read back %+v, %v", want, got, err)
		}
	}
	if _, err := (Setup{Calendar: cal, EvalClip: MaxEvalClip + 1}).Filled(); err == nil {
		t.Error("clip above the maximum accepted")
	}
	if _, err := (Setup{Calendar: Calendar{Epoch: cal.Epoch.Add(time.Hour), Weeks: 44}}).Filled(); err == nil {
		t.Error("epoch at 01:00 accepted")
	}
}

func TestTrainWithStats(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 1))
	var x [][]float64
	var z []float64
	for range 400 {
		a := r.Float64()
		x = append(x, []float64{1, a, 10 * a})
		z = append(z, 0.3+0.5*a)
	}
	h := &Head{W: make([]float64, 3), Delta: DefaultHuberDelta}
	cfg := TrainConfig{Steps: 50, LearningRate: 0.1, Private: true, SampleRate: 0.1, ClipNorm: 0.5, NoiseMultiplier: 0.5, ExpectedBatch: 40}
	first, err := h.TrainWithStats(x, z, cfg, r)
	if err != nil || first.Steps != 50 || first.Examples < 1000 || first.Examples > 3000 {
		t.Fatalf("%+v, %v", first, err)
	}
	// The third feature makes the norm up to ~3.5·|ψ|: early gradients clip.
	if !(first.ClippedFraction > 0 && first.ClippedFraction <= 1) {
		t.Errorf("clipped fraction %v", first.ClippedFraction)
	}
	later, _ := h.TrainWithStats(x, z, cfg, r)
	if !(later.MeanLoss < first.MeanLoss) {
		t.Errorf("mean loss %v then %v", first.MeanLoss, later.MeanLoss)
	}
	// Without rows DP-SGD still runs its steps, noise only: an early
	// return would send an exactly-zero update that tells an empty tenant
	// from one with a row (simulate/empirical TestRedteamForecastUpdateEmptyTenant).
	before := append([]float64(nil), h.W...)
	if st, err := h.TrainWithStats(nil, nil, cfg, r); err != nil || st.Steps != 50 || st.Examples != 0 {
		t.Errorf("no rows: %+v, %v", st, err)
	}
	if slices.Equal(before, h.W) {
		t.Errorf("no rows: private training left the weights exactly unchanged (no noise)")
	}
}

// ParseSetup reads remote input: it must not panic, and what it accepts
// must survive Options → ParseSetup unchanged.
func FuzzParseSetup(f *testing.F) {
	f.Add("2010-11-29", "44", "holdout", "4", "eval_clip", "500")
	f.Add("2010-11-30", "3", "text_dim", "0", "season", "-1")
	f.Add("x", "1e9", "window", "99999999999", "eval_clip", "NaN")
	f.Fuzz(func(t *testing.T, epoch, weeks, k1, v1, k2, v2 string) {
		s, err := ParseSetup(map[string]string{OptEpoch: epoch, OptWeeks: weeks, k1: v1, k2: v2})
		if err != nil {
			return
		}
		back, err := ParseSetup(s.Options())
		if err != nil || back != s {
			t.Fatalf("%+v read back as %+v, %v", s, back, err)
		}
	})
}

// With Tau 0.5 the head estimates the median of z, not its mean: on
// targets {0.1, 0.3, 0.3, 1.3, 1.5} (median 0.3, mean 0.7) a bias-only
// head trained with the pinball loss settles at 0.3, one trained with a
// wide Huber loss (least squares) at 0.7; Tau 0.75 moves it to the upper
// quartile, 1.3.
func TestPinballHeadFindsTheMedian(t *testing.T) {
	x := [][]float64{{1}, {1}, {1}, {1}, {1}}
	z := []float64{0.1, 0.3, 0.3, 1.3, 1.5}
	fit := func(h *Head, lr float64) float64 {
		r := mrand.New(mrand.NewPCG(4, 4))
		if err := h.Train(x, z, TrainConfig{Steps: 4000, LearningRate: lr, BatchSize: 5}, r); err != nil {
			t.Fatal(err)
		}
		return h.W[0]
	}
	if w := fit(&Head{W: []float64{0}, Tau: 0.5}, 0.002); math.Abs(w-0.3) > 0.01 {
		t.Errorf("pinball 0.5: %v, want the median 0.3", w)
	}
	if w := fit(&Head{W: []float64{0}, Delta: 100}, 0.05); math.Abs(w-0.7) > 0.01 {
		t.Errorf("least squares: %v, want the mean 0.7", w)
	}
	if w := fit(&Head{W: []float64{0}, Tau: 0.75}, 0.002); math.Abs(w-1.3) > 0.01 {
		t.Errorf("pinball 0.75: %v, want the upper quartile 1.3", w)
	}
}

// The noise a private step adds must not reveal how many rows the tenant
// has: with every gradient zero (a pinball head at its targets), a step is
// pure noise, and its spread must be lr·z·C/B for the public expected
// batch B whether the tenant holds 100 rows or 400. Dividing by q·N, the
// former rule, would make the spread 4× smaller for the larger tenant.
func TestPrivateStepNoiseIndependentOfRowCount(t *testing.T) {
	spread := func(n int) float64 {
		x := make([][]float64, n)
		z := make([]float64, n)
		for i := range x {
			x[i] = []float64{1}
		}
		r := mrand.New(mrand.NewPCG(uint64(n), 9))
		cfg := TrainConfig{Steps: 1, LearningRate: 1, Private: true, SampleRate: 0.5, ClipNorm: 1, NoiseMultiplier: 2, ExpectedBatch: 50}
		var ss float64
		const trials = 3000
		for range trials {
			h := &Head{W: []float64{0}, Tau: 0.5}
			if err := h.Train(x, z, cfg, r); err != nil {
				t.Fatal(err)
			}
			ss += h.W[0] * h.W[0]
		}
		return math.Sqrt(ss / trials)
	}
	want := 2.0 / 50
	for _, n := range []int{100, 400} {
		if s := spread(n); math.Abs(s-want) > 0.05*want {
			t.Errorf("%d rows: step noise spread %v, want %v whatever the row count", n, s, want)
		}
	}
}
