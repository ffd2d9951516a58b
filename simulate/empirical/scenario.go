package empirical

import (
	"fmt"
	"io"
	mrand "math/rand/v2"

	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	pe "github.com/fedb2b/fedb2b/privacy/empirical"
	"github.com/fedb2b/fedb2b/protocol"
)

// Scenario is one release of one task kind on neighbouring data sets.
type Scenario struct {
	Name    string // kind/release, e.g. "recommend/update"
	Kind    string
	Release string // "update", "eval" or "weight"
	Unit    string // what D and D′ differ in
	// Claimed is the ε the accountant claims for this one release at
	// Delta (+Inf for an exact release).
	Claimed, Delta float64
	// Sample runs the release once on D (world 0) or D′ (world 1) and
	// returns its score.
	Sample func(world int, rng *mrand.Rand) (float64, error)
}

// Result is a scenario's audit.
type Result struct {
	Scenario string
	Kind     string
	Release  string
	Unit     string
	Claimed  float64
	Trials   int // per world
	pe.Estimate
}

// Violated reports whether the lower bound exceeds the claim.
func (r Result) Violated() bool { return r.Epsilon > r.Claimed }

// Run audits s with trials runs per world; the bound is wrong with
// probability at most alpha. Randomness comes from rand (crypto/rand when
// nil).
func Run(s Scenario, trials int, alpha float64, rand io.Reader) (Result, error) {
	rng, err := privacy.NewRand(rand)
	if err != nil {
		return Result{}, err
	}
	var scores [2][]float64
	// Interleave the worlds so that any drift hits both alike.
	for range trials {
		for w := range 2 {
			v, err := s.Sample(w, rng)
			if err != nil {
				return Result{}, fmt.Errorf("empirical: %s, world %d: %w", s.Name, w, err)
			}
			scores[w] = append(scores[w], v)
		}
	}
	est, err := pe.LowerBound(scores[0], scores[1], s.Delta, alpha)
	if err != nil {
		return Result{}, fmt.Errorf("empirical: %s: %w", s.Name, err)
	}
	return Result{Scenario: s.Name, Kind: s.Kind, Release: s.Release, Unit: s.Unit, Claimed: s.Claimed, Trials: trials, Estimate: est}, nil
}

// pair is a task's learners on D and D′ with the spec and the starting
// parameters.
type pair struct {
	kind     string
	unit     string
	spec     protocol.TaskSpec
	initial  []float64
	learners [2]task.Learner
}

// updateScenario audits one round of DP-SGD with plan tp on p. broken
// replaces the public expected batch by q·N of each world's own N (the
// normalisation of issue #13's finding 2).
func updateScenario(p pair, tp protocol.TrainParams, delta float64, broken bool) (Scenario, error) {
	tc, err := client.TrainConfigOf(tp, p.spec)
	if err != nil {
		return Scenario{}, err
	}
	claimed, err := client.Epsilon([]client.Spend{{SampleRate: tp.SampleRate, NoiseMultiplier: tp.NoiseMultiplier,
		ClipNorm: tp.ClipNorm, Steps: tp.LocalSteps}}, delta)
	if err != nil {
		return Scenario{}, err
	}
	name := p.kind + "/update"
	if broken {
		name += " (broken: q·N)"
	}
	s := Scenario{Name: name, Kind: p.kind, Release: "update", Unit: "one " + p.unit + " removed from training",
		Claimed: claimed, Delta: delta}
	s.Sample = func(world int, rng *mrand.Rand) (float64, error) {
		l := p.learners[world]
		cfg := tc
		if broken {
			cfg.ExpectedBatch = tp.SampleRate * float64(l.TrainSize())
		}
		if err := l.SetParams(p.initial); err != nil {
			return 0, err
		}
		if _, err := l.Train(cfg, rng); err != nil {
			return 0, err
		}
		var n2 float64
		for i, v := range l.Params() {
			d := v - p.initial[i]
			n2 += d * d
		}
		return n2, nil
	}
	return s, nil
}

// evalScenario audits the noised evaluation statistics of p's learners
// (which differ in one held-out unit) at eps (0: exact).
func evalScenario(p pair, eps, delta float64) (Scenario, error) {
	k, err := task.Lookup(p.spec.Kind)
	if err != nil {
		return Scenario{}, err
	}
	var exact [2][]int64
	for w, l := range p.learners {
		if err := l.SetParams(p.initial); err != nil {
			return Scenario{}, err
		}
		if exact[w], err = l.EvalStats(); err != nil {
			return Scenario{}, err
		}
	}
	dir := make([]float64, len(exact[0]))
	for i := range dir {
		dir[i] = float64(exact[1][i] - exact[0][i])
	}
	s := Scenario{Name: p.kind + "/eval", Kind: p.kind, Release: "eval", Unit: "one " + p.unit + " removed from the held-out split",
		Claimed: eps, Delta: delta}
	if eps == 0 {
		s.Name, s.Claimed = p.kind+"/eval (exact)", inf
	}
	s.Sample = func(world int, _ *mrand.Rand) (float64, error) {
		stats := append([]int64(nil), exact[world]...)
		if err := client.NoiseStats(k, stats, eps, delta); err != nil {
			return 0, err
		}
		var score float64
		for i, v := range stats {
			score += float64(v) * dir[i]
		}
		return score, nil
	}
	return s, nil
}

// weightScenario audits the example count release at eps (0: exact) for
// a tenant of n vs n−1 training units.
func weightScenario(n int, eps, delta float64) Scenario {
	s := Scenario{Name: "weight", Kind: "any", Release: "weight", Unit: "one training unit removed", Claimed: eps, Delta: delta}
	if eps == 0 {
		s.Name, s.Claimed = "weight (exact)", inf
	}
	s.Sample = func(world int, _ *mrand.Rand) (float64, error) {
		return client.ReleaseWeight(n-world, 0, eps, delta)
	}
	return s
}
