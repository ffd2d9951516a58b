package task_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/models/recommend"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/simulate"
)

// recFederation runs the recommendation task over the real coordinator
// (loopback gRPC, mutual TLS, SecAgg+, weighted FedAvg) for the named
// tenants of f, and returns the report and the baselines on the same
// held-back purchases.
func recFederation(t *testing.T, f recFixture, names []string, o task.RecommendOptions, cfg simulate.Config) (*simulate.Report, recommend.Baselines) {
	t.Helper()
	spec, w0 := f.spec(t, o)
	fed := simulate.TaskFederation{Spec: spec, Initial: w0}
	var txs [][]forecast.Transaction
	for _, n := range names {
		fed.Tenants = append(fed.Tenants, simulate.TaskTenant{Learner: task.NewRecommender(f.enc, f.cat, f.tenants[n])})
		fed.Tenants[len(fed.Tenants)-1].Name = recTenantName(n)
		txs = append(txs, f.tenants[n])
	}
	cfg.Encoder = f.enc
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	rep, err := simulate.RunTask(ctx, cfg, fed, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := o.K
	if k == 0 {
		k = 10
	}
	return rep, task.RecommendBaselines(f.cat, f.cut, k, 0, txs)
}

// recUntrained evaluates, exactly, the initial tower with the initial
// customer vectors (mean initial embedding of their earlier purchases): the
// reference that shows what federated training adds.
func recUntrained(t *testing.T, f recFixture, names []string, o task.RecommendOptions) map[string]float64 {
	t.Helper()
	spec, _ := f.spec(t, o)
	sum := make([]int64, 3)
	for _, n := range names {
		s, err := recLearner(t, f, spec, f.tenants[n]).EvalStats()
		if err != nil {
			t.Fatal(err)
		}
		for i := range sum {
			sum[i] += s[i]
		}
	}
	m, err := task.Metrics(spec, sum)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("untrained         recall@10 %.4f ndcg@10 %.4f", m["recall@10"], m["ndcg@10"])
	return m
}

// recTenantName makes a country a tenant name ("United Kingdom" →
// "united-kingdom").
func recTenantName(country string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '-'
	}, country)
}

func logRec(t *testing.T, rep *simulate.Report, b recommend.Baselines) {
	t.Helper()
	for _, r := range rep.Rounds {
		t.Logf("round %d: recall@10 %.4f ndcg@10 %.4f customers %.0f", r.Round, r.Values["recall@10"], r.Values["ndcg@10"], r.Values["customers"])
	}
	for name, r := range map[string]recommend.Ranking{"popularity": b.Popularity, "global-popularity": b.GlobalPopularity, "repeat": b.Repeat, "own-orders": b.OwnOrders} {
		t.Logf("%-17s recall@10 %.4f ndcg@10 %.4f (customers %d)", name, r.Recall(), r.NDCG(), r.Customers)
	}
	for n, e := range rep.Epsilon {
		t.Logf("tenant %s: customer-level ε %.3f", n, e)
	}
}

// Three tenants of the online_retail sample train the product tower
// through the real coordinator with customer-level DP-SGD (ε = 8) and exact
// evaluation statistics: every round is evaluated on all the tenants'
// held-back customers with metrics in [0, 1], and the federated ranking of
// the final round, which uses no popularity, beats the tenants' own
// popularity lists and the untrained model on recall@10 and NDCG@10.
func TestRecommendFederated(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	f := loadRecFixture(t)
	names := []string{"France", "Germany", "Spain"}
	cfg := simulate.Config{Rounds: 8, LocalSteps: 5, SampleRate: 0.3, ClipNorm: 1, LearningRate: 0.2, ServerLR: 1,
		TargetEpsilon: 8, MaxWeight: -1, RoundTimeout: 20 * time.Second, Rand: privacy.SeededReader(4)} // unweighted: no count released
	rep, b := recFederation(t, f, names, task.RecommendOptions{TowerDim: 8, FeatureDim: 64}, cfg)
	logRec(t, rep, b)
	if len(rep.Rounds) != cfg.Rounds || len(rep.FinalModel) != 8*64 {
		t.Fatalf("%d rounds, final model of %d parameters", len(rep.Rounds), len(rep.FinalModel))
	}
	for _, r := range rep.Rounds {
		rec, nd := r.Values["recall@10"], r.Values["ndcg@10"]
		if r.Evaluators != len(names) || r.Values["customers"] != float64(b.Popularity.Customers) || !(rec >= 0 && rec <= 1) || !(nd >= 0 && nd <= 1) {
			t.Fatalf("round %d: %+v", r.Round, r)
		}
	}
	// The rounds are evaluated exactly (to compare exact figures), so
	// every tenant's record-level ε is reported as ∞ (#13 finding 3).
	for n, e := range rep.Epsilon {
		if !math.IsInf(e, 1) {
			t.Errorf("%s: ε %v after exact evaluations, want +Inf", n, e)
		}
	}
	untrained := recUntrained(t, f, names, task.RecommendOptions{TowerDim: 8, FeatureDim: 64})
	// Over seeds 1–5 the final round beat both references on both metrics
	// (recall@10 0.378–0.413 against 0.342 and 0.363; NDCG@10 0.323–0.360
	// against 0.306 and 0.317).
	fin := rep.FinalValues
	if !(fin["recall@10"] > b.Popularity.Recall() && fin["recall@10"] > untrained["recall@10"]) {
		t.Errorf("final recall@10 %v does not beat popularity %v and untrained %v", fin["recall@10"], b.Popularity.Recall(), untrained["recall@10"])
	}
	if !(fin["ndcg@10"] > b.Popularity.NDCG() && fin["ndcg@10"] > untrained["ndcg@10"]) {
		t.Errorf("final NDCG@10 %v does not beat popularity %v and untrained %v", fin["ndcg@10"], b.Popularity.NDCG(), untrained["ndcg@10"])
	}
}

// TestRecommendRetailExperiment runs the federated recommendation task on
// the shared online_retail transactions split by country when
// FEDB2B_RETAIL points to transactions.csv; FEDB2B_RECOMMEND_TASK may give
// a JSON object {"rounds", "local_steps", "sample_rate", "lr", "epsilon",
// "eval_epsilon", "gamma", "customer_rate", "tower_dim", "feature_dim", "holdout_weeks",
// "min_customers"} overriding the defaults below.
func TestRecommendRetailExperiment(t *testing.T) {
	path := os.Getenv("FEDB2B_RETAIL")
	if path == "" {
		t.Skip("FEDB2B_RETAIL not set")
	}
	p := struct {
		Rounds       int     `json:"rounds"`
		LocalSteps   int     `json:"local_steps"`
		SampleRate   float64 `json:"sample_rate"`
		LR           float64 `json:"lr"`
		Epsilon      float64 `json:"epsilon"`
		EvalEpsilon  float64 `json:"eval_epsilon"`
		Gamma        float64 `json:"gamma"`
		CustomerRate float64 `json:"customer_rate"`
		TowerDim     int     `json:"tower_dim"`
		FeatureDim   int     `json:"feature_dim"`
		HoldoutWeeks int     `json:"holdout_weeks"`
		MinCustomers int     `json:"min_customers"`
	}{Rounds: 20, LocalSteps: 5, SampleRate: 0.2, LR: 0.2, Epsilon: 1, TowerDim: 32, FeatureDim: 256, HoldoutWeeks: 8, MinCustomers: 20}
	if j := os.Getenv("FEDB2B_RECOMMEND_TASK"); j != "" {
		if err := json.Unmarshal([]byte(j), &p); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("parameters %+v", p)
	tx, _, err := forecast.LoadTransactionsFile(path, forecast.OnlineRetailColumns())
	if err != nil {
		t.Fatal(err)
	}
	cut, err := recommend.HoldoutCut(tx, p.HoldoutWeeks)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := models.OrDefault(nil)
	if err != nil {
		t.Fatal(err)
	}
	names, parts := forecast.SplitByCountry(tx, p.MinCustomers)
	// The platform's public catalog: here the products sold before the cut.
	f := recFixture{enc: enc, cat: recommend.BuildCatalog(tx, cut), cut: cut, names: names, tenants: parts}
	t.Logf("catalog %d products (sha256 %s), cut %s, tenants %v", len(f.cat.Codes), f.cat.Hash()[:12], cut.Format(time.DateOnly), names)
	cfg := simulate.Config{Rounds: p.Rounds, LocalSteps: p.LocalSteps, SampleRate: p.SampleRate, ClipNorm: 1, LearningRate: p.LR,
		ServerLR: 1, TargetEpsilon: p.Epsilon, EvalEpsilon: p.EvalEpsilon, WeightEpsilon: 0.05, RoundTimeout: 2 * time.Minute, Rand: privacy.SeededReader(1)}
	o := task.RecommendOptions{TowerDim: p.TowerDim, FeatureDim: p.FeatureDim, Gamma: p.Gamma, CustomerRate: p.CustomerRate}
	rep, b := recFederation(t, f, names, o, cfg)
	logRec(t, rep, b)
	recUntrained(t, f, names, o)
	t.Logf("final %v", rep.FinalValues)
}
