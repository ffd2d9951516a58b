package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/models/forecast"
)

func TestDemoTaskDispatch(t *testing.T) {
	s := demoSummary(t, "forecast", "../../models/forecast/testdata/transactions_small.csv", "--epsilon", "8", "--rounds", "6")
	var o, e bytes.Buffer
	// Final and local_only count the customers of the released
	// (customer-level) statistics; the deployed figures and the classical
	// baselines count the same product-level rows.
	if s.Task != "forecast" || len(s.Final) != 4 || len(s.Deployed) != 4 || s.Deployed["examples"] != s.Baselines["zero"]["examples"] ||
		!(s.Final["examples"] > 0 && s.Final["examples"] < s.Deployed["examples"]) || s.Federation["mae"] < 0 ||
		s.Baselines["centralized_deployed"]["examples"] != s.Deployed["examples"] || s.Baselines["local_only_deployed"]["examples"] != s.Deployed["examples"] ||
		s.Baselines["local_only"]["examples"] != s.Final["examples"] || s.Privacy.Unit != "customer (all its order lines)" ||
		!(s.Privacy.Epsilon > 7 && s.Privacy.Epsilon <= 8*(1+1e-6)) {
		t.Fatalf("summary %+v", s)
	}
	// Every classical baseline of the panel is reported, on the same rows.
	for _, b := range forecast.Panel(1, 4) {
		if s.Baselines[b.Name]["examples"] != s.Deployed["examples"] {
			t.Errorf("baseline %s: %v", b.Name, s.Baselines[b.Name])
		}
	}
	o.Reset()
	e.Reset()
	if code := run([]string{"demo", "--task", "nosuch", "--data", "x"}, &o, &e); code != 1 || !strings.Contains(e.String(), "unknown task") {
		t.Fatalf("unknown task: exit %d, %q", code, e.String())
	}
	if code := run([]string{"demo", "--task", "intent"}, &o, &e); code != 1 || !strings.Contains(e.String(), "--data is required") {
		t.Fatalf("missing data: exit %d, %q", code, e.String())
	}
}

// The intent and recommend demos run over the coordinator too and report
// the exact final figure, the operator's noised view with its noise's
// spread (a ratio over a count the noise could have made flagged) and the
// baselines.
func TestDemoTasksOverCoordinator(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cases := []struct {
		task, data string
		args       []string
		check      func(s taskSummary) bool
	}{
		{"intent", "../../simulate/testdata/clinc_small.csv", []string{"--tenants", "3", "--rounds", "3"}, func(s taskSummary) bool {
			_, recall := s.Final["oos_recall"]
			return s.Final["in_scope_accuracy"] > 0 && recall && s.Federation["in_scope"] >= 0 && s.Baselines["centralized"] != nil && s.Baselines["local_only"] != nil &&
				s.Baselines["federated_msp_own_threshold"] != nil && s.Baselines["centralized_msp"] != nil && strings.Contains(s.Note, "adapter linear, out-of-scope score energy") &&
				s.FederationSD["calibration"] > 0 && slices.Contains(s.FederationUnmeasurable, "oos_recall") // a handful of out-of-scope messages
		}},
		{"recommend", "../../models/forecast/testdata/transactions_small.csv", []string{"--epsilon", "8", "--rounds", "3"}, func(s taskSummary) bool {
			return s.Final["customers"] > 0 && s.Deployed["customers"] == s.Final["customers"] && s.Baselines["popularity"] != nil && s.Federation != nil &&
				s.Baselines["centralized_deployed"] != nil && s.Baselines["local_only"]["customers"] == s.Final["customers"] &&
				s.Baselines["buy_again"] != nil && s.Baselines["own_orders"] != nil && s.Baselines["own_recent"] != nil &&
				s.FederationSD["customers"] > 0
		}},
	}
	for _, c := range cases {
		s := demoSummary(t, c.task, c.data, c.args...)
		if s.Task != c.task || !c.check(s) || !strings.Contains(s.Note, "real coordinator") {
			t.Errorf("%s: summary %+v", c.task, s)
		}
	}
}

// demoSummary runs `demo --task task --data data args…` and returns its
// JSON summary.
func demoSummary(t *testing.T, task, data string, args ...string) taskSummary {
	t.Helper()
	out := filepath.Join(t.TempDir(), task+".json")
	var o, e bytes.Buffer
	if code := run(append([]string{"demo", "--task", task, "--data", data, "--json", out}, args...), &o, &e); code != 0 {
		t.Fatalf("%s: exit %d: %s", task, code, e.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var s taskSummary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// `demo --task intent --dp-mode distributed` trains in the record-level
// distributed mode over the coordinator with one noised evaluation: the
// summary names the mode and its honest shares, each tenant's ε (the
// evaluation included) stays within the target, and the global threshold
// is the operator's, read from the noised histograms. Other tasks refuse
// the mode.
func TestDemoIntentDistributed(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	s := demoSummary(t, "intent", "../../simulate/testdata/clinc_small.csv", "--tenants", "3", "--rounds", "40", "--dp-mode", "distributed", "--eval-epsilon", "4")
	if s.Privacy.Mode != "distributed" || s.Privacy.HonestTenants < 1 || s.Privacy.Steps != 40 || !(s.Privacy.Epsilon > 7.9 && s.Privacy.Epsilon <= 8) ||
		s.Final["threshold"] != s.Federation["threshold"] || !strings.Contains(s.Note, "record-level distributed mode") {
		t.Errorf("summary %+v", s)
	}
	var o, e bytes.Buffer
	if code := run([]string{"demo", "--task", "forecast", "--dp-mode", "distributed", "--data", "x"}, &o, &e); code != 1 || !strings.Contains(e.String(), "only the intent task") {
		t.Errorf("forecast in distributed mode: exit %d, %q", code, e.String())
	}
}
