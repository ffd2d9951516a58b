package ledger

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

func TestAppendRejectsBadEntries(t *testing.T) {
	l := openTest(t, filepath.Join(t.TempDir(), "l"), testKey(t, 9))
	mod := func(f func(*Entry)) Entry { e := round("acme", 1); f(&e); return e }
	for _, tc := range []struct {
		e    Entry
		want string
	}{
		{mod(func(e *Entry) { e.Tenant = "" }), "tenant is empty"},
		{mod(func(e *Entry) { e.Task = "a\nb" }), "task contains a control character"},
		{mod(func(e *Entry) { e.Unit = "user" }), `unit "user"`},
		{mod(func(e *Entry) { e.Delta = 1 }), "delta 1 is not in (0, 1)"},
		{mod(func(e *Entry) { e.EpsilonCap = math.Inf(1) }), "epsilon_cap"},
		{mod(func(e *Entry) { e.Round = -1 }), "round -1 is negative"},
		{mod(func(e *Entry) { e.Mechanism = "laplace" }), `unknown mechanism "laplace"`},
		{mod(func(e *Entry) { e.Accountant = "prv" }), `unknown accountant "prv"`},
		{mod(func(e *Entry) { e.Params.SamplingRate = 1.5 }), "sampling_rate 1.5 is not in (0, 1]"},
		{mod(func(e *Entry) { e.Params.NoiseMultiplier = math.NaN() }), "noise_multiplier NaN"},
		{mod(func(e *Entry) { e.Params.Steps = 0 }), "steps 0"},
		{mod(func(e *Entry) { e.Params.Bits = 16 }), "cohort_size and bits are not parameters"},
		{mod(func(e *Entry) { e.Time = "2026-11-28 12:00" }), "not RFC 3339"},
		{mod(func(e *Entry) { e.Status = StatusReleased }), "use Release"},
	} {
		if _, err := l.Append(tc.e); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
	if n := len(l.Entries()); n != 0 {
		t.Fatalf("%d entries written by rejected appends", n)
	}
	if _, err := l.Append(round("acme", 1)); err != nil {
		t.Fatal(err)
	}
	other := round("acme", 2)
	other.Party = "coordinator"
	if _, err := l.Append(other); err == nil || !strings.Contains(err.Error(), `party "coordinator" differs from this ledger's party "acme"`) {
		t.Fatalf("second party: err = %v", err)
	}
}

func TestCheckBudgetErrors(t *testing.T) {
	plan := Plan{Mechanism: MechDPSGD, Params: dpsgd}
	for _, tc := range []struct {
		tenant string
		unit   Unit
		plan   Plan
		delta  float64
		want   string
	}{
		{"", UnitRecord, plan, 1e-5, "tenant is empty"},
		{"acme", "row", plan, 1e-5, `unit "row"`},
		{"acme", UnitRecord, plan, 0, "delta 0 is not in (0, 1)"},
		{"acme", UnitRecord, Plan{Mechanism: "laplace"}, 1e-5, `unknown mechanism "laplace"`},
		{"acme", UnitRecord, Plan{Mechanism: MechDPSGD}, 1e-5, "sampling_rate 0 is not in (0, 1]"},
		{"acme", UnitRecord, Plan{Mechanism: MechDPSGD, Params: dpsgd, Accountant: "prv"}, 1e-5, `unknown accountant "prv"`},
	} {
		_, _, err := CheckBudget(nil, tc.tenant, tc.unit, tc.plan, 1, tc.delta)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckBudget(%q, %q, %+v, δ=%g) err = %v, want %q", tc.tenant, tc.unit, tc.plan, tc.delta, err, tc.want)
		}
	}
	eps, ok, err := CheckBudget(nil, "acme", UnitRecord, plan, 1, 1e-5)
	want, _ := privacy.RDPEpsilon(dpsgd.SamplingRate, dpsgd.NoiseMultiplier, dpsgd.Steps, 1e-5)
	if err != nil || eps != want || ok != (want <= 1) {
		t.Fatalf("empty ledger: %v %v %v, want %v", eps, ok, err, want)
	}
}
