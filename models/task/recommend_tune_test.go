package task

import (
	"context"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/models/recommend"
)

// TestRecommendTuneExperiment chooses the ranking's history weight Gamma
// and half-life on a development cut: the last 8 weeks of online_retail
// (the demo's evaluation weeks) are dropped and the 8 weeks before them are
// held back. The tower is trained once by an in-process FedAvg of the
// tenants' DP-SGD runs (the demo's 20 rounds of 5 steps, noise multiplier
// FEDB2B_REC_Z, default 1, the demo's expected batch q·1000; no secure
// aggregation: a stand-in for the federation) and every (Gamma, half-life) is read off the same model,
// since neither enters training. Set FEDB2B_RETAIL to transactions.csv.
func TestRecommendTuneExperiment(t *testing.T) {
	path := os.Getenv("FEDB2B_RETAIL")
	if path == "" {
		t.Skip("set FEDB2B_RETAIL to online_retail's transactions.csv")
	}
	all, _, err := forecast.LoadTransactionsFile(path, forecast.OnlineRetailColumns())
	if err != nil {
		t.Fatal(err)
	}
	testCut, err := recommend.HoldoutCut(all, 8)
	if err != nil {
		t.Fatal(err)
	}
	var tx []forecast.Transaction
	for _, x := range all {
		if x.Time.Before(testCut) {
			tx = append(tx, x)
		}
	}
	cut, err := recommend.HoldoutCut(tx, 8)
	if err != nil {
		t.Fatal(err)
	}
	cat := recommend.BuildCatalog(tx, cut)
	enc, err := models.OrDefault(nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, init, err := RecommendSpec("dev", enc, cat, RecommendOptions{Cut: cut, TowerDim: 32, FeatureDim: 256, Gamma: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	names, parts := forecast.SplitByCountry(tx, 20)
	var groups [][]forecast.Transaction
	var ls []*Recommender
	ctx := context.Background()
	for _, n := range names {
		groups = append(groups, parts[n])
		l, err := NewRecommender(enc, cat, parts[n])(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l.(*Recommender))
	}
	z, _ := strconv.ParseFloat(cmpOrStr(os.Getenv("FEDB2B_REC_Z"), "1"), 64)
	rng := mrand.New(mrand.NewPCG(3, 4))
	global := append([]float64(nil), init...)
	cfg := models.TrainConfig{Steps: 5, LearningRate: 0.2, Private: true, SampleRate: 0.2, ClipNorm: 1, NoiseMultiplier: z, ExpectedBatch: 0.2 * models.DefaultExpectedRecords}
	for r := 0; r < 20; r++ {
		next := make([]float64, len(global))
		var wsum float64
		for _, l := range ls {
			if err := l.SetParams(global); err != nil {
				t.Fatal(err)
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
	for _, l := range ls {
		if err := l.SetParams(global); err != nil {
			t.Fatal(err)
		}
	}
	for _, hl := range []float64{0, 30, 60, 120} {
		b := RecommendBaselines(cat, cut, 10, hl, groups)
		t.Logf("dev half-life %v: buy_again %.4f own_orders %.4f own_recent %.4f popularity %.4f (customers %d)", hl, b.Repeat.Recall(), b.OwnOrders.Recall(), b.OwnRecent.Recall(), b.Popularity.Recall(), b.Repeat.Customers)
	}
	for _, g := range []float64{0, 0.1, 0.3, 1, 3, 10, 100} {
		for _, hl := range []float64{0, 30, 60, 120} {
			rel, dep := make([]int64, 3), make([]int64, 3)
			for _, l := range ls {
				l.opt.Gamma, l.opt.HalfLife = g, hl
				s, _ := l.EvalStats()
				d, _ := l.DeployedStats()
				for i := range rel {
					rel[i] += s[i]
					dep[i] += d[i]
				}
			}
			_, r1, n1, _ := RecommendMetrics(rel)
			_, r2, n2, _ := RecommendMetrics(dep)
			t.Logf("dev gamma %-5v half-life %-4v: released recall@10 %.4f ndcg %.4f; deployed %.4f / %.4f", g, hl, r1, n1, r2, n2)
		}
	}
}

func cmpOrStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
