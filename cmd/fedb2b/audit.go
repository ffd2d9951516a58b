package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fedb2b/fedb2b/privacy/audit"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

func init() {
	register("audit", "verify privacy ledgers and render reports: 'audit verify', 'audit report'; audit the releases empirically: 'audit empirical'", runAudit)
}

const auditUsage = `usage: fedb2b audit verify [--pub [PARTY=]FILE]... LEDGER...
       fedb2b audit report [--pub [PARTY=]FILE]... LEDGER... [--out FILE] [--format html|json]
       fedb2b audit empirical [--trials N] [--kinds k,...] [--bert DIR] [--broken] [--exact] [--confidence C] [--json FILE]

--pub names a public key file (keys new writes signing.pub); PARTY= binds the
key to the ledger party it may sign for. Without --pub, signatures are not
checked. verify exits 0 when every check passes, 1 when one fails, 2 on
usage errors.

empirical runs the client's own training and release code on neighbouring
data sets many times and prints a Clopper–Pearson lower bound on ε next to
the accountant's ε for each release (simulate/empirical); it exits 1 when a
lower bound exceeds its claim.`

func runAudit(args []string, stdout, stderr io.Writer) int {
	sub, code, ok := subcommand("audit", auditUsage, args, stdout, stderr, "verify", "report", "empirical")
	if !ok {
		return code
	}
	if sub == "empirical" {
		return runAuditEmpirical(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("audit "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pubs auditPubList
	fs.Var(&pubs, "pub", "trusted public key file, optionally PARTY=FILE (repeatable)")
	out, format := new(string), new(string)
	if sub == "report" {
		fs.StringVar(out, "out", "-", "output file (- for stdout)")
		fs.StringVar(format, "format", "html", "html or json")
	}
	ledgers, err := auditParseInterspersed(fs, args[1:])
	if err != nil {
		return 2
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "fedb2b audit "+sub+": "+format+"\n", a...)
		return code
	}
	if len(ledgers) == 0 {
		return fail(2, "no ledger files given")
	}
	if sub == "report" && *format != "html" && *format != "json" {
		return fail(2, "--format %q is not html or json", *format)
	}
	var trusted []audit.TrustedKey
	for _, p := range pubs {
		pub, err := keys.ReadPublic(p.path)
		if err != nil {
			return fail(2, "%v", err)
		}
		trusted = append(trusted, audit.TrustedKey{Party: p.party, Key: pub})
	}
	res := audit.Verify(audit.Load(ledgers...), trusted)
	if sub == "verify" {
		auditPrintSummary(stdout, res, len(trusted))
		if !res.OK {
			return 1
		}
		return 0
	}
	var buf bytes.Buffer
	if *format == "json" {
		err = audit.RenderJSON(&buf, res)
	} else {
		err = audit.RenderHTML(&buf, res, audit.ReportOptions{Generated: time.Now()})
	}
	if err != nil {
		return fail(1, "%v", err)
	}
	if *out == "-" {
		stdout.Write(buf.Bytes())
		return 0
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fail(1, "%v", err)
	}
	status := "verification passed"
	if f, failed := res.First(); failed {
		status = "verification FAILED: " + f.String()
	}
	fmt.Fprintf(stdout, "wrote %s (%s)\n", *out, status)
	return 0
}

// auditPrintSummary prints the per-budget ε and the verification outcome.
func auditPrintSummary(w io.Writer, res audit.Result, nkeys int) {
	if res.SignaturesChecked {
		fmt.Fprintf(w, "checked %d ledger(s) against %d trusted key(s)\n", len(res.Files), nkeys)
	} else {
		fmt.Fprintf(w, "checked %d ledger(s); WARNING: no --pub given, signatures NOT checked\n", len(res.Files))
	}
	for _, b := range res.Budgets {
		if b.Party != b.Tenant {
			// An older coordinator ledger's intents: its partial view, not the budget.
			fmt.Fprintf(w, "  %-12s view of %-12s %-6s ε ≥ %-10s (what %s recorded, not the tenant's budget)  (%s)\n",
				b.Party, b.Tenant, b.Unit, epsText(b.Epsilon), b.Party, b.File)
			continue
		}
		fmt.Fprintf(w, "  budget of %-12s %-6s ε = %-10s cap %-6g δ = %-7g spends %d, pending %d  (%s)\n",
			b.Tenant, b.Unit, epsText(b.Epsilon), b.Cap, b.Delta, len(b.Points), b.Pending, b.File)
		if b.EpsilonInfinite {
			fmt.Fprintf(w, "    %s made an exact release (no noise): its ε is ∞, no finite guarantee holds\n", b.Tenant)
		}
	}
	for _, r := range res.Received {
		kinds := make([]string, 0, len(r.Kinds))
		for _, k := range slices.Sorted(maps.Keys(r.Kinds)) {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, r.Kinds[k]))
		}
		fmt.Fprintf(w, "  %-12s received from %-12s %s; tenant's ledger head up to seq %d  (%s)\n",
			r.Party, r.Tenant, strings.Join(kinds, ", "), r.LastHead, r.File)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if f, failed := res.First(); failed {
		fmt.Fprintf(w, "FAIL: %s\n", f)
		if len(res.Failures) > 1 {
			fmt.Fprintf(w, "(%d more failure(s); the first is the one to investigate)\n", len(res.Failures)-1)
		}
		return
	}
	fmt.Fprintln(w, "OK: hash chains intact, every ε recomputed from the recorded parameters matches")
}

type auditPub struct{ party, path string }

// auditPubList is a repeatable --pub [PARTY=]FILE flag.
type auditPubList []auditPub

func (l *auditPubList) String() string { return fmt.Sprint(*l) }

func (l *auditPubList) Set(v string) error {
	p := auditPub{path: v}
	if i := strings.IndexByte(v, '='); i > 0 && !strings.ContainsRune(v[:i], os.PathSeparator) {
		p.party, p.path = v[:i], v[i+1:]
	}
	if p.path == "" {
		return fmt.Errorf("empty file name in %q", v)
	}
	*l = append(*l, p)
	return nil
}

// auditParseInterspersed parses flags that may follow positional
// arguments (LEDGER... --out FILE) and returns the positional ones.
func auditParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// epsText formats a recomputed ε for the summary: %.6g, "∞" after an
// exact release.
func epsText(e ledger.Epsilon) string {
	if e.Inf() {
		return "∞"
	}
	return fmt.Sprintf("%.6g", float64(e))
}
