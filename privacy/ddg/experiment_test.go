package ddg

import (
	"context"
	"math"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/privacy"
)

// TestTenantDPExperiment is issue 8's end-to-end experiment: 20 simulated
// tenants on the NAICS sector data (Dirichlet α = 0.5 label skew), FedAvg
// in process (no gRPC), non-private local SGD, and tenant-level DP from the
// distributed discrete Gaussian at ε = 8, δ = 1e-5 over all rounds,
// calibrated to a threshold of 16 survivors out of a cohort of 20 (each
// round 0 to 4 random tenants drop before sending, in both runs). The words are summed
// mod 2^32 as secure aggregation would. It compares held-out accuracy with the same run
// without tenant-level DP (no clipping, no noise).
//
// It runs only when FEDB2B_NAICS names naics_industry_en.csv. Optional:
// FEDB2B_DDG_ROUNDS (10), FEDB2B_DDG_RANK (128), FEDB2B_DDG_LOCAL (100
// local steps), FEDB2B_DDG_CLIP (3), FEDB2B_DDG_SERVERLR (1),
// FEDB2B_DDG_EPS (8); FEDB2B_DDG_SECAGG=1 sums each round with the real
// SecAgg+ protocol (secagg.Simulate, dropped tenants vanish before sending
// their masked input) instead of a plain modular sum.
func TestTenantDPExperiment(t *testing.T) {
	path := os.Getenv("FEDB2B_NAICS")
	if path == "" {
		t.Skip("set FEDB2B_NAICS to naics_industry_en.csv to run")
	}
	const tenants, threshold, delta = 20, 16, 1e-5
	rounds := envInt("FEDB2B_DDG_ROUNDS", 10)
	rank := envInt("FEDB2B_DDG_RANK", 128)
	local := envInt("FEDB2B_DDG_LOCAL", 100)
	clip := envFloat("FEDB2B_DDG_CLIP", 3)
	serverLR := envFloat("FEDB2B_DDG_SERVERLR", 1)
	eps := envFloat("FEDB2B_DDG_EPS", 8)
	useSecAgg := os.Getenv("FEDB2B_DDG_SECAGG") == "1"

	data, _, err := dataset.LoadFile(path, dataset.LoadOptions{TextCol: "text", LabelCol: "label"})
	if err != nil {
		t.Fatal(err)
	}
	labels, index := dataset.LabelIndex(data)
	parts, err := dataset.SplitDirichlet(data, tenants, 0.5, 1, dataset.SplitOptions{MinPerTenant: 20})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := models.NewHashingEncoder(models.HashingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ccfg := models.ClassifierConfig{InputDim: enc.Dim(), Rank: rank, Classes: len(labels), Seed: 1}
	proto, err := models.NewClassifier(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	featurize := func(ex []dataset.Example) ([][]float64, []int) {
		texts := make([]string, len(ex))
		y := make([]int, len(ex))
		for i, e := range ex {
			texts[i], y[i] = e.Text, index[e.Label]
		}
		x, err := enc.Encode(context.Background(), texts)
		if err != nil {
			t.Fatal(err)
		}
		f, err := proto.Project(x)
		if err != nil {
			t.Fatal(err)
		}
		return f, y
	}
	trX, trY := make([][][]float64, tenants), make([][]int, tenants)
	var teX [][]float64
	var teY []int
	for i, p := range parts {
		train, test := dataset.TrainTestSplit(p, 0.2, dataset.SimulationSplitKey(2, i))
		trX[i], trY[i] = featurize(train)
		f, y := featurize(test)
		teX, teY = append(teX, f...), append(teY, y...)
	}
	counts := make([]int, len(labels))
	for _, y := range teY {
		counts[y]++
	}
	sort.Ints(counts)
	t.Logf("majority-class accuracy on the held-out set: %.4f", float64(counts[len(counts)-1])/float64(len(teY)))
	dim := proto.NumParams()
	goal := Goal{Epsilon: eps, Delta: delta, Rounds: rounds, Dim: dim, ClipNorm: clip, Threshold: threshold, Cohort: tenants}
	p, err := Plan(goal)
	if err != nil {
		t.Fatal(err)
	}
	achieved, _ := Epsilon(p, rounds, delta)
	t.Logf("%d examples, %d classes, %d tenants, %d test; d=%d (D=%d); plan: γ=%.3g σ=%.3g/client (integer σ %.0f), z=%.3f on the sum of %d, Δ₂=%.0f, wrap ≤ %.2g, bits needed %d of %d; tenant-level ε=%.3f at δ=%g over %d rounds",
		len(data), len(labels), tenants, len(teY), dim, p.PaddedDim(), p.Gamma, p.Sigma, p.IntSigma(), p.NoiseMultiplier(), threshold, p.NormBound(), p.WrapProb(), p.BitsNeeded(), p.Bits, achieved, delta, rounds)
	codec, err := NewCodec(p)
	if err != nil {
		t.Fatal(err)
	}
	run := func(private bool) float64 {
		start := time.Now()
		global := proto.Params()
		clf, _ := models.NewClassifier(ccfg)
		r := testRand(t, 77)
		var norms []float64
		var encTime time.Duration
		for round := range rounds {
			drop := r.IntN(tenants - threshold + 1) // same dropout law in both runs
			perm := r.Perm(tenants)[drop:]
			sort.Ints(perm)
			seed := RoundSeed{byte(round), byte(round >> 8), 0xdd}
			sumWords := make([]uint32, p.PaddedDim())
			allWords := make([][]uint32, tenants)
			plain := make([]float64, dim)
			for _, i := range perm {
				if err := clf.SetParams(global); err != nil {
					t.Fatal(err)
				}
				cfg := models.TrainConfig{Steps: local, LearningRate: 0.5, Momentum: 0.9, BatchSize: 32}
				if _, err := clf.Train(trX[i], trY[i], cfg, r); err != nil {
					t.Fatal(err)
				}
				upd := clf.Params()
				var n2 float64
				for j := range upd {
					upd[j] -= global[j]
					n2 += upd[j] * upd[j]
				}
				norms = append(norms, math.Sqrt(n2))
				if !private {
					for j, v := range upd {
						plain[j] += v
					}
					continue
				}
				w := make([]uint32, p.PaddedDim())
				t0 := time.Now()
				if _, err := codec.Encode(w, upd, seed, r); err != nil {
					t.Fatal(err)
				}
				encTime += time.Since(t0)
				allWords[i] = w
				for j := range w {
					sumWords[j] += w[j]
				}
			}
			if private && useSecAgg {
				dropAt := map[int]secagg.Stage{}
				for i := range allWords {
					if allWords[i] == nil {
						allWords[i] = make([]uint32, p.PaddedDim())
						dropAt[i] = secagg.StageMaskedInput
					}
				}
				sum, surv, err := secagg.Simulate(secagg.SimConfig{Round: uint64(round), Threshold: threshold, Neighbours: tenants - 1}, allWords, dropAt, privacy.SeededReader(uint64(round)))
				if err != nil {
					t.Fatal(err)
				}
				if len(surv) != len(perm) {
					t.Fatalf("secagg survivors %v, expected %v", surv, perm)
				}
				for j := range sum {
					if sum[j] != sumWords[j] {
						t.Fatalf("secagg sum differs from the plain modular sum at word %d", j)
					}
				}
			}
			if private {
				if err := codec.Decode(plain, sumWords, seed); err != nil {
					t.Fatal(err)
				}
			}
			for j := range global {
				global[j] += serverLR * plain[j] / float64(len(perm))
			}
		}
		if err := clf.SetParams(global); err != nil {
			t.Fatal(err)
		}
		cm, err := clf.Evaluate(teX, teY)
		if err != nil {
			t.Fatal(err)
		}
		sort.Float64s(norms)
		t.Logf("tenant-level DP %v: held-out accuracy %.4f, macro-F1 %.4f; update norms median %.3f p90 %.3f (clip %.3g); %v total, encode %v",
			private, cm.Accuracy(), cm.MacroF1(), norms[len(norms)/2], norms[len(norms)*9/10], clip, time.Since(start).Round(time.Millisecond), encTime.Round(time.Millisecond))
		return cm.Accuracy()
	}
	base := run(false)
	dp := run(true)
	t.Logf("accuracy ratio (tenant-level DP / none) = %.3f; words 32 bits per coordinate, of which %d needed", dp/base, p.BitsNeeded())
	if base < 0.3 {
		t.Errorf("baseline accuracy %.3f implausibly low", base)
	}
	if dp < 1.5/float64(len(labels)) {
		t.Errorf("DP accuracy %.3f no better than chance", dp)
	}
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func envFloat(key string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(key), 64); err == nil {
		return v
	}
	return def
}
