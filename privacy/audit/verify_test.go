package audit

import (
	"crypto/ed25519"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

func TestVerifyIntactFederation(t *testing.T) {
	f := buildFederation(t, 3)
	res := Verify(f.files(), f.trusted())
	if !res.OK || !res.SignaturesChecked {
		t.Fatalf("intact federation failed: %+v", res.Failures)
	}
	if len(res.Budgets) != 5 { // coordinator: acme, globex, federation; acme; globex
		t.Fatalf("%d budgets, want 5", len(res.Budgets))
	}
	for _, b := range res.Budgets {
		if len(b.Points) != 3 || b.Pending != 0 {
			t.Fatalf("budget %s/%s in %s: %d points, %d pending", b.Tenant, b.Unit, b.File, len(b.Points), b.Pending)
		}
		if b.Unit == ledger.UnitRecord {
			p := tenantParams[b.Tenant]
			want, err := privacy.RDPEpsilon(p.SamplingRate, p.NoiseMultiplier, 3*p.Steps, 1e-5)
			if err != nil {
				t.Fatal(err)
			}
			if float64(b.Epsilon) != want {
				t.Fatalf("%s ε = %v, accountant gives %v", b.Tenant, b.Epsilon, want)
			}
		}
	}
	// Without keys: chain and ε checked, signatures not, and said so.
	res = Verify(f.files(), nil)
	if !res.OK || res.SignaturesChecked || !strings.Contains(strings.Join(res.Notes, "\n"), "NOT checked") {
		t.Fatalf("keyless verify: %+v", res)
	}
}

// rewrite replaces the lines of the ledger at path.
func rewrite(t *testing.T, path string, edit func(lines []string) []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	lines = edit(lines)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func decode(t *testing.T, line string) ledger.Entry {
	t.Helper()
	e, err := ledger.DecodeLine([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func encode(t *testing.T, e ledger.Entry) string {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mutate changes one leaf field of e (a field of Entry, or of Entry.Params
// when inParams) to a different value of its type.
func mutate(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		switch {
		case s == string(ledger.StatusIntent):
			v.SetString(string(ledger.StatusReleased))
		case s == string(ledger.StatusReleased):
			v.SetString(string(ledger.StatusIntent))
		case s == string(ledger.UnitRecord):
			v.SetString(string(ledger.UnitTenant))
		case s == string(ledger.UnitTenant):
			v.SetString(string(ledger.UnitRecord))
		case len(s) == 64 || len(s) == 16:
			// A hex field: change one digit, keeping it well-formed.
			b := []byte(s)
			if b[3] == 'a' {
				b[3] = 'b'
			} else {
				b[3] = 'a'
			}
			v.SetString(string(b))
		case s == "":
			v.SetString(hash("x"))
		default:
			v.SetString(s + "x")
		}
	case reflect.Int, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Float64:
		if v.Float() == 0 {
			v.SetFloat(0.5)
		} else {
			v.SetFloat(v.Float() * 1.001)
		}
	default:
		panic("mutate: unhandled kind " + v.Kind().String())
	}
}

// leafFields lists the mutable leaves of Entry as index paths.
func leafFields() (paths [][]int, names []string) {
	et := reflect.TypeOf(ledger.Entry{})
	for i := 0; i < et.NumField(); i++ {
		f := et.Field(i)
		if f.Type.Kind() == reflect.Struct {
			for j := 0; j < f.Type.NumField(); j++ {
				paths = append(paths, []int{i, j})
				names = append(names, f.Name+"."+f.Type.Field(j).Name)
			}
			continue
		}
		paths = append(paths, []int{i})
		names = append(names, f.Name)
	}
	return paths, names
}

func expectFirst(t *testing.T, res Result, file string, line int) {
	t.Helper()
	first, ok := res.First()
	if !ok {
		t.Fatalf("verify passed; want a failure at %s line %d", file, line)
	}
	if first.File != file || first.Line != line {
		t.Fatalf("first failure %s; want %s line %d", first, file, line)
	}
}

// TestVerifyDetectsEditOfEveryField edits every field of every entry of
// every ledger, one at a time, and checks that verification fails naming
// that entry.
func TestVerifyDetectsEditOfEveryField(t *testing.T) {
	f := buildFederation(t, 2)
	orig := map[string][]byte{}
	for _, p := range f.order {
		orig[p], _ = os.ReadFile(f.paths[p])
	}
	paths, names := leafFields()
	cases := 0
	for _, party := range f.order {
		path := f.paths[party]
		n := strings.Count(string(orig[party]), "\n")
		for line := 1; line <= n; line++ {
			for fi, fp := range paths {
				os.WriteFile(path, orig[party], 0o644)
				rewrite(t, path, func(lines []string) []string {
					e := decode(t, lines[line-1])
					mutate(reflect.ValueOf(&e).Elem().FieldByIndex(fp))
					lines[line-1] = encode(t, e)
					return lines
				})
				res := Verify(f.files(), f.trusted())
				first, ok := res.First()
				if !ok || first.File != path || first.Line != line {
					t.Errorf("%s line %d field %s: first failure %+v (ok=%v)", party, line, names[fi], first, !ok)
				}
				cases++
			}
		}
		os.WriteFile(path, orig[party], 0o644)
	}
	// 3 ledgers of 12, 4 and 4 lines, 34 leaf fields each (24, plus the
	// five parameters of the distributed discrete Gaussian and the sum
	// clip of its record-level mode, plus kind and head_signature of
	// received entries, plus epsilon_infinite, plus the eval_epsilon of
	// received evaluations).
	if want := (12 + 4 + 4) * len(paths); cases != want || len(paths) != 34 {
		t.Fatalf("%d cases over %d fields, want %d over 34", cases, len(paths), want)
	}
}

func TestVerifyDetectsDeletion(t *testing.T) {
	f := buildFederation(t, 3)
	path := f.paths["acme"]
	orig, _ := os.ReadFile(path)
	n := strings.Count(string(orig), "\n")
	for del := 1; del < n; del++ {
		os.WriteFile(path, orig, 0o644)
		rewrite(t, path, func(lines []string) []string {
			return append(lines[:del-1:del-1], lines[del:]...)
		})
		res := Verify(f.files(), f.trusted())
		expectFirst(t, res, path, del) // the entry now at the deleted line
		if first, _ := res.First(); !strings.Contains(first.Reason, "seq") {
			t.Errorf("delete line %d: reason %q", del, first.Reason)
		}
	}
	// Truncating the tenant's last round (intent and release) keeps its chain
	// intact; the coordinator's record of that round exposes it.
	os.WriteFile(path, orig, 0o644)
	rewrite(t, path, func(lines []string) []string { return lines[:len(lines)-2] })
	res := Verify(f.files(), f.trusted())
	first, ok := res.First()
	if ok == false || first.File != f.paths["coordinator"] || !strings.Contains(first.Reason, "round 3") || !strings.Contains(first.Reason, "has no such intent") {
		t.Fatalf("truncated tenant ledger: first failure %+v", first)
	}
}

func TestVerifyDetectsReordering(t *testing.T) {
	f := buildFederation(t, 2)
	path := f.paths["globex"]
	orig, _ := os.ReadFile(path)
	n := strings.Count(string(orig), "\n")
	for i := 1; i < n; i++ {
		os.WriteFile(path, orig, 0o644)
		rewrite(t, path, func(lines []string) []string {
			lines[i-1], lines[i] = lines[i], lines[i-1]
			return lines
		})
		expectFirst(t, Verify(f.files(), f.trusted()), path, i)
	}
}

func TestVerifyDetectsForeignSignature(t *testing.T) {
	f := buildFederation(t, 2)
	path := f.paths["acme"]
	orig, _ := os.ReadFile(path)
	n := strings.Count(string(orig), "\n")
	mallory, _ := keys.Generate(privacy.SeededReader(666))
	for _, signer := range []struct {
		name    string
		key     ed25519.PrivateKey
		trusted []TrustedKey
	}{
		{"untrusted key", mallory, f.trusted()},
		{"another party's trusted key", f.keys["globex"], f.trusted()},
	} {
		for line := 1; line <= n; line++ {
			os.WriteFile(path, orig, 0o644)
			rewrite(t, path, func(lines []string) []string {
				lines[line-1] = resign(t, decode(t, lines[line-1]), signer.key)
				return lines
			})
			res := Verify(f.files(), signer.trusted)
			first, ok := res.First()
			if !ok || first.File != path || first.Line != line {
				t.Errorf("%s at line %d: first failure %+v", signer.name, line, first)
			}
		}
	}
}

// resign signs e with key as a forger would, by writing it through a fresh
// ledger positioned at the same seq and prev hash.
func resign(t *testing.T, e ledger.Entry, key ed25519.PrivateKey) string {
	t.Helper()
	e.Writer = keys.ID(key.Public().(ed25519.PublicKey))
	e.Signature = ""
	msg := append([]byte("fedb2b/ledger/v1 entry\n"), []byte(encode(t, e))...)
	e.Signature = b64(ed25519.Sign(key, msg))
	if err := e.VerifySignature(key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("forged signature does not verify: %v", err)
	}
	return encode(t, e)
}

// TestVerifyCatchesWriterRewritingHistory: a tenant that rewrites its own
// ledger with its own key (lower noise recorded as higher, every later
// entry re-chained and re-signed with recomputed ε) passes its own checks;
// the coordinator's ledger exposes it.
func TestVerifyCatchesWriterRewritingHistory(t *testing.T) {
	f := buildFederation(t, 2)
	path := f.paths["acme"]
	entries, err := ledger.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	l, err := ledger.Open(path, f.keys["acme"])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Status == ledger.StatusReleased {
			if _, err := l.Release(e.Ref, e.ArtifactHash); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if e.Round == 2 {
			e.Params.NoiseMultiplier = 3 // claims more noise than announced
		}
		if _, err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	res := Verify(f.files(), f.trusted())
	expectFirst(t, res, path, 3)
	if first, _ := res.First(); !strings.Contains(first.Reason, "differ from") {
		t.Fatalf("reason = %q", first.Reason)
	}
}

func TestVerifyReportsUnreadableAndTorn(t *testing.T) {
	f := buildFederation(t, 1)
	files := f.files()
	files = append(files, Load(f.paths["acme"]+".missing")...)
	res := Verify(files, f.trusted())
	first, _ := res.First()
	if res.OK || first.Line != 0 || !strings.Contains(first.Reason, "cannot read ledger") {
		t.Fatalf("missing file: %+v", first)
	}
	path := f.paths["globex"]
	rewrite(t, path, func(lines []string) []string { return append(lines, `{"seq":`) })
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-1], 0o644) // torn: no final newline
	res = Verify(f.files(), f.trusted())
	if !res.OK || res.Files[2].TornBytes != 7 || !strings.Contains(strings.Join(res.Notes, "\n"), "torn last line") {
		t.Fatalf("torn tail: %+v", res)
	}
	os.WriteFile(path, append(b[:len(b)-1], '\n'), 0o644) // now a complete, undecodable line
	res = Verify(f.files(), f.trusted())
	expectFirst(t, res, path, 3)
}

func TestVerifyPendingIntentCountsAsSpent(t *testing.T) {
	f := buildFederation(t, 1)
	l, err := ledger.Open(f.paths["acme"], f.keys["acme"])
	if err != nil {
		t.Fatal(err)
	}
	e := ledger.Entry{Party: "acme", Task: "intent-cls", Round: 2, Tenant: "acme", Unit: ledger.UnitRecord,
		Mechanism: ledger.MechDPSGD, Params: tenantParams["acme"], Delta: 1e-5, EpsilonCap: 4}
	if _, err := l.Append(e); err != nil { // crash before release
		t.Fatal(err)
	}
	l.Close()
	res := Verify(f.files(), f.trusted())
	if !res.OK {
		t.Fatalf("pending intent: %+v", res.Failures)
	}
	p := tenantParams["acme"]
	want, _ := privacy.RDPEpsilon(p.SamplingRate, p.NoiseMultiplier, 2*p.Steps, 1e-5)
	for _, b := range res.Budgets {
		if b.File == f.paths["acme"] {
			if b.Pending != 1 || float64(b.Epsilon) != want {
				t.Fatalf("acme: pending %d, ε %v (want 1, %v)", b.Pending, b.Epsilon, want)
			}
		}
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "round 2 is recorded only by the tenant") {
		t.Fatalf("notes = %q", res.Notes)
	}
}

// TestVerifyCrossChecksArtefacts: the coordinator records having received,
// for acme's round 2, an artefact other than the one acme's ledger says it
// released.
func TestVerifyCrossChecksArtefacts(t *testing.T) {
	f := buildFederation(t, 2)
	path := f.paths["coordinator"]
	entries, err := ledger.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	l, err := ledger.Open(path, f.keys["coordinator"])
	if err != nil {
		t.Fatal(err)
	}
	var target ledger.Entry
	for _, e := range entries {
		if e.Status == ledger.StatusReleased {
			h := e.ArtifactHash
			if in := entries[e.Ref-1]; in.Tenant == "acme" && in.Round == 2 {
				h, target = hash("something else"), in
			}
			if _, err := l.Release(e.Ref, h); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	res := Verify(f.files(), f.trusted())
	expectFirst(t, res, path, int(target.Seq))
	if first, _ := res.First(); !strings.Contains(first.Reason, "artefact hash of task intent-cls round 2 for tenant acme differs") {
		t.Fatalf("reason = %q", first.Reason)
	}
}
