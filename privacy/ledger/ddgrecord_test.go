package ledger

import (
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/fedb2b/fedb2b/privacy/ddg"
)

// recordParams is one round of the record-level distributed mode with 4
// honest tenants assumed, planned for ε = 8 over 100 rounds.
func recordParams(t *testing.T) (Params, ddg.Record) {
	t.Helper()
	r, err := ddg.PlanRecord(ddg.RecordGoal{Epsilon: 8, Delta: 1e-5, Rounds: 100, SampleRate: 0.1, RecordClip: 1, SumClip: 400,
		Dim: 4096, Shares: 4, Cohort: 5})
	if err != nil {
		t.Fatal(err)
	}
	return RecordParams(r), r
}

// The ledger replays the mode's entries to the ε the plan was calibrated
// for (the auditor's recomputation), records the honest tenants assumed,
// and refuses the round that would exceed the cap.
func TestDDGRecordEntriesReplay(t *testing.T) {
	p, r := recordParams(t)
	if p.Shares != 4 || p.SumClip != 400 || p.ClipNorm != 1 || p.SamplingRate != 0.1 {
		t.Fatalf("recorded params %+v", p)
	}
	if DDGRecord(p) != r {
		t.Fatalf("round trip %+v != %+v", DDGRecord(p), r)
	}
	l := openTest(t, filepath.Join(t.TempDir(), "ledger.jsonl"), testKey(t, 40))
	var last Entry
	for i := range 100 {
		e, err := l.Append(Entry{Party: "acme", Task: "t", Round: int64(i + 1), Tenant: "acme", Unit: UnitRecord,
			Mechanism: MechDDGRecord, Params: p, Delta: 1e-5, EpsilonCap: 8})
		if err != nil {
			t.Fatalf("round %d: %v", i+1, err)
		}
		last = e
	}
	want, err := ddg.RecordEpsilon(r, 100, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	if got := float64(last.EpsilonCumulative); math.Abs(got-want) > 1e-9*want || want > 8 {
		t.Fatalf("replayed ε %v, ddg.RecordEpsilon %v (target 8)", last.EpsilonCumulative, want)
	}
	_, err = l.Append(Entry{Party: "acme", Task: "t", Round: 101, Tenant: "acme", Unit: UnitRecord,
		Mechanism: MechDDGRecord, Params: p, Delta: 1e-5, EpsilonCap: 8})
	if !errors.Is(err, ErrBudgetExceeded) {
		t.Fatalf("round 101: err = %v, want the cap refused", err)
	}
}

// An entry of the mode must carry every parameter of the mechanism and
// nothing of another: a missing honest-tenant count, a noise multiplier
// in place of the share σ, or a sum clip on a DP-SGD entry are refused.
func TestDDGRecordValidate(t *testing.T) {
	p, _ := recordParams(t)
	m, err := LookupMechanism(MechDDGRecord)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(p); err != nil {
		t.Fatalf("valid params refused: %v", err)
	}
	for name, mod := range map[string]func(*Params){
		"no honest tenants": func(p *Params) { p.Shares = 0 },
		"noise multiplier":  func(p *Params) { p.NoiseMultiplier = 1 },
		"no sampling rate":  func(p *Params) { p.SamplingRate = 0 },
		"clip above sum":    func(p *Params) { p.ClipNorm = p.SumClip * 2 },
		"no steps":          func(p *Params) { p.Steps = 0 },
	} {
		q := p
		mod(&q)
		if m.Validate(q) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	d, _ := LookupMechanism(MechDPSGD)
	bad := dpsgd
	bad.SumClip = 10
	if d.Validate(bad) == nil {
		t.Error("a DP-SGD entry with a sum clip was accepted")
	}
}
