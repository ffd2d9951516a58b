package main

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/models/intent"
	"github.com/fedb2b/fedb2b/simulate"
)

// The intent summary carries every out-of-scope figure and baseline under
// its own name, survives JSON (a threshold that rejects nothing is
// finite), and the demo's printing lists them.
func TestIntentSummaryFigures(t *testing.T) {
	m := func(in, correct, rej, oos, det int64) intent.Metrics {
		return intent.Metrics{InScope: in, InScopeCorrect: correct, FalseRejects: rej, OOS: oos, OOSDetected: det}
	}
	r := &simulate.IntentResult{Tenants: make([]simulate.TenantSummary, 2), Adapter: "linear", Score: intent.Scorer{Kind: intent.ScoreEnergy, Temperature: 1},
		Global: m(100, 80, 5, 40, 30), Federated: m(100, 79, 6, 40, 28), FederatedMSP: m(100, 78, 5, 40, 20),
		Centralized: m(100, 90, 5, 40, 36), CentralizedMSP: m(100, 90, 5, 40, 32), Local: m(100, 50, 5, 40, 4),
		FederatedAcc: 0.84, LocalAcc: 0.55, CentralizedAcc: 0.95, GlobalThreshold: intent.NoThreshold, Epsilon: 8, Delta: 1e-5,
		Federation: map[string]float64{"oos_recall": 0.7}}
	sum := taskSummary{Task: "intent", Baselines: map[string]map[string]float64{}}
	intentSummary(&sum, r)
	want := map[string]float64{"oos_recall": 0.75, "in_scope_accuracy": 0.8, "false_reject_rate": 0.05, "argmax_accuracy": 0.84, "oos_recall_vs_centralized": 0.75 / 0.9}
	for k, v := range want {
		if math.Abs(sum.Final[k]-v) > 1e-12 {
			t.Errorf("final %s = %v, want %v", k, sum.Final[k], v)
		}
	}
	for name, recall := range map[string]float64{"centralized": 0.9, "centralized_msp": 0.8, "federated_msp_own_threshold": 0.5, "local_only": 0.1} {
		if math.Abs(sum.Baselines[name]["oos_recall"]-recall) > 1e-12 {
			t.Errorf("baseline %s: %v, want OOS recall %v", name, sum.Baselines[name], recall)
		}
	}
	if sum.Deployed["oos_recall"] != 0.7 || sum.Baselines["centralized"]["argmax_accuracy"] != 0.95 || !strings.Contains(sum.Note, "energy (T = 1)") {
		t.Fatalf("summary %+v", sum)
	}
	path := filepath.Join(t.TempDir(), "s.json")
	if err := writeJSONFile(path, sum); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	var b bytes.Buffer
	printMetrics(&b, "centralized_msp", sum.Baselines["centralized_msp"])
	if !strings.Contains(b.String(), "centralized_msp") || !strings.Contains(b.String(), "oos_recall 0.8000") {
		t.Fatalf("printed %q", b.String())
	}
	if _, err := json.Marshal(sum); err != nil {
		t.Fatal(err)
	}
}
