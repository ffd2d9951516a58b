package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// exactFixture is a tenant ledger with one DP-SGD round, then exact
// evaluation statistics of that round (allowed by the tenant: ε = ∞), and
// the coordinator's record of what it received, as client and
// coordinator write them.
type exactFixture struct {
	dir                  string
	tenant, coord        string // ledger paths
	tenantKey, coordKey  ed25519.PrivateKey
	trainHash, statsHash string
}

func buildExact(t *testing.T, withExact bool) exactFixture {
	t.Helper()
	f := exactFixture{dir: t.TempDir(), trainHash: hash("masked input r1"), statsHash: hash("exact stats r1")}
	f.tenant, f.coord = filepath.Join(f.dir, "acme.ledger"), filepath.Join(f.dir, "coordinator.ledger")
	var err error
	if f.tenantKey, err = keys.Generate(privacy.SeededReader(11)); err != nil {
		t.Fatal(err)
	}
	if f.coordKey, err = keys.Generate(privacy.SeededReader(12)); err != nil {
		t.Fatal(err)
	}
	tl, err := ledger.Open(f.tenant, f.tenantKey, ledger.WithClock(clock()))
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	cl, err := ledger.Open(f.coord, f.coordKey, ledger.WithClock(clock()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	must := func(e ledger.Entry, err error) ledger.Entry {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	base := ledger.Entry{Party: "acme", Task: "cls", Round: 1, Tenant: "acme", Unit: ledger.UnitRecord, Delta: 1e-5, EpsilonCap: 4}
	in := base
	in.Mechanism, in.Params = ledger.MechDPSGD, tenantParams["acme"]
	must(tl.Release(must(tl.Append(in)).Seq, f.trainHash))
	if withExact {
		ex := base
		ex.Mechanism, ex.Params = ledger.MechExact, ledger.Params{Steps: 1}
		must(tl.Release(must(tl.Append(ex)).Seq, f.statsHash))
	}
	rc := ledger.Entry{Party: "coordinator", Task: "cls", Round: 1, Tenant: "acme", Unit: ledger.UnitRecord}
	up := rc
	up.Kind, up.ArtifactHash, up.Mechanism, up.Params = ledger.KindMaskedInput, f.trainHash, ledger.MechDPSGD, tenantParams["acme"]
	must(cl.Receive(up))
	st := rc
	st.Kind, st.ArtifactHash = ledger.KindExactEval, f.statsHash
	must(cl.Receive(st))
	return f
}

func (f exactFixture) trusted() []TrustedKey {
	return []TrustedKey{{Party: "acme", Key: f.tenantKey.Public().(ed25519.PublicKey)},
		{Party: "coordinator", Key: f.coordKey.Public().(ed25519.PublicKey)}}
}

// An exact release is in the tenant's signed ledger with ε = ∞ (null in
// its JSON), the audit recomputes ∞ for that tenant, reports it as ∞ in
// JSON (null with epsilon_infinite) and HTML, and accepts it above the cap
// (the tenant's waiver) while the ledger refuses any later spend.
func TestAuditShowsExactReleaseAsInfinite(t *testing.T) {
	f := buildExact(t, true)
	raw, err := os.ReadFile(f.tenant)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 4 || !strings.Contains(lines[2], `"mechanism":"exact"`) ||
		!strings.Contains(lines[2], `"epsilon_cumulative":null,"epsilon_infinite":true`) {
		t.Fatalf("tenant ledger:\n%s\nwant the exact intent with ε = null (∞) on line 3", raw)
	}
	res := Verify(Load(f.coord, f.tenant), f.trusted())
	if !res.OK {
		t.Fatalf("verification failed: %v", res.Failures)
	}
	var own *Budget
	for i, b := range res.Budgets {
		if b.Party == "acme" && b.Unit == ledger.UnitRecord {
			own = &res.Budgets[i]
		}
	}
	if own == nil || !own.Epsilon.Inf() || !own.EpsilonInfinite || len(own.Points) != 2 || !own.Points[1].Recomputed.Inf() {
		t.Fatalf("budget %+v: want ε = ∞ after the exact release", own)
	}
	var js bytes.Buffer
	if err := RenderJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Budgets []struct {
			Tenant   string   `json:"tenant"`
			Party    string   `json:"party"`
			Epsilon  *float64 `json:"epsilon"`
			Infinite bool     `json:"epsilon_infinite"`
		} `json:"budgets"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range back.Budgets {
		if b.Party == "acme" {
			found = b.Epsilon == nil && b.Infinite
		}
	}
	if !found {
		t.Fatalf("JSON report does not give acme ε = null with epsilon_infinite:\n%s", js.String())
	}
	var page bytes.Buffer
	if err := RenderHTML(&page, res, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), `data-infinite="true">∞</strong>`) {
		t.Fatal("HTML report does not show ε = ∞ for acme")
	}

	if !strings.Contains(strings.Join(res.Notes, "\n"), "tenant acme made an exact release") {
		t.Fatalf("notes %q do not explain the ∞", res.Notes)
	}

	// The ledger, reopened, remembers the ∞ in every unit.
	l, err := ledger.Open(f.tenant, f.tenantKey)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if s := l.Spent(ledger.UnitRecord, "acme"); !math.IsInf(s, 1) {
		t.Fatalf("reopened: record-level ε %v, want ∞", s)
	}
	p, err := ddg.Plan(ddg.Goal{Epsilon: 4, Delta: 1e-5, Rounds: 2, Dim: 50, ClipNorm: 1, Threshold: 3, Cohort: 4})
	if err != nil {
		t.Fatal(err)
	}
	tp := ledger.Params{Steps: 1, Dim: p.Dim, ClipNorm: p.ClipNorm, Gamma: p.Gamma, ShareSigma: p.Sigma, Beta: p.Beta,
		Shares: p.Threshold, CohortSize: p.Cohort, Bits: p.Bits}
	if eps, _, err := l.Check("acme", ledger.UnitTenant, ledger.Plan{Mechanism: ledger.MechDDG, Params: tp}, 1e6, 1e-5); err != nil || !math.IsInf(eps, 1) {
		t.Fatalf("tenant-level ε after the exact release: %v, %v; want ∞", eps, err)
	}
}

// A tenant ledger without its exact release fails the audit: deleting the
// line breaks the hash chain; a tenant that rewrites its whole ledger
// without it (re-signing every entry with its own key) is caught by the
// coordinator's record of the exact statistics it received.
func TestAuditCatchesDroppedExactRelease(t *testing.T) {
	f := buildExact(t, true)
	rewrite(t, f.tenant, func(lines []string) []string { return append(lines[:2:2], lines[3]) }) // drop intent, keep its release
	res := Verify(Load(f.coord, f.tenant), f.trusted())
	if first, ok := res.First(); res.OK || !ok || first.File != f.tenant || first.Line != 3 {
		t.Fatalf("deleted exact intent: %+v", res.Failures)
	}
	rewrite(t, f.tenant, func(lines []string) []string { return lines[:2] }) // drop intent and release
	res = Verify(Load(f.coord, f.tenant), f.trusted())
	if res.OK || !strings.Contains(joinFailures(res), "exact evaluation statistics") {
		t.Fatalf("truncated exact release not caught: %+v", res.Failures)
	}

	// Rewritten from scratch by the tenant: chain and signatures intact.
	g := buildExact(t, false)
	if err := os.Rename(g.tenant, f.tenant); err != nil {
		t.Fatal(err)
	}
	f.tenantKey = g.tenantKey
	res = Verify(Load(f.coord, f.tenant), f.trusted())
	if res.OK || !strings.Contains(joinFailures(res), "has no exact spend") {
		t.Fatalf("a re-signed ledger without the exact release passed: %+v", res.Failures)
	}
	// Control: the same ledger with the exact release passes.
	h := buildExact(t, true)
	if res := Verify(Load(h.coord, h.tenant), h.trusted()); !res.OK {
		t.Fatalf("control failed: %+v", res.Failures)
	}
}

func joinFailures(r Result) string {
	var s []string
	for _, f := range r.Failures {
		s = append(s, f.String())
	}
	return strings.Join(s, "\n")
}
