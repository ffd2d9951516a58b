package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The demo's default run uses the linear adapter and prints the honest
// baselines (pooled and each tenant alone, without DP) beside the same-DP
// local baseline, in the table and in the JSON.
func TestDemoPrintsHonestBaselines(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	jsonOut := filepath.Join(t.TempDir(), "run.json")
	var out, errb bytes.Buffer
	code := run([]string{"demo", "--tenants", "3", "--records", "900", "--rounds", "2", "--local-steps", "10",
		"--encoder", "hashing:1024", "--json", jsonOut}, &out, &errb)
	if code != 0 {
		t.Fatalf("demo exited %d: %s", code, errb.String())
	}
	for _, want := range []string{"pooled, no DP (logistic regression)", "best tenant alone, no DP (tenant-", "mean tenant alone, no DP", "local-only, mean (same DP)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	var rep struct {
		Baselines map[string]struct {
			Accuracy float64 `json:"accuracy"`
		} `json:"baselines"`
	}
	b, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"pooled_nonprivate", "alone_nonprivate", "alone_nonprivate_best", "local_only"} {
		if b, ok := rep.Baselines[k]; !ok || !(b.Accuracy > 0) {
			t.Errorf("JSON baseline %s missing or zero: %+v", k, rep.Baselines)
		}
	}
}
