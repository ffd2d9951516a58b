package ledger

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestAppendRefusesAChangeOfDelta attacks the cap with a looser δ: two
// rounds at δ = 1e-5, then one at δ = 0.5, which would report the whole
// composition at 0.5 (a far smaller ε than the 1e-5 figure the tenant
// spent). The ledger refuses it and writes nothing; the same δ still
// appends, and another unit keeps its own δ.
func TestAppendRefusesAChangeOfDelta(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l := openTest(t, path, testKey(t, 1))
	for r := int64(1); r <= 2; r++ {
		if _, err := l.Append(round("acme", r)); err != nil {
			t.Fatal(err)
		}
	}
	loose := round("acme", 3)
	loose.Delta = 0.5
	n := len(l.entries)
	if _, err := l.Append(loose); err == nil || !strings.Contains(err.Error(), "δ 0.5 differs") {
		t.Fatalf("δ raised from 1e-5 to 0.5 within (acme, record): err = %v, want a refusal", err)
	}
	if len(l.entries) != n {
		t.Fatalf("the refused entry was written (%d entries, want %d)", len(l.entries), n)
	}
	if _, err := l.Append(round("acme", 3)); err != nil {
		t.Fatalf("the same δ after the refusal: %v", err)
	}
	other := round("acme", 4)
	other.Unit, other.Delta = UnitTenant, 1e-6
	if _, err := l.Append(other); err != nil {
		t.Fatalf("another unit at its own δ: %v", err)
	}
}
