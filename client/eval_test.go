package client

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/scalar"
	"github.com/fedb2b/fedb2b/protocol"
)

// evalRun runs one plain round of a one-tenant federation whose evaluation
// asks for statistics at evalEps, and returns the evaluation event and the
// tenant's spends.
func evalRun(t *testing.T, evalEps float64, pol Policy) (coordinator.Event, []Spend) {
	return evalRunWeighted(t, evalEps, 0.1, pol)
}

// evalRunWeighted is evalRun with the example count noised at weightEps
// (0: exact); it returns the first evaluation event, or the aggregation
// or abandonment event when the round was not evaluated.
func evalRunWeighted(t *testing.T, evalEps, weightEps float64, pol Policy) (coordinator.Event, []Spend) {
	t.Helper()
	e, spends, _ := plainRun(t, evalEps, weightEps, pol, true)
	return e, spends
}

// plainRun runs one plain-aggregation round of one tenant against an
// in-process coordinator; allowPlain is the tenant's
// AllowInsecurePlainAggregation. It also returns the client's Result.
func plainRun(t *testing.T, evalEps, weightEps float64, pol Policy, allowPlain bool) (coordinator.Event, []Spend, Result) {
	t.Helper()
	return plainRunLog(t, evalEps, weightEps, pol, allowPlain, &MemSpendLog{})
}

// plainRunLog is plainRun with the tenant's spend log.
func plainRunLog(t *testing.T, evalEps, weightEps float64, pol Policy, allowPlain bool, log SpendLog) (coordinator.Event, []Spend, Result) {
	t.Helper()
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 128})
	if err != nil {
		t.Fatal(err)
	}
	labels := []string{"food", "steel"}
	var train, test []dataset.Example
	for i := range 60 {
		ex := dataset.Example{Text: fmt.Sprintf("bread %d", i), Label: "food"}
		if i%2 == 1 {
			ex = dataset.Example{Text: fmt.Sprintf("pipes %d", i), Label: "steel"}
		}
		train = append(train, ex)
		if i < 20 {
			test = append(test, ex)
		}
	}
	clf, err := models.NewClassifier(models.ClassifierConfig{InputDim: enc.Dim(), Rank: 2, Classes: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	spec := protocol.TaskSpec{ID: "t", Kind: task.KindClassify, EncoderID: enc.ID(), InputDim: enc.Dim(), Rank: 2, Labels: labels, Seed: 1, NumParams: clf.NumParams(),
		Options: map[string]string{task.OptionExpectedBatch: "4"}}
	spec.EvalLen = task.ClassStatsLen(spec)
	fed, err := coordinator.New(coordinator.Config{
		Task: spec, Rounds: 1, Strategy: &aggregation.FedAvg{}, EvalEpsilon: evalEps,
		Train:     protocol.TrainParams{SampleRate: 0.2, ClipNorm: 1, NoiseMultiplier: 2, LocalSteps: 5, LearningRate: 1, WeightEpsilon: weightEps},
		MinJoined: 1, MinClients: 1, RoundTimeout: 20 * time.Second, InsecurePlainAggregation: true,
	}, clf.Params())
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan coordinator.Event, 64)
	svc := coordinator.NewService(fed, protocol.EncodeParams, events, nil)
	conn := serveInMemory(t, svc)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go svc.Run(ctx, 10*time.Millisecond)
	c, err := New(Config{Tenant: "a", Encoder: enc, Train: train, Test: test, Policy: pol, Spends: log, Rand: privacy.SeededReader(3),
		AllowInsecurePlainAggregation: allowPlain})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Run(ctx, conn)
	lastRun, lastSpends = res, log.Spends()
	if err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case e := <-events:
			if e.Kind == coordinator.EvEvaluated || e.Kind == coordinator.EvRoundAbandoned {
				return e, log.Spends(), res
			}
		case <-ctx.Done():
			t.Fatal("no evaluation event")
		}
	}
}

// lastRun is the client's result of the last evalRunWeighted, lastSpends
// its spend log at the end.
var (
	lastRun    Result
	lastSpends []Spend
)

func TestEvaluationRelease(t *testing.T) {
	budget := Budget{Epsilon: 8, Delta: 1e-5}
	t.Run("exact statistics refused by policy", func(t *testing.T) {
		e, spends := evalRun(t, 0, Policy{Budget: budget, RequireNoisedCounts: true})
		if len(e.Evaluators) != 0 || len(e.EvalDecline) != 1 || e.Stats[0] != 0 {
			t.Fatalf("evaluators %v, declined %v, stats %v", e.Evaluators, e.EvalDecline, e.Stats)
		}
		if len(spends) != 2 || spends[0].Kind != SpendDPSGD || spends[1].ClipNorm != 1 {
			t.Fatalf("spends %+v: want the training round and its noised example count only", spends)
		}
	})
	t.Run("exact statistics when allowed", func(t *testing.T) {
		e, _ := evalRun(t, 0, Policy{Budget: budget})
		if len(e.Evaluators) != 1 || e.Stats[0] != 20 {
			t.Fatalf("evaluators %v, stats %v: want the 20 held-out examples counted exactly", e.Evaluators, e.Stats)
		}
		// Finding 3 of issue #13: an exact release has ε = ∞, never the
		// finite ε of the noised releases alone.
		if lastRun.ExactReleases != 1 || !math.IsInf(lastRun.Epsilon, 1) {
			t.Fatalf("result %+v: want one exact release and ε = +Inf", lastRun)
		}
		if n := len(exactOnRecord(lastSpends)); n != 1 {
			t.Fatalf("spends %+v: want the exact release on record", lastSpends)
		}
	})
	t.Run("noised statistics are charged", func(t *testing.T) {
		e, spends := evalRun(t, 0.5, Policy{Budget: budget, RequireNoisedCounts: true})
		if len(e.Evaluators) != 1 {
			t.Fatalf("evaluators %v declined %v", e.Evaluators, e.EvalDecline)
		}
		rec, err := scalar.VectorRecord(task.ClassL0, 1, 0.5, budget.Delta, scalar.Gaussian)
		if err != nil {
			t.Fatal(err)
		}
		wrec, _ := scalar.VectorRecord(1, 1, 0.1, budget.Delta, scalar.Gaussian)
		if len(spends) != 3 || spends[1] != EvalSpend("t", 1, wrec) || spends[2] != EvalSpend("t", 1, rec) {
			t.Fatalf("spends %+v, want training, the noised count %+v, then %+v", spends, EvalSpend("t", 1, wrec), EvalSpend("t", 1, rec))
		}
		if math.Abs(spends[2].ClipNorm-math.Sqrt(5)) > 1e-12 {
			t.Fatalf("evaluation sensitivity %v, want √5", spends[2].ClipNorm)
		}
	})
	t.Run("noised statistics beyond the cap are declined", func(t *testing.T) {
		train := Spend{Task: "t", Round: 1, SampleRate: 0.2, NoiseMultiplier: 2, ClipNorm: 1, Steps: 5}
		wrec, _ := scalar.VectorRecord(1, 1, 0.1, budget.Delta, scalar.Gaussian)
		eps, err := Epsilon([]Spend{train, EvalSpend("t", 1, wrec)}, budget.Delta)
		if err != nil {
			t.Fatal(err)
		}
		tight := Budget{Epsilon: eps * 1.001, Delta: budget.Delta}
		e, spends := evalRun(t, 0.5, Policy{Budget: tight, RequireNoisedCounts: true})
		if len(e.Evaluators) != 0 || len(e.EvalDecline) != 1 || len(spends) != 2 {
			t.Fatalf("evaluators %v declined %v spends %+v", e.Evaluators, e.EvalDecline, spends)
		}
	})
}

// A weighted round that asks for the exact example count is declined by a
// tenant that releases counts only noised; allowed, the count is exact, it
// is recorded as an exact spend (ε = ∞) before it leaves, and the noised
// evaluation that follows is charged against the cap as before (the
// tenant's waiver: the cap bounds the noised releases).
func TestExactWeights(t *testing.T) {
	budget := Budget{Epsilon: 8, Delta: 1e-5}
	e, spends := evalRunWeighted(t, 0.5, 0, Policy{Budget: budget, RequireNoisedCounts: true})
	if e.Kind != coordinator.EvRoundAbandoned || !strings.Contains(e.Declined["a"], "exact example count") || len(spends) != 0 {
		t.Fatalf("event %+v, spends %+v", e, spends)
	}
	e, spends = evalRunWeighted(t, 0.5, 0, Policy{Budget: budget})
	if e.Kind != coordinator.EvEvaluated || len(e.Evaluators) != 1 || len(spends) != 3 || spends[0].Kind != SpendDPSGD ||
		spends[1] != ExactSpend("t", 1) || spends[2].ClipNorm != math.Sqrt(5) {
		t.Fatalf("event %+v, spends %+v: want training, the exact count, then the noised evaluation", e, spends)
	}
	if lastRun.ExactReleases != 1 || !math.IsInf(lastRun.Epsilon, 1) {
		t.Fatalf("result %+v: want the exact count counted and ε = +Inf", lastRun)
	}
}

func TestEvalDeclineReasonNamesTheCap(t *testing.T) {
	// The reason a tenant gives is what the operator reads in its log.
	var c Client
	c.cfg.Policy.Budget = Budget{Epsilon: 0.01, Delta: 1e-5}
	c.cfg.Spends = &MemSpendLog{}
	c.kind, _ = task.Lookup(task.KindClassify)
	_, why, err := c.noiseEval(1, 0.5, make([]int64, 8))
	if err != nil || !strings.Contains(why, "above the cap 0.01") {
		t.Fatalf("reason %q, err %v", why, err)
	}
}

// The released weight is the capped count, noised around it when asked,
// and never below 1 or above the cap.
func TestWeightValue(t *testing.T) {
	exact := weightRelease{weighted: true}
	if w, _ := exact.value(50, 40); w != 40 {
		t.Fatalf("exact capped weight %v, want 40", w)
	}
	if w, _ := exact.value(50, 0); w != 50 {
		t.Fatalf("exact weight %v, want 50", w)
	}
	rec, _ := scalar.VectorRecord(1, 1, 0.5, 1e-5, scalar.Gaussian)
	noised := weightRelease{weighted: true, rec: &rec}
	var sum float64
	const n = 2000
	for range n {
		w, err := noised.value(1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		sum += w
		if lo, _ := noised.value(1, 3); lo < 1 || lo > 3 {
			t.Fatalf("small count released as %v, outside [1, 3]", lo)
		}
	}
	if mean := sum / n; math.Abs(mean-1000) > 5*rec.NoiseStd/math.Sqrt(n) {
		t.Fatalf("noised weights average %v, want 1000 ± noise (σ %v)", mean, rec.NoiseStd)
	}
}
