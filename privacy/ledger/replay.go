package ledger

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// budgetKey identifies one composed budget: a tenant in a unit.
type budgetKey struct {
	tenant string
	unit   Unit
}

// Replay recomputes, entry by entry, the cumulative ε that each entry
// should record, from the recorded mechanisms and parameters only. Entries
// must be applied in ledger order. It also checks that released entries
// complete an earlier intent of the same task, round, tenant and unit,
// once, with the same artefact hash and budget fields.
//
// One (tenant, unit) pair is composed by one accountant and at one δ
// throughout a ledger: ε from different accountants cannot be added, and
// a later intent at a larger δ would report the whole composition at
// that δ (a smaller ε that hides what was spent at the first δ). An exact intent
// ([MechExact]) composes into no accountant: from it on, every ε of its
// tenant is +Inf, in every unit.
type Replay struct {
	accts    map[budgetKey]Accountant
	acctName map[budgetKey]string
	state    map[budgetKey][32]byte // memo id of accts[k]
	intents  map[uint64]Entry
	released map[uint64]uint64 // intent seq → released seq
	exact    map[string]uint64 // tenant → seq of its first exact intent
	delta    map[budgetKey]float64
}

// NewReplay returns an empty replay.
func NewReplay() *Replay {
	return &Replay{
		accts:    map[budgetKey]Accountant{},
		acctName: map[budgetKey]string{},
		state:    map[budgetKey][32]byte{},
		intents:  map[uint64]Entry{},
		released: map[uint64]uint64{},
		exact:    map[string]uint64{},
		delta:    map[budgetKey]float64{},
	}
}

// Peek returns the cumulative ε that e should record if applied next,
// without changing the replay.
func (r *Replay) Peek(e Entry) (float64, error) {
	eps, _, err := r.step(e)
	return eps, err
}

// Apply replays e and returns the cumulative ε it should record. On error
// the replay is unchanged.
func (r *Replay) Apply(e Entry) (float64, error) {
	eps, acc, err := r.step(e)
	if err != nil {
		return 0, err
	}
	k := budgetKey{e.Tenant, e.Unit}
	switch e.Status {
	case StatusIntent:
		r.intents[e.Seq] = e
		r.delta[k] = e.Delta
		if e.Mechanism == MechExact {
			if _, seen := r.exact[e.Tenant]; !seen {
				r.exact[e.Tenant] = e.Seq
			}
			break
		}
		r.state[k] = stateID(r.state[k], e.Accountant, e.Mechanism, e.Params)
		r.accts[k] = acc
		r.acctName[k] = e.Accountant
	case StatusReleased:
		r.released[e.Ref] = e.Seq
	}
	return eps, nil
}

// Pending returns the sequence numbers of applied intents that no applied
// released entry completes, in order.
func (r *Replay) Pending() []uint64 {
	var out []uint64
	for s := range r.intents {
		if _, ok := r.released[s]; !ok {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// Accountant returns a copy of the composed state for (tenant, unit) and
// the accountant's name, or nil and "" when nothing was composed. It
// holds the noised releases only: see [Replay.Exact] for the exact ones,
// which make the tenant's ε infinite.
func (r *Replay) Accountant(tenant string, unit Unit) (Accountant, string) {
	k := budgetKey{tenant, unit}
	a, ok := r.accts[k]
	if !ok {
		return nil, ""
	}
	return a.Clone(), r.acctName[k]
}

// step computes e's cumulative ε and, for an intent, the accountant state
// after it (a fresh copy; r is not modified).
func (r *Replay) step(e Entry) (float64, Accountant, error) {
	k := budgetKey{e.Tenant, e.Unit}
	switch e.Status {
	case StatusIntent:
		if d, ok := r.delta[k]; ok && d != e.Delta {
			return 0, nil, fmt.Errorf("tenant %s, unit %s: δ %g differs from the δ %g of its earlier entries (one composition is reported at one δ)", e.Tenant, e.Unit, e.Delta, d)
		}
		if e.Mechanism == MechExact {
			if err := validateExact(e.Params); err != nil {
				return 0, nil, fmt.Errorf("mechanism %s: %w", e.Mechanism, err)
			}
			if _, err := LookupAccountant(e.Accountant); err != nil {
				return 0, nil, err
			}
			return math.Inf(1), nil, nil
		}
		acc, err := r.composeInto(k, e)
		if err != nil {
			return 0, nil, err
		}
		eps, err := acc.Epsilon(e.Delta)
		if err != nil {
			return 0, nil, fmt.Errorf("accountant %s: %w", e.Accountant, err)
		}
		if _, inf := r.exact[e.Tenant]; inf {
			eps = math.Inf(1)
		}
		return eps, acc, nil
	case StatusReleased:
		in, ok := r.intents[e.Ref]
		if !ok {
			return 0, nil, fmt.Errorf("released entry refers to seq %d, which is not an intent", e.Ref)
		}
		if s, done := r.released[e.Ref]; done {
			return 0, nil, fmt.Errorf("intent %d was already released by entry %d", e.Ref, s)
		}
		if in.Task != e.Task || in.Round != e.Round || in.Tenant != e.Tenant || in.Unit != e.Unit {
			return 0, nil, fmt.Errorf("released entry does not match intent %d (task, round, tenant, unit)", e.Ref)
		}
		if in.Delta != e.Delta || in.EpsilonCap != e.EpsilonCap {
			return 0, nil, fmt.Errorf("released entry changes delta or epsilon_cap of intent %d", e.Ref)
		}
		if in.ArtifactHash != "" && in.ArtifactHash != e.ArtifactHash {
			return 0, nil, fmt.Errorf("released artefact hash differs from the one intent %d recorded", e.Ref)
		}
		if _, inf := r.exact[e.Tenant]; inf {
			return math.Inf(1), nil, nil // the intent, or one before it, was exact
		}
		acc := r.accts[k] // present: the (noised) intent composed into it
		eps, err := acc.Epsilon(e.Delta)
		if err != nil {
			return 0, nil, err
		}
		return eps, nil, nil
	case StatusReceived:
		return 0, nil, nil // evidence, no spend
	default:
		return 0, nil, fmt.Errorf("status %q is not %q, %q or %q", e.Status, StatusIntent, StatusReleased, StatusReceived)
	}
}

func (r *Replay) composeInto(k budgetKey, e Entry) (Accountant, error) {
	m, err := LookupMechanism(e.Mechanism)
	if err != nil {
		return nil, err
	}
	if err := m.Validate(e.Params); err != nil {
		return nil, fmt.Errorf("mechanism %s: %w", e.Mechanism, err)
	}
	var acc Accountant
	prev, ok := r.accts[k]
	if ok {
		if name := r.acctName[k]; name != e.Accountant {
			return nil, fmt.Errorf("accountant %q differs from %q used earlier for tenant %s, unit %s", e.Accountant, name, e.Tenant, e.Unit)
		}
	}
	id := stateID(r.state[k], e.Accountant, e.Mechanism, e.Params)
	if a, hit := memoGet(id); hit {
		return a, nil
	}
	if ok {
		acc = prev.Clone()
	} else {
		newAcc, err := LookupAccountant(e.Accountant)
		if err != nil {
			return nil, err
		}
		acc = newAcc()
	}
	if err := m.Compose(acc, e.Params); err != nil {
		return nil, fmt.Errorf("mechanism %s: %w", e.Mechanism, err)
	}
	memoPut(id, acc)
	return acc, nil
}

// Plan is a release a party intends to make: what [CheckBudget] tests.
type Plan struct {
	Mechanism  string
	Params     Params
	Accountant string // "" means DefaultAccountant
}

// ErrBudgetExceeded is returned by [Ledger.Append] when an intent would
// take the cumulative ε above its cap.
var ErrBudgetExceeded = errors.New("ledger: privacy budget exceeded")

// CheckBudget replays entries (one ledger, in order) and returns the
// cumulative ε of (tenant, unit) at delta after the planned release, and
// whether it stays within capEps. It answers "would this round exceed the
// cap?" without writing anything. After an exact release of the tenant
// epsAfter is +Inf and ok says whether the noised releases alone stay
// within capEps (see [MechExact]): a caller that does not accept the
// exact release must refuse on epsAfter.
func CheckBudget(entries []Entry, tenant string, unit Unit, plan Plan, capEps, delta float64) (epsAfter float64, ok bool, err error) {
	r := NewReplay()
	for _, e := range entries {
		if _, err := r.Apply(e); err != nil {
			return 0, false, fmt.Errorf("ledger: entry %d: %w", e.Seq, err)
		}
	}
	return r.check(tenant, unit, plan, capEps, delta)
}

func (r *Replay) check(tenant string, unit Unit, plan Plan, capEps, delta float64) (float64, bool, error) {
	name := plan.Accountant
	if name == "" {
		name = DefaultAccountant
	}
	if err := checkText("tenant", tenant); err != nil {
		return 0, false, fmt.Errorf("ledger: %w", err)
	}
	if unit != UnitRecord && unit != UnitTenant {
		return 0, false, fmt.Errorf("ledger: unit %q is not %q or %q", unit, UnitRecord, UnitTenant)
	}
	if !(delta > 0 && delta < 1) {
		return 0, false, fmt.Errorf("ledger: delta %g is not in (0, 1)", delta)
	}
	e := Entry{Tenant: tenant, Unit: unit, Status: StatusIntent, Mechanism: plan.Mechanism,
		Params: plan.Params, Accountant: name, Delta: delta}
	m, err := LookupMechanism(plan.Mechanism)
	if err != nil {
		return 0, false, fmt.Errorf("ledger: %w", err)
	}
	if err := m.Validate(plan.Params); err != nil {
		return 0, false, fmt.Errorf("ledger: mechanism %s: %w", plan.Mechanism, err)
	}
	eps, acc, err := r.step(e)
	if err != nil {
		return 0, false, fmt.Errorf("ledger: %w", err)
	}
	governed, err := governedEpsilon(eps, acc, delta)
	if err != nil {
		return 0, false, fmt.Errorf("ledger: %w", err)
	}
	return eps, governed <= capEps, nil
}

// Rebuild replays entries and returns the composed accountant state of
// (tenant, unit) with its name, so that a client can continue accounting
// from its records. It returns a nil Accountant when the pair has no entry.
func Rebuild(entries []Entry, tenant string, unit Unit) (Accountant, string, error) {
	r := NewReplay()
	for _, e := range entries {
		if _, err := r.Apply(e); err != nil {
			return nil, "", fmt.Errorf("ledger: entry %d: %w", e.Seq, err)
		}
	}
	a, name := r.Accountant(tenant, unit)
	return a, name, nil
}
