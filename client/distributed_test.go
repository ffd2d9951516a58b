package client

import (
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

var testRecord = sync.OnceValues(func() (ddg.Record, error) {
	return ddg.PlanRecord(ddg.RecordGoal{Epsilon: 4, Delta: 1e-5, Rounds: 50, SampleRate: 0.1, RecordClip: 1, SumClip: 400,
		Dim: 2048, Shares: 4, Cohort: 5})
})

func distributedSpend(t *testing.T, round int) (Spend, ddg.Record) {
	t.Helper()
	r, err := testRecord()
	if err != nil {
		t.Fatal(err)
	}
	p := ledger.RecordParams(r)
	return Spend{Kind: SpendDistributed, Task: "t", Round: round, SampleRate: r.SampleRate, NoiseMultiplier: r.NoiseMultiplier(),
		ClipNorm: r.RecordClip, Steps: 1, Distributed: &p}, r
}

// The tenant's accountant composes the distributed rounds with the mode's
// own bound (not as local DP-SGD of the same z, which would understate
// ε), and the policy refuses the round past the cap.
func TestDistributedSpendsAccounted(t *testing.T) {
	var spends []Spend
	for i := range 50 {
		s, _ := distributedSpend(t, i+1)
		spends = append(spends, s)
	}
	_, r := distributedSpend(t, 0)
	want, err := ddg.RecordEpsilon(r, 50, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Epsilon(spends, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-want) > 1e-9*want || got > 4 {
		t.Fatalf("ε %v, want ddg.RecordEpsilon %v ≤ 4", got, want)
	}
	asLocal := spends[0]
	asLocal.Kind, asLocal.Distributed, asLocal.Steps = SpendDPSGD, nil, 50
	local, _ := Epsilon([]Spend{asLocal}, 1e-5)
	if !(local < got) {
		t.Errorf("as local DP-SGD of the same z: ε %v, the mode's bound %v; the bound must be the larger", local, got)
	}
	pol := Policy{Budget: Budget{Epsilon: 4, Delta: 1e-5}, DPMode: DPModeDistributed}
	next, _ := distributedSpend(t, 51)
	d, err := pol.Decide("t", next, 5, spends)
	if err != nil {
		t.Fatal(err)
	}
	if d.Accept || !strings.Contains(d.Reason, "above this tenant's cap") {
		t.Fatalf("round 51 past the cap: %+v", d)
	}
	again, _ := distributedSpend(t, 49)
	if d, _ := pol.Decide("t", again, 5, spends[:49]); d.Accept {
		t.Fatal("a second spend for a recorded round was accepted")
	}
}

// A tenant in the default local mode declines a distributed plan, naming
// the trust model; one that opts in but assumes more colluders than the
// cohort can hold beside the honest shares declines too, and so does one
// with a tenant-level cap (the round has no tenant-level noise).
func TestDistributedDecline(t *testing.T) {
	_, r := distributedSpend(t, 0)
	c := &Client{}
	p := &api.TrainPlan{Secure: true}
	if why := c.distributedDecline(p, &r); !strings.Contains(why, "local DP-SGD") {
		t.Errorf("local-mode tenant: %q", why)
	}
	c.cfg.Policy = Policy{DPMode: DPModeDistributed, AssumeColluders: 2}
	if why := c.distributedDecline(p, &r); !strings.Contains(why, "survivors needed") {
		t.Errorf("4 shares + 2 colluders in a cohort of 5: %q", why)
	}
	c.cfg.Policy.AssumeColluders = 0
	c.cfg.Policy.TenantEpsilon = 5
	if why := c.distributedDecline(p, &r); !strings.Contains(why, "tenant-level ε is ∞") {
		t.Errorf("tenant-level cap: %q", why)
	}
	c.cfg.Policy.TenantEpsilon = 0
	if why := c.distributedDecline(&api.TrainPlan{}, &r); !strings.Contains(why, "without secure aggregation") {
		t.Errorf("plain round: %q", why)
	}
}
