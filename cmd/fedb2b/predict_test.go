package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/intent"
	"github.com/fedb2b/fedb2b/privacy"
)

// savedIntentModel trains a tiny two-intent detector and saves it.
func savedIntentModel(t *testing.T, dir string, threshold float64) string {
	t.Helper()
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 512})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"where is my order", "track my parcel", "when will my order arrive", "my package has not arrived",
		"i want a refund", "give me my money back", "refund the payment please", "how do i get a refund"}
	y := []int{0, 0, 0, 0, 1, 1, 1, 1}
	clf, err := models.NewClassifier(models.ClassifierConfig{InputDim: 512, Rank: 16, Classes: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := enc.Encode(context.Background(), texts)
	f, _ := clf.Project(x)
	cfg := models.DefaultTrainConfig()
	cfg.Steps, cfg.BatchSize = 200, 8
	rng, _ := privacy.NewRand(privacy.SeededReader(1))
	if _, err := clf.Train(f, y, cfg, rng); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "model.safetensors")
	d := &intent.Detector{Classifier: clf, Labels: []string{"track_order", "get_refund"}, Threshold: threshold}
	if err := d.Save(path, enc.ID()); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPredictWritesGoodRowsAndReportsBadOnes(t *testing.T) {
	dir := t.TempDir()
	model := savedIntentModel(t, dir, 0)
	in := filepath.Join(dir, "in.csv")
	csvText := "id,text\n1,where is my parcel\n2,i want my money back\n3,\n4,too,many,fields\n5,a \"stray quote\n"
	if err := os.WriteFile(in, []byte(csvText), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.csv")
	var so, se bytes.Buffer
	// 3 of 5 rows are bad: allowed here (no fraction limit), reported.
	code := run([]string{"predict", "--model", model, "--data", in, "--out", out, "--encoder", "hashing:512", "--max-bad-fraction", "0"}, &so, &se)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	f, _ := os.Open(out)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stderr:\n%s\nout: %v", se.String(), rows)
	if len(rows) < 2 || strings.Join(rows[0], ",") != "line,prediction,score,text" {
		t.Fatalf("output %v", rows)
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[r[3]] = r[1]
	}
	if len(rows) != 3 || got["where is my parcel"] != "track_order" || got["i want my money back"] != "get_refund" || rows[1][0] != "2" {
		t.Errorf("predictions %v", rows)
	}
	for _, want := range []string{"3 skipped", "in.csv:4: empty text", "in.csv:5: ragged row", "in.csv:6:"} {
		if !strings.Contains(se.String(), want) {
			t.Errorf("bad-row report lacks %q: %q", want, se.String())
		}
	}
}

func TestPredictErrors(t *testing.T) {
	dir := t.TempDir()
	model := savedIntentModel(t, dir, 0.99)
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte("text\nwhere is my parcel\nhello there general kenobi\n"), 0o600)
	var so, se bytes.Buffer
	if code := run([]string{"predict", "--model", model, "--data", in, "--out", filepath.Join(dir, "o.csv")}, &so, &se); code != 1 ||
		!strings.Contains(se.String(), "encoder") {
		t.Fatalf("default 4096-dim encoder against a 512-dim model: exit %d, %q", code, se.String())
	}
	se.Reset()
	if code := run([]string{"predict", "--model", filepath.Join(dir, "missing"), "--data", in, "--out", "x"}, &so, &se); code != 1 {
		t.Fatalf("missing model: exit %d", code)
	}
	if code := run([]string{"predict", "--data", in}, &so, &se); code != 2 {
		t.Fatalf("missing flags: exit %d", code)
	}
	// A high threshold marks low-confidence messages out of scope.
	out := filepath.Join(dir, "o.csv")
	if code := run([]string{"predict", "--model", model, "--data", in, "--out", out, "--encoder", "hashing:512"}, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), intent.OOSLabel) {
		t.Fatalf("threshold 0.99 rejected nothing:\n%s", b)
	}
}

func TestMarketCommand(t *testing.T) {
	var so, se bytes.Buffer
	// The forecast package's sample of online_retail (CC BY 4.0, attribution
	// in models/forecast/testdata/README.md).
	data := filepath.Join("..", "..", "models", "forecast", "testdata", "transactions_small.csv")
	code := run([]string{"market", "--data", data, "--tenants", "3", "--weeks", "4", "--budget", "2", "--json"}, &so, &se)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	for _, want := range []string{`"customers_per_segment"`, `"order_value_quantiles"`, `"weekly_demand"`, `"tenant-3"`, `"epsilon": 2`, `"unit": "customer"`} {
		if !strings.Contains(so.String(), want) {
			t.Errorf("output lacks %s:\n%s", want, so.String())
		}
	}
	se.Reset()
	if code := run([]string{"market", "--data", data, "--budget", "1"}, &so, &se); code != 1 || !strings.Contains(se.String(), "budget exceeded") {
		t.Fatalf("release over budget: exit %d, %q", code, se.String())
	}
}
