package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/intent"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/protocol"
)

// savedLinearIntent fits a tiny two-intent linear head and saves it the
// way the operator's --model-out does (task.SaveGlobal with the last
// evaluation's metrics); it returns the path and the energy scores of
// probe under the saved model.
func savedLinearIntent(t *testing.T, dir string, eval map[string]float64, probe []string) (string, []float64) {
	t.Helper()
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 512})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"where is my order", "track my parcel", "when will my order arrive", "my package has not arrived",
		"i want a refund", "give me my money back", "refund the payment please", "how do i get a refund"}
	y := []int{0, 0, 0, 0, 1, 1, 1, 1}
	x, err := enc.Encode(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := models.SparsifyAll(x, 512)
	if err != nil {
		t.Fatal(err)
	}
	h, err := models.NewLinearHead(models.LinearConfig{InputDim: 512, Classes: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := models.FitLinear(h, rows, y, models.FitOptions{C: 100}); err != nil {
		t.Fatal(err)
	}
	spec := protocol.TaskSpec{ID: "t", Kind: modeltask.KindIntent, InputDim: 512, Labels: []string{"track_order", "get_refund"},
		EncoderID: enc.ID(), Options: map[string]string{modeltask.OptionAdapter: modeltask.AdapterLinear}}
	path := filepath.Join(dir, "linear.safetensors")
	if err := modeltask.SaveGlobal(spec, h.Params(), eval, path); err != nil {
		t.Fatal(err)
	}
	px, _ := enc.Encode(context.Background(), probe)
	pr, _ := models.SparsifyAll(px, 512)
	z, _ := h.Logits(pr)
	sc, _ := modeltask.IntentScaleOf(spec)
	return path, sc.Scorer.Scores(z)
}

func predictCSV(t *testing.T, args ...string) (map[string][]string, string, int) {
	t.Helper()
	var so, se bytes.Buffer
	code := run(append([]string{"predict"}, args...), &so, &se)
	out := map[string][]string{}
	for i, a := range args {
		if a == "--out" && code == 0 {
			f, err := os.Open(args[i+1])
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(f).ReadAll()
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows[1:] {
				out[r[3]] = r
			}
		}
	}
	return out, se.String(), code
}

// TestPredictAppliesSavedLinearIntentModel: a linear intent model saved by
// the operator carries the energy score and the federation's threshold;
// predict classifies in-scope messages, rejects a message whose score is
// below the threshold as out of scope, and --no-threshold / --oos-threshold
// override the file. Before, SaveGlobal refused the linear adapter and
// predict could only read LoRA classifiers.
func TestPredictAppliesSavedLinearIntentModel(t *testing.T) {
	dir := t.TempDir()
	probe := []string{"where is my parcel", "i want my money back", "what is the weather on mars tomorrow"}
	// First the scores, to place the threshold between the in-scope
	// probes and the unrelated one.
	_, s := savedLinearIntent(t, dir, nil, probe)
	if !(s[2] < s[0] && s[2] < s[1]) {
		t.Fatalf("energy scores %v: the unrelated probe should score lowest", s)
	}
	tau := (s[2] + min(s[0], s[1])) / 2
	model, _ := savedLinearIntent(t, dir, map[string]float64{"threshold": tau, "oos_recall": 0.5}, probe)
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte("text\n"+strings.Join(probe, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.csv")
	got, se, code := predictCSV(t, "--model", model, "--data", in, "--out", out, "--encoder", "hashing:512")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se)
	}
	if got[probe[0]][1] != "track_order" || got[probe[1]][1] != "get_refund" || got[probe[2]][1] != intent.OOSLabel {
		t.Fatalf("predictions %v (threshold %g, scores %v)", got, tau, s)
	}
	if g, err := strconv.ParseFloat(got[probe[2]][2], 64); err != nil || math.Abs(g-s[2]) > 1e-5 {
		t.Errorf("score column %q, want the energy score %g", got[probe[2]][2], s[2])
	}
	got, se, code = predictCSV(t, "--model", model, "--data", in, "--out", out, "--encoder", "hashing:512", "--no-threshold")
	if code != 0 || got[probe[2]][1] == intent.OOSLabel {
		t.Errorf("--no-threshold: exit %d, %v: %s", code, got, se)
	}
	got, se, code = predictCSV(t, "--model", model, "--data", in, "--out", out, "--encoder", "hashing:512", "--oos-threshold", strconv.FormatFloat(max(s[0], s[1])+1, 'g', -1, 64))
	if code != 0 || got[probe[0]][1] != intent.OOSLabel || got[probe[1]][1] != intent.OOSLabel {
		t.Errorf("--oos-threshold above every score: exit %d, %v: %s", code, got, se)
	}
	// A tenant's own file (no released evaluation) has no threshold:
	// nothing is rejected, and predict says so.
	own, _ := savedLinearIntent(t, dir, nil, probe)
	got, se, code = predictCSV(t, "--model", own, "--data", in, "--out", out, "--encoder", "hashing:512")
	if code != 0 || got[probe[2]][1] == intent.OOSLabel || !strings.Contains(se, "no out-of-scope threshold") {
		t.Errorf("file without threshold: exit %d, %v: %s", code, got, se)
	}
	// Refused: personalisation, a wrong encoder, --oos-threshold on a LoRA
	// classifier, a bad --oos-threshold.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", model, "--personalize", in}, "linear head cannot be personalised"},
		{[]string{"--model", model, "--encoder", "hashing:256"}, "encoder"},
		{[]string{"--model", savedIntentModel(t, dir, 0), "--encoder", "hashing:512", "--oos-threshold", "1"}, "--oos-threshold applies to linear intent models"},
		{[]string{"--model", model, "--encoder", "hashing:512", "--oos-threshold", "NaN"}, "not a finite number"},
	} {
		_, se, code := predictCSV(t, append(c.args, "--data", in, "--out", out)...)
		if code == 0 || !strings.Contains(se, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, se, c.want)
		}
	}
}
