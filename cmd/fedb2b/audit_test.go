package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/audit"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// auditFixture is a coordinator and one tenant, with their ledgers and
// public key files under one directory, after two rounds.
type auditFixture struct {
	dir                   string
	coordLedger, acmeLedg string
	coordPub, acmePub     string
	eps                   float64 // acme's recomputed ε after the rounds
}

var auditParams = ledger.Params{SamplingRate: 0.01, NoiseMultiplier: 1.1, ClipNorm: 1, Steps: 100}

func newAuditFixture(t *testing.T) auditFixture {
	t.Helper()
	dir := t.TempDir()
	f := auditFixture{dir: dir}
	open := func(party string, seed uint64) (*ledger.Ledger, string, string) {
		k, err := keys.Generate(privacy.SeededReader(seed))
		if err != nil {
			t.Fatal(err)
		}
		pd := filepath.Join(dir, party)
		os.MkdirAll(pd, 0o700)
		pub := filepath.Join(pd, "signing.pub")
		if err := keys.WritePublic(pub, k.Public().(ed25519.PublicKey)); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(pd, "ledger.jsonl")
		l, err := ledger.Open(path, k)
		if err != nil {
			t.Fatal(err)
		}
		return l, path, pub
	}
	cl, cpath, cpub := open("coordinator", 1)
	al, apath, apub := open("acme", 2)
	defer cl.Close()
	defer al.Close()
	f.coordLedger, f.coordPub, f.acmeLedg, f.acmePub = cpath, cpub, apath, apub
	for r := int64(1); r <= 2; r++ {
		art := fmt.Sprintf("%064x", r)
		e := ledger.Entry{Party: "acme", Task: "intent-cls", Round: r, Tenant: "acme", Unit: ledger.UnitRecord,
			Mechanism: ledger.MechDPSGD, Params: auditParams, Delta: 1e-5, EpsilonCap: 3, ArtifactHash: art}
		in, err := al.Append(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := al.Release(in.Seq, art); err != nil {
			t.Fatal(err)
		}
		e.Party = "coordinator"
		if _, err := cl.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	eps, err := privacy.RDPEpsilon(auditParams.SamplingRate, auditParams.NoiseMultiplier, 2*auditParams.Steps, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	f.eps = eps
	return f
}

func auditRun(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestAuditVerifyPasses(t *testing.T) {
	f := newAuditFixture(t)
	code, out, errs := auditRun("audit", "verify", "--pub", "coordinator="+f.coordPub, "--pub", "acme="+f.acmePub, f.coordLedger, f.acmeLedg)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"checked 2 ledger(s) against 2 trusted key(s)", fmt.Sprintf("ε = %-10.6g", f.eps), "OK: hash chains intact"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Flags after the ledgers work too; no --pub warns.
	code, out, _ = auditRun("audit", "verify", f.acmeLedg, f.coordLedger)
	if code != 0 || !strings.Contains(out, "WARNING: no --pub given, signatures NOT checked") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestAuditVerifyFailsNamingEntry(t *testing.T) {
	f := newAuditFixture(t)
	b, _ := os.ReadFile(f.acmeLedg)
	lines := strings.SplitAfter(string(b), "\n")
	lines[2] = strings.Replace(lines[2], `"noise_multiplier":1.1`, `"noise_multiplier":1.2`, 1)
	os.WriteFile(f.acmeLedg, []byte(strings.Join(lines, "")), 0o644)
	code, out, _ := auditRun("audit", "verify", "--pub", f.coordPub, "--pub", f.acmePub, f.coordLedger, f.acmeLedg)
	want := "FAIL: " + f.acmeLedg + ": line 3 (seq 3): ledger: bad signature"
	if code != 1 || !strings.Contains(out, want) {
		t.Fatalf("exit %d, want 1 and %q:\n%s", code, want, out)
	}
	// A key bound to the wrong party is refused at the first entry.
	code, out, _ = auditRun("audit", "verify", "--pub", "globex="+f.acmePub, f.acmeLedg)
	if code != 1 || !strings.Contains(out, `line 1 (seq 1): signed with the key of party "globex", but the entry's party is "acme"`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestAuditUsageErrors(t *testing.T) {
	f := newAuditFixture(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"audit"}, 2, "usage: fedb2b audit verify"},
		{[]string{"audit", "frobnicate"}, 2, `unknown subcommand "frobnicate"`},
		{[]string{"audit", "verify"}, 2, "fedb2b audit verify: no ledger files given"},
		{[]string{"audit", "verify", "--pub", filepath.Join(f.dir, "nope.pub"), f.acmeLedg}, 2, "nope.pub: no such file or directory"},
		{[]string{"audit", "verify", "--pub", f.acmeLedg, f.acmeLedg}, 2, "line 1: not a 32-byte ed25519 public key"},
		{[]string{"audit", "report", f.acmeLedg, "--format", "pdf"}, 2, `--format "pdf" is not html or json`},
		{[]string{"audit", "verify", "--bogus", f.acmeLedg}, 2, "flag provided but not defined: -bogus"},
	} {
		code, out, errs := auditRun(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want %d and %q", tc.args, code, errs, out, tc.code, tc.want)
		}
	}
	// A missing ledger is a verification failure naming it.
	missing := filepath.Join(f.dir, "missing.jsonl")
	code, out, _ := auditRun("audit", "verify", missing)
	if code != 1 || !strings.Contains(out, "FAIL: "+missing+": cannot read ledger") {
		t.Fatalf("missing ledger: exit %d\n%s", code, out)
	}
}

func TestAuditReport(t *testing.T) {
	f := newAuditFixture(t)
	html := filepath.Join(f.dir, "report.html")
	code, out, errs := auditRun("audit", "report", "--pub", f.coordPub, f.coordLedger, f.acmeLedg, "--out", html, "--pub", f.acmePub)
	if code != 0 || !strings.Contains(out, "wrote "+html+" (verification passed)") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	page, _ := os.ReadFile(html)
	if n := strings.Count(string(page), `<svg class="eps-chart"`); n != 2 {
		t.Fatalf("%d charts, want 2 (acme in both ledgers)", n)
	}
	code, out, errs = auditRun("audit", "report", "--format", "json", f.coordLedger, f.acmeLedg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res audit.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, out)
	}
	if !res.OK || res.SignaturesChecked || len(res.Budgets) != 2 || float64(res.Budgets[1].Epsilon) != f.eps {
		t.Fatalf("JSON report = %+v", res)
	}
}

// An exact release in a tenant's ledger (ledger.MechExact) makes
// 'fedb2b audit verify' print ε = ∞ for that tenant, never a finite ε.
func TestAuditVerifyShowsExactReleaseAsInfinite(t *testing.T) {
	f := newAuditFixture(t)
	k, err := keys.Generate(privacy.SeededReader(2)) // acme's key
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(f.acmeLedg, k)
	if err != nil {
		t.Fatal(err)
	}
	in, err := l.Append(ledger.Entry{Party: "acme", Task: "intent-cls", Round: 2, Tenant: "acme", Unit: ledger.UnitRecord,
		Mechanism: ledger.MechExact, Params: ledger.Params{Steps: 1}, Delta: 1e-5, EpsilonCap: 3})
	if err == nil {
		_, err = l.Release(in.Seq, fmt.Sprintf("%064x", 99))
	}
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := auditRun("audit", "verify", "--pub", "coordinator="+f.coordPub, "--pub", "acme="+f.acmePub, f.coordLedger, f.acmeLedg)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "budget of acme         record ε = ∞") || !strings.Contains(out, "acme made an exact release") ||
		strings.Contains(out, fmt.Sprintf("budget of acme         record ε = %-10.6g", f.eps)) {
		t.Fatalf("output does not give acme ε = ∞:\n%s", out)
	}
}
