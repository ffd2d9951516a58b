package simulate

import (
	"context"
	"fmt"

	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/models"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/protocol"
)

// TaskFederation is a federation of any task kind (package models/task):
// what the coordinator announces and each tenant's learner.
type TaskFederation struct {
	// Spec is the announced task; its Kind must be registered in
	// models/task and its EncoderID must be Config.Encoder's.
	Spec    protocol.TaskSpec
	Initial []float64 // version 0
	Tenants []TaskTenant
	// Pooled, if set, builds a learner over all tenants' data together:
	// the centralized baseline, trained from Initial without privacy
	// with Central when Config.Baselines is set.
	Pooled  modeltask.Factory
	Central models.TrainConfig
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
	if b, err := modeltask.ExpectedBatch(t.Spec); err == nil {
		cfg.ExpectedBatch = b // the task's own, for the baselines too
	}
	if err := calibrateFor(&cfg, kind); err != nil {
		return nil, err
	}
	rep := &Report{Config: DataSummary{Encoder: cfg.Encoder.ID()}}
	cfg.progress("federated training over the coordinator")
	if err := runFederation(ctx, cfg, t, rep, onRound); err != nil {
		return rep, err
	}
	if rep.FinalModel != nil {
		cfg.progress("counting the final model exactly on every tenant's held-out data")
		if rep.FinalExactValues, rep.FinalDeployedValues, err = exactValues(ctx, t, rep.learners, kind, rep.FinalModel); err != nil {
			return rep, err
		}
	}
	if cfg.Baselines {
		cfg.progress("baselines: each tenant alone with the same DP, and centralized")
		if rep.BaselineValues, err = taskBaselines(ctx, cfg, t, kind); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// taskBaselines trains, from version 0, each tenant alone with the same
// DP-SGD as the federation over all its steps ("local_only", statistics
// summed over the tenants) and, with t.Pooled, one learner over all data
// without privacy ("centralized"), and reads each with the kind's metrics
// (exact: simulation only). Learners that are Deployers also report their
// deployed figures, under the baseline's name plus "_deployed".
func taskBaselines(ctx context.Context, cfg Config, t TaskFederation, kind modeltask.Kind) (map[string]map[string]float64, error) {
	rnd, err := deriveReader(cfg.Rand)
	if err != nil {
		return nil, err
	}
	rng, err := privacy.NewRand(rnd)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]float64{}
	run := func(name string, tenants []TaskTenant, tc models.TrainConfig) error {
		sum, dsum := make([]int64, t.Spec.EvalLen), make([]int64, t.Spec.EvalLen)
		deployers := 0
		for _, td := range tenants {
			l, err := td.Learner(ctx, t.Spec)
			if err != nil {
				return fmt.Errorf("simulate: %s baseline, %s: %w", name, td.Name, err)
			}
			if err := l.SetParams(t.Initial); err != nil {
				return fmt.Errorf("simulate: %s baseline, %s: %w", name, td.Name, err)
			}
			if _, err := l.Train(tc, rng); err != nil {
				return fmt.Errorf("simulate: %s baseline, %s: %w", name, td.Name, err)
			}
			if err := addStats(sum, l.EvalStats, td.Name); err != nil {
				return err
			}
			if d, ok := l.(modeltask.Deployer); ok {
				if err := addStats(dsum, d.DeployedStats, td.Name); err != nil {
					return err
				}
				deployers++
			}
		}
		m, err := kind.Metrics(t.Spec, sum)
		if err != nil {
			return err
		}
		out[name] = m
		if deployers == len(tenants) {
			if out[name+"_deployed"], err = kind.Metrics(t.Spec, dsum); err != nil {
				return err
			}
		}
		return nil
	}
	local := models.TrainConfig{Steps: cfg.Rounds * cfg.LocalSteps, LearningRate: cfg.LearningRate, Private: true,
		SampleRate: cfg.SampleRate, ClipNorm: cfg.ClipNorm, NoiseMultiplier: cfg.NoiseMultiplier, ExpectedBatch: cfg.ExpectedBatch}
	if err := run("local_only", t.Tenants, local); err != nil {
		return nil, err
	}
	if t.Pooled != nil {
		if err := run("centralized", []TaskTenant{{Name: "pooled", Learner: t.Pooled}}, t.Central); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// addStats adds the statistics stats returns into dst.
func addStats(dst []int64, stats func() ([]int64, error), name string) error {
	s, err := stats()
	if err != nil {
		return fmt.Errorf("simulate: %s: %w", name, err)
	}
	if len(s) != len(dst) {
		return fmt.Errorf("simulate: %s: %d evaluation statistics, the task has %d", name, len(s), len(dst))
	}
	for i, v := range s {
		dst[i] += v
	}
	return nil
}

// exactValues evaluates params on every tenant's held-out data without
// noise with the learner its client built (a new one for a tenant whose
// client never built one), summing the statistics (and the deployed ones,
// if every learner is a task.Deployer; else deployed is nil). Only a
// simulation, which holds every tenant's data, can do this.
func exactValues(ctx context.Context, t TaskFederation, built []modeltask.Learner, kind modeltask.Kind, params []float64) (exact, deployed map[string]float64, err error) {
	sum, dsum := make([]int64, t.Spec.EvalLen), make([]int64, t.Spec.EvalLen)
	deployers := 0
	for i, td := range t.Tenants {
		l := built[i]
		if l == nil {
			if l, err = td.Learner(ctx, t.Spec); err != nil {
				return nil, nil, fmt.Errorf("simulate: %s: %w", td.Name, err)
			}
		}
		if err := l.SetParams(params); err != nil {
			return nil, nil, fmt.Errorf("simulate: %s: %w", td.Name, err)
		}
		if err := addStats(sum, l.EvalStats, td.Name); err != nil {
			return nil, nil, err
		}
		if d, ok := l.(modeltask.Deployer); ok {
			if err := addStats(dsum, d.DeployedStats, td.Name); err != nil {
				return nil, nil, err
			}
			deployers++
		}
	}
	if exact, err = kind.Metrics(t.Spec, sum); err != nil {
		return nil, nil, err
	}
	if deployers == len(t.Tenants) {
		if deployed, err = kind.Metrics(t.Spec, dsum); err != nil {
			return nil, nil, err
		}
	}
	return exact, deployed, nil
}

// calibrateFor sets cfg.NoiseMultiplier (if 0) for the target ε, counting
// the noised evaluations of kind, and checks one round fits the cap.
func calibrateFor(cfg *Config, kind modeltask.Kind) error {
	if cfg.distributed() {
		return nil // the coordinator plans the distributed noise (coordinator.RecordDP)
	}
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
