package models

import (
	"context"
	"encoding/csv"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/privacy"
)

// TestNAICSExperiment trains the default classifier on the NAICS sector data
// (20 classes) with a held-out split by 6-digit industry code (every fifth
// code, so held-out texts describe unseen industries), non-private and with
// DP-SGD. It runs only when FEDB2B_NAICS names the CSV
// (shared/data/naics_industry_en/naics_industry_en.csv); it reports figures
// and asserts only loose sanity bounds. Optional: FEDB2B_RANK, FEDB2B_DIM, FEDB2B_STEPS,
// FEDB2B_DPSTEPS, FEDB2B_LR, FEDB2B_DPLR, FEDB2B_LR_MOMENTUM, FEDB2B_DPLR_MOMENTUM.
func TestNAICSExperiment(t *testing.T) {
	path := os.Getenv("FEDB2B_NAICS")
	if path == "" {
		t.Skip("set FEDB2B_NAICS to the naics_industry_en.csv path to run")
	}
	rank, dim := envInt("FEDB2B_RANK", DefaultRank), envInt("FEDB2B_DIM", DefaultHashingDim)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	rows = rows[1:]
	labels, codes := map[string]int{}, map[string]bool{}
	for _, r := range rows {
		labels[r[1]] = 0
		codes[r[3]] = true
	}
	names := make([]string, 0, len(labels))
	for l := range labels {
		names = append(names, l)
	}
	sort.Strings(names)
	for i, l := range names {
		labels[l] = i
	}
	codeList := make([]string, 0, len(codes))
	for c := range codes {
		codeList = append(codeList, c)
	}
	sort.Strings(codeList)
	held := map[string]bool{}
	for i, c := range codeList {
		if i%5 == 2 {
			held[c] = true
		}
	}
	var trText, teText []string
	var trY, teY []int
	for _, r := range rows {
		if held[r[3]] {
			teText, teY = append(teText, r[0]), append(teY, labels[r[1]])
		} else {
			trText, trY = append(trText, r[0]), append(trY, labels[r[1]])
		}
	}
	enc, err := NewHashingEncoder(HashingConfig{Dim: dim})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	trX, _ := enc.Encode(context.Background(), trText)
	teX, _ := enc.Encode(context.Background(), teText)
	t.Logf("encoded %d+%d texts in %v (%s)", len(trX), len(teX), time.Since(start), enc.ID())
	for _, private := range []bool{false, true} {
		c, err := NewClassifier(ClassifierConfig{InputDim: dim, Rank: rank, Classes: len(names), Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		trU, _ := c.Project(trX)
		teU, _ := c.Project(teX)
		proj := time.Since(start)
		cfg := DefaultTrainConfig()
		cfg.Steps = envInt("FEDB2B_STEPS", 3000)
		if private {
			cfg = DefaultPrivateTrainConfig()
			cfg.Steps = envInt("FEDB2B_DPSTEPS", 200)
		}
		lrKey := "FEDB2B_LR"
		if private {
			lrKey = "FEDB2B_DPLR"
		}
		if lr, err := strconv.ParseFloat(os.Getenv(lrKey), 64); err == nil {
			cfg.LearningRate = lr
		}
		if m, err := strconv.ParseFloat(os.Getenv(lrKey+"_MOMENTUM"), 64); err == nil {
			cfg.Momentum = m
		}
		start = time.Now()
		st, err := c.Train(trU, trY, cfg, testRand(t, 1))
		if err != nil {
			t.Fatal(err)
		}
		cm, _ := c.Evaluate(teU, teY)
		cmTr, _ := c.Evaluate(trU, trY)
		t.Logf("private=%v rank=%d dim=%d train=%d test=%d cfg=%+v: projection %v, training %v; train acc %.3f; held-out acc %.3f macro-F1 %.3f (loss %.3f, clipped %.2f)",
			private, rank, dim, len(trY), len(teY), cfg, proj, time.Since(start), cmTr.Accuracy(), cm.Accuracy(), cm.MacroF1(), st.MeanLoss, st.ClippedFraction)
		if private {
			eps, err := privacy.RDPEpsilon(cfg.SampleRate, cfg.NoiseMultiplier, cfg.Steps, 1e-5)
			t.Logf("record-level privacy of this run (RDP accountant): epsilon %.3f at delta 1e-5 (err %v)", eps, err)
		}
		if cm.Accuracy() < 0.3 {
			t.Errorf("held-out accuracy %.3f implausibly low", cm.Accuracy())
		}
	}
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}
