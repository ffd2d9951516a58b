package task_test

import (
	"context"
	"math"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/models/recommend"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/scalar"
	"github.com/fedb2b/fedb2b/protocol"
)

// recFixture is the forecast package's sample of online_retail
// (attribution in models/forecast/testdata/README.md: UCI Online Retail,
// Chen 2015, CC BY 4.0), split by country, with the last 8 weeks held back
// and the catalog of the products sold before the cut.
type recFixture struct {
	enc     models.Encoder
	cat     *recommend.Catalog
	cut     time.Time
	names   []string
	tenants map[string][]forecast.Transaction
}

func loadRecFixture(t *testing.T) recFixture {
	t.Helper()
	tx, _, err := forecast.LoadTransactionsFile("../forecast/testdata/transactions_small.csv", forecast.OnlineRetailColumns())
	if err != nil {
		t.Fatal(err)
	}
	cut, err := recommend.HoldoutCut(tx, 8)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 512})
	if err != nil {
		t.Fatal(err)
	}
	names, parts := forecast.SplitByCountry(tx, 1)
	return recFixture{enc: enc, cat: recommend.BuildCatalog(tx, cut), cut: cut, names: names, tenants: parts}
}

func (f recFixture) spec(t *testing.T, o task.RecommendOptions) (protocol.TaskSpec, []float64) {
	t.Helper()
	o.Cut = f.cut
	spec, w0, err := task.RecommendSpec("rec", f.enc, f.cat, o, 7)
	if err != nil {
		t.Fatal(err)
	}
	return spec, w0
}

func recLearner(t *testing.T, f recFixture, spec protocol.TaskSpec, tx []forecast.Transaction) *task.Recommender {
	t.Helper()
	l, err := task.NewRecommender(f.enc, f.cat, tx)(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return l.(*task.Recommender)
}

// Hand-computed: customer 1 has recall 2/3 and NDCG 0.5; customer 2 recall
// 1 and NDCG 0.123456 (rounded to 0.1235 at scale 1e4).
func TestRecommendStatsHandComputed(t *testing.T) {
	a := task.RecommendCustomerStats(2.0/3, 0.5)
	b := task.RecommendCustomerStats(1, 0.123456)
	if a != [3]int64{10000, 6667, 5000} || b != [3]int64{10000, 10000, 1235} {
		t.Fatalf("customer stats %v %v", a, b)
	}
	sum := []int64{a[0] + b[0], a[1] + b[1], a[2] + b[2]}
	spec := protocol.TaskSpec{ID: "r", Kind: task.KindRecommend, Rank: 4, Options: map[string]string{
		task.RecOptCatalog: strings.Repeat("0", 64), task.RecOptCut: "2011-10-03T00:00:00Z"}}
	m, err := task.Metrics(spec, sum)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || m["customers"] != 2 || math.Abs(m["recall@10"]-16667.0/20000) > 1e-12 || math.Abs(m["ndcg@10"]-6235.0/20000) > 1e-12 {
		t.Fatalf("metrics %v", m)
	}
	// The names follow k, as recommend.Ranking.Metrics does.
	spec.Options[task.RecOptK] = "5"
	if m, err = task.Metrics(spec, sum); err != nil || m["recall@5"] != 16667.0/20000 {
		t.Fatalf("metrics at 5: %v %v", m, err)
	}
	if _, err := task.Metrics(spec, sum[:2]); err == nil {
		t.Fatal("two statistics accepted")
	}
}

// Whatever a customer's values, its contribution is three entries in
// [0, LInf]: the bound the evaluation noise is calibrated to.
func TestRecommendCustomerStatsBound(t *testing.T) {
	k, err := task.Lookup(task.KindRecommend)
	if err != nil {
		t.Fatal(err)
	}
	if k.L0 != 3 || k.LInf != task.RecommendScale {
		t.Fatalf("bounds L0 %d LInf %d", k.L0, k.LInf)
	}
	r := mrand.New(mrand.NewPCG(3, 4))
	vals := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1, 0, 1, 1.5, 1e300, -0.0}
	for range 1000 {
		vals = append(vals, r.Float64()*3-1)
	}
	for _, rec := range vals {
		for _, nd := range vals[:20] {
			s := task.RecommendCustomerStats(rec, nd)
			for i, v := range s {
				if v < 0 || v > k.LInf {
					t.Fatalf("values (%v, %v): entry %d = %d outside [0, %d]", rec, nd, i, v, k.LInf)
				}
			}
		}
	}
}

// Removing one customer's transactions changes the tenant's statistics by
// at most L0 entries, each by at most LInf — for a trained tower, because a
// customer's ranking uses only its own data (its recency-weighted order
// history included) and the released tower.
func TestRecommendEvalStatsPerCustomerSensitivity(t *testing.T) {
	f := loadRecFixture(t)
	spec, w0 := f.spec(t, task.RecommendOptions{TowerDim: 8, FeatureDim: 64, Gamma: 0.5, HalfLife: 30})
	tx := f.tenants["France"]
	full := recLearner(t, f, spec, tx)
	// A released tower: the initial one moved by training on this tenant.
	rng, _ := privacy.NewRand(privacy.SeededReader(11))
	if _, err := full.Train(models.TrainConfig{Steps: 20, LearningRate: 0.2, Private: true, SampleRate: 0.5, ClipNorm: 1, NoiseMultiplier: 1, ExpectedBatch: 37}, rng); err != nil {
		t.Fatal(err)
	}
	tower := full.Params()
	if len(tower) != len(w0) {
		t.Fatalf("tower of %d parameters, initial %d", len(tower), len(w0))
	}
	stats := func(tx []forecast.Transaction) []int64 {
		l := recLearner(t, f, spec, tx)
		if err := l.SetParams(tower); err != nil {
			t.Fatal(err)
		}
		s, err := l.EvalStats()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	all := stats(tx)
	if all[0] == 0 {
		t.Fatal("no customer evaluated")
	}
	customers := map[string]bool{}
	for _, x := range tx {
		customers[x.Customer] = true
	}
	for c := range customers {
		var rest []forecast.Transaction
		for _, x := range tx {
			if x.Customer != c {
				rest = append(rest, x)
			}
		}
		s := stats(rest)
		for i := range s {
			if d := all[i] - s[i]; d < 0 || d > task.RecommendScale {
				t.Fatalf("removing customer %s changes entry %d by %d", c, i, d)
			}
		}
	}
}

// Noised sums, however far off, read as finite metrics in [0, 1].
func TestRecommendMetricsOfNoisedSums(t *testing.T) {
	for _, s := range [][]int64{
		{-5, 100, 100}, {0, 7, 7}, {1, math.MaxInt64, math.MinInt64}, {math.MinInt64, 1, 1}, {30000, -1, 40000},
	} {
		n, rec, nd, err := task.RecommendMetrics(s)
		if err != nil || n < 0 || !(rec >= 0 && rec <= 1) || !(nd >= 0 && nd <= 1) {
			t.Fatalf("stats %v: customers %v recall %v ndcg %v, %v", s, n, rec, nd, err)
		}
	}
	exact := []int64{3 * task.RecommendScale, 12000, 15000}
	for range 200 {
		s := append([]int64(nil), exact...)
		if _, err := scalar.ReleaseInts(s, task.RecommendL0, task.RecommendScale, 0.5, 1e-5, scalar.Gaussian); err != nil {
			t.Fatal(err)
		}
		n, rec, nd, err := task.RecommendMetrics(s)
		if err != nil || math.IsNaN(n) || n < 0 || !(rec >= 0 && rec <= 1) || !(nd >= 0 && nd <= 1) {
			t.Fatalf("noised %v: customers %v recall %v ndcg %v, %v", s, n, rec, nd, err)
		}
	}
}

func TestRecommendSpecRoundTrip(t *testing.T) {
	f := loadRecFixture(t)
	o := task.RecommendOptions{TowerDim: 8, FeatureDim: 64, K: 5, CustomerRate: 0.25, PairsPerCust: 3, Gamma: 2, Cut: f.cut}
	spec, w0, err := task.RecommendSpec("rec", f.enc, f.cat, o, 7)
	if err != nil {
		t.Fatal(err)
	}
	back, err := task.ParseRecommendOptions(spec)
	if err != nil {
		t.Fatal(err)
	}
	o.CatalogHash = f.cat.Hash()
	if back != o || !back.Cut.Equal(f.cut) {
		t.Fatalf("options %+v, want %+v", back, o)
	}
	tw, _ := recommend.NewTower(8, 64, 7)
	if spec.NumParams != 8*64 || len(w0) != spec.NumParams || w0[5] != tw.W[5] || spec.EvalLen != task.RecommendStatsLen(spec) {
		t.Fatalf("spec %+v", spec)
	}
	if _, _, err := task.RecommendSpec("rec", f.enc, f.cat, task.RecommendOptions{}, 7); err == nil {
		t.Fatal("spec without a cut accepted")
	}
}

// A tenant refuses a task whose catalog, kind, encoder or options it cannot
// honour, with an error that says which; it refuses bad global towers.
func TestRecommenderRejects(t *testing.T) {
	f := loadRecFixture(t)
	spec, w0 := f.spec(t, task.RecommendOptions{TowerDim: 8, FeatureDim: 64})
	tx := f.tenants["Spain"]
	other, err := recommend.NewCatalog(f.cat.Codes[1:], f.cat.Descriptions[1:])
	if err != nil {
		t.Fatal(err)
	}
	enc2, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	with := func(k, v string) protocol.TaskSpec {
		s := spec
		s.Options = map[string]string{}
		for a, b := range spec.Options {
			s.Options[a] = b
		}
		s.Options[k] = v
		return s
	}
	wrongKind := spec
	wrongKind.Kind = task.KindClassify
	labelled := spec
	labelled.Labels = []string{"a"}
	for name, c := range map[string]struct {
		f    task.Factory
		spec protocol.TaskSpec
		want string
	}{
		"catalog": {task.NewRecommender(f.enc, other, tx), spec, "not the announced one"},
		"kind":    {task.NewRecommender(f.enc, f.cat, tx), wrongKind, `of kind "classify"`},
		"labels":  {task.NewRecommender(f.enc, f.cat, tx), labelled, "no labels"},
		"encoder": {task.NewRecommender(enc2, f.cat, tx), spec, "needs encoder"},
		"cut":     {task.NewRecommender(f.enc, f.cat, tx), with(task.RecOptCut, "2011-10-03"), "option cut"},
		"k":       {task.NewRecommender(f.enc, f.cat, tx), with(task.RecOptK, "-1"), "k = -1"},
		"gamma":   {task.NewRecommender(f.enc, f.cat, tx), with(task.RecOptGamma, "NaN"), "gamma"},
		"hash":    {task.NewRecommender(f.enc, f.cat, tx), with(task.RecOptCatalog, "abc"), "not a hex SHA-256"},
	} {
		if _, err := c.f(context.Background(), c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", name, err, c.want)
		}
	}
	l := recLearner(t, f, spec, tx)
	if err := l.SetParams(w0[1:]); err == nil {
		t.Error("short tower accepted")
	}
	bad := append([]float64(nil), w0...)
	bad[3] = math.Inf(1)
	if err := l.SetParams(bad); err == nil || !strings.Contains(err.Error(), "parameter 3") {
		t.Errorf("infinite parameter: %v", err)
	}
	rng, _ := privacy.NewRand(privacy.SeededReader(1))
	if _, err := l.Train(models.TrainConfig{Steps: 1, LearningRate: 0.1, Private: true, SampleRate: 0.5, ClipNorm: 1, ExpectedBatch: 37}, rng); err == nil {
		t.Error("private plan without noise accepted")
	}
	if _, err := l.Train(models.TrainConfig{Steps: 1, LearningRate: 0.1, Momentum: 0.9, Private: true, SampleRate: 0.5, ClipNorm: 1, NoiseMultiplier: 1, ExpectedBatch: 37}, rng); err == nil {
		t.Error("momentum accepted")
	}
}

// Training lowers the BPR loss, keeps the customer vectors across
// SetParams, and the learner evaluates exactly the customers the baselines
// rank.
func TestRecommenderTrainsAndMatchesBaselines(t *testing.T) {
	f := loadRecFixture(t)
	spec, w0 := f.spec(t, task.RecommendOptions{TowerDim: 8, FeatureDim: 64})
	var txs [][]forecast.Transaction
	var evaluated int64
	for _, n := range f.names {
		l := recLearner(t, f, spec, f.tenants[n])
		s, err := l.EvalStats()
		if err != nil {
			t.Fatal(err)
		}
		if s[0] != int64(l.Evaluated())*task.RecommendScale {
			t.Fatalf("%s: count %d for %d evaluated customers", n, s[0], l.Evaluated())
		}
		evaluated += int64(l.Evaluated())
		txs = append(txs, f.tenants[n])
	}
	b := task.RecommendBaselines(f.cat, f.cut, 10, 0, txs)
	if b.Popularity.Customers != evaluated || evaluated == 0 {
		t.Fatalf("baselines rank %d customers, learners evaluate %d", b.Popularity.Customers, evaluated)
	}

	l := recLearner(t, f, spec, f.tenants["Germany"])
	if l.TrainSize() == 0 || l.NumParams() != len(w0) {
		t.Fatalf("train size %d, params %d", l.TrainSize(), l.NumParams())
	}
	rng, _ := privacy.NewRand(privacy.SeededReader(2))
	cfg := models.TrainConfig{Steps: 30, LearningRate: 0.2}
	first, err := l.Train(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	trained := l.Params()
	// Reloading the initial tower keeps the trained customer vectors, so
	// the next call starts from a lower loss than the first one did.
	if err := l.SetParams(w0); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Train(cfg, rng); err != nil {
		t.Fatal(err)
	}
	if err := l.SetParams(trained); err != nil {
		t.Fatal(err)
	}
	later, err := l.Train(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	if first.Steps != 30 || first.Examples != 30*l.TrainSize() || !(later.MeanLoss < first.MeanLoss) {
		t.Fatalf("first %+v, later %+v", first, later)
	}
}

// zeroTower sums stats over every tenant's learner with an all-zero tower
// and returns the metrics and the tenants' transactions.
func zeroTower(t *testing.T, f recFixture, o task.RecommendOptions, stats func(*task.Recommender) ([]int64, error)) (map[string]float64, [][]forecast.Transaction) {
	t.Helper()
	spec, w0 := f.spec(t, o)
	sum := make([]int64, 3)
	var txs [][]forecast.Transaction
	for _, n := range f.names {
		l := recLearner(t, f, spec, f.tenants[n])
		if err := l.SetParams(make([]float64, len(w0))); err != nil {
			t.Fatal(err)
		}
		s, err := stats(l)
		if err != nil {
			t.Fatal(err)
		}
		for i := range sum {
			sum[i] += s[i]
		}
		txs = append(txs, f.tenants[n])
	}
	m, err := task.Metrics(spec, sum)
	if err != nil {
		t.Fatal(err)
	}
	return m, txs
}

// sameRanking checks metrics against a baseline up to the fixed-point
// rounding (at most 0.5e-4 per customer).
func sameRanking(t *testing.T, what string, m map[string]float64, want recommend.Ranking) {
	t.Helper()
	if m["customers"] != float64(want.Customers) || math.Abs(m["recall@10"]-want.Recall()) > 0.5e-4 || math.Abs(m["ndcg@10"]-want.NDCG()) > 0.5e-4 {
		t.Fatalf("%s: %v, baseline %v over %d", what, m, want.Metrics(), want.Customers)
	}
}

// With a zero tower every model score is 0, so a learner with Gamma > 0
// ranks by the customer's own order days alone: its summed statistics must
// read as the own-orders baseline computed by models/recommend.
func TestRecommendEvalStatsMatchOwnOrders(t *testing.T) {
	f := loadRecFixture(t)
	m, txs := zeroTower(t, f, task.RecommendOptions{TowerDim: 8, FeatureDim: 64, Gamma: 1}, (*task.Recommender).EvalStats)
	sameRanking(t, "zero tower", m, task.RecommendBaselines(f.cat, f.cut, 10, 0, txs).OwnOrders)
}

// With a half-life the history score weighs each order day by its recency:
// with a zero tower the learner must rank as the own-recent baseline, and
// that ranking must differ from plain order counts somewhere (else the
// half-life would not be exercised).
func TestRecommendEvalStatsMatchOwnRecent(t *testing.T) {
	f := loadRecFixture(t)
	m, txs := zeroTower(t, f, task.RecommendOptions{TowerDim: 8, FeatureDim: 64, Gamma: 1, HalfLife: 7}, (*task.Recommender).EvalStats)
	b := task.RecommendBaselines(f.cat, f.cut, 10, 7, txs)
	sameRanking(t, "zero tower, half-life 7", m, b.OwnRecent)
	if b.OwnRecent == b.OwnOrders {
		t.Fatalf("half-life 7 ranks exactly as order counts: %+v", b.OwnRecent)
	}
}

// With a zero tower the deployed ranking is the tenant's own popularity
// alone: DeployedStats must read as the popularity baseline.
func TestRecommendDeployedStatsMatchPopularity(t *testing.T) {
	f := loadRecFixture(t)
	m, txs := zeroTower(t, f, task.RecommendOptions{TowerDim: 8, FeatureDim: 64}, (*task.Recommender).DeployedStats)
	sameRanking(t, "zero tower, deployed", m, task.RecommendBaselines(f.cat, f.cut, 10, 0, txs).Popularity)
}
