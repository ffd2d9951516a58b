package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/keys"
)

// testKey derives a signing key from seed; t may be nil (in a child
// process), then a failure panics.
func testKey(t testing.TB, seed uint64) ed25519.PrivateKey {
	k, err := keys.Generate(privacy.SeededReader(seed))
	if err != nil {
		if t == nil {
			panic(err)
		}
		t.Fatal(err)
	}
	return k
}

func fixedClock() func() time.Time {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	n := 0
	return func() time.Time { n++; return t0.Add(time.Duration(n) * time.Minute) }
}

func artifact(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

var dpsgd = Params{SamplingRate: 0.01, NoiseMultiplier: 1.1, ClipNorm: 1, Steps: 100}

func round(tenant string, r int64) Entry {
	return Entry{Party: tenant, Task: "intent-cls", Round: r, Tenant: tenant, Unit: UnitRecord,
		Mechanism: MechDPSGD, Params: dpsgd, Delta: 1e-5, EpsilonCap: 8}
}

func openTest(t *testing.T, path string, key ed25519.PrivateKey) *Ledger {
	t.Helper()
	l, err := Open(path, key, WithClock(fixedClock()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestAppendReleaseReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	key := testKey(t, 1)
	l := openTest(t, path, key)
	var want []float64
	for r := int64(1); r <= 3; r++ {
		e, err := l.Append(round("acme", r))
		if err != nil {
			t.Fatal(err)
		}
		// Independent recomputation straight from the accountant.
		eps, err := privacy.RDPEpsilon(dpsgd.SamplingRate, dpsgd.NoiseMultiplier, int(r)*dpsgd.Steps, 1e-5)
		if err != nil {
			t.Fatal(err)
		}
		if !EpsilonEqual(e.EpsilonCumulative, eps) {
			t.Fatalf("round %d: ε = %v, accountant gives %v", r, e.EpsilonCumulative, eps)
		}
		want = append(want, eps)
		if _, err := l.Release(e.Seq, artifact("update")); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.Spent(UnitRecord, "acme"); got != want[2] {
		t.Fatalf("Spent = %v, want %v", got, want[2])
	}
	if got := l.Spent(UnitTenant, "acme"); got != 0 {
		t.Fatalf("Spent(tenant unit) = %v, want 0", got)
	}
	if len(l.Pending()) != 0 {
		t.Fatalf("Pending = %v", l.Pending())
	}
	l.Close()

	l2 := openTest(t, path, key)
	got := l2.Entries()
	if len(got) != 6 {
		t.Fatalf("reopened ledger has %d entries, want 6", len(got))
	}
	if got[0].Time != "2026-11-28T12:01:00Z" || got[0].PrevHash != GenesisHash || got[0].Writer != keys.ID(key.Public().(ed25519.PublicKey)) {
		t.Fatalf("first entry = %+v", got[0])
	}
	if got[1].Status != StatusReleased || got[1].Ref != 1 || float64(got[1].EpsilonCumulative) != want[0] {
		t.Fatalf("second entry = %+v", got[1])
	}
	ro, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Append(round("acme", 9)); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only Append err = %v", err)
	}
	acc, name, err := Rebuild(got, "acme", UnitRecord)
	if err != nil || name != DefaultAccountant {
		t.Fatalf("Rebuild: %v %q", err, name)
	}
	if eps, _ := acc.Epsilon(1e-5); eps != want[2] {
		t.Fatalf("rebuilt ε = %v, want %v", eps, want[2])
	}
}

func TestBudgetEnforced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l := openTest(t, path, testKey(t, 2))
	// A coordinator-style ledger: one party recording several tenants.
	e := round("acme", 1)
	e.Party = "coordinator"
	e.EpsilonCap = 1
	first, err := l.Append(e)
	if err != nil {
		t.Fatal(err)
	}
	plan := Plan{Mechanism: MechDPSGD, Params: dpsgd}
	after, ok, err := l.Check("acme", UnitRecord, plan, 1.0, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	two, _ := privacy.RDPEpsilon(dpsgd.SamplingRate, dpsgd.NoiseMultiplier, 2*dpsgd.Steps, 1e-5)
	if after != two || ok != (two <= 1.0) {
		t.Fatalf("Check = %v %v, want %v %v", after, ok, two, two <= 1.0)
	}
	if first.EpsilonCumulative > 1.0 || two <= 1.0 {
		t.Fatalf("test parameters do not straddle the cap: %v, %v", first.EpsilonCumulative, two)
	}
	before, _ := os.ReadFile(path)
	e.Round = 2
	if _, err := l.Append(e); !errors.Is(err, ErrBudgetExceeded) {
		t.Fatalf("Append over cap: err = %v", err)
	}
	afterBytes, _ := os.ReadFile(path)
	if string(before) != string(afterBytes) {
		t.Fatal("a refused Append changed the file")
	}
	// The same answer from the free function over the entries.
	a2, ok2, err := CheckBudget(l.Entries(), "acme", UnitRecord, plan, 1.0, 1e-5)
	if err != nil || a2 != after || ok2 {
		t.Fatalf("CheckBudget = %v %v %v", a2, ok2, err)
	}
	// Another tenant's budget is separate.
	g := round("globex", 1)
	g.Party = "coordinator"
	if _, err := l.Append(g); err != nil {
		t.Fatal(err)
	}
}

func TestScalarGaussianAndUnits(t *testing.T) {
	l := openTest(t, filepath.Join(t.TempDir(), "l"), testKey(t, 3))
	e := round("acme", 1)
	e.Mechanism = MechScalarGaussian
	e.Params = Params{NoiseMultiplier: 5, ClipNorm: 2, Steps: 1}
	got, err := l.Append(e)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := privacy.RDPEpsilon(1, 5, 1, 1e-5)
	if float64(got.EpsilonCumulative) != want {
		t.Fatalf("scalar-gaussian ε = %v, want %v", got.EpsilonCumulative, want)
	}
	e.Params.SamplingRate = 0.5
	if _, err := l.Append(e); err == nil || !strings.Contains(err.Error(), "sampling_rate is not a parameter") {
		t.Fatalf("err = %v", err)
	}
}

func TestReleaseErrors(t *testing.T) {
	l := openTest(t, filepath.Join(t.TempDir(), "l"), testKey(t, 4))
	e := round("acme", 1)
	e.ArtifactHash = artifact("a")
	in, err := l.Append(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		seq  uint64
		hash string
		want string
	}{
		{0, artifact("a"), "no entry 0"},
		{7, artifact("a"), "no entry 7"},
		{in.Seq, artifact("b"), "artefact hash differs"},
		{in.Seq, "xyz", "artifact_hash is not 64"},
	} {
		if _, err := l.Release(tc.seq, tc.hash); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Release(%d, %q) err = %v, want %q", tc.seq, tc.hash, err, tc.want)
		}
	}
	r, err := l.Release(in.Seq, artifact("a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Release(in.Seq, artifact("a")); err == nil || !strings.Contains(err.Error(), "already released") {
		t.Fatalf("double release err = %v", err)
	}
	if _, err := l.Release(r.Seq, artifact("a")); err == nil || !strings.Contains(err.Error(), "not an intent") {
		t.Fatalf("release of a release err = %v", err)
	}
}

func TestCrashAfterIntentCountsAsSpent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	key := testKey(t, 5)
	l := openTest(t, path, key)
	in, err := l.Append(round("acme", 1))
	if err != nil {
		t.Fatal(err)
	}
	l.Close() // the process dies before releasing
	l2 := openTest(t, path, key)
	p := l2.Pending()
	if len(p) != 1 || p[0].Seq != in.Seq || p[0].Round != 1 {
		t.Fatalf("Pending = %+v", p)
	}
	if l2.Spent(UnitRecord, "acme") != float64(in.EpsilonCumulative) {
		t.Fatal("pending intent not counted as spent")
	}
	e2, err := l2.Append(round("acme", 2))
	if err != nil {
		t.Fatal(err)
	}
	both, _ := privacy.RDPEpsilon(dpsgd.SamplingRate, dpsgd.NoiseMultiplier, 2*dpsgd.Steps, 1e-5)
	if float64(e2.EpsilonCumulative) != both {
		t.Fatalf("ε after pending intent = %v, want %v", e2.EpsilonCumulative, both)
	}
}

func TestTornTailRecovered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	key := testKey(t, 6)
	l := openTest(t, path, key)
	for r := int64(1); r <= 2; r++ {
		if _, err := l.Append(round("acme", r)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	good, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(good), "\n")
	// A crash in the middle of writing a third line.
	partial := lines[1][:40]
	os.WriteFile(path, append(good, partial...), 0o644)

	entries, err := ReadFile(path)
	if !errors.Is(err, ErrTornTail) || len(entries) != 2 {
		t.Fatalf("ReadFile: %d entries, err = %v", len(entries), err)
	}
	ro, err := Open(path, nil)
	if err != nil || ro.TornBytes() != 40 {
		t.Fatalf("read-only Open: torn = %d, err = %v", ro.TornBytes(), err)
	}
	if b, _ := os.ReadFile(path); len(b) != len(good)+40 {
		t.Fatal("read-only Open modified the file")
	}
	l2 := openTest(t, path, key)
	if l2.TornBytes() != 40 || len(l2.Entries()) != 2 {
		t.Fatalf("torn = %d, entries = %d", l2.TornBytes(), len(l2.Entries()))
	}
	if b, _ := os.ReadFile(path); string(b) != string(good) {
		t.Fatal("torn tail not removed")
	}
	if _, err := l2.Append(round("acme", 3)); err != nil {
		t.Fatal(err)
	}
	// A complete entry whose newline was not written is torn too.
	l2.Close()
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-1], 0o644)
	l3 := openTest(t, path, key)
	if len(l3.Entries()) != 2 {
		t.Fatalf("entries = %d, want 2", len(l3.Entries()))
	}
}

func TestCorruptionNamesLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	key := testKey(t, 7)
	l := openTest(t, path, key)
	for r := int64(1); r <= 3; r++ {
		if _, err := l.Append(round("acme", r)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	good, _ := os.ReadFile(path)
	for _, tc := range []struct {
		name, old, new string
		want           string
	}{
		{"garbage", `"seq":2,`, `"seq":2,,`, "line 2: invalid JSON"},
		{"edited round", `"round":2`, `"round":7`, "line 2: ledger: bad signature"},
		{"non-canonical", `"round":2`, `"round": 2`, "line 2: entry is not in canonical encoding"},
		{"unknown field", `"round":2,`, `"round":2,"x":1,`, "line 2: invalid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := strings.SplitAfter(string(good), "\n")
			lines[1] = strings.Replace(lines[1], tc.old, tc.new, 1)
			os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644)
			_, err := Open(path, key)
			var le *LineError
			if !errors.As(err, &le) || le.Line != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want line 2: %q", err, tc.want)
			}
		})
	}
	os.WriteFile(path, good, 0o644)
	if _, err := Open(path, testKey(t, 99)); err == nil || !strings.Contains(err.Error(), "line 1: ledger: bad signature") {
		t.Fatalf("other signer: err = %v", err)
	}
}

func TestSecondWriterRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	key := testKey(t, 8)
	l := openTest(t, path, key)
	if _, err := Open(path, key); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: err = %v", err)
	}
	l.Close()
	if _, err := l.Append(round("acme", 1)); err == nil {
		t.Fatal("Append after Close succeeded")
	}
	openTest(t, path, key)
}

func TestPLDAccountant(t *testing.T) {
	l := openTest(t, filepath.Join(t.TempDir(), "l"), testKey(t, 10))
	e := round("acme", 1)
	e.Accountant = AccountantPLD
	got, err := l.Append(e)
	if err != nil {
		t.Fatal(err)
	}
	a := privacy.NewPLDAccountant(0)
	if err := a.Compose(dpsgd.SamplingRate, dpsgd.NoiseMultiplier, dpsgd.Steps); err != nil {
		t.Fatal(err)
	}
	want, _ := a.Epsilon(1e-5)
	if float64(got.EpsilonCumulative) != want {
		t.Fatalf("pld ε = %v, want %v", got.EpsilonCumulative, want)
	}
	// One (tenant, unit) keeps one accountant.
	e.Accountant = DefaultAccountant
	e.Round = 2
	if _, err := l.Append(e); err == nil || !strings.Contains(err.Error(), `accountant "rdp" differs from "pld"`) {
		t.Fatalf("err = %v", err)
	}
}
