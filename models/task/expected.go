package task

import (
	"fmt"
	"maps"
	"math"
	"strconv"

	"github.com/fedb2b/fedb2b/protocol"
)

// OptionExpectedBatch is the task option carrying the public expected
// batch size B of DP-SGD: every private step divides its noised sum of
// clipped gradients by B. It is a constant the operator fixes for the task,
// the same for every tenant and never derived from a tenant's data.
// Dividing by q·N with a tenant's own N (the former rule) made the noise
// scale of every update reveal N (issue #13, finding 2).
const OptionExpectedBatch = "expected_batch"

// ExpectedBatch returns the expected batch spec announces, or an error
// when it announces none or an invalid one (a client then declines to
// train: it has no public normaliser).
func ExpectedBatch(spec protocol.TaskSpec) (float64, error) {
	v, ok := spec.Options[OptionExpectedBatch]
	if !ok {
		return 0, fmt.Errorf("task %q announces no public expected batch (option %q): DP-SGD would have to divide by the tenant's own record count", spec.ID, OptionExpectedBatch)
	}
	b, err := strconv.ParseFloat(v, 64)
	if err != nil || !(b > 0) || math.IsInf(b, 0) {
		return 0, fmt.Errorf("task %q: expected batch %q is not a positive finite number", spec.ID, v)
	}
	return b, nil
}

// SetExpectedBatch sets spec's expected batch to b > 0 (a copy of the
// options map, so a shared spec is not changed behind anyone's back).
func SetExpectedBatch(spec *protocol.TaskSpec, b float64) error {
	if !(b > 0) || math.IsInf(b, 0) {
		return fmt.Errorf("task %q: expected batch %v must be positive and finite", spec.ID, b)
	}
	opts := maps.Clone(spec.Options)
	if opts == nil {
		opts = map[string]string{}
	}
	opts[OptionExpectedBatch] = strconv.FormatFloat(b, 'g', -1, 64)
	spec.Options = opts
	return nil
}

// withoutCommon returns opts without the options every kind shares (the
// expected batch, the evaluation bound), for kinds whose parsers refuse unknown options.
func withoutCommon(opts map[string]string) map[string]string {
	_, eb := opts[OptionExpectedBatch]
	_, ev := opts[protocol.OptionEvalBound]
	if !eb && !ev {
		return opts
	}
	out := maps.Clone(opts)
	delete(out, OptionExpectedBatch)
	delete(out, protocol.OptionEvalBound)
	return out
}

// DefaultMaxEvalUnits is the public cap on the held-out units (records,
// messages, rows, customers) a tenant may evaluate on, from which
// SetEvalBound derives the statistics bound.
const DefaultMaxEvalUnits = 1_000_000

// evalNoiseSlack is room for the Gaussian noise tenants add to their
// statistics (σ is in the hundreds at the smallest evaluation ε in use).
const evalNoiseSlack = 1_000_000

// SetEvalBound announces in spec the bound on each evaluation statistic
// one tenant may report: maxUnits held-out units each changing a
// statistic by at most the kind's LInf, plus room for the noise. The
// coordinator then refuses larger values (protocol.OptionEvalBound). A
// tenant that lies within the bound is not caught (secagg doc.go, "what is
// not defended").
func SetEvalBound(spec *protocol.TaskSpec, maxUnits int64) error {
	k, err := Lookup(spec.Kind)
	if err != nil {
		return err
	}
	if maxUnits < 1 || maxUnits > (1<<40-evalNoiseSlack)/k.LInf {
		return fmt.Errorf("task %q: max evaluation units %d out of range", spec.ID, maxUnits)
	}
	opts := maps.Clone(spec.Options)
	if opts == nil {
		opts = map[string]string{}
	}
	opts[protocol.OptionEvalBound] = strconv.FormatInt(maxUnits*k.LInf+evalNoiseSlack, 10)
	spec.Options = opts
	return nil
}

// MaxEvalUnits returns how many held-out units a tenant may evaluate
// under the bound b spec announces (1<<40 when it announces none): nine
// tenths of the n with n·LInf + SetEvalBound's noise room = b, at most
// DefaultMaxEvalUnits; the tenth left over is room for the evaluation
// noise (10^11 at the forecast's LInf, over 100 standard deviations at
// ε = 0.01), so a tenant at the cap is not refused for its noise. A learner evaluates
// at most that many units, chosen by each unit alone, instead of failing
// when it holds more: whether a tenant takes part must not depend on its
// private size.
func MaxEvalUnits(spec protocol.TaskSpec) (int64, error) {
	k, err := Lookup(spec.Kind)
	if err != nil {
		return 0, err
	}
	b, err := protocol.EvalBound(spec)
	if err != nil {
		return 0, err
	}
	n := min((b-evalNoiseSlack)/k.LInf*9/10, DefaultMaxEvalUnits)
	if n < 1 {
		return 0, fmt.Errorf("task %q: evaluation bound %d leaves no room for one held-out unit", spec.ID, b)
	}
	return n, nil
}
