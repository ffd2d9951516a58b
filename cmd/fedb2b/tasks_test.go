package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoTaskDispatch(t *testing.T) {
	out := filepath.Join(t.TempDir(), "f.json")
	var o, e bytes.Buffer
	code := run([]string{"demo", "--task", "forecast", "--data", "../../models/forecast/testdata/transactions_small.csv", "--json", out}, &o, &e)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var s taskSummary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Task != "forecast" || len(s.Final) != 3 || s.Baselines["seasonal_naive"] == nil || s.Baselines["moving_average"] == nil || !(s.Privacy.Epsilon > 0) {
		t.Fatalf("summary %+v", s)
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
