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
// expected batch), for kinds whose parsers refuse unknown options.
func withoutCommon(opts map[string]string) map[string]string {
	if _, ok := opts[OptionExpectedBatch]; !ok {
		return opts
	}
	out := maps.Clone(opts)
	delete(out, OptionExpectedBatch)
	return out
}
