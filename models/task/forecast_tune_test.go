package task_test

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/models/task"
)

// TestForecastTuneExperiment chooses the forecast head's hyper-parameters
// on development weeks: the calendar ends FEDB2B_FORECAST_DEV_SHIFT weeks
// (default 4) before the data, so the held-back weeks are the 4 weeks
// before the evaluation weeks, which no figure reported elsewhere is
// chosen on. Training is a plain in-process FedAvg of the tenants' DP-SGD
// runs (weighted by training rows; no secure aggregation, no update clip:
// a stand-in for the federation, cheap enough for a grid). Set
// FEDB2B_RETAIL to online_retail's transactions.csv; FEDB2B_FORECAST_GRID
// lists configurations "tau,lr,textdim" separated by ';';
// FEDB2B_FORECAST_BATCH is the public expected batch (default 50: q·1,000
// customers, the privacy unit since issue #13). Figures are the deployed
// (product-level) forecasts' on the development weeks.
func TestForecastTuneExperiment(t *testing.T) {
	path := os.Getenv("FEDB2B_RETAIL")
	if path == "" {
		t.Skip("set FEDB2B_RETAIL to online_retail's transactions.csv")
	}
	tx, _, err := forecast.LoadTransactionsFile(path, forecast.OnlineRetailColumns())
	if err != nil {
		t.Fatal(err)
	}
	cal, err := forecast.CalendarOf(tx)
	if err != nil {
		t.Fatal(err)
	}
	shift := 4
	if v := os.Getenv("FEDB2B_FORECAST_DEV_SHIFT"); v != "" {
		shift, _ = strconv.Atoi(v)
	}
	cal.Weeks -= shift
	names, parts := forecast.SplitByCountry(tx, 10)
	var groups [][]forecast.Transaction
	for _, n := range names {
		groups = append(groups, parts[n])
	}
	enc, err := models.OrDefault(nil)
	if err != nil {
		t.Fatal(err)
	}
	grid := os.Getenv("FEDB2B_FORECAST_GRID")
	if grid == "" {
		grid = "0.5,1,16;0.5,0.3,16;0.5,3,16;0.5,1,0;0.6,1,16;-1,1,16"
	}
	z, _ := strconv.ParseFloat(cmpOr(os.Getenv("FEDB2B_FORECAST_Z"), "0.7"), 64)
	ctx := context.Background()
	first := true
	for _, g := range strings.Split(grid, ";") {
		f := strings.Split(g, ",")
		tau, _ := strconv.ParseFloat(f[0], 64)
		lr, _ := strconv.ParseFloat(f[1], 64)
		td, _ := strconv.Atoi(f[2])
		if td == 0 {
			td = -1
		}
		spec, init, err := task.ForecastSpec("dev", enc, forecast.Setup{Calendar: cal, Quantile: tau, TextDim: td}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if first {
			b, err := task.ForecastBaselines(spec, groups)
			if err != nil {
				t.Fatal(err)
			}
			for n, m := range b {
				t.Logf("dev baseline %-18s WAPE %.4f MAE %.3f", n, m["wape"], m["mae"])
			}
			first = false
		}
		var pooled []forecast.Transaction
		for i, p := range groups {
			for _, x := range p {
				x.Product += "@" + strconv.Itoa(i)
				pooled = append(pooled, x)
			}
		}
		if os.Getenv("FEDB2B_FORECAST_CENTRAL") != "" {
			pl, err := task.NewForecast(enc, pooled, nil)(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pl.Train(models.TrainConfig{Steps: 3000, LearningRate: lr, BatchSize: 256}, mrand.New(mrand.NewPCG(5, 6))); err != nil {
				t.Fatal(err)
			}
			s, _ := pl.(*task.Forecaster).DeployedStats()
			m, _ := task.Metrics(spec, s)
			t.Logf("dev centralized tau=%v lr=%v text=%d: WAPE %.4f MAE %.3f", tau, lr, td, m["wape"], m["mae"])
		}
		var ls []task.Learner
		for _, p := range groups {
			l, err := task.NewForecast(enc, p, nil)(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			ls = append(ls, l)
		}
		rng := mrand.New(mrand.NewPCG(1, 2))
		global := append([]float64(nil), init...)
		batch, _ := strconv.ParseFloat(cmpOr(os.Getenv("FEDB2B_FORECAST_BATCH"), "50"), 64)
		cfg := models.TrainConfig{Steps: 10, LearningRate: lr, Private: true, SampleRate: 0.05, ClipNorm: 1, NoiseMultiplier: z, ExpectedBatch: batch}
		for r := 0; r < 100; r++ {
			next := make([]float64, len(global))
			var wsum float64
			for _, l := range ls {
				if err := l.SetParams(global); err != nil {
					t.Fatal(err)
				}
				if l.TrainSize() == 0 {
					continue
				}
				if _, err := l.Train(cfg, rng); err != nil {
					t.Fatal(err)
				}
				w := float64(l.TrainSize())
				for i, v := range l.Params() {
					next[i] += w * v
				}
				wsum += w
			}
			for i := range next {
				next[i] /= wsum
			}
			global = next
		}
		sum := make([]int64, task.ForecastStatsLen)
		for _, l := range ls {
			if err := l.SetParams(global); err != nil {
				t.Fatal(err)
			}
			s, _ := l.(*task.Forecaster).DeployedStats()
			for i, v := range s {
				sum[i] += v
			}
		}
		m, _ := task.Metrics(spec, sum)
		t.Logf("dev tau=%v lr=%v text=%d: WAPE %.4f MAE %.3f", tau, lr, td, m["wape"], m["mae"])
		fmt.Fprintln(os.Stderr, g, m["wape"])
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
