package intent_test

import (
	"context"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/intent"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/simulate"
)

// TestOOSLinearDevExperiment chooses the intent task's out-of-scope score
// and DP training settings for the linear head on a DEVELOPMENT split
// only: FEDB2B_CLINC=clinc150_en.csv. The tenants and their held-out
// splits are simulate.RunIntent's (5 tenants, Dirichlet 0.5, out-of-scope
// messages dealt round-robin, 20 % held out by the keyed split); the
// held-out split is never read. Each tenant's remaining messages are split
// again 80/20 (another key): the in-scope 80 % train, the 20 % and every
// out-of-scope message outside the held-out split (never trained on) are
// the development split. Training is in-process DP-FedAvg of the linear
// head (as TestLinearFederatedExperiment: DP-Adam, public expected batch,
// z calibrated by RDP to ε = 8 over the training steps alone) and, for
// reference, pooled non-private logistic regression (FitLinear). For every
// score the threshold rejects 5 % of the in-scope training messages'
// scores ("train") or of the development in-scope scores ("dev"); reported:
// development out-of-scope recall and in-scope rejection.
// FEDB2B_OOSDEV_SWEEP="lr:q:rounds:steps;..." varies the training,
// FEDB2B_OOSDEV_NOPOOLED=1 skips the pooled model. Post-processing and
// extra scores of #17 item 3's second pass (each also reported):
// FEDB2B_OOSDEV_TAIL="f,..." tail-averages each tenant's local iterates
// (LinearTrainConfig.AverageTail), "avg-rounds" is the mean of the global
// models of the last half of the rounds, FEDB2B_OOSDEV_JS="a,..." shrinks
// each feature's weight row (James–Stein, rowShrink);
// FEDB2B_OOSDEV_PROTO="σ,..." / _MU="μ,..." add μ × the largest cosine
// to per-class sums noised by each tenant at σ (reportProto);
// FEDB2B_OOSDEV_KNN="λ,..." (or "off") adds λ × the largest cosine to the
// tenant's own training messages (intent.Neighbours; not releasable);
// FEDB2B_OOSDEV_MODE=distributed trains by FedSGD with one pooled step's
// noise per round instead (the record-level distributed mode with #16's
// settings: 1,000 rounds, q = 0.1, C = 0.1, FedAdam 0.1, 4 of 5 shares;
// the last version and the moving average at β = 0.95 are both reported;
// _DROUNDS, _DQ, _DCLIP, _DLR, _DEMA). FEDB2B_OOSDEV_OOSSPLIT and
// _OOSTRAIN (below, where the labels are read) set half of the
// development out-of-scope messages aside, or train on them as a class.
//
// Third pass (#17 item 3, distributed mode with #16's settings, z = 2.63
// on the sum, same split): accuracy 0.871 (moving average 0.870); at 5 %
// development rejection energy T = 0.1 0.626 (0.632), maximum logit
// 0.626 (0.632), T = 0.3 0.613 (0.626), maximum softmax 0.568 (0.587)
// against pooled LR's energy 0.871: 0.72× (before #16's settings 0.619,
// 0.71×); the 5 % development quantile left 3.6 % of the training
// messages below it. With half of the development out-of-scope messages
// set aside (_OOSSPLIT: 89 remain): distributed energy 0.584 (0.607),
// pooled LR energy 0.865, maximum softmax 0.854 (0.675×). Training on the
// other half (66 messages) as an "oos" class (_OOSTRAIN, every model):
// distributed accuracy 0.877, energy over the in-scope logits 0.708
// (0.730), maximum logit the same, energy minus the oos logit 0.674
// (0.663), maximum softmax 0.629 (0.640); pooled LR energy 0.876,
// energy minus the oos logit 0.921, maximum softmax 0.843: 0.81× the
// pooled model's same score, 0.77× its best.
//
// Second pass, 2026-12-05 (same split; energy T = 0.1 at 5 % development
// rejection; DP-FedAvg 0.523, pooled LR 0.871): tail averaging of the
// last half of each round's local steps 0.503 (accuracy 0.784), the
// global models averaged over the last 4 rounds 0.503 (0.792), both
// 0.497; row shrinkage a = 0.5 0.497, a = 1 0.200 (accuracy 0.608): the
// weights are signal-starved, not stationary around an optimum, so
// averaging removes signal with the noise. Class-sum cosine: exact sums
// add nothing (0.510–0.535 for μ = 2–16; alone 0.503), noised at σ = 1–4
// per tenant nothing either (alone 0.27–0.34); on pooled LR nothing
// (exact sums alone 0.516). The distributed mode (z = 2.55 on the sum):
// accuracy 0.858, energy 0.619, maximum logit 0.626, maximum softmax
// 0.581 (0.71× pooled). The tenant's own nearest neighbour: λ = 1, 2, 4,
// 8 give 0.568, 0.632, 0.703, 0.761 (alone 0.671) on DP-FedAvg, 0.690,
// 0.723, 0.768 (λ = 2, 4, 8) on the distributed mode, and on pooled LR
// 0.884–0.890 for λ = 1–8 with the tenant's own neighbours or all pooled
// ones (alone 0.671 own, 0.729 pooled).
//
// Measured 2026-12-05 (one run each; 2,932 development in-scope and 155
// out-of-scope messages): pooled LR accuracy 0.946, out-of-scope recall
// at 5 % development rejection: maximum softmax 0.852, maximum logit
// 0.871, energy T = 0.3 0.877, T = 1 0.871, T = 3 0.742. DP-FedAvg at
// ε = 8 with the linear defaults (learning rate 0.05, q = 0.1, 8×100
// steps, z = 1.98): accuracy 0.805; maximum softmax 0.477, maximum logit
// 0.510, energy T = 0.1 0.523, T = 0.3 0.503, T = 1 0.400, T = 3 0.187;
// calibrated instead on 5 % of the training messages' scores, the
// development rejection is 6.3–6.8 % (energy T = 0.1: recall 0.568 at
// 6.8 %), and the development 5 % quantile of energy T = 0.1 leaves 4.0 %
// of the training messages below it. Learning rate 0.1: accuracy 0.792,
// energy T = 0.1 0.394; 0.02: 0.756, 0.477. Soft-thresholding the
// weights at 0.5, 1, 1.5, 2, 3 × RMS lowered both accuracy (0.791 to
// 0.377) and every score's recall.
func TestOOSLinearDevExperiment(t *testing.T) {
	path := os.Getenv("FEDB2B_CLINC")
	if path == "" {
		t.Skip("set FEDB2B_CLINC")
	}
	ex, _, err := dataset.LoadFile(path, dataset.LoadOptions{TextCol: "text", LabelCol: "label"})
	if err != nil {
		t.Fatal(err)
	}
	const tenants, seed = 5, 1
	in, oos := intent.SplitOOS(ex)
	labels, _ := dataset.LabelIndex(in)
	// FEDB2B_OOSDEV_OOSSPLIT=1 halves each tenant's development
	// out-of-scope messages by a key: one half stays development
	// out-of-scope, the other is set aside; FEDB2B_OOSDEV_OOSTRAIN=1
	// (implies the split) trains on that half as one more class, "oos"
	// (Larson et al. 2019's oos-train), for every model, pooled LR too;
	// the scores then read the in-scope logits only (energy over them,
	// and energy minus the oos logit: "energy-oos").
	oosTrain := os.Getenv("FEDB2B_OOSDEV_OOSTRAIN") == "1"
	oosSplit := oosTrain || os.Getenv("FEDB2B_OOSDEV_OOSSPLIT") == "1"
	inK := len(labels)
	if oosTrain {
		labels = append(labels, intent.OOSLabel)
	}
	parts, err := dataset.SplitDirichlet(in, tenants, 0.5, seed, dataset.SplitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: models.DefaultLinearDim})
	if err != nil {
		t.Fatal(err)
	}
	rows := func(es []dataset.Example) ([]models.SparseRow, []int) {
		if len(es) == 0 {
			return nil, nil
		}
		texts := make([]string, len(es))
		for i, e := range es {
			texts[i] = e.Text
		}
		x, err := enc.Encode(context.Background(), texts)
		if err != nil {
			t.Fatal(err)
		}
		r, err := models.SparsifyAll(x, enc.Dim())
		if err != nil {
			t.Fatal(err)
		}
		_, ys, _ := dataset.WithLabels(es, labels)
		return r, ys
	}
	type ten struct {
		train, dev, devOOS []models.SparseRow
		ty, dy             []int
	}
	var ts []ten
	var pooled []models.SparseRow
	var pooledY []int
	var dev, devOOS []models.SparseRow
	var devY []int
	for i, p := range parts {
		for j := i; j < len(oos); j += tenants {
			p = append(p, oos[j])
		}
		rest, _ := dataset.TrainTestSplit(p, 0.2, dataset.SimulationSplitKey(seed, i)) // held-out split: not read
		tr, dv := dataset.TrainTestSplit(rest, 0.2, dataset.SimulationSplitKey(seed+100, i))
		var trIn, dvIn, dvOOS []dataset.Example
		for _, e := range tr {
			if e.Label == intent.OOSLabel {
				dvOOS = append(dvOOS, e)
			} else {
				trIn = append(trIn, e)
			}
		}
		for _, e := range dv {
			if e.Label == intent.OOSLabel {
				dvOOS = append(dvOOS, e)
			} else {
				dvIn = append(dvIn, e)
			}
		}
		if oosSplit {
			keep, aside := dataset.TrainTestSplit(dvOOS, 0.5, dataset.SimulationSplitKey(seed+200, i))
			dvOOS = keep
			if oosTrain {
				trIn = append(trIn, aside...)
			}
		}
		var x ten
		x.train, x.ty = rows(trIn)
		x.dev, x.dy = rows(dvIn)
		x.devOOS, _ = rows(dvOOS)
		ts = append(ts, x)
		pooled, pooledY = append(pooled, x.train...), append(pooledY, x.ty...)
		dev, devY, devOOS = append(dev, x.dev...), append(devY, x.dy...), append(devOOS, x.devOOS...)
	}
	// pooledIn is the in-scope training messages (what "train"
	// calibration reads).
	var pooledIn []models.SparseRow
	for i, y := range pooledY {
		if y < inK {
			pooledIn = append(pooledIn, pooled[i])
		}
	}
	t.Logf("%d classes (%d in scope); train %d (%d in scope), dev %d in-scope + %d out-of-scope", len(labels), inK, len(pooled), len(pooledIn), len(dev), len(devOOS))
	newHead := func() *models.LinearHead {
		h, err := models.NewLinearHead(models.LinearConfig{InputDim: enc.Dim(), Classes: len(labels)})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	scorers := []intent.Scorer{{Kind: intent.ScoreMSP}, {Kind: intent.ScoreMaxLogit}}
	for _, T := range []float64{0.1, 0.3} {
		scorers = append(scorers, intent.Scorer{Kind: intent.ScoreEnergy, Temperature: T})
	}
	report := func(name string, h *models.LinearHead) {
		pred, _ := h.Predict(dev)
		ok := 0
		for i, p := range pred {
			if p == devY[i] {
				ok++
			}
		}
		lt, _ := h.Logits(pooledIn)
		ld, _ := h.Logits(dev)
		lo, _ := h.Logits(devOOS)
		all := scorers
		if oosTrain {
			all = append(all[:len(all):len(all)], intent.Scorer{Kind: "energy-oos", Temperature: 0.1})
		}
		for _, s := range all {
			var st, sd, so []float64
			if oosTrain {
				st, sd, so = scoresIn(s, lt, inK), scoresIn(s, ld, inK), scoresIn(s, lo, inK)
			} else {
				st, sd, so = s.Scores(lt), s.Scores(ld), s.Scores(lo)
			}
			for _, cal := range []struct {
				name string
				v    []float64
			}{{"train", st}, {"dev", sd}} {
				th := quantile5(cal.v)
				t.Logf("%s acc %.4f %-8s T=%-4g calibrated on %-5s τ=%8.4f: dev OOS recall %.3f, dev in-scope rejected %.3f, training messages below τ %.3f",
					name, float64(ok)/float64(len(pred)), s.Kind, s.Temperature, cal.name, th, below(so, th), below(sd, th), below(st, th))
			}
		}
	}
	// reportProto scores every message by energy (T = 0.1) plus μ times
	// its largest cosine similarity to the classes' summed training
	// messages S_k = Σ_t (Σ_{i∈t, y_i=k} x_i + N(0, σ²I)): each tenant
	// noises its own per-class sums (L2 sensitivity 1: one unit-norm
	// message in one class) and the sums are added (FEDB2B_OOSDEV_PROTO
	// = "σ,..."; 0 is exact, for reference).
	k := len(labels)
	reportProto := func(name string, h *models.LinearHead) {
		en := intent.Scorer{Kind: intent.ScoreEnergy, Temperature: 0.1}
		zt, _ := h.Logits(pooled)
		zd, _ := h.Logits(dev)
		zo, _ := h.Logits(devOOS)
		et, ed, eo := en.Scores(zt), en.Scores(zd), en.Scores(zo)
		for _, ss := range strings.Split(cmpOr(os.Getenv("FEDB2B_OOSDEV_PROTO"), "0,2,4"), ",") {
			sigma, _ := strconv.ParseFloat(ss, 64)
			rng, _ := privacy.NewRand(privacy.SeededReader(11))
			S := make([]float64, enc.Dim()*k+k)
			for _, x := range ts {
				for i, row := range x.train {
					for n, j := range row.Idx {
						S[int(j)*k+x.ty[i]] += row.Val[n]
					}
				}
				if sigma > 0 {
					privacy.AddGaussian(S[:enc.Dim()*k], sigma, rng)
				}
			}
			norm := make([]float64, k)
			for j := range enc.Dim() {
				for c := range k {
					norm[c] += S[j*k+c] * S[j*k+c]
				}
			}
			for j := range enc.Dim() {
				for c := range k {
					if norm[c] > 0 {
						S[j*k+c] /= math.Sqrt(norm[c])
					}
				}
			}
			ph := newHead()
			if err := ph.SetParams(S); err != nil {
				t.Fatal(err)
			}
			ml := intent.Scorer{Kind: intent.ScoreMaxLogit}
			pt, _ := ph.Logits(pooled)
			pd, _ := ph.Logits(dev)
			po, _ := ph.Logits(devOOS)
			ct, cd, co := ml.Scores(pt), ml.Scores(pd), ml.Scores(po)
			for _, ms := range strings.Split(cmpOr(os.Getenv("FEDB2B_OOSDEV_MU"), "0,2,4,8,16,1000"), ",") {
				mu, _ := strconv.ParseFloat(ms, 64)
				comb := func(e, c []float64) []float64 {
					out := make([]float64, len(e))
					for i := range e {
						out[i] = e[i] + mu*c[i]
					}
					return out
				}
				st, sd, so := comb(et, ct), comb(ed, cd), comb(eo, co)
				th := quantile5(sd)
				t.Logf("%s proto σ=%s energy+%s·classcos calibrated on dev: dev OOS recall %.3f, dev in-scope rejected %.3f, training messages below τ %.3f",
					name, ss, ms, below(so, th), below(sd, th), below(st, th))
			}
		}
	}
	// reportKNN scores every message by energy (T = 0.1) plus λ times its
	// largest cosine similarity to the in-scope training messages of its
	// own tenant (leave-one-out for the training messages themselves):
	// what a tenant can compute as deployed from its own data, which
	// never leaves it. With pooled, the similarity is to every training
	// message (the centralized counterpart).
	knnIdx := make([]*knnIndex, len(ts))
	for i, x := range ts {
		knnIdx[i] = newKNNIndex(x.train, enc.Dim())
	}
	pooledIdx := newKNNIndex(pooled, enc.Dim())
	reportKNNAs := func(name string, h *models.LinearHead, central bool) {
		en := intent.Scorer{Kind: intent.ScoreEnergy, Temperature: 0.1}
		var et, ed, eo, ct, cd, co []float64
		off := 0
		for i, x := range ts {
			idx, self := knnIdx[i], 0
			if central {
				idx, self = pooledIdx, off
			}
			for _, part := range []struct {
				rows   []models.SparseRow
				e, c   *[]float64
				isSelf bool
			}{{x.train, &et, &ct, true}, {x.dev, &ed, &cd, false}, {x.devOOS, &eo, &co, false}} {
				z, _ := h.Logits(part.rows)
				*part.e = append(*part.e, en.Scores(z)...)
				for r, row := range part.rows {
					skip := -1
					if part.isSelf {
						skip = self + r
					}
					*part.c = append(*part.c, idx.maxCos(row, skip))
				}
			}
			off += len(x.train)
		}
		for _, ls := range strings.Split(cmpOr(os.Getenv("FEDB2B_OOSDEV_KNN"), "0,1,2,4,8,1000"), ",") {
			l, _ := strconv.ParseFloat(ls, 64)
			comb := func(e, c []float64) []float64 {
				out := make([]float64, len(e))
				for i := range e {
					out[i] = e[i] + l*c[i]
				}
				return out
			}
			st, sd, so := comb(et, ct), comb(ed, cd), comb(eo, co)
			for _, cal := range []struct {
				name string
				v    []float64
			}{{"train", st}, {"dev", sd}} {
				th := quantile5(cal.v)
				t.Logf("%s central=%v energy+%s·knn calibrated on %-5s: dev OOS recall %.3f, dev in-scope rejected %.3f, training messages below τ %.3f",
					name, central, ls, cal.name, below(so, th), below(sd, th), below(st, th))
			}
		}
	}
	reportKNN := func(name string, h *models.LinearHead) {
		if os.Getenv("FEDB2B_OOSDEV_KNN") != "off" {
			reportKNNAs(name, h, false)
		}
		if os.Getenv("FEDB2B_OOSDEV_PROTO") != "off" {
			reportProto(name, h)
		}
	}
	if os.Getenv("FEDB2B_OOSDEV_NOPOOLED") != "1" {
		ph := newHead()
		if err := models.FitLinear(ph, pooled, pooledY, models.FitOptions{}); err != nil {
			t.Fatal(err)
		}
		report("pooled-LR", ph)
		reportKNN("pooled-LR", ph)
		if os.Getenv("FEDB2B_OOSDEV_KNN") != "off" {
			reportKNNAs("pooled-LR", ph, true)
		}
	}
	d := models.DefaultLinearPrivateConfig(1, 1)
	sweep := os.Getenv("FEDB2B_OOSDEV_SWEEP")
	if sweep == "" {
		sweep = ":::"
	}
	for _, pt := range strings.Split(sweep, ";") {
		f := strings.Split(pt+":::", ":")
		num := func(s string, def float64) float64 {
			if s == "" {
				return def
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		lr, q := num(f[0], d.LearningRate), num(f[1], d.SampleRate)
		rounds, steps := int(num(f[2], models.DefaultLinearRounds)), int(num(f[3], models.DefaultLinearLocalSteps))
		z, err := privacy.CalibrateNoiseRDP(q, rounds*steps, 1e-5, 8)
		if err != nil {
			t.Fatal(err)
		}
		for _, tail := range strings.Split(cmpOr(os.Getenv("FEDB2B_OOSDEV_TAIL"), "0"), ",") {
			rng, err := privacy.NewRand(privacy.SeededReader(7))
			if err != nil {
				t.Fatal(err)
			}
			global := newHead()
			heads := make([]*models.LinearHead, len(ts))
			trainers := make([]*models.LinearTrainer, len(ts))
			for i := range ts {
				heads[i] = newHead()
				trainers[i] = models.NewLinearTrainer(heads[i])
			}
			cfg := models.DefaultLinearPrivateConfig(steps, z)
			cfg.LearningRate, cfg.SampleRate = lr, q
			cfg.AverageTail = num(tail, 0)
			// avg is the mean of the global models of the last half of
			// the rounds (post-processing of the released models).
			avg := make([]float64, global.NumParams())
			avgFrom := max(rounds-max(1, rounds/2), 0)
			var emaP []float64 // the distributed mode's published moving average
			if os.Getenv("FEDB2B_OOSDEV_MODE") == "distributed" {
				// FedSGD with the noise of one pooled DP-SGD step per round
				// (the record-level distributed mode with issue #16's
				// settings, simulate.DistributedDefaults: 1,000 rounds,
				// q = 0.1, C = 0.1, FedAdam 0.1, published model the
				// moving average at β = 0.95, 4 of 5 shares; the continuous
				// Gaussian the summed shares approximate). _DCLIP, _DLR,
				// _DEMA vary them.
				rounds = int(num(os.Getenv("FEDB2B_OOSDEV_DROUNDS"), simulate.DistributedRounds))
				dq := num(os.Getenv("FEDB2B_OOSDEV_DQ"), simulate.DistributedSampleRate)
				clip := num(os.Getenv("FEDB2B_OOSDEV_DCLIP"), simulate.DistributedClipNorm)
				nparams := global.NumParams()
				rec, err := ddg.PlanRecord(ddg.RecordGoal{Epsilon: 8, Delta: 1e-5, Rounds: rounds, SampleRate: dq, RecordClip: clip,
					SumClip: clip * 4 * dq * 1000, Dim: nparams, Shares: len(ts) - 1, Cohort: len(ts)})
				if err != nil {
					t.Fatal(err)
				}
				std := math.Sqrt(float64(len(ts))) * rec.Sigma
				server := &aggregation.FedAdam{Eta: num(os.Getenv("FEDB2B_OOSDEV_DLR"), simulate.DistributedServerLR)}
				ema := aggregation.IterateAverage{Decay: num(os.Getenv("FEDB2B_OOSDEV_DEMA"), simulate.DistributedAverageDecay)}
				tr := trainers[0]
				sum := make([]float64, nparams)
				for range rounds {
					clear(sum)
					if err := heads[0].SetParams(global.Params()); err != nil {
						t.Fatal(err)
					}
					for _, x := range ts {
						g, _, err := tr.ClippedGradSum(x.train, x.ty, dq, clip, true, rng)
						if err != nil {
							t.Fatal(err)
						}
						privacy.ClipL2(g, rec.ClipNorm)
						for j, v := range g {
							sum[j] += v
						}
					}
					privacy.AddGaussian(sum, std, rng)
					clear(sum[nparams-len(labels):])
					for j := range sum {
						sum[j] = -sum[j]
					}
					next, err := server.AggregateFit(0, global.Params(), aggregation.Aggregate{WeightedSum: sum, TotalWeight: float64(len(ts)) * 64, Clients: len(ts)}, nil)
					if err != nil {
						t.Fatal(err)
					}
					if err := global.SetParams(next); err != nil {
						t.Fatal(err)
					}
					if err := ema.Add(next); err != nil {
						t.Fatal(err)
					}
				}
				emaP = ema.Average()
				z = rec.NoiseMultiplier()
				rounds = 0
			}
			for r := range rounds {
				sum := make([]float64, global.NumParams())
				var wsum float64
				g := global.Params()
				for i, x := range ts {
					if err := heads[i].SetParams(g); err != nil {
						t.Fatal(err)
					}
					if _, err := trainers[i].Train(x.train, x.ty, cfg, rng); err != nil {
						t.Fatal(err)
					}
					w := float64(len(x.train))
					for j, v := range heads[i].Params() {
						sum[j] += w * v
					}
					wsum += w
				}
				for j := range sum {
					sum[j] /= wsum
				}
				if err := global.SetParams(sum); err != nil {
					t.Fatal(err)
				}
				if r >= avgFrom {
					for j, v := range sum {
						avg[j] += v / float64(rounds-avgFrom)
					}
				}
			}
			name := "dp lr=" + f[0] + " q=" + f[1] + " " + strconv.Itoa(rounds) + "x" + strconv.Itoa(steps) + " z=" + strconv.FormatFloat(z, 'f', 2, 64) + " tail=" + tail
			bases := []struct {
				name string
				p    []float64
			}{{"last", global.Params()}, {"avg-rounds", avg}}
			if emaP != nil {
				bases[1] = struct {
					name string
					p    []float64
				}{"ema", emaP}
			}
			for _, base := range bases {
				for _, fs := range strings.Split(cmpOr(os.Getenv("FEDB2B_OOSDEV_JS"), "0"), ",") {
					h := newHead()
					if err := h.SetParams(rowShrink(base.p, len(labels), num(fs, 0))); err != nil {
						t.Fatal(err)
					}
					report(name+" "+base.name+" rowJS "+fs, h)
					reportKNN(name+" "+base.name+" rowJS "+fs, h)
				}
			}
			if os.Getenv("FEDB2B_OOSDEV_MODE") == "distributed" {
				break // one training per point
			}
		}
	}
}

// rowShrink is post-processing of released weights p (W row-major,
// classes weights per feature, then the bias): each feature's row W_j is
// scaled by max(0, 1 − k·a·s²/‖W_j‖²) (James–Stein per row), s² the
// median over rows of ‖W_j‖²/k, a the strength (0: unchanged).
func rowShrink(p []float64, k int, a float64) []float64 {
	q := append([]float64(nil), p...)
	if a == 0 {
		return q
	}
	nw := len(p) - k
	rows := nw / k
	norms := make([]float64, rows)
	for j := range rows {
		var s float64
		for _, v := range p[j*k : j*k+k] {
			s += v * v
		}
		norms[j] = s
	}
	med := append([]float64(nil), norms...)
	sort.Float64s(med)
	s2 := med[rows/2] / float64(k)
	for j := range rows {
		f := 0.0
		if norms[j] > 0 {
			f = max(0, 1-float64(k)*a*s2/norms[j])
		}
		for i := j * k; i < j*k+k; i++ {
			q[i] *= f
		}
	}
	return q
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// quantile5 is the threshold that rejects 5 % of v (the ⌊0.05·n⌋-th
// smallest value).
func quantile5(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[int(math.Floor(0.05*float64(len(s))))]
}

func below(v []float64, th float64) float64 {
	n := 0
	for _, x := range v {
		if x < th {
			n++
		}
	}
	return float64(n) / float64(len(v))
}

// knnIndex is an inverted index of L2-normalised sparse rows for the
// largest cosine similarity of a query to them.
type knnIndex struct {
	post [][]knnPosting
	n    int
	acc  []float64
}

type knnPosting struct {
	row int32
	val float64
}

func newKNNIndex(rows []models.SparseRow, dim int) *knnIndex {
	ix := &knnIndex{post: make([][]knnPosting, dim), n: len(rows), acc: make([]float64, len(rows))}
	for r, row := range rows {
		for n, j := range row.Idx {
			ix.post[j] = append(ix.post[j], knnPosting{int32(r), row.Val[n]})
		}
	}
	return ix
}

// maxCos returns the largest dot product of q with an indexed row other
// than skip (−1: none).
func (ix *knnIndex) maxCos(q models.SparseRow, skip int) float64 {
	clear(ix.acc)
	for n, j := range q.Idx {
		v := q.Val[n]
		for _, p := range ix.post[j] {
			ix.acc[p.row] += v * p.val
		}
	}
	best := 0.0
	for r, a := range ix.acc {
		if r != skip && a > best {
			best = a
		}
	}
	return best
}

// scoresIn scores logits z whose columns from inK on are the oos class:
// "energy-oos" is the energy over the in-scope logits minus the oos
// logit, any other kind s's score of the in-scope logits alone.
func scoresIn(s intent.Scorer, z [][]float64, inK int) []float64 {
	out := make([]float64, len(z))
	for i, zi := range z {
		if s.Kind == "energy-oos" {
			e := intent.Scorer{Kind: intent.ScoreEnergy, Temperature: s.Temperature}
			out[i] = e.Score(zi[:inK]) - zi[inK]
			continue
		}
		out[i] = s.Score(zi[:inK])
	}
	return out
}
