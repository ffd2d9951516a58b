package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
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

// TestLabelsFromIsAPublicList: issue #13 finding 6. The coordinator's
// label set comes from the task's public label list, not from a tenant's
// data file (whose label column is private).
func TestLabelsFromIsAPublicList(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "labels.txt")
	data := filepath.Join(dir, "tenant-1.csv")
	if err := os.WriteFile(list, []byte("# industries\nsoftware\nretail\n\nlogistics\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data, []byte("text,label\n\"a shop\",retail\n\"a coder\",software\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := taskLabels("", list)
	if err != nil || !slices.Equal(got, []string{"software", "retail", "logistics"}) {
		t.Fatalf("labels %v, %v", got, err)
	}
	if _, err := taskLabels("", data); err == nil || !strings.Contains(err.Error(), "not a data file") {
		t.Fatalf("a tenant's data file was accepted as the label list: %v", err)
	}
}
