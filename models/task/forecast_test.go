package task

import (
	"context"
	"math"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/protocol"
)

// Hand-computed with clip B = 10:
//
//	ŷ   y   |e|  e²   |y|    clamped: |e|  e²   |y|
//	2   1    1    1    1               1    1    1
//	0   4    4   16    4               4   16    4
//	30  5   25  625    5              10  100    5
//	3  20   17  289   20              10  100   10
//
// Σ|e| = 25 (2.5 B), Σe² = 217 (2.17 B²), Σ|y| = 20 (2 B); MAE 25/4,
// RMSE √(217/4), WAPE 25/20.
func TestForecastStatsHandComputed(t *testing.T) {
	s, err := ForecastStats([]float64{2, 0, 30, 3}, []float64{1, 4, 5, 20}, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{4 * ForecastUnit, 2_500_000, 2_170_000, 2_000_000}
	for i := range want {
		if s[i] != want[i] {
			t.Fatalf("stats %v, want %v", s, want)
		}
	}
	mae, rmse, wape, err := ForecastMetrics(s, 10)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(mae-6.25) > 1e-9 || math.Abs(rmse-math.Sqrt(217.0/4)) > 1e-9 || math.Abs(wape-1.25) > 1e-9 {
		t.Fatalf("MAE %v RMSE %v WAPE %v, want 6.25 %v 1.25", mae, rmse, wape, math.Sqrt(217.0/4))
	}
	if _, err := ForecastStats([]float64{1}, nil, 10); err == nil {
		t.Error("length mismatch accepted")
	}
	for _, clip := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := ForecastStats(nil, nil, clip); err == nil {
			t.Errorf("clip %v accepted", clip)
		}
	}
}

// Without clamping, the statistics give forecast.Errors' metrics up to the
// documented quantisation, and tenants' statistics add up to those of
// their union.
func TestForecastStatsMatchErrors(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	const clip = 1000
	var pred, y []float64
	var e forecast.Errors
	for range 500 {
		p, a := r.Float64()*400, math.Floor(r.ExpFloat64()*40)
		pred, y = append(pred, p), append(y, a)
		e.Add(p, a)
	}
	all, err := ForecastStats(pred, y, clip)
	if err != nil {
		t.Fatal(err)
	}
	mae, rmse, wape, _ := ForecastMetrics(all, clip)
	q := float64(clip) / ForecastUnit // per-row quantisation ≤ q/2
	if math.Abs(mae-e.MAE()) > q || math.Abs(rmse-e.RMSE()) > 1e-3 || math.Abs(wape-e.WAPE()) > 1e-6 {
		t.Fatalf("metrics %v %v %v, forecast.Errors %v", mae, rmse, wape, e.Metrics())
	}
	a, _ := ForecastStats(pred[:200], y[:200], clip)
	b, _ := ForecastStats(pred[200:], y[200:], clip)
	for i := range all {
		if a[i]+b[i] != all[i] {
			t.Fatalf("entry %d: %d + %d ≠ %d", i, a[i], b[i], all[i])
		}
	}
}

// One row, whatever its values, adds exactly ForecastUnit rows and at most
// ForecastUnit to every other entry: removing or adding it changes at most
// L0 = 4 entries by at most LInf = ForecastUnit, the bounds the kind
// registers.
func TestForecastRowBounds(t *testing.T) {
	k, err := Lookup(KindForecast)
	if err != nil {
		t.Fatal(err)
	}
	if k.L0 != ForecastStatsLen || k.LInf != ForecastUnit || k.EvalLen(protocol.TaskSpec{}) != ForecastStatsLen {
		t.Fatalf("kind bounds L0 %d LInf %d len %d", k.L0, k.LInf, k.EvalLen(protocol.TaskSpec{}))
	}
	r := mrand.New(mrand.NewPCG(3, 4))
	special := []float64{0, -0.0, 1e-300, -5, 1e308, math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64}
	pick := func() float64 {
		if r.IntN(3) == 0 {
			return special[r.IntN(len(special))]
		}
		return (r.Float64() - 0.2) * math.Pow(10, float64(r.IntN(8)))
	}
	for i := range 20000 {
		clip := []float64{1e-3, 1, 10, 500, 1e4}[i%5]
		p, y := pick(), pick()
		row := ForecastRow(p, y, clip)
		if row[0] != ForecastUnit {
			t.Fatalf("row(%v, %v, B=%v) counts %d rows", p, y, clip, row[0])
		}
		for j, v := range row {
			if v < 0 || v > ForecastUnit {
				t.Fatalf("row(%v, %v, B=%v)[%d] = %d outside [0, %d]", p, y, clip, j, v, ForecastUnit)
			}
		}
	}
	// The bound is reached: an error and a demand of B or more.
	if row := ForecastRow(0, 600, 500); row != [4]int64{ForecastUnit, ForecastUnit, ForecastUnit, ForecastUnit} {
		t.Fatalf("clamped row %v", row)
	}
}

// Noised statistics (negative, inconsistent, huge) still give finite,
// non-negative metrics inside their ranges.
func TestForecastMetricsOfNoisedStats(t *testing.T) {
	const clip = 500
	cases := [][]int64{
		{0, 0, 0, 0},
		{-5 * ForecastUnit, 3 * ForecastUnit, -1, 7},
		{ForecastUnit / 1000, 90 * ForecastUnit, 90 * ForecastUnit, 0},
		{10 * ForecastUnit, 2 * ForecastUnit, 1 << 40, -(1 << 40)},
		{1 << 40, -(1 << 40), 1 << 40, 1},
		{1, 1 << 40, 1 << 40, 1 << 40},
	}
	r := mrand.New(mrand.NewPCG(5, 6))
	for range 2000 {
		c := make([]int64, 4)
		for i := range c {
			c[i] = r.Int64N(1<<41) - 1<<40
		}
		cases = append(cases, c)
	}
	for _, s := range cases {
		mae, rmse, wape, err := ForecastMetrics(s, clip)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []float64{mae, rmse, wape} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("stats %v: metrics %v %v %v", s, mae, rmse, wape)
			}
		}
		if mae > clip || rmse > clip || wape > MaxForecastWAPE {
			t.Fatalf("stats %v: metrics %v %v %v out of range", s, mae, rmse, wape)
		}
	}
	if _, _, wape, _ := ForecastMetrics([]int64{ForecastUnit, 5, 1, 0}, clip); wape != MaxForecastWAPE {
		t.Errorf("errors without demand: WAPE %v, want the cap", wape)
	}
	if _, _, _, err := ForecastMetrics([]int64{1, 2, 3}, clip); err == nil {
		t.Error("three statistics accepted")
	}
}

func testSetup(t *testing.T, tx []forecast.Transaction) forecast.Setup {
	t.Helper()
	cal, err := forecast.CalendarOf(tx)
	if err != nil {
		t.Fatal(err)
	}
	return forecast.Setup{Calendar: cal, TextDim: 8}
}

func loadSmall(t testing.TB) []forecast.Transaction {
	t.Helper()
	tx, _, err := forecast.LoadTransactionsFile("../forecast/testdata/transactions_small.csv", forecast.OnlineRetailColumns())
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func TestForecastSpecAndMetrics(t *testing.T) {
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	tx := loadSmall(t)
	spec, init, err := ForecastSpec("demand", enc, testSetup(t, tx), 7)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Kind != KindForecast || spec.InputDim != 30 || spec.NumParams != 30 || len(init) != 30 || spec.EvalLen != 4 || spec.EncoderID != enc.ID() {
		t.Fatalf("spec %+v, %d initial parameters", spec, len(init))
	}
	if spec.Options["eval_clip"] != "500" || spec.Options["holdout"] != "4" || spec.Options["text_dim"] != "8" {
		t.Fatalf("options %v", spec.Options)
	}
	s, err := ForecastSetupOf(spec)
	if err != nil || s.EvalClip != 500 || s.TextDim != 8 || s.Calendar != testSetup(t, tx).Calendar {
		t.Fatalf("setup read back %+v, %v", s, err)
	}
	m, err := Metrics(spec, []int64{2 * ForecastUnit, ForecastUnit / 100, ForecastUnit / 10000, ForecastUnit / 50})
	if err != nil {
		t.Fatal(err)
	}
	// Σ|e| = 5, Σe² = 25, Σ|y| = 10 units over 2 rows.
	if math.Abs(m["mae"]-2.5) > 1e-9 || math.Abs(m["rmse"]-math.Sqrt(12.5)) > 1e-9 || math.Abs(m["wape"]-0.5) > 1e-9 || m["examples"] != 2 {
		t.Fatalf("metrics %v", m)
	}
	bad := spec
	bad.Options = map[string]string{"epoch": "2010-11-30", "weeks": "44"} // a Tuesday
	if _, err := Metrics(bad, make([]int64, 4)); err == nil || !strings.Contains(err.Error(), "Monday") {
		t.Errorf("Tuesday epoch: %v", err)
	}
}

func TestForecastSetupOptionsRejected(t *testing.T) {
	good := map[string]string{"epoch": "2010-11-29", "weeks": "44"}
	if s, err := forecast.ParseSetup(good); err != nil || s.Holdout != 4 || s.TextDim != 16 || s.EvalClip != 500 {
		t.Fatalf("defaults %+v, %v", s, err)
	}
	for _, c := range []struct{ k, v, want string }{
		{"colour", "red", "unknown task option"},
		{"weeks", "x", "weeks"},
		{"weeks", "2", "weeks outside"},
		{"holdout", "43", "hold-out"},
		{"holdout", "-1", "not positive"},
		{"text_dim", "-3", "negative"},
		{"text_dim", "5000", "text dimension"},
		{"eval_clip", "NaN", "eval_clip"},
		{"eval_clip", "-2", "eval_clip"},
		{"eval_clip", "+Inf", "evaluation clip"},
		{"epoch", "2010-13-01", "epoch"},
	} {
		o := map[string]string{"epoch": "2010-11-29", "weeks": "44", c.k: c.v}
		if _, err := forecast.ParseSetup(o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: %v, want an error about %q", c.k, c.v, err, c.want)
		}
	}
	if _, err := forecast.ParseSetup(map[string]string{"weeks": "44"}); err == nil || !strings.Contains(err.Error(), "epoch") {
		t.Errorf("missing epoch: %v", err)
	}
	if s, err := forecast.ParseSetup(map[string]string{"epoch": "2010-11-29", "weeks": "44", "text_dim": "0"}); err != nil || s.TextDim != 0 || s.Dim() != 22 {
		t.Errorf("explicit text_dim 0: %+v, %v", s, err)
	}
}

func TestForecasterLearner(t *testing.T) {
	ctx := context.Background()
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	tx := loadSmall(t)
	spec, init, err := ForecastSpec("demand", enc, testSetup(t, tx), 7)
	if err != nil {
		t.Fatal(err)
	}
	// Without a public expected batch, private training must refuse to
	// run rather than divide by the tenant's own row count.
	bare, err := NewForecast(enc, tx, nil)(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bare.Train(models.TrainConfig{Steps: 1, LearningRate: 1, Private: true, SampleRate: 0.05, ClipNorm: 1, NoiseMultiplier: 1}, mrand.New(mrand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), "expected batch") {
		t.Fatalf("private training without a public expected batch: %v", err)
	}
	l, err := NewForecast(enc, tx, nil)(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	f := l.(*Forecaster)
	if f.NumParams() != 30 || f.TrainSize() == 0 || f.Evaluated() == 0 || len(f.product.TestX) == 0 {
		t.Fatalf("%d params, %d training customers, %d evaluated customers, %d product test rows", f.NumParams(), f.TrainSize(), f.Evaluated(), len(f.product.TestX))
	}
	if err := l.SetParams(init); err != nil {
		t.Fatal(err)
	}
	p := l.Params()
	p[0] = 99
	if f.Model().W[0] == 99 {
		t.Fatal("Params shares the head's weights")
	}
	if err := l.SetParams(init[:3]); err == nil {
		t.Error("short parameters accepted")
	}
	nan := append([]float64(nil), init...)
	nan[2] = math.NaN()
	if err := l.SetParams(nan); err == nil {
		t.Error("NaN parameter accepted")
	}

	rng, _ := privacy.NewRand(privacy.SeededReader(3))
	cfg := models.TrainConfig{Steps: 100, LearningRate: 0.05, BatchSize: 64}
	st0, err := l.Train(cfg, rng)
	if err != nil || st0.Steps != 100 || st0.Examples != 100*64 || !(st0.MeanLoss > 0) {
		t.Fatalf("non-private training: %+v, %v", st0, err)
	}
	st, err := l.Train(cfg, rng)
	if err != nil || !(st.MeanLoss < st0.MeanLoss) {
		t.Errorf("training loss did not fall: %v then %v (%v)", st0.MeanLoss, st.MeanLoss, err)
	}
	stats1, _ := l.EvalStats()
	m1, _ := Metrics(spec, stats1)
	if m1["examples"] != float64(f.Evaluated()) {
		t.Errorf("released statistics count %v customers, %d evaluated", m1["examples"], f.Evaluated())
	}
	// With a clip no row reaches, the deployed (product-level) statistics
	// give the unclamped errors up to the quantisation.
	f.clip = 2000
	wide, _ := f.DeployedStats()
	f.clip = 500
	mw, _, _, _ := ForecastMetrics(wide, 2000)
	e := f.Errors()
	if math.Abs(mw-e.MAE()) > 1e-3 || float64(e.N)*ForecastUnit != float64(wide[0]) {
		t.Errorf("deployed MAE %v vs forecast.Errors %v (n=%d, rows %v)", mw, e.Metrics(), e.N, wide[0])
	}

	st, err = l.Train(models.TrainConfig{Steps: 20, LearningRate: 1, Private: true, SampleRate: 0.05, ClipNorm: 1, NoiseMultiplier: 1.1, ExpectedBatch: 50}, rng)
	if err != nil || st.Steps != 20 || st.ClippedFraction < 0 || st.ClippedFraction > 1 {
		t.Fatalf("DP-SGD: %+v, %v", st, err)
	}
	if _, err := l.Train(models.TrainConfig{Steps: 1, LearningRate: 1, Private: true, SampleRate: 0.05, ClipNorm: 1, NoiseMultiplier: 1, Momentum: 0.9, ExpectedBatch: 50}, rng); err == nil || !strings.Contains(err.Error(), "momentum") {
		t.Errorf("momentum: %v", err)
	}
	if _, err := l.Train(models.TrainConfig{Steps: 1, LearningRate: 1, Private: true}, rng); err == nil {
		t.Error("DP-SGD without q, C, z accepted")
	}
}

func TestForecastFactoryRefuses(t *testing.T) {
	ctx := context.Background()
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	other, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 128})
	tx := loadSmall(t)
	spec, _, err := ForecastSpec("demand", enc, testSetup(t, tx), 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		enc  models.Encoder
		edit func(*protocol.TaskSpec)
		want string
	}{
		{"kind", enc, func(s *protocol.TaskSpec) { s.Kind = KindClassify }, "kind"},
		{"encoder", other, func(*protocol.TaskSpec) {}, "need encoder"},
		{"no encoder", nil, func(*protocol.TaskSpec) {}, "this tenant has none"},
		{"input dim", enc, func(s *protocol.TaskSpec) { s.InputDim = 40 }, "input dimension 40"},
		{"params", enc, func(s *protocol.TaskSpec) { s.NumParams = 29 }, "29 parameters"},
		{"options", enc, func(s *protocol.TaskSpec) { s.Options = nil }, "missing"},
	} {
		s := spec
		c.edit(&s)
		if _, err := NewForecast(c.enc, tx, nil)(ctx, s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %q", c.name, err, c.want)
		}
	}
	// Without description features the tenant needs no encoder.
	noText := testSetup(t, tx)
	noText.TextDim = -1
	spec, _, err = ForecastSpec("demand", enc, noText, 7)
	if err != nil || spec.InputDim != 22 {
		t.Fatalf("no text: %+v, %v", spec, err)
	}
	if _, err := NewForecast(nil, tx, nil)(ctx, spec); err != nil {
		t.Fatal(err)
	}
}

// ForecastBaselines reads the held-out rows as the learner does; with a
// clip nothing reaches, its figures are forecast.HoldoutBaselines'; the
// all-zero forecast's WAPE is exactly 1 whatever the clip.
func TestForecastBaselines(t *testing.T) {
	tx := loadSmall(t)
	s := testSetup(t, tx)
	s.EvalClip = 2000
	spec, _, err := ForecastSpec("demand", nil, s, 7)
	if err != nil {
		t.Fatal(err)
	}
	tenants := [][]forecast.Transaction{tx[:len(tx)/2], tx[len(tx)/2:]}
	got, err := ForecastBaselines(spec, tenants)
	if err != nil {
		t.Fatal(err)
	}
	s, _ = s.Filled()
	want, err := forecast.HoldoutBaselines(tenants, s.Calendar, s.Holdout, forecast.Panel(s.Season, s.Window))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) < 10 {
		t.Fatalf("%d baselines, forecast.Panel has %d", len(got), len(want))
	}
	for name, e := range want {
		g := got[name]
		if g["examples"] != float64(e.N) || math.Abs(g["mae"]-e.MAE()) > 1e-3 || math.Abs(g["rmse"]-e.RMSE()) > 0.05 || math.Abs(g["wape"]-e.WAPE()) > 1e-5 {
			t.Errorf("%s: %v, forecast.Errors %v (n=%d)", name, g, e.Metrics(), e.N)
		}
	}
	spec.Options["eval_clip"] = "20"
	got, err = ForecastBaselines(spec, tenants)
	if err != nil || got["zero"]["wape"] != 1 || got["zero"]["mae"] > 20 {
		t.Errorf("clip 20: zero forecast %v, %v", got["zero"], err)
	}
}
