package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// MechExact is a release without noise: exact evaluation statistics or an
// exact example count, which a tenant makes only when its policy allows
// it explicitly. Under add/remove-one adjacency an exact count
// distinguishes neighbours with certainty, so its ε is ∞ at every δ < 1,
// and it is ∞ under tenant-level adjacency too (the tenant's data left
// without the tenant-level noise). Its only parameter is Steps, the
// number of exact releases the entry records.
//
// An exact intent makes every later ε of its tenant ∞, in every unit and
// whatever the accountant ([Replay]): nothing composed after it is
// finite, and entries record ∞ (null, with epsilon_infinite). Making it is
// the tenant's explicit waiver, so it is written whatever the cap; it is
// recorded so that the ∞ survives a restart and is seen by an auditor.
// From then on a cap can only bound the tenant's noised releases: it is
// checked against the ε those compose to alone ([Entry.OverCap],
// [Replay.NoisedEpsilon]). Whether a tenant goes on releasing at all
// after an exact release is its policy's decision, not the ledger's (the
// client declines every later round unless it still allows exact
// releases).
const MechExact = "exact"

func validateExact(p Params) error {
	if p.Steps < 1 {
		return fmt.Errorf("steps %d is not at least 1", p.Steps)
	}
	if p != (Params{Steps: p.Steps}) {
		return errors.New("an exact release has no parameter but steps")
	}
	return nil
}

// composeExact is never called: [Replay] handles exact intents itself
// (they make the tenant's ε infinite in every unit, whatever the
// accountant).
func composeExact(Accountant, Params) error {
	return errors.New("exact releases are not composed by an accountant: the replay makes the tenant's ε infinite")
}

// Epsilon is a cumulative ε as a ledger entry records it: a finite number
// ≥ 0, or +Inf after an exact release. JSON has no infinity, so +Inf is
// encoded as null (and the entry says so in epsilon_infinite); finite
// values are encoded exactly as a float64 is.
type Epsilon float64

// Inf reports whether e is +Inf.
func (e Epsilon) Inf() bool { return math.IsInf(float64(e), 1) }

// String formats e as %g does, "∞" when infinite.
func (e Epsilon) String() string {
	if e.Inf() {
		return "∞"
	}
	return strconv.FormatFloat(float64(e), 'g', -1, 64)
}

// MarshalJSON implements json.Marshaler: null for +Inf, the float64
// encoding otherwise (an error for NaN and -Inf, as for a float64).
func (e Epsilon) MarshalJSON() ([]byte, error) {
	if e.Inf() {
		return []byte("null"), nil
	}
	return json.Marshal(float64(e))
}

// UnmarshalJSON implements json.Unmarshaler: null is +Inf.
func (e *Epsilon) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*e = Epsilon(math.Inf(1))
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*e = Epsilon(v)
	return nil
}

// setEpsilon records eps as e's cumulative ε.
func (e *Entry) setEpsilon(eps float64) {
	e.EpsilonCumulative = Epsilon(eps)
	e.EpsilonInfinite = math.IsInf(eps, 1)
}

// OverCap reports whether intent e is over its cap, given governed, the
// ε its cap governs: its recorded cumulative ε, or after an exact release
// of its tenant (recorded ε = ∞) the ε of the tenant's noised releases
// alone ([Replay.NoisedEpsilon]). An exact intent is never over its cap:
// it is the tenant's waiver ([MechExact]). Released and received entries
// spend nothing.
func (e Entry) OverCap(governed float64) bool {
	return e.Status == StatusIntent && e.Mechanism != MechExact && !(governed <= e.EpsilonCap)
}

// governedEpsilon is the ε a cap governs for an entry whose cumulative ε
// is eps and whose (tenant, unit) accountant state is acc: eps, or when
// eps is ∞ (an exact release) acc's ε of the noised releases (0 without
// any).
func governedEpsilon(eps float64, acc Accountant, delta float64) (float64, error) {
	if !math.IsInf(eps, 1) {
		return eps, nil
	}
	if acc == nil {
		return 0, nil
	}
	return acc.Epsilon(delta)
}

// NoisedEpsilon is the ε at delta of the noised releases of (tenant, unit)
// applied so far, leaving the exact ones out: what a cap bounds after an
// exact release. It is 0 when nothing noised was composed.
func (r *Replay) NoisedEpsilon(tenant string, unit Unit, delta float64) (float64, error) {
	a, ok := r.accts[budgetKey{tenant, unit}]
	if !ok {
		return 0, nil
	}
	return a.Epsilon(delta)
}

// Exact returns the exact releases a replay has seen for tenant: the
// sequence number of the first exact intent, and whether there is one.
func (r *Replay) Exact(tenant string) (uint64, bool) {
	s, ok := r.exact[tenant]
	return s, ok
}
