package empirical

import (
	"context"
	"fmt"
	mrand "math/rand/v2"

	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy/scalar"
	"github.com/fedb2b/fedb2b/protocol"
)

// CompositionScenarios builds the record-level composition audit for
// every kind of o: the same release made rounds times on D and on D′
// (one unit removed), the per-release scores summed, against the ε the
// tenant's accountant composes for those releases (client.Epsilon over
// the recorded spends):
//
//   - update ×R: R rounds of local DP-SGD, each from the same starting
//     parameters (the adversary's worst case: nothing else changes), the
//     score Σ‖Δθ_r‖²;
//   - eval ×R: R noised releases of the evaluation statistics, the score
//     Σ of their projections on exact(D) − exact(D′).
//
// With broken, it adds eval ×R claimed at one release's ε, the claim
// that forgets composition, which the audit must refute.
func CompositionScenarios(ctx context.Context, o Options, rounds int, broken bool) ([]Scenario, error) {
	if rounds < 2 {
		return nil, fmt.Errorf("empirical: composition needs at least 2 rounds, not %d", rounds)
	}
	o.fill()
	tp := protocol.TrainParams{SampleRate: o.SampleRate, ClipNorm: 1, NoiseMultiplier: o.NoiseMultiplier,
		LocalSteps: o.Steps, LearningRate: 1}
	var out []Scenario
	for _, k := range o.Kinds {
		train, held, err := pairs(ctx, k, o, tp)
		if err != nil {
			return nil, fmt.Errorf("empirical: kind %s: %w", k, err)
		}
		up, err := updateScenario(train, tp, o.Delta, false)
		if err != nil {
			return nil, err
		}
		spends := make([]client.Spend, rounds)
		for r := range spends {
			spends[r] = client.Spend{Round: r + 1, SampleRate: tp.SampleRate, NoiseMultiplier: tp.NoiseMultiplier,
				ClipNorm: tp.ClipNorm, Steps: tp.LocalSteps}
		}
		if up.Claimed, err = client.Epsilon(spends, o.Delta); err != nil {
			return nil, err
		}
		out = append(out, repeated(up, rounds))

		ev, err := evalScenario(held, o.EvalEpsilon, o.Delta)
		if err != nil {
			return nil, err
		}
		single := ev.Claimed
		kind, err := task.Lookup(held.spec.Kind)
		if err != nil {
			return nil, err
		}
		rec, err := scalar.VectorRecord(kind.L0, kind.LInf, o.EvalEpsilon, o.Delta, scalar.Gaussian)
		if err != nil {
			return nil, err
		}
		for r := range spends {
			spends[r] = client.EvalSpend("audit", r+1, rec)
		}
		if ev.Claimed, err = client.Epsilon(spends, o.Delta); err != nil {
			return nil, err
		}
		composed := repeated(ev, rounds)
		out = append(out, composed)
		if broken {
			b := composed
			b.Name += " (broken: one release's ε claimed)"
			b.Claimed = single
			out = append(out, b)
		}
	}
	return out, nil
}

// repeated is s made rounds times, the scores summed.
func repeated(s Scenario, rounds int) Scenario {
	one := s.Sample
	s.Name = fmt.Sprintf("%s ×%d rounds", s.Name, rounds)
	s.Sample = func(world int, rng *mrand.Rand) (float64, error) {
		var sum float64
		for range rounds {
			v, err := one(world, rng)
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	}
	return s
}
