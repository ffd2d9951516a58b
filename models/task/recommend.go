package task

import (
	"context"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/models/recommend"
	"github.com/fedb2b/fedb2b/protocol"
)

// KindRecommend is product recommendation with the two-tower model of
// models/recommend: the product tower W (K×P) is federated, customer vectors
// stay with their tenant.
//
// Privacy unit: a customer of a tenant, for training (DP-SGD samples and
// clips whole customers) and for evaluation. A customer's evaluation
// statistics depend only on the released tower, its own vector (trained on
// its own purchases against the DP-SGD iterates) and its own purchases: the
// ranking uses no tenant-wide popularity prior, which would let one customer
// move every other customer's ranking and break the bound below.
const KindRecommend = "recommend"

// RecommendScale is the fixed-point scale of the recommendation statistics:
// each evaluated customer adds RecommendScale to the count and
// round(RecommendScale·recall@K) and round(RecommendScale·NDCG@K), each in
// [0, RecommendScale], to the sums (a resolution of 1e-4 per customer).
const RecommendScale = 10000

// RecommendL0 is the number of statistics one customer changes: all three,
// each by at most RecommendScale (LInf). The count is scaled too, so that
// LInf is tight for every entry and the noise is the same relative to each.
const RecommendL0 = 3

// Option keys of a recommendation TaskSpec (see RecommendOptions).
const (
	RecOptCatalog      = "catalog_sha256"
	RecOptCut          = "cut"
	RecOptFeatureDim   = "feature_dim"
	RecOptK            = "k"
	RecOptCustomerRate = "customer_rate"
	RecOptPairs        = "pairs_per_customer"
	RecOptGamma        = "gamma"
	RecOptHalfLife     = "half_life_days"
)

func init() {
	Register(Kind{Name: KindRecommend, Unit: "customer (its purchase history)", EvalLen: RecommendStatsLen, L0: RecommendL0, LInf: RecommendScale, Metrics: recommendMetrics})
}

// RecommendStatsLen is the length of recommendation statistics: customers
// evaluated, Σ recall@K and Σ NDCG@K, all ×RecommendScale.
func RecommendStatsLen(protocol.TaskSpec) int { return 3 }

// RecommendCustomerStats is one evaluated customer's contribution to the
// statistics: the scale, and its recall and NDCG clamped to [0, 1] (NaN
// counts as 0), times the scale and rounded. Every entry lies in
// [0, RecommendScale], whatever the inputs.
func RecommendCustomerStats(recall, ndcg float64) [3]int64 {
	fix := func(v float64) int64 {
		if !(v > 0) {
			return 0
		}
		return int64(math.Round(min(v, 1) * RecommendScale))
	}
	return [3]int64{RecommendScale, fix(recall), fix(ndcg)}
}

// RecommendMetrics reads (possibly noised) summed statistics: the number of
// customers and mean recall and NDCG. Noised sums are post-processed: the
// count is clamped at 0 and each mean to [0, 1]; with a count of at most
// zero both means are 0.
func RecommendMetrics(stats []int64) (customers, recall, ndcg float64, err error) {
	if len(stats) != 3 {
		return 0, 0, 0, fmt.Errorf("task: %d recommendation statistics, want 3", len(stats))
	}
	n := float64(max(stats[0], 0))
	if n > 0 {
		recall = min(float64(max(stats[1], 0))/n, 1)
		ndcg = min(float64(max(stats[2], 0))/n, 1)
	}
	return n / RecommendScale, recall, ndcg, nil
}

func recommendMetrics(spec protocol.TaskSpec, stats []int64) (map[string]float64, error) {
	o, err := ParseRecommendOptions(spec)
	if err != nil {
		return nil, err
	}
	n, rec, ndcg, err := RecommendMetrics(stats)
	if err != nil {
		return nil, err
	}
	// The names of recommend.Ranking.Metrics.
	k := strconv.Itoa(o.K)
	m := map[string]float64{"recall@" + k: rec, "ndcg@" + k: ndcg}
	m["customers"] = n
	return m, nil
}

// RecommendOptions are the settings of a recommendation task every tenant
// must share; they travel in TaskSpec.Options (and TowerDim in Rank). Zero
// fields take the defaults below in RecommendSpec.
type RecommendOptions struct {
	// CatalogHash is recommend.Catalog.Hash of the public catalog. The
	// catalog text is public (every buyer sees it); the operator publishes
	// it as a file (recommend.Catalog.WriteCSV) and announces its hash, and
	// each tenant refuses the task unless the catalog it holds has it.
	CatalogHash string
	// Cut splits every tenant's purchases: before it they train, from it on
	// they are held back for evaluation.
	Cut          time.Time
	TowerDim     int     // K, the embedding dimension (TaskSpec.Rank); default 32
	FeatureDim   int     // P, frozen text features; default 256
	K            int     // metrics at K; default 10
	CustomerRate float64 // learning rate of the local customer vectors; default 0.5
	PairsPerCust int     // BPR pairs per sampled customer; default 8
	// Gamma weighs the customer's own recency-weighted order history in
	// the ranking: Gamma·Σ 2^(−age/HalfLife) over the days it ordered the
	// product before the cut (recommend.TenantData.HistoryScores; its own
	// data only, so the per-customer bound holds); default 0. A large Gamma
	// ranks the customer's own history first, most recent and frequent
	// first, and the model fills the rest ("buy again" plus what to add).
	Gamma float64
	// HalfLife is the half-life in days of an order day's weight in the
	// history score; 0 (the default) weighs every day 1 (order counts).
	HalfLife float64
}

func (o *RecommendOptions) fill() {
	if o.TowerDim == 0 {
		o.TowerDim = 32
	}
	if o.FeatureDim == 0 {
		o.FeatureDim = 256
	}
	if o.K == 0 {
		o.K = 10
	}
	if o.CustomerRate == 0 {
		o.CustomerRate = 0.5
	}
	if o.PairsPerCust == 0 {
		o.PairsPerCust = 8
	}
}

func (o RecommendOptions) check() error {
	switch {
	case len(o.CatalogHash) != 64:
		return fmt.Errorf("catalog hash %q is not a hex SHA-256", o.CatalogHash)
	case o.Cut.IsZero():
		return fmt.Errorf("no cut date")
	case o.TowerDim < 1 || o.FeatureDim < 1 || o.FeatureDim > 4096 || o.TowerDim*o.FeatureDim > 1<<24:
		return fmt.Errorf("tower %d×%d not allowed", o.TowerDim, o.FeatureDim)
	case o.K < 1 || o.K > 1000:
		return fmt.Errorf("k = %d outside [1, 1000]", o.K)
	case !(o.CustomerRate >= 0 && o.CustomerRate < 100):
		return fmt.Errorf("customer rate %v outside [0, 100)", o.CustomerRate)
	case o.PairsPerCust < 1 || o.PairsPerCust > 1000:
		return fmt.Errorf("pairs per customer %d outside [1, 1000]", o.PairsPerCust)
	case !(o.Gamma >= 0 && o.Gamma <= 1e9):
		return fmt.Errorf("gamma %v outside [0, 1e9]", o.Gamma)
	case !(o.HalfLife >= 0 && o.HalfLife <= 1e6):
		return fmt.Errorf("half-life %v days outside [0, 1e6]", o.HalfLife)
	}
	return nil
}

// ParseRecommendOptions reads and checks the options of spec: absent keys
// take the defaults (Rank 0 too), except the catalog hash and the cut,
// which are required.
func ParseRecommendOptions(spec protocol.TaskSpec) (RecommendOptions, error) {
	o := RecommendOptions{TowerDim: spec.Rank}
	o.fill() // defaults first: an option given as 0 stays 0 (and may fail check)
	o.CatalogHash = spec.Options[RecOptCatalog]
	var errs []error
	get := func(key string, parse func(string) error) {
		if v, ok := spec.Options[key]; ok {
			if err := parse(v); err != nil {
				errs = append(errs, fmt.Errorf("option %s=%q: %w", key, v, err))
			}
		}
	}
	atoi := func(dst *int) func(string) error {
		return func(s string) (err error) { *dst, err = strconv.Atoi(s); return err }
	}
	atof := func(dst *float64) func(string) error {
		return func(s string) (err error) { *dst, err = strconv.ParseFloat(s, 64); return err }
	}
	get(RecOptCut, func(s string) (err error) { o.Cut, err = time.Parse(time.RFC3339, s); return err })
	get(RecOptFeatureDim, atoi(&o.FeatureDim))
	get(RecOptK, atoi(&o.K))
	get(RecOptCustomerRate, atof(&o.CustomerRate))
	get(RecOptPairs, atoi(&o.PairsPerCust))
	get(RecOptGamma, atof(&o.Gamma))
	get(RecOptHalfLife, atof(&o.HalfLife))
	if len(errs) > 0 {
		return o, fmt.Errorf("task %q: %w", spec.ID, errs[0])
	}
	if err := o.check(); err != nil {
		return o, fmt.Errorf("task %q: %w", spec.ID, err)
	}
	return o, nil
}

// Options returns o as TaskSpec options (TowerDim goes in TaskSpec.Rank).
func (o RecommendOptions) Options() map[string]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return map[string]string{
		RecOptCatalog: o.CatalogHash, RecOptCut: o.Cut.UTC().Format(time.RFC3339),
		RecOptFeatureDim: strconv.Itoa(o.FeatureDim), RecOptK: strconv.Itoa(o.K),
		RecOptCustomerRate: f(o.CustomerRate), RecOptPairs: strconv.Itoa(o.PairsPerCust), RecOptGamma: f(o.Gamma),
		RecOptHalfLife: f(o.HalfLife),
	}
}

// RecommendSpec returns the TaskSpec of a recommendation task over the
// public catalog cat (its hash goes into the options) with the tenants'
// encoder enc, and the initial tower (version 0): the public seed-derived
// matrix every tenant would build from seed.
func RecommendSpec(id string, enc models.Encoder, cat *recommend.Catalog, o RecommendOptions, seed uint64) (protocol.TaskSpec, []float64, error) {
	o.CatalogHash = cat.Hash()
	o.fill()
	if err := o.check(); err != nil {
		return protocol.TaskSpec{}, nil, fmt.Errorf("task %q: %w", id, err)
	}
	tw, err := recommend.NewTower(o.TowerDim, o.FeatureDim, seed)
	if err != nil {
		return protocol.TaskSpec{}, nil, fmt.Errorf("task %q: %w", id, err)
	}
	spec := protocol.TaskSpec{ID: id, Kind: KindRecommend, EncoderID: enc.ID(), InputDim: enc.Dim(), Rank: o.TowerDim,
		Seed: seed, NumParams: len(tw.W), EvalLen: 3, Options: o.Options()}
	return spec, tw.W, nil
}

// RecommendBaselines ranks the customers that the recommendation learners
// of these tenants evaluate (bought before and from the cut) without any
// model: tenant-local popularity, popularity over all tenants, "buy again"
// (then popularity) and the customer's own order history alone. It needs
// every tenant's data, so it is for simulations, where the baselines are
// printed beside the federated figures.
func RecommendBaselines(cat *recommend.Catalog, cut time.Time, k int, halfLife float64, tenants [][]forecast.Transaction) recommend.Baselines {
	tds := make([]*recommend.TenantData, len(tenants))
	for i, tx := range tenants {
		tds[i] = recommend.Split(strconv.Itoa(i), tx, cat, cut)
	}
	return recommend.ComputeBaselines(tds, len(cat.Codes), k, halfLife)
}

// Recommender is the recommendation Learner: the shared tower (the
// parameters) and, kept inside it across rounds, the tenant's customer
// vectors.
type Recommender struct {
	opt   RecommendOptions
	tower *recommend.Tower
	local *recommend.Local
	x     [][]float64
	td    *recommend.TenantData
}

// NewRecommender returns a Factory for the tenant whose own transactions are
// tx, over the public catalog cat; enc must be the task's encoder. The
// factory checks the catalog against the announced hash, computes the
// frozen product features and starts the customer vectors from the mean
// initial embedding of their earlier purchases.
func NewRecommender(enc models.Encoder, cat *recommend.Catalog, tx []forecast.Transaction) Factory {
	return func(ctx context.Context, spec protocol.TaskSpec) (Learner, error) {
		if spec.Kind != KindRecommend {
			return nil, fmt.Errorf("task %q is of kind %q; this tenant's data are for %q", spec.ID, spec.Kind, KindRecommend)
		}
		if enc == nil || cat == nil {
			return nil, fmt.Errorf("task %q: recommendation needs an encoder and the public catalog", spec.ID)
		}
		if len(spec.Labels) > 0 {
			return nil, fmt.Errorf("task %q: a recommendation task has no labels, %d announced", spec.ID, len(spec.Labels))
		}
		if spec.EncoderID != enc.ID() || spec.InputDim != enc.Dim() {
			return nil, fmt.Errorf("task %q needs encoder %q of dimension %d; this tenant has %q of dimension %d", spec.ID, spec.EncoderID, spec.InputDim, enc.ID(), enc.Dim())
		}
		o, err := ParseRecommendOptions(spec)
		if err != nil {
			return nil, err
		}
		if h := cat.Hash(); h != o.CatalogHash {
			return nil, fmt.Errorf("task %q: this tenant's catalog (%d products, sha256 %s) is not the announced one (sha256 %s)", spec.ID, len(cat.Codes), h, o.CatalogHash)
		}
		x, err := cat.Features(ctx, enc, o.FeatureDim, spec.Seed)
		if err != nil {
			return nil, fmt.Errorf("task %q: %w", spec.ID, err)
		}
		tw, err := recommend.NewTower(o.TowerDim, o.FeatureDim, spec.Seed)
		if err != nil {
			return nil, fmt.Errorf("task %q: %w", spec.ID, err)
		}
		td := recommend.Split(spec.ID, tx, cat, o.Cut)
		return &Recommender{opt: o, tower: tw, local: recommend.InitLocal(tw, x, td), x: x, td: td}, nil
	}
}

// NumParams is K·P, the size of the tower.
func (l *Recommender) NumParams() int { return len(l.tower.W) }

// Params returns a copy of the tower.
func (l *Recommender) Params() []float64 { return append([]float64(nil), l.tower.W...) }

// SetParams loads a global tower; the customer vectors are kept.
func (l *Recommender) SetParams(p []float64) error {
	if len(p) != len(l.tower.W) {
		return fmt.Errorf("task: recommendation tower of %d parameters, got %d", len(l.tower.W), len(p))
	}
	for i, v := range p {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("task: recommendation tower parameter %d is %v", i, v)
		}
	}
	copy(l.tower.W, p)
	return nil
}

// TrainSize is the number of customers with purchases before the cut.
func (l *Recommender) TrainSize() int { return len(l.td.Customers) }

// Evaluated is the number of customers EvalStats counts (purchases before
// and from the cut).
func (l *Recommender) Evaluated() int { return l.td.Evaluated() }

// Train runs cfg.Steps DP-SGD steps with customer-level sampling (rate
// SampleRate) and clipping (ClipNorm), noise multiplier NoiseMultiplier and
// tower learning rate LearningRate; the customer vectors move at the task's
// customer rate. Without Private, SampleRate 0 means every customer every
// step. Momentum is not supported.
func (l *Recommender) Train(cfg models.TrainConfig, rng *mrand.Rand) (models.TrainStats, error) {
	chk := cfg
	chk.BatchSize = max(chk.BatchSize, 1)
	if err := chk.Check(); err != nil {
		return models.TrainStats{}, fmt.Errorf("task: recommendation training: %w", err)
	}
	if cfg.Momentum != 0 {
		return models.TrainStats{}, fmt.Errorf("task: recommendation training has no momentum (got %v)", cfg.Momentum)
	}
	rc := recommend.TrainConfig{Steps: cfg.Steps, LearningRate: cfg.LearningRate, CustomerRate: l.opt.CustomerRate,
		PairsPerCust: l.opt.PairsPerCust, Private: cfg.Private, SampleRate: cfg.SampleRate,
		ClipNorm: cfg.ClipNorm, NoiseMultiplier: cfg.NoiseMultiplier, ExpectedBatch: cfg.ExpectedBatch}
	if !cfg.Private && rc.SampleRate == 0 {
		rc.SampleRate = 1
	}

	st, err := recommend.Train(l.tower, l.local, l.x, l.td, rc, rng)
	return models.TrainStats{Steps: st.Steps, Examples: st.Customers, MeanLoss: st.MeanLoss, ClippedFraction: st.ClippedFraction}, err
}

// EvalStats ranks the catalog for every evaluated customer by u·W·x
// (+ Gamma times its recency-weighted history score) and returns the
// sums of RecommendCustomerStats over them.
func (l *Recommender) EvalStats() ([]int64, error) { return l.stats(nil, 0), nil }

// DeployedStats are the statistics of the ranking a tenant deploys: as
// EvalStats plus DeployedBeta·log1p of the tenant's own product popularity
// (customers who bought each product before the cut), as
// recommend.Simulate ranks. Popularity mixes every customer's purchases,
// so one customer can move other customers' rankings: these statistics
// have no per-customer bound and are never released. Simulations count
// them exactly to judge the deployed model (task.Deployer).
func (l *Recommender) DeployedStats() ([]int64, error) {
	return l.stats(l.td.Popularity(len(l.x)), DeployedBeta), nil
}

// DeployedBeta is the weight of the local log-popularity in the deployed
// ranking (recommend.SimConfig's default Beta).
const DeployedBeta = 1

func (l *Recommender) stats(pop []float64, beta float64) []int64 {
	v := l.tower.EmbedAll(l.x)
	s := make([]int64, 3)
	for c, rel := range l.td.Test {
		if len(rel) == 0 {
			continue
		}
		sc := recommend.Scores(l.local.U[c], v, pop, nil, beta, 0)
		if l.opt.Gamma != 0 {
			for p, o := range l.td.HistoryScores(c, len(sc), l.opt.HalfLife) {
				sc[p] += l.opt.Gamma * o
			}
		}
		ranked := recommend.TopK(sc, l.opt.K)
		cs := RecommendCustomerStats(recommend.RecallAt(l.opt.K, ranked, rel), recommend.NDCGAt(l.opt.K, ranked, rel))
		for i := range s {
			s[i] += cs[i]
		}
	}
	return s
}
