package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDemoRefusesExactReleases: issue #13 finding 3. An exact count under
// add/remove-one adjacency has ε = ∞, so the demo must not print a finite
// ε for it: without --allow-exact-releases it refuses to run.
func TestDemoRefusesExactReleases(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--eval-epsilon", "0", "--weight-epsilon", "0"},
		{"demo", "--eval-epsilon", "0"},
		{"demo", "--weight-epsilon", "0"},
		{"demo", "--task", "forecast", "--data", "x.csv", "--eval-epsilon", "0"},
	} {
		var o, e bytes.Buffer
		if code := run(args, &o, &e); code != 1 || !strings.Contains(e.String(), "ε = ∞") || o.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q: want a refusal naming ε = ∞", args, code, o.String(), e.String())
		}
	}
}

// TestAuditEmpiricalCommand runs a small empirical audit through the
// command: it passes (exit 0) and shows the broken normalisation caught.
func TestAuditEmpiricalCommand(t *testing.T) {
	var o, e bytes.Buffer
	code := run([]string{"audit", "empirical", "--trials", "200", "--kinds", "recommend", "--broken", "--exact"}, &o, &e)
	if code != 0 || !strings.Contains(o.String(), "recommend/update (broken: q·N)") || !strings.Contains(o.String(), "caught (expected)") ||
		!strings.Contains(o.String(), "separated without error") {
		t.Fatalf("exit %d\n%s\n%s", code, o.String(), e.String())
	}
}
