package simulate

import (
	"context"
	"fmt"

	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/coordinator"
	modeltask "github.com/fedb2b/fedb2b/models/task"
)

// TaskFederation is a federation of any task kind (package models/task):
// what the coordinator announces and each tenant's learner.
type TaskFederation struct {
	// Spec is the announced task; its Kind must be registered in
	// models/task and its EncoderID must be Config.Encoder's.
	Spec    coordinator.TaskSpec
	Initial []float64 // version 0
	Tenants []TaskTenant
}

// TaskTenant is one tenant of a TaskFederation: its name and the factory
// that builds its learner from its private data.
type TaskTenant struct {
	Name    string
	Learner modeltask.Factory
}

func (t TaskFederation) names() []string {
	out := make([]string, len(t.Tenants))
	for i, td := range t.Tenants {
		out[i] = td.Name
	}
	return out
}

// RunTask runs t over the real coordinator and clients on loopback gRPC
// (mutual TLS and secure aggregation unless cfg says otherwise), with
// cfg's rounds, DP-SGD plan (noise calibrated to TargetEpsilon over the
// training and the noised evaluations when NoiseMultiplier is 0), faults
// and ledgers. cfg's data fields (Data, SynthRecords, Alpha, Rank,
// TestFraction, Baselines) are not used: the tenants' learners hold their
// data. The report's Values and FinalValues are the kind's metrics;
// onRound, if not nil, is called after each round.
func RunTask(ctx context.Context, cfg Config, t TaskFederation, onRound func(RoundReport)) (*Report, error) {
	if len(t.Tenants) == 0 {
		return nil, fmt.Errorf("simulate: task %q has no tenants", t.Spec.ID)
	}
	if cfg.Encoder == nil {
		return nil, fmt.Errorf("simulate: task %q: no encoder (the tenants' encoder ID must be %q)", t.Spec.ID, t.Spec.EncoderID)
	}
	if cfg.Encoder.ID() != t.Spec.EncoderID {
		return nil, fmt.Errorf("simulate: task %q needs encoder %q, the configuration has %q", t.Spec.ID, t.Spec.EncoderID, cfg.Encoder.ID())
	}
	kind, err := modeltask.Lookup(t.Spec.Kind)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	cfg.Tenants = len(t.Tenants)
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	if err := calibrateFor(&cfg, kind); err != nil {
		return nil, err
	}
	rep := &Report{Config: DataSummary{Encoder: cfg.Encoder.ID()}}
	if err := runFederation(ctx, cfg, t, rep, onRound); err != nil {
		return rep, err
	}
	if cfg.EvalEpsilon > 0 && rep.FinalModel != nil {
		if rep.FinalExactValues, err = exactValues(ctx, t, kind, rep.FinalModel); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// exactValues evaluates params on every tenant's held-out data without
// noise: each tenant's learner is built again, its statistics summed. Only
// a simulation, which holds every tenant's data, can do this.
func exactValues(ctx context.Context, t TaskFederation, kind modeltask.Kind, params []float64) (map[string]float64, error) {
	sum := make([]int64, t.Spec.EvalLen)
	for _, td := range t.Tenants {
		l, err := td.Learner(ctx, t.Spec)
		if err != nil {
			return nil, fmt.Errorf("simulate: %s: %w", td.Name, err)
		}
		if err := l.SetParams(params); err != nil {
			return nil, fmt.Errorf("simulate: %s: %w", td.Name, err)
		}
		s, err := l.EvalStats()
		if err != nil {
			return nil, fmt.Errorf("simulate: %s: %w", td.Name, err)
		}
		if len(s) != len(sum) {
			return nil, fmt.Errorf("simulate: %s: %d evaluation statistics, the task has %d", td.Name, len(s), len(sum))
		}
		for i, v := range s {
			sum[i] += v
		}
	}
	return kind.Metrics(t.Spec, sum)
}

// calibrateFor sets cfg.NoiseMultiplier (if 0) for the target ε, counting
// the noised evaluations of kind, and checks one round fits the cap.
func calibrateFor(cfg *Config, kind modeltask.Kind) error {
	if cfg.NoiseMultiplier == 0 {
		z, err := calibrate(*cfg, kind)
		if err != nil {
			return fmt.Errorf("simulate: calibrate noise for ε=%g: %w", cfg.TargetEpsilon, err)
		}
		cfg.NoiseMultiplier = z
	}
	one := client.Spend{SampleRate: cfg.SampleRate, NoiseMultiplier: cfg.NoiseMultiplier, Steps: cfg.LocalSteps}
	return client.CheckCap(client.Budget{Epsilon: cfg.EpsilonCap, Delta: cfg.Delta}, one)
}
