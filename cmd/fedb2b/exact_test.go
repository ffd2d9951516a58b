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
