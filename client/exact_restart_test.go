package client

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// TestExactReleaseSurvivesRestart: a tenant that allows exact releases
// makes one (exact evaluation statistics) with its signed ledger as the
// spend log. The ledger records it (ε = ∞), so a client restarted on the
// same ledger still has ε = ∞, record-level and tenant-level, and, under
// the default policy (noised counts only), its finite caps decline the
// next round. Before the exact release was recorded, the restarted client
// read only its finite DP-SGD spend and trained on.
func TestExactReleaseSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ledger")
	key, err := keys.Generate(privacy.SeededReader(7))
	if err != nil {
		t.Fatal(err)
	}
	budget := Budget{Epsilon: 8, Delta: 1e-5}

	l, err := ledger.Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	e, _, res := plainRunLog(t, 0, 0.1, Policy{Budget: budget}, true, NewLedgerSpendLog(l, "a"))
	if e.Kind != coordinator.EvEvaluated || len(e.Evaluators) != 1 {
		t.Fatalf("first run: event %+v, want the exact evaluation", e)
	}
	if !math.IsInf(res.Epsilon, 1) || res.ExactReleases != 1 {
		t.Fatalf("first run: result %+v, want ε = ∞ and one exact release", res)
	}
	l.Close()

	// Restart: a new process reads the ledger back.
	l, err = ledger.Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	log := NewLedgerSpendLog(l, "a")
	spends := log.Spends()
	eps, err := Epsilon(spends, budget.Delta)
	if err != nil || !math.IsInf(eps, 1) || len(exactOnRecord(spends)) != 1 {
		t.Fatalf("after restart: ε %v (%v), spends %+v; want ∞ with the exact release on record", eps, err, spends)
	}
	if s := l.Spent(ledger.UnitRecord, "a"); !math.IsInf(s, 1) {
		t.Fatalf("ledger's record-level ε after restart %v, want ∞", s)
	}
	p, err := ddg.Plan(ddg.Goal{Epsilon: 4, Delta: 1e-5, Rounds: 2, Dim: 50, ClipNorm: 1, Threshold: 3, Cohort: 4})
	if err != nil {
		t.Fatal(err)
	}
	if teps, ok, err := log.CheckTenantLevel(tenantParams(&p), 1e-5, 100); err != nil || !ok || !math.IsInf(teps, 1) {
		t.Fatalf("tenant-level after restart: ε %v, fits %v, %v; want ∞ (the noised releases fit the cap)", teps, ok, err)
	}
	// The next round, under the default policy (noised counts only), is
	// declined as trainRound, noiseEval and the tenant-level check decide
	// it (a coordinator told ε = ∞ at join does not even invite the
	// tenant). A tenant that still allows exact releases trains on under
	// its waiver: the cap bounds its noised releases, ε stays ∞.
	next := Spend{Task: "t", Round: 2, SampleRate: 0.2, NoiseMultiplier: 2, ClipNorm: 1, Steps: 5}
	strict := Policy{Budget: budget, RequireNoisedCounts: true, TenantEpsilon: 100}
	dec, err := strict.Decide("t", next, 1, spends)
	if err != nil || dec.Accept || !strings.Contains(dec.Reason, "ε is ∞") {
		t.Fatalf("after restart: decision %+v, %v; want the round declined because ε is ∞", dec, err)
	}
	c := &Client{cfg: Config{Spends: log, Policy: strict}}
	c.kind, _ = task.Lookup(task.KindClassify)
	c.task.ID = "t"
	if _, why, err := c.noiseEval(2, 0.5, make([]int64, 8)); err != nil || !strings.Contains(why, "ε is ∞") {
		t.Fatalf("noised evaluation after restart: %q, %v; want it declined because ε is ∞", why, err)
	}
	if why, err := c.tenantLevelDecline(&api.TrainPlan{Round: 2}); err != nil || !strings.Contains(why, "tenant-level ε is ∞") {
		t.Fatalf("tenant-level round after restart: %q, %v; want it declined because ε is ∞", why, err)
	}
	n := len(l.Entries())
	waiver := Policy{Budget: budget}
	dec, err = waiver.Decide("t", next, 1, spends)
	if err != nil || !dec.Accept || !math.IsInf(dec.EpsAfter, 1) {
		t.Fatalf("waiver: decision %+v, %v; want accepted with ε = ∞", dec, err)
	}
	if len(l.Entries()) != n {
		t.Fatal("deciding wrote to the ledger")
	}
	// The ledger records a later spend at ε = ∞ and still refuses one
	// whose noised releases alone exceed the cap.
	in, err := log.Record(next, budget)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Entries()[in-1]; !got.EpsilonCumulative.Inf() {
		t.Fatalf("spend after the exact release recorded ε %v, want ∞", got.EpsilonCumulative)
	}
	big := next
	big.Round, big.Steps = 3, 100000
	if _, err := log.Record(big, budget); !errors.Is(err, ledger.ErrBudgetExceeded) {
		t.Fatalf("ledger accepted noised releases above the cap after ∞: %v", err)
	}
}
