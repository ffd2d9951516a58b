package task_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/simulate"
)

// forecastFederation builds the task and one tenant per part.
func forecastFederation(t testing.TB, enc models.Encoder, names []string, parts [][]forecast.Transaction, s forecast.Setup) simulate.TaskFederation {
	t.Helper()
	spec, init, err := task.ForecastSpec("demand", enc, s, 11)
	if err != nil {
		t.Fatal(err)
	}
	fed := simulate.TaskFederation{Spec: spec, Initial: init}
	for i, p := range parts {
		// Tenant names are a-z, 0-9, '-', '_', '.': "United Kingdom" is
		// "united-kingdom".
		name := strings.ReplaceAll(strings.ToLower(names[i]), " ", "-")
		fed.Tenants = append(fed.Tenants, simulate.TaskTenant{Name: name, Learner: task.NewForecast(enc, p, nil)})
	}
	return fed
}

// exactMetrics evaluates params on every tenant's held-out customers
// without noise (what only a simulation holding all the data can do).
func exactMetrics(ctx context.Context, fed simulate.TaskFederation, params []float64) (map[string]float64, error) {
	return countMetrics(ctx, fed, params, false)
}

// deployedMetrics is exactMetrics of the tenants' deployed forecasts:
// the head on every tenant's product-level held-out rows.
func deployedMetrics(ctx context.Context, fed simulate.TaskFederation, params []float64) (map[string]float64, error) {
	return countMetrics(ctx, fed, params, true)
}

func countMetrics(ctx context.Context, fed simulate.TaskFederation, params []float64, deployed bool) (map[string]float64, error) {
	sum := make([]int64, task.ForecastStatsLen)
	for _, tn := range fed.Tenants {
		l, err := tn.Learner(ctx, fed.Spec)
		if err != nil {
			return nil, err
		}
		if err := l.SetParams(params); err != nil {
			return nil, err
		}
		stats := l.EvalStats
		if deployed {
			stats = l.(*task.Forecaster).DeployedStats
		}
		s, err := stats()
		if err != nil {
			return nil, err
		}
		for i, v := range s {
			sum[i] += v
		}
	}
	return task.Metrics(fed.Spec, sum)
}

func fmtMetrics(m map[string]float64) string {
	return fmt.Sprintf("MAE %.3f RMSE %.3f WAPE %.4f (n=%.0f)", m["mae"], m["rmse"], m["wape"], m["examples"])
}

// Three tenants (France, Germany, the other countries of the small
// online_retail sample) train the forecasting head through the real
// coordinator (loopback gRPC, mutual TLS, SecAgg+, weighted FedAvg) with
// DP-SGD at ε = 8 and exact evaluation statistics. The federation must
// finish its rounds, report finite metrics of all held-out rows, end with
// a lower MAE than the seasonal-naive and 4-week moving-average baselines
// and a lower WAPE than forecasting zero on the same rows, and stay within
// 2 % of the MAE of its public prior (the 13-week median): the pinball
// loss at too large a step drives the head to forecast zero everywhere
// (measured at learning rate 1: WAPE 1.000), which this catches. Measured
// at 0.03: MAE 11.76 → 11.86, WAPE 0.937 → 0.945 — on 467 rows training
// does not improve on the prior.
func TestForecastFederated(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tx, _, err := forecast.LoadTransactionsFile("../forecast/testdata/transactions_small.csv", forecast.OnlineRetailColumns())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]forecast.Transaction{}
	for _, x := range tx {
		n := x.Country
		if n != "France" && n != "Germany" {
			n = "Other"
		}
		byName[n] = append(byName[n], x)
	}
	names := []string{"France", "Germany", "Other"}
	parts := [][]forecast.Transaction{byName["France"], byName["Germany"], byName["Other"]}
	cal, err := forecast.CalendarOf(tx)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	fed := forecastFederation(t, enc, names, parts, forecast.Setup{Calendar: cal, TextDim: 8})
	cfg := simulate.Config{Encoder: enc, Rounds: 4, LocalSteps: 20, SampleRate: 0.1, ClipNorm: 1, LearningRate: 0.03,
		ServerLR: 1, TargetEpsilon: 8, WeightEpsilon: 0.05, RoundTimeout: 10 * time.Second, Rand: privacy.SeededReader(5)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := simulate.RunTask(ctx, cfg, fed, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rounds) != cfg.Rounds || len(rep.FinalModel) != fed.Spec.NumParams {
		t.Fatalf("%d rounds, final model of %d parameters", len(rep.Rounds), len(rep.FinalModel))
	}
	base, err := task.ForecastBaselines(fed.Spec, parts)
	if err != nil {
		t.Fatal(err)
	}
	initial, err := deployedMetrics(ctx, fed, fed.Initial)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("initial (deployed): %s", fmtMetrics(initial))
	for _, r := range rep.Rounds {
		t.Logf("round %d: %d participants, %s", r.Round, r.Participants, fmtMetrics(r.Values))
	}
	for _, n := range []string{"seasonal_naive", "moving_average_4", "median_13", "zero"} {
		t.Logf("%-15s %s", n, fmtMetrics(base[n]))
	}
	// The released statistics count customers; the deployed forecasts
	// are counted on the baselines' product-level rows.
	released := rep.FinalValues
	t.Logf("final released (customers' own rows): %s", fmtMetrics(released))
	if released["examples"] < 10 || released["examples"] >= base["zero"]["examples"] {
		t.Fatalf("released statistics of %v customers (the baselines have %v rows)", released["examples"], base["zero"]["examples"])
	}
	final, err := deployedMetrics(ctx, fed, rep.FinalModel)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("final deployed: %s", fmtMetrics(final))
	for _, k := range []string{"mae", "rmse", "wape"} {
		if v := final[k]; math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			t.Fatalf("final %s = %v", k, v)
		}
	}
	if final["examples"] != base["zero"]["examples"] || final["examples"] < 100 {
		t.Fatalf("evaluated %v rows, the baselines %v", final["examples"], base["zero"]["examples"])
	}
	if !(final["mae"] < base["seasonal_naive"]["mae"] && final["mae"] < base["moving_average_4"]["mae"]) {
		t.Errorf("final %s does not beat the baselines", fmtMetrics(final))
	}
	if !(final["wape"] < base["zero"]["wape"] && final["mae"] < 1.02*initial["mae"]) {
		t.Errorf("initial (public prior) %s, final %s, zero %s: training ruined the prior", fmtMetrics(initial), fmtMetrics(final), fmtMetrics(base["zero"]))
	}
	// The rounds are evaluated exactly (to compare exact figures), so
	// every tenant's record-level ε is reported as ∞ (#13 finding 3).
	for name, e := range rep.Epsilon {
		if !math.IsInf(e, 1) {
			t.Errorf("%s: ε %v after exact evaluations, want +Inf", name, e)
		}
	}
	// The coordinator-side figures are the exact statistics of the final
	// model, summed over the tenants.
	exact, err := exactMetrics(ctx, fed, rep.FinalModel)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(exact["mae"]-released["mae"]) > 1e-9 {
		t.Errorf("exact final %v, reported %v", exact, released)
	}

	// Noised evaluation (Google DP library, L0 = 4, LInf = 10⁶ at ε = 1
	// per round): 467 rows are far too few for useful figures at a clip
	// of 500 units, but they must come back finite and in range.
	cfg.Rounds, cfg.EvalEpsilon, cfg.Rand = 2, 1, privacy.SeededReader(6)
	rep, err = simulate.RunTask(ctx, cfg, fed, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Rounds {
		t.Logf("noised round %d: %s", r.Round, fmtMetrics(r.Values))
		for _, k := range []string{"mae", "rmse", "wape", "examples"} {
			if v := r.Values[k]; math.IsNaN(v) || v < 0 || (k != "examples" && k != "wape" && v > 500) || v > 1e7 {
				t.Fatalf("noised round %d: %s = %v", r.Round, k, v)
			}
		}
	}
}

// TestForecastRetailFederated runs the task on the shared online_retail
// data split by country (small countries pooled) when FEDB2B_RETAIL points
// to its transactions.csv, and prints the federated figures beside both
// baselines. FEDB2B_RETAIL_OPTS overrides settings, e.g.
// "rounds=100,eps=8,eval_eps=0.5,clip=100,max_weight=100000" (defaults:
// 30 rounds, ε = 1, exact evaluation, clip 500, the harness's max weight).
func TestForecastRetailFederated(t *testing.T) {
	path := os.Getenv("FEDB2B_RETAIL")
	if path == "" {
		t.Skip("FEDB2B_RETAIL not set")
	}
	o := map[string]float64{"rounds": 30, "eps": 1, "eval_eps": 0, "clip": task.DefaultForecastEvalClip, "max_weight": 0}
	for _, kv := range strings.Split(os.Getenv("FEDB2B_RETAIL_OPTS"), ",") {
		k, v, ok := strings.Cut(kv, "=")
		if _, known := o[k]; !ok || !known {
			if kv != "" {
				t.Fatalf("FEDB2B_RETAIL_OPTS: %q is not one of %v", kv, o)
			}
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("FEDB2B_RETAIL_OPTS: %s: %v", kv, err)
		}
		o[k] = x
	}
	tx, _, err := forecast.LoadTransactionsFile(path, forecast.OnlineRetailColumns())
	if err != nil {
		t.Fatal(err)
	}
	names, byName := forecast.SplitByCountry(tx, 10)
	var parts [][]forecast.Transaction
	for _, n := range names {
		parts = append(parts, byName[n])
	}
	cal, err := forecast.CalendarOf(tx)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := models.OrDefault(nil)
	if err != nil {
		t.Fatal(err)
	}
	fed := forecastFederation(t, enc, names, parts, forecast.Setup{Calendar: cal, EvalClip: o["clip"]})
	cfg := simulate.Config{Encoder: enc, Rounds: int(o["rounds"]), LocalSteps: 10, SampleRate: 0.05, ClipNorm: 1, LearningRate: 1,
		ServerLR: 1, TargetEpsilon: o["eps"], EvalEpsilon: o["eval_eps"], WeightEpsilon: 0.01, MaxWeight: o["max_weight"], MinClients: len(parts),
		RoundTimeout: time.Minute, Rand: privacy.SeededReader(1)}
	t.Logf("settings %v", o)
	ctx := context.Background()
	start := time.Now()
	rep, err := simulate.RunTask(ctx, cfg, fed, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d tenants, %d rounds in %v, z=%.3f, ε per tenant %v", len(parts), len(rep.Rounds), time.Since(start).Round(time.Second), rep.Privacy.NoiseMultiplier, rep.Epsilon)
	for _, r := range rep.Rounds {
		if r.Round == 1 || r.Round%10 == 0 || r.Round == len(rep.Rounds) {
			t.Logf("round %3d: %s", r.Round, fmtMetrics(r.Values))
		}
	}
	exact, err := exactMetrics(ctx, fed, rep.FinalModel)
	if err != nil {
		t.Fatal(err)
	}
	deployed, err := deployedMetrics(ctx, fed, rep.FinalModel)
	if err != nil {
		t.Fatal(err)
	}
	base, err := task.ForecastBaselines(fed.Spec, parts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%-15s %s", "federated", fmtMetrics(rep.FinalValues))
	t.Logf("%-15s %s", "federated exact (customers)", fmtMetrics(exact))
	t.Logf("%-15s %s", "federated deployed (products)", fmtMetrics(deployed))
	for _, n := range []string{"seasonal_naive", "moving_average_4", "median_13", "zero"} {
		t.Logf("%-15s %s", n, fmtMetrics(base[n]))
	}
}
