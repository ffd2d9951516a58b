package ledger

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func exactEntry(tenant string, r int64) Entry {
	e := round(tenant, r)
	e.Mechanism, e.Params = MechExact, Params{Steps: 1}
	return e
}

// An exact release is written above the cap (the tenant's waiver) with
// ε = ∞, encoded as null with epsilon_infinite; after it every ε of the
// tenant is ∞, in both units and through a reopen, while the cap goes on
// bounding the noised releases alone; another tenant is not affected.
func TestExactReleaseIsInfiniteAndSticks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	key := testKey(t, 1)
	l := openTest(t, path, key)
	in, err := l.Append(round("acme", 1))
	if err != nil {
		t.Fatal(err)
	}
	finite := float64(in.EpsilonCumulative)
	ex, err := l.Append(exactEntry("acme", 1))
	if err != nil {
		t.Fatalf("exact release refused: %v", err)
	}
	if !ex.EpsilonCumulative.Inf() || !ex.EpsilonInfinite {
		t.Fatalf("exact intent records ε %v (infinite %v), want ∞", ex.EpsilonCumulative, ex.EpsilonInfinite)
	}
	line, err := ex.Encode()
	if err != nil || !strings.Contains(string(line), `"epsilon_cumulative":null,"epsilon_infinite":true`) {
		t.Fatalf("encoding %s (%v)", line, err)
	}
	// Releasing the earlier DP-SGD intent now records ∞ as well.
	rel, err := l.Release(in.Seq, artifact("update"))
	if err != nil || !rel.EpsilonCumulative.Inf() {
		t.Fatalf("release after the exact intent: %+v, %v", rel, err)
	}
	other := round("acme", 1)
	other.Tenant = "globex"
	if o, err := l.Append(other); err != nil || float64(o.EpsilonCumulative) != finite {
		t.Fatalf("another tenant's round: %+v, %v; want its own finite ε %v", o, err, finite)
	}
	l.Close()

	l2 := openTest(t, path, key)
	if s := l2.Spent(UnitRecord, "acme"); !math.IsInf(s, 1) {
		t.Fatalf("reopened: spent %v, want ∞ (finite part was %v)", s, finite)
	}
	// Round 2 fits the cap of 8 on its noised releases: recorded at ∞.
	r2, err := l2.Append(round("acme", 2))
	if err != nil || !r2.EpsilonCumulative.Inf() {
		t.Fatalf("reopened: round 2 %+v, %v; want it recorded at ε = ∞", r2, err)
	}
	big := round("acme", 3)
	big.Params.Steps = 100000
	if _, err := l2.Append(big); !errors.Is(err, ErrBudgetExceeded) || !strings.Contains(err.Error(), "noised releases") {
		t.Fatalf("noised releases above the cap after ∞: %v, want ErrBudgetExceeded", err)
	}
	eps, ok, err := l2.Check("acme", UnitTenant, Plan{Mechanism: MechDPSGD, Params: dpsgd}, 8, 1e-5)
	if err != nil || !ok || !math.IsInf(eps, 1) {
		t.Fatalf("tenant unit after an exact release: ε %v, fits %v, %v; want ∞, the noised part fitting", eps, ok, err)
	}
	// A second exact release is still the tenant's own waiver.
	if _, err := l2.Append(exactEntry("acme", 2)); err != nil {
		t.Fatalf("second exact release: %v", err)
	}
}

// The encoding of ∞ is checked like every other field: null without
// epsilon_infinite, epsilon_infinite without null, a finite ε where the
// replay gives ∞, and extra parameters on an exact entry are rejected.
func TestExactEncodingValidated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l := openTest(t, path, testKey(t, 2))
	ex, err := l.Append(exactEntry("acme", 1))
	if err != nil {
		t.Fatal(err)
	}
	bad := ex
	bad.EpsilonInfinite = false
	if err := bad.Validate(); err == nil {
		t.Fatal("∞ without epsilon_infinite accepted")
	}
	bad = ex
	bad.EpsilonCumulative = 3
	if err := bad.Validate(); err == nil {
		t.Fatal("epsilon_infinite with a finite ε accepted")
	}
	bad = exactEntry("acme", 2)
	bad.Params.NoiseMultiplier = 1
	if _, err := l.Append(bad); err == nil {
		t.Fatal("exact entry with a noise multiplier accepted")
	}
	line, _ := ex.Encode()
	back, err := DecodeLine(line)
	if err != nil || !back.EpsilonCumulative.Inf() {
		t.Fatalf("decoded %+v, %v", back, err)
	}
	// A replay that is handed the finite ε it would compute without the
	// exact entry disagrees.
	r := NewReplay()
	if _, err := r.Apply(ex); err != nil {
		t.Fatal(err)
	}
	if EpsilonEqual(3, math.Inf(1)) || !EpsilonEqual(Epsilon(math.Inf(1)), math.Inf(1)) {
		t.Fatal("EpsilonEqual treats ∞ wrongly")
	}
}
