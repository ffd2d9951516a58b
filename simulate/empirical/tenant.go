package empirical

import (
	"context"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/protocol"
)

// TenantOptions chooses what TenantScenarios builds.
type TenantOptions struct {
	// Kind is the task kind whose learner produces the tenants' real
	// updates (default forecast: 278 parameters, the cheapest to encode).
	Kind string
	// Tenants is the cohort, which is also the number of noise shares the
	// plan relies on (default 2: the cheapest cohort, and the one whose
	// shares carry the least noise besides the tenant's own).
	Tenants int
	// Epsilon is the planned tenant-level ε of one round (default 1);
	// Delta its δ (default 1e-5).
	Epsilon, Delta float64
	// Rounds > 1 adds the composition over Rounds rounds (the same
	// release repeated, the score summed), claimed at the composed ε.
	Rounds int
	// Broken adds the composition claimed at one round's ε (the claim
	// that forgets composition), which the audit must refute.
	Broken bool
}

func (o *TenantOptions) fill() {
	if o.Kind == "" {
		o.Kind = "forecast"
	}
	if o.Tenants == 0 {
		o.Tenants = 2
	}
	if o.Epsilon == 0 {
		o.Epsilon = 1
	}
	if o.Delta == 0 {
		o.Delta = 1e-5
	}
}

// TenantScenarios builds the tenant-level audit: federations D and D′
// that differ in one whole tenant, whose update is replaced by zero (the
// adjacency of ledger.UnitTenant; the tenant still sends its noise
// share). Every tenant's update is a real one, from one round of DP-SGD
// of the kind's learner (the client's TrainConfigOf); each trial, every
// tenant encodes its update through the client's tenant-level path
// (client.EncodeTenantLevel: clip, rotate, round, add its share of the
// distributed discrete Gaussian) with a fresh session seed, the words are
// summed mod 2^32 — what secure aggregation unmasks, the pairwise masks
// having cancelled — and the sum is decoded as the coordinator decodes
// it (ddg.Codec.Decode). The score is the decoded sum projected on the
// tenant's update (the likelihood-ratio direction); the claim is
// ddg.Epsilon of the plan (ddg.Plan, as the coordinator plans a round,
// with the clip norm at the tenant's update norm so the tenant's signal
// is as large as the claim allows).
func TenantScenarios(ctx context.Context, o TenantOptions) ([]Scenario, error) {
	o.fill()
	updates, err := realUpdates(ctx, o.Kind, o.Tenants)
	if err != nil {
		return nil, fmt.Errorf("empirical: tenant-level: %w", err)
	}
	clip := norm(updates[0])
	one, err := ddg.Plan(ddg.Goal{Epsilon: o.Epsilon, Delta: o.Delta, Rounds: 1, Dim: len(updates[0]), ClipNorm: clip,
		Threshold: o.Tenants, Cohort: o.Tenants, Bits: secagg.Bits})
	if err != nil {
		return nil, err
	}
	codec, err := ddg.NewCodec(one)
	if err != nil {
		return nil, err
	}
	s, err := tenantScenario(updates, codec, 1, o.Delta, "tenant/ddg")
	if err != nil {
		return nil, err
	}
	out := []Scenario{s}
	if o.Rounds > 1 {
		// The same per-round plan R times: the claim is its composition.
		name := fmt.Sprintf("tenant/ddg ×%d rounds", o.Rounds)
		if s, err = tenantScenario(updates, codec, o.Rounds, o.Delta, name); err != nil {
			return nil, err
		}
		out = append(out, s)
		if o.Broken {
			b := s
			b.Name = name + " (broken: one round's ε claimed)"
			b.Claimed = out[0].Claimed
			out = append(out, b)
		}
	}
	return out, nil
}

// tenantScenario audits rounds rounds of codec's plan over the cohort's
// updates; the target is updates[0].
func tenantScenario(updates [][]float64, codec *ddg.Codec, rounds int, delta float64, name string) (Scenario, error) {
	p := codec.Params()
	claimed, err := ddg.Epsilon(p, rounds, delta)
	if err != nil {
		return Scenario{}, err
	}
	target := updates[0]
	dir := make([]float64, len(target))
	n := norm(target)
	for i, v := range target {
		dir[i] = v / n
	}
	zero := make([]float64, len(target))
	words := make([]uint32, p.PaddedDim())
	sum := make([]uint32, p.PaddedDim())
	dec := make([]float64, p.Dim)
	s := Scenario{Name: name, Kind: "any", Release: "tenant-ddg", Unit: "one tenant's update replaced by zero",
		Claimed: claimed, Delta: delta}
	s.Sample = func(world int, rng *mrand.Rand) (float64, error) {
		var score float64
		for range rounds {
			seed := make([]byte, 32)
			for i := range seed {
				seed[i] = byte(rng.Uint32())
			}
			clear(sum)
			for i, u := range updates {
				if i == 0 && world == 1 {
					u = zero
				}
				if _, err := client.EncodeTenantLevel(words, codec, u, seed, rng); err != nil {
					return 0, err
				}
				for j, w := range words {
					sum[j] += w // mod 2^32, as secure aggregation sums
				}
			}
			var rs [32]byte
			copy(rs[:], seed)
			if err := codec.Decode(dec, sum, protocol.RotationSeed(rs)); err != nil {
				return 0, err
			}
			for i, v := range dec {
				score += v * dir[i]
			}
		}
		return score, nil
	}
	return s, nil
}

// realUpdates returns n updates of one DP-SGD round of kind's learner
// (the audit's D data), each from the same starting parameters with fresh
// noise.
func realUpdates(ctx context.Context, kind string, n int) ([][]float64, error) {
	o := Options{Kinds: []string{kind}}
	o.fill()
	tp := protocol.TrainParams{SampleRate: o.SampleRate, ClipNorm: 1, NoiseMultiplier: o.NoiseMultiplier,
		LocalSteps: o.Steps, LearningRate: 1}
	train, _, err := pairs(ctx, kind, o, tp)
	if err != nil {
		return nil, err
	}
	tc, err := client.TrainConfigOf(tp, train.spec)
	if err != nil {
		return nil, err
	}
	rng, err := privacy.NewRand(nil)
	if err != nil {
		return nil, err
	}
	l := train.learners[0]
	out := make([][]float64, n)
	for i := range out {
		if err := l.SetParams(train.initial); err != nil {
			return nil, err
		}
		if _, err := l.Train(tc, rng); err != nil {
			return nil, err
		}
		u := slices.Clone(l.Params())
		for j := range u {
			u[j] -= train.initial[j]
		}
		if norm(u) == 0 {
			return nil, fmt.Errorf("kind %s: a zero update", kind)
		}
		out[i] = u
	}
	return out, nil
}

func norm(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}
