package empirical

import (
	"context"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// tinyBERT is the repository's tiny BERT for the encoder-LoRA kind.
const tinyBERT = "../../models/bert/testdata/tiny-bert"

// trials is the number of runs per world: a small number in CI, more
// with FEDB2B_AUDIT_TRIALS (e.g. 5000 for the documented run).
func trials(t *testing.T, ci int) int {
	if v := os.Getenv("FEDB2B_AUDIT_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 20 {
			t.Fatalf("FEDB2B_AUDIT_TRIALS=%q: want an integer ≥ 20", v)
		}
		return n
	}
	return ci
}

// TestEmpiricalAudit runs every scenario: the fixed code's releases must
// stay below their claims, the broken normalisation (issue #13 finding 2)
// and the exact releases (finding 3) must be caught.
func TestEmpiricalAudit(t *testing.T) {
	n := trials(t, 400)
	ss, err := Scenarios(context.Background(), Options{BERTDir: tinyBERT, Broken: true, Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		r, err := Run(s, n, 0.05, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-40s claimed ε %6.3f  lower bound %6.3f (max %.2f)  FP %d/%d FN %d/%d", r.Scenario, r.Claimed, r.Epsilon, r.MaxEpsilon, r.FP, r.N0, r.FN, r.N1)
		switch {
		case strings.Contains(s.Name, "broken"):
			// Finding 2: normalising by q·N with the tenant's own N makes
			// the update's norm reveal N; the audit must refute the claim.
			if !r.Violated() {
				t.Errorf("%s: lower bound %.3f does not exceed the claimed ε %.3f: the audit no longer catches the q·N normalisation", s.Name, r.Epsilon, r.Claimed)
			}
		case math.IsInf(s.Claimed, 1):
			// Finding 3: an exact release is told apart without error, so
			// no finite ε these trials can test holds for it.
			if r.FP != 0 || r.FN != 0 || !(r.Epsilon > 1) {
				t.Errorf("%s: exact release not separated: %+v", s.Name, r.Estimate)
			}
		default:
			if r.Violated() {
				t.Errorf("%s: lower bound %.3f exceeds the claimed ε %.3f", s.Name, r.Epsilon, r.Claimed)
			}
		}
	}
}
