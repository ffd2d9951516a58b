package main

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/models/recommend"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/simulate"
)

// tenantName turns a group name (a country, say) into a tenant name:
// lower case, runs of other characters as one '-'.
func tenantName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// taskRun is what the forecast and recommend demos share: the harness
// configuration and how to report it.
type taskRun struct {
	cfg simulate.Config
	fed simulate.TaskFederation
}

// run trains over the real coordinator and fills sum: the exact final
// metrics (simulation only), the operator's noised view and the privacy.
func (t taskRun) run(ctx context.Context, sum *taskSummary) error {
	rep, err := simulate.RunTask(ctx, t.cfg, t.fed, nil)
	if err != nil {
		return err
	}
	sum.Tenants = len(t.fed.Tenants)
	sum.Final, sum.Federation, sum.Deployed = rep.FinalExactValues, rep.FinalValues, rep.FinalDeployedValues
	sum.FederationSD, sum.FederationUnmeasurable = rep.FinalValuesSD, rep.FinalUnmeasurable
	maps.Copy(sum.Baselines, rep.BaselineValues)
	var eps float64
	for _, e := range rep.Epsilon {
		eps = max(eps, e)
	}
	unit := t.fed.Spec.Kind
	if k, err := modeltask.Lookup(t.fed.Spec.Kind); err == nil {
		unit = k.Unit
	}
	sum.Privacy = taskPrivacy{Unit: unit, Epsilon: eps, Delta: t.cfg.Delta, NoiseMultiplier: rep.Privacy.NoiseMultiplier, Steps: t.cfg.Rounds * t.cfg.LocalSteps}
	sum.Note = fmt.Sprintf("trained over the real coordinator, mutual TLS and SecAgg+ secure aggregation; final: exact metrics of the final model (simulation only); operator's view: the federation's evaluation noised at ε=%g per tenant, every %d rounds and the last, within the same budget", t.cfg.EvalEpsilon, max(t.cfg.EvalEvery, 1))
	return nil
}

// forecastRun is the forecast task over the tenants of tx split by
// country, with the in-process simulation's hyper-parameters.
func forecastRun(tx []forecast.Transaction, enc models.Encoder, seed uint64, eps, evalEps float64, evalEvery int) (taskRun, [][]forecast.Transaction, error) {
	cal, err := forecast.CalendarOf(tx)
	if err != nil {
		return taskRun{}, nil, err
	}
	names, parts := forecast.SplitByCountry(tx, 10)
	spec, initial, err := modeltask.ForecastSpec("demand", enc, forecast.Setup{Calendar: cal}, seed)
	if err != nil {
		return taskRun{}, nil, err
	}
	t := taskRun{fed: simulate.TaskFederation{Spec: spec, Initial: initial}}
	var groups [][]forecast.Transaction
	var pooled []forecast.Transaction
	for _, n := range names {
		t.fed.Tenants = append(t.fed.Tenants, simulate.TaskTenant{Name: tenantName(n), Learner: modeltask.NewForecast(enc, parts[n], nil)})
		groups = append(groups, parts[n])
		// Pooled for the centralized baseline: each tenant's products stay
		// separate series (the code keeps its 5 leading digits).
		for _, x := range parts[n] {
			x.Product += "@" + tenantName(n)
			pooled = append(pooled, x)
		}
	}
	t.fed.Pooled = modeltask.NewForecast(enc, pooled, nil)
	// The privacy unit is the customer (models/task.KindForecast):
	// DP-SGD samples customers, so ExpectedBatch is q × 1,000 customers, a
	// public planning figure for the largest tenant (the tenants here have
	// 9 to 884 customers with training rows). The learning rate was chosen
	// on the development weeks (the 4 before the hold-out;
	// TestForecastTuneExperiment at z = 6.9 and this expected batch,
	// product-level WAPE: stand-in federation 0.948 / 0.945 / 0.947 at
	// 0.003 / 0.01 / 0.03, centralized 0.946 / 0.945 / 0.969, median_13
	// 0.950): 0.01. Before the customer unit (product-week rows):
	// q × 80,000 rows and 0.04.
	t.fed.Central = models.TrainConfig{Steps: 3000, LearningRate: 0.01, BatchSize: 256}
	t.cfg = simulate.Config{Encoder: enc, Rounds: 100, LocalSteps: 10, SampleRate: 0.05, ExpectedBatch: 50, ClipNorm: 1, LearningRate: 0.01, ServerLR: 1,
		TargetEpsilon: eps, Delta: 1e-5, MaxWeight: 10000, EvalEpsilon: evalEps, EvalEvery: evalEvery, RoundTimeout: time.Minute, Baselines: true,
		WeightEpsilon: 0.01} // 100 rounds: σ ≈ 350 customers on counts of 9 to 884
	return t, groups, nil
}

// The recommendation demo's history weight and half-life (days), chosen on
// the development cut (8 weeks earlier; TestRecommendTuneExperiment).
const (
	recommendGamma    = 3
	recommendHalfLife = 120
)

// recommendRun is the recommendation task over the tenants of tx split by
// country: the catalog is the products sold before the cut (standing in
// for the platform's public product list), the last 8 weeks are held back.
func recommendRun(tx []forecast.Transaction, enc models.Encoder, seed uint64, eps, evalEps float64, evalEvery int) (taskRun, func() recommend.Baselines, error) {
	cut, err := recommend.HoldoutCut(tx, 8)
	if err != nil {
		return taskRun{}, nil, err
	}
	cat := recommend.BuildCatalog(tx, cut)
	o := modeltask.RecommendOptions{Cut: cut, TowerDim: 32, FeatureDim: 256, Gamma: recommendGamma, HalfLife: recommendHalfLife}
	spec, initial, err := modeltask.RecommendSpec("recommend", enc, cat, o, seed)
	if err != nil {
		return taskRun{}, nil, err
	}
	names, parts := forecast.SplitByCountry(tx, 20)
	t := taskRun{fed: simulate.TaskFederation{Spec: spec, Initial: initial}}
	var groups [][]forecast.Transaction
	var pooled []forecast.Transaction
	for _, n := range names {
		t.fed.Tenants = append(t.fed.Tenants, simulate.TaskTenant{Name: tenantName(n), Learner: modeltask.NewRecommender(enc, cat, parts[n])})
		groups = append(groups, parts[n])
		pooled = append(pooled, parts[n]...)
	}
	t.fed.Pooled = modeltask.NewRecommender(enc, cat, pooled)
	t.fed.Central = models.TrainConfig{Steps: 150, LearningRate: 0.2}
	t.cfg = simulate.Config{Encoder: enc, Rounds: 20, LocalSteps: 5, SampleRate: 0.2, ClipNorm: 1, LearningRate: 0.2, ServerLR: 1,
		TargetEpsilon: eps, Delta: 1e-5, EvalEpsilon: evalEps, EvalEvery: evalEvery, RoundTimeout: 2 * time.Minute, Baselines: true,
		WeightEpsilon: simulate.Defaults().WeightEpsilon}
	return t, func() recommend.Baselines { return modeltask.RecommendBaselines(cat, cut, 10, o.HalfLife, groups) }, nil
}
