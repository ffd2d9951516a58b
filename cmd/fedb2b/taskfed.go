package main

import (
	"context"
	"fmt"
	"time"

	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/coordinator/simulate"
	"github.com/fedb2b/fedb2b/models/intent"
	modeltask "github.com/fedb2b/fedb2b/models/task"
)

// intentOverCoordinator is an intent.Federation that trains over the real
// coordinator, clients, mutual TLS and secure aggregation
// (simulate.RunTask), each tenant's evaluation noised at evalEps. The
// federation's own (noised) final metrics, what the operator sees, are
// stored in *seen.
func intentOverCoordinator(evalEps float64, seen *map[string]float64) intent.Federation {
	return func(ctx context.Context, in intent.FederationInput) ([]float64, float64, float64, error) {
		c := in.Config
		spec := coordinator.TaskSpec{ID: "intent", Kind: modeltask.KindIntent, EncoderID: c.Encoder.ID(), InputDim: in.Classifier.InputDim,
			Rank: in.Classifier.Rank, Alpha: in.Classifier.Alpha, Labels: in.Labels, Seed: in.Classifier.Seed, NumParams: len(in.Initial)}
		k, err := modeltask.Lookup(spec.Kind)
		if err != nil {
			return nil, 0, 0, err
		}
		spec.EvalLen = k.EvalLen(spec)
		fed := simulate.TaskFederation{Spec: spec, Initial: in.Initial}
		for _, t := range in.Tenants {
			fed.Tenants = append(fed.Tenants, simulate.TaskTenant{Name: t.Name, Learner: modeltask.NewIntent(c.Encoder, t.Train, t.Test, nil)})
		}
		cfg := simulate.Config{Encoder: c.Encoder, Rounds: c.Rounds, LocalSteps: c.LocalSteps, SampleRate: c.SampleRate, ClipNorm: c.ClipNorm,
			LearningRate: c.LearningRate, ServerLR: c.ServerLR, TargetEpsilon: c.TargetEpsilon, NoiseMultiplier: c.NoiseMultiplier, Delta: c.Delta,
			EvalEpsilon: evalEps, RoundTimeout: time.Minute, Rand: c.Rand}
		rep, err := simulate.RunTask(ctx, cfg, fed, nil)
		if err != nil {
			return nil, 0, 0, err
		}
		if rep.FinalModel == nil {
			return nil, 0, 0, fmt.Errorf("no round aggregated")
		}
		var eps float64
		for _, e := range rep.Epsilon {
			eps = max(eps, e)
		}
		*seen = rep.FinalValues
		return rep.FinalModel, rep.Privacy.NoiseMultiplier, eps, nil
	}
}
