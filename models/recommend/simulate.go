package recommend

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/privacy"
)

// SimConfig sets up Simulate.
type SimConfig struct {
	HoldoutWeeks int     // held-back last weeks (default 8)
	MinCustomers int     // countries with fewer customers pool into "Other" (default 20)
	FeatureDim   int     // frozen text features P (default 256)
	TowerDim     int     // embedding dimension K (default 32)
	Seed         uint64  // public seed of the projection and the tower init
	K            int     // metrics at K (default 10)
	Beta         float64 // weight of the local log-popularity in ranking (default 1; negative for 0)
	Gamma        float64 // weight of "bought before" in ranking (default 0)

	Rounds          int     // default 20
	LocalSteps      int     // default 5
	CentralSteps    int     // centralized non-private steps (default 150)
	LearningRate    float64 // tower (default 0.2)
	CustomerRate    float64 // customer vectors (default 0.5)
	PairsPerCust    int     // default 8
	SampleRate      float64 // customers per step (default 0.2)
	ClipNorm        float64 // default 1
	NoiseMultiplier float64 // 0: calibrated to TargetEpsilon
	TargetEpsilon   float64 // customer-level, default 1
	Delta           float64 // default 1e-5

	Encoder models.Encoder
	Rand    io.Reader // seeds privacy.NewRand; nil means crypto/rand
}

func (c *SimConfig) fill() error {
	c.HoldoutWeeks = cmp.Or(c.HoldoutWeeks, 8)
	c.MinCustomers = cmp.Or(c.MinCustomers, 20)
	c.FeatureDim = cmp.Or(c.FeatureDim, 256)
	c.TowerDim = cmp.Or(c.TowerDim, 32)
	c.K = cmp.Or(c.K, 10)
	c.Rounds = cmp.Or(c.Rounds, 20)
	c.LocalSteps = cmp.Or(c.LocalSteps, 5)
	c.CentralSteps = cmp.Or(c.CentralSteps, 150)
	c.PairsPerCust = cmp.Or(c.PairsPerCust, 8)
	c.Beta = cmp.Or(c.Beta, 1)
	if c.Gamma < 0 {
		c.Gamma = 0
	}
	if c.Beta < 0 {
		c.Beta = 0
	}
	c.LearningRate = cmp.Or(c.LearningRate, 0.2)
	c.CustomerRate = cmp.Or(c.CustomerRate, 0.5)
	c.SampleRate = cmp.Or(c.SampleRate, 0.2)
	c.ClipNorm = cmp.Or(c.ClipNorm, 1)
	c.TargetEpsilon = cmp.Or(c.TargetEpsilon, 1)
	c.Delta = cmp.Or(c.Delta, 1e-5)
	enc, err := models.OrDefault(c.Encoder)
	if err != nil {
		return err
	}
	c.Encoder = enc
	return nil
}

// SimResult holds the ranking metrics pooled over the tenants' evaluated
// customers.
type SimResult struct {
	Tenants          []TenantSummary
	Catalog          int
	Federated        Ranking // DP-federated tower, local customer vectors, local popularity prior
	FederatedNoPrior Ranking // the same model ranked without the popularity prior (beta = 0)
	Centralized      Ranking // one tower trained on all tenants without privacy
	Untrained        Ranking // the public initial tower and initial customer vectors (ablation)
	Popularity       Ranking // tenant-local popularity
	GlobalPopularity Ranking // popularity over all tenants (needs pooled data; a reference)
	Repeat           Ranking // the customer's earlier purchases first, then popularity (no model; a reference)
	Epsilon, Delta   float64 // customer-level, per tenant
	NoiseMultiplier  float64
	Steps            int
}

// TenantSummary describes one simulated tenant.
type TenantSummary struct {
	Name                 string
	Customers, Evaluated int
}

// Simulate splits transactions by country, holds back the last weeks'
// purchases, trains the tower federatedly (FedAvg across tenants, DP-SGD
// with customer-level clipping inside each tenant) while customer vectors
// stay local, and evaluates recall@K and NDCG@K against popularity
// baselines and a centralized non-private tower.
func Simulate(ctx context.Context, tx []forecast.Transaction, cfg SimConfig) (*SimResult, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	cut, err := HoldoutCut(tx, cfg.HoldoutWeeks)
	if err != nil {
		return nil, err
	}
	cat := BuildCatalog(tx, cut)
	x, err := cat.Features(ctx, cfg.Encoder, cfg.FeatureDim, cfg.Seed)
	if err != nil {
		return nil, err
	}
	names, parts := forecast.SplitByCountry(tx, cfg.MinCustomers)
	res := &SimResult{Catalog: len(cat.Codes), Delta: cfg.Delta}
	var tds []*TenantData
	var pops [][]float64
	for _, n := range names {
		td := Split(n, parts[n], cat, cut)
		if len(td.Customers) == 0 {
			continue
		}
		tds, pops = append(tds, td), append(pops, td.Popularity(len(cat.Codes)))
		res.Tenants = append(res.Tenants, TenantSummary{Name: td.Name, Customers: len(td.Customers), Evaluated: td.Evaluated()})
	}
	if len(tds) == 0 {
		return nil, fmt.Errorf("recommend: no tenant has purchases before the hold-out")
	}
	b := ComputeBaselines(tds, len(cat.Codes), cfg.K)
	res.Popularity, res.GlobalPopularity, res.Repeat = b.Popularity, b.GlobalPopularity, b.Repeat

	res.Steps = cfg.Rounds * cfg.LocalSteps
	z, eps, err := privacy.NoiseForSteps(cfg.SampleRate, res.Steps, cfg.Delta, cfg.TargetEpsilon, cfg.NoiseMultiplier)
	if err != nil {
		return nil, fmt.Errorf("recommend: %w", err)
	}
	res.NoiseMultiplier, res.Epsilon = z, eps
	rng, err := privacy.NewRand(cfg.Rand)
	if err != nil {
		return nil, err
	}
	tc := TrainConfig{Steps: cfg.LocalSteps, LearningRate: cfg.LearningRate, CustomerRate: cfg.CustomerRate, PairsPerCust: cfg.PairsPerCust,
		Private: true, SampleRate: cfg.SampleRate, ClipNorm: cfg.ClipNorm, NoiseMultiplier: z}

	tower, err := NewTower(cfg.TowerDim, cfg.FeatureDim, cfg.Seed)
	if err != nil {
		return nil, err
	}
	locals := make([]*Local, len(tds))
	for i, td := range tds {
		locals[i] = InitLocal(tower, x, td)
	}
	res.Untrained = evaluate(tower, locals, x, tds, pops, cfg.K, cfg.Beta, cfg.Gamma)
	strategy := &aggregation.FedAvg{}
	for r := 0; r < cfg.Rounds; r++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		agg := aggregation.Aggregate{WeightedSum: make([]float64, len(tower.W))}
		for i, td := range tds {
			t := &Tower{K: tower.K, P: tower.P, W: append([]float64(nil), tower.W...)}
			if _, err := Train(t, locals[i], x, td, tc, rng); err != nil {
				return nil, fmt.Errorf("recommend: tenant %s round %d: %w", td.Name, r, err)
			}
			w := float64(len(td.Customers))
			for j := range t.W {
				agg.WeightedSum[j] += w * (t.W[j] - tower.W[j])
			}
			agg.TotalWeight += w
			agg.Clients++
		}
		if tower.W, err = strategy.AggregateFit(r, tower.W, agg, nil); err != nil {
			return nil, err
		}
	}
	res.Federated = evaluate(tower, locals, x, tds, pops, cfg.K, cfg.Beta, cfg.Gamma)
	res.FederatedNoPrior = evaluate(tower, locals, x, tds, pops, cfg.K, 0, 0)

	// Centralized: one tower and one set of customer vectors over all
	// tenants' customers, no clipping or noise, CentralSteps steps.
	all := &TenantData{Name: "all"}
	for _, td := range tds {
		all.Customers = append(all.Customers, td.Customers...)
		all.Train = append(all.Train, td.Train...)
		all.Test = append(all.Test, td.Test...)
	}
	ct, _ := NewTower(cfg.TowerDim, cfg.FeatureDim, cfg.Seed)
	cl := InitLocal(ct, x, all)
	cc := tc
	cc.Private, cc.Steps = false, cfg.CentralSteps
	if _, err := Train(ct, cl, x, all, cc, rng); err != nil {
		return nil, fmt.Errorf("recommend: centralized: %w", err)
	}
	// Rank each tenant's customers with its own popularity prior, as the
	// federated model does.
	off := 0
	cls := make([]*Local, len(tds))
	for i, td := range tds {
		cls[i] = &Local{U: cl.U[off : off+len(td.Customers)]}
		off += len(td.Customers)
	}
	res.Centralized = evaluate(ct, cls, x, tds, pops, cfg.K, cfg.Beta, cfg.Gamma)
	return res, nil
}

func evaluate(t *Tower, locals []*Local, x [][]float64, tds []*TenantData, pops [][]float64, k int, beta, gamma float64) Ranking {
	v := t.EmbedAll(x)
	r := Ranking{K: k}
	for i, td := range tds {
		for c, rel := range td.Test {
			if len(rel) == 0 {
				continue
			}
			r.Add(TopK(Scores(locals[i].U[c], v, pops[i], td.Train[c], beta, gamma), k), rel)
		}
	}
	return r
}

// RepeatScores ranks the products a customer already bought first, each
// group by the tenant's popularity: the "buy again" list, a reference that
// uses no model at all.
func RepeatScores(bought []int, pop []float64) []float64 {
	s := make([]float64, len(pop))
	for p, v := range pop {
		s[p] = math.Log1p(v)
	}
	for _, p := range bought {
		s[p] += 1e6
	}
	return s
}
