package task

import (
	"context"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"slices"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/protocol"
)

// Learner is a task's trainable adapter bound to one tenant's data.
type Learner interface {
	// NumParams is the length of the parameter vector the federation
	// averages.
	NumParams() int
	// Params returns a copy of the current parameters.
	Params() []float64
	// SetParams loads a global version.
	SetParams(p []float64) error
	// TrainSize is the number of local training records (the weight of
	// the tenant's update).
	TrainSize() int
	// Train runs DP-SGD on the local training split from the current
	// parameters.
	Train(cfg models.TrainConfig, rng *mrand.Rand) (models.TrainStats, error)
	// EvalStats returns the kind's statistics of the current parameters
	// on the local held-out split (all zero without one).
	EvalStats() ([]int64, error)
}

// GradSummer is implemented by learners that can take part in the
// record-level distributed mode (FedSGD, privacy/ddg.Record): the sum of
// the per-example gradients, each clipped to clip, of a Poisson sample at
// rate q of the local training split at the current parameters, in Params
// order, with no noise and no division. It is private (see
// models.LinearTrainer.ClippedGradSum).
type GradSummer interface {
	ClippedGradSum(q, clip float64, rng *mrand.Rand) ([]float64, models.GradSumStats, error)
}

// Deployer is implemented by learners whose deployed predictions use local
// data beyond what EvalStats may (a recommender's ranking with the
// tenant's own popularity). DeployedStats has the EvalStats layout but no
// per-record bound: it is never released, only counted by simulations,
// which hold every tenant's data, to judge the model as tenants use it.
type Deployer interface {
	DeployedStats() ([]int64, error)
}

// Factory builds the tenant's Learner for an announced task. It is given
// by whoever holds the tenant's data (the client's caller).
type Factory func(ctx context.Context, spec protocol.TaskSpec) (Learner, error)

// Kind is a task type as everyone but the data holder sees it.
type Kind struct {
	Name string
	// Unit is the privacy unit of the kind's record-level guarantee, for
	// training and evaluation alike (what the tenant's ledger calls a
	// "record": a labelled text, a message, a customer).
	Unit string
	// EvalLen is the length of the statistics vector of spec.
	EvalLen func(spec protocol.TaskSpec) int
	// L0 and LInf bound the change one record makes to the statistics:
	// at most L0 entries, each by at most LInf.
	L0, LInf int64
	// Metrics reads (possibly noised) summed statistics.
	Metrics func(spec protocol.TaskSpec, stats []int64) (map[string]float64, error)
	// Counts names, for a metric that is a ratio, the metric that counts
	// its denominator (optional): MetricsNoiseSD calls the ratio not
	// measurable when the noise could have made that count.
	Counts map[string]string
}

var kinds = map[string]Kind{}

// Register adds a kind; it panics on a duplicate name or an incomplete
// kind (programming errors at init time).
func Register(k Kind) {
	if _, dup := kinds[k.Name]; dup {
		panic("task: kind " + k.Name + " registered twice")
	}
	if k.Name == "" || k.Unit == "" || k.L0 < 1 || k.LInf < 1 || k.EvalLen == nil || k.Metrics == nil {
		panic(fmt.Sprintf("task: kind %q is incomplete: name, unit, L0 ≥ 1, LInf ≥ 1, EvalLen and Metrics are required", k.Name))
	}
	kinds[k.Name] = k
}

// Lookup returns the kind named name.
func Lookup(name string) (Kind, error) {
	k, ok := kinds[name]
	if !ok {
		return Kind{}, fmt.Errorf("task: unknown kind %q (known: %v)", name, slices.Sorted(maps.Keys(kinds)))
	}
	return k, nil
}

// Metrics reads summed statistics of spec with its kind.
func Metrics(spec protocol.TaskSpec, stats []int64) (map[string]float64, error) {
	k, err := Lookup(spec.Kind)
	if err != nil {
		return nil, err
	}
	if n := k.EvalLen(spec); len(stats) != n {
		return nil, fmt.Errorf("task %q: %d evaluation statistics, kind %q has %d", spec.ID, len(stats), k.Name, n)
	}
	return k.Metrics(spec, stats)
}

// Saver is implemented by learners whose current model `fedb2b predict`
// can apply: SaveModel writes it atomically with the task's labels and
// encoder ID in its metadata.
type Saver interface {
	SaveModel(path string, spec protocol.TaskSpec) error
}
