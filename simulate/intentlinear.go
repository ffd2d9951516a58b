package simulate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/intent"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
)

// intentRows is one split of messages encoded for the linear head.
type intentRows struct {
	x   models.Rows
	y   []int
	oos models.Rows
}

func encodeIntentRows(ctx context.Context, enc models.Encoder, labels []string, ex []dataset.Example) (intentRows, error) {
	in, oos := intent.SplitOOS(ex)
	var r intentRows
	var err error
	x, y, err := modeltask.EncodeSparse(ctx, enc, labels, in, "intent", nil)
	if err != nil {
		return r, err
	}
	o, _, err := modeltask.EncodeSparse(ctx, enc, []string{intent.OOSLabel}, oos, "intent out-of-scope", nil)
	if err != nil {
		return r, err
	}
	r.x, r.y, r.oos = x, y, o
	return r, nil
}

// trainSet is r's training rows: the in-scope messages and, when the
// labels' last class oosClass is a trained out-of-scope class (≥ 0), the
// out-of-scope messages as that class.
func trainSet(r intentRows, oosClass int) (models.Rows, []int) {
	if oosClass < 0 || rowsLen(r.oos) == 0 {
		return r.x, r.y
	}
	y := append(append([]int(nil), r.y...), make([]int, r.oos.Len())...)
	for i := len(r.y); i < len(y); i++ {
		y[i] = oosClass
	}
	if rowsLen(r.x) == 0 {
		return r.oos, y
	}
	return models.Concat(r.x, r.oos), y
}

// scoreRows returns h's scores of r's in-scope messages, whether each is
// classified correctly, and the scores of its out-of-scope messages.
func scoreRows(h *models.LinearHead, sc intent.Scorer, r intentRows) (in []float64, correct []bool, oos []float64, err error) {
	if rowsLen(r.x) > 0 {
		z, err := h.LogitsRows(r.x)
		if err != nil {
			return nil, nil, nil, err
		}
		in = sc.Scores(z)
		correct = make([]bool, len(z))
		for i, zi := range z {
			correct[i] = sc.Best(zi) == r.y[i]
		}
	}
	if rowsLen(r.oos) > 0 {
		z, err := h.LogitsRows(r.oos)
		if err != nil {
			return nil, nil, nil, err
		}
		oos = sc.Scores(z)
	}
	return in, correct, oos, nil
}

// thresholded counts h's outcomes on test with the threshold that rejects
// rejectRate of val's in-scope scores (calibrated on val alone) and
// returns them with the plain argmax accuracy.
func thresholded(h *models.LinearHead, sc intent.Scorer, val, test intentRows, rejectRate float64, m *intent.Metrics, acc *meanAccuracy) error {
	vin, _, _, err := scoreRows(h, sc, val)
	if err != nil {
		return err
	}
	tau, err := intent.ScoreThreshold(vin, rejectRate)
	if err != nil {
		return err
	}
	in, correct, oos, err := scoreRows(h, sc, test)
	if err != nil {
		return err
	}
	intent.CountScores(m, in, correct, oos, tau)
	if acc != nil {
		ok := 0
		for _, c := range correct {
			if c {
				ok++
			}
		}
		acc.add(ratioOf(ok, len(correct)), len(correct))
	}
	return nil
}

// thresholdedKNN is thresholded with the as-deployed score
// intent.KNNScore: sc plus intent.KNNWeight times each message's largest
// cosine similarity to the rows ix indexes (the tenant's own in-scope
// training messages; the pooled ones for the centralized model), the
// threshold rejecting rejectRate of val's in-scope combined scores.
// Nothing here is released: it is what a tenant can do locally.
func thresholdedKNN(h *models.LinearHead, sc intent.Scorer, ix *intent.Neighbours, val, test intentRows, rejectRate float64, m *intent.Metrics) error {
	withKNN := func(r intentRows) (in []float64, correct []bool, oos []float64, err error) {
		if in, correct, oos, err = scoreRows(h, sc, r); err != nil {
			return nil, nil, nil, err
		}
		if len(in) > 0 {
			if in, err = ix.KNNScore(in, r.x, intent.KNNWeight); err != nil {
				return nil, nil, nil, err
			}
		}
		if len(oos) > 0 {
			if oos, err = ix.KNNScore(oos, r.oos, intent.KNNWeight); err != nil {
				return nil, nil, nil, err
			}
		}
		return in, correct, oos, nil
	}
	vin, _, _, err := withKNN(val)
	if err != nil {
		return err
	}
	tau, err := intent.ScoreThreshold(vin, rejectRate)
	if err != nil {
		return err
	}
	in, correct, oos, err := withKNN(test)
	if err != nil {
		return err
	}
	intent.CountScores(m, in, correct, oos, tau)
	return nil
}

// matchedRecall is h's out-of-scope recall on test at the threshold that
// rejects rejectRate of test's own in-scope scores (a diagnostic: the
// threshold is read from the held-out messages themselves).
func matchedRecall(h *models.LinearHead, sc intent.Scorer, test intentRows, rejectRate float64) (float64, error) {
	in, _, oos, err := scoreRows(h, sc, test)
	if err != nil {
		return 0, err
	}
	if len(in) == 0 || len(oos) == 0 {
		return 0, nil
	}
	tau, err := intent.ScoreThreshold(in, rejectRate)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range oos {
		if s < tau {
			n++
		}
	}
	return ratioOf(n, len(oos)), nil
}

func ratioOf(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// runIntentLinear federates the linear intent head over the real
// coordinator (modeltask.IntentLinear: the scale's histograms, noised at
// EvalEpsilon) and measures it and its baselines on the tenants' test
// splits.
func runIntentLinear(ctx context.Context, cfg IntentConfig, labels []string, raws []intentRaw) (*IntentResult, error) {
	scale := modeltask.DefaultIntentLinearScale()
	if cfg.distributed() {
		scale.CalibrationRate = DistributedIntentCalibrationRate
	}
	if cfg.Scale != nil {
		scale = *cfg.Scale
	}
	spec, initial, err := modeltask.ClassifySpec(modeltask.KindIntent, modeltask.ClassifySetup{ID: "intent", Labels: labels,
		Adapter: modeltask.AdapterLinear, OOS: &scale}, cfg.Encoder)
	if err != nil {
		return nil, err
	}
	if scale, err = modeltask.IntentScaleOf(spec); err != nil { // with the in-scope classes
		return nil, err
	}
	oosClass := -1
	if scale.Scorer.InScopeClasses > 0 {
		oosClass = scale.Scorer.InScopeClasses
	}
	fed := TaskFederation{Spec: spec, Initial: initial}
	for _, r := range raws {
		fed.Tenants = append(fed.Tenants, TaskTenant{Name: r.name, Learner: modeltask.NewIntent(cfg.Encoder, r.train, r.test, nil)})
	}
	rc := Config{Progress: cfg.Progress, Encoder: cfg.Encoder, Rounds: cfg.Rounds, LocalSteps: cfg.LocalSteps, SampleRate: cfg.SampleRate,
		ExpectedBatch: cfg.ExpectedBatch, ClipNorm: cfg.ClipNorm, LearningRate: cfg.LearningRate, ServerLR: cfg.ServerLR,
		TargetEpsilon: cfg.TargetEpsilon, NoiseMultiplier: cfg.NoiseMultiplier, Delta: cfg.Delta, EvalEpsilon: cfg.EvalEpsilon,
		EvalEvery: cfg.EvalEvery, WeightEpsilon: Defaults().WeightEpsilon, RoundTimeout: 2 * time.Minute, Rand: cfg.Rand,
		UpdateClip: LinearDefaults().UpdateClip, Workdir: cfg.Workdir, Observe: cfg.Observe}
	if cfg.distributed() {
		// FedSGD with the noise inside secure aggregation, and the
		// noised evaluation release: the distributed noise is planned
		// to leave room for it (Config.DistributedEvaluation).
		rc.DPMode, rc.HonestTenants, rc.AssumeColluders = DPModeDistributed, cfg.HonestTenants, cfg.AssumeColluders
		rc.DistributedEvaluation, rc.Strategy = true, "fedadam"
	}
	var onRound func(RoundReport)
	if cfg.Progress != nil && cfg.Rounds >= 100 {
		// Long (distributed) runs: say where the federation is, every
		// tenth of the rounds.
		onRound = func(r RoundReport) {
			if r.Round%(cfg.Rounds/10) == 0 {
				cfg.Progress(fmt.Sprintf("round %d of %d done", r.Round, cfg.Rounds))
			}
		}
	}
	rep, err := RunTask(ctx, rc, fed, onRound)
	if err != nil {
		return nil, fmt.Errorf("intent: federation: %w", err)
	}
	if rep.FinalModel == nil {
		return nil, errors.New("intent: federation: no round aggregated")
	}
	res := &IntentResult{Intents: len(labels), Delta: cfg.Delta, Adapter: modeltask.AdapterLinear, Score: scale.Scorer,
		Steps: cfg.Rounds * cfg.LocalSteps, NoiseMultiplier: rep.Privacy.NoiseMultiplier, Federation: rep.FinalValues, FederationSD: rep.FinalValuesSD, RejectRate: cfg.RejectRate,
		FederationUnmeasurable: rep.FinalUnmeasurable}
	for _, e := range rep.Epsilon {
		res.Epsilon = max(res.Epsilon, e)
	}
	res.GlobalThreshold = rep.FinalValues["threshold"]
	res.DPMode, res.HonestTenants = rep.Privacy.Mode, rep.Privacy.HonestTenants
	if cfg.Progress != nil {
		cfg.Progress("thresholds and baselines: each tenant alone with the same DP, and centralized")
	}
	newHead := func() (*models.LinearHead, error) {
		return models.NewLinearHead(models.LinearConfig{InputDim: cfg.Encoder.Dim(), Classes: len(labels)})
	}
	global, err := newHead()
	if err != nil {
		return nil, err
	}
	if err := global.SetParams(rep.FinalModel); err != nil {
		return nil, err
	}
	type rows struct {
		name             string
		train, val, test intentRows // train.oos: the training part's out-of-scope messages, trained on only with the class
	}
	var ts []rows
	for _, r := range raws {
		t := rows{name: r.name}
		if t.train, err = encodeIntentRows(ctx, cfg.Encoder, labels, r.train); err != nil {
			return nil, err
		}
		if rowsLen(t.train.oos) == 0 && len(r.trainOOS) > 0 { // not in r.train without the class
			if t.train.oos, _, err = modeltask.EncodeSparse(ctx, cfg.Encoder, []string{intent.OOSLabel}, r.trainOOS, "intent out-of-scope training", nil); err != nil {
				return nil, err
			}
		}
		if t.val, err = encodeIntentRows(ctx, cfg.Encoder, labels, r.val); err != nil {
			return nil, err
		}
		if t.test, err = encodeIntentRows(ctx, cfg.Encoder, labels, r.test); err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	msp := intent.Scorer{Kind: intent.ScoreMSP, InScopeClasses: scale.Scorer.InScopeClasses}
	fedAcc := &meanAccuracy{}
	// The nearest-neighbour figures (FederatedKNN, CentralizedKNN) only
	// for small sets: the index takes 8 bytes a feature and a query
	// walks every posting of its features.
	pooledRows := 0
	for _, t := range ts {
		pooledRows += rowsLen(t.train.x)
	}
	knn := pooledRows <= intent.MaxNeighbourRows
	for _, t := range ts {
		in, correct, oos, err := scoreRows(global, scale.Scorer, t.test)
		if err != nil {
			return nil, err
		}
		intent.CountScores(&res.Global, in, correct, oos, res.GlobalThreshold)
		var own intent.Metrics
		if err := thresholded(global, scale.Scorer, t.val, t.test, cfg.RejectRate, &own, fedAcc); err != nil {
			return nil, fmt.Errorf("intent: %s: %w", t.name, err)
		}
		res.Federated.Merge(own)
		if err := thresholded(global, msp, t.val, t.test, cfg.RejectRate, &res.FederatedMSP, nil); err != nil {
			return nil, fmt.Errorf("intent: %s: %w", t.name, err)
		}
		if knn {
			ix, err := intent.NewNeighbours(t.train.x, cfg.Encoder.Dim())
			if err != nil {
				return nil, err
			}
			if err := thresholdedKNN(global, scale.Scorer, ix, t.val, t.test, cfg.RejectRate, &res.FederatedKNN); err != nil {
				return nil, fmt.Errorf("intent: %s: %w", t.name, err)
			}
		}
		res.Tenants = append(res.Tenants, TenantSummary{Name: t.name, Train: rowsLen(t.train.x), Val: rowsLen(t.val.x), Test: rowsLen(t.test.x),
			OOSVal: rowsLen(t.val.oos), OOSTest: rowsLen(t.test.oos)})
	}
	// Each tenant alone with the federation's DP-Adam steps and noise.
	rng, err := privacy.NewRand(cfg.Rand)
	if err != nil {
		return nil, err
	}
	locAcc := &meanAccuracy{}
	lc := models.DefaultLinearPrivateConfig(res.Steps, res.NoiseMultiplier)
	lc.LearningRate, lc.SampleRate, lc.ClipNorm, lc.ExpectedBatch = cfg.LearningRate, cfg.SampleRate, cfg.ClipNorm, cfg.ExpectedBatch
	for _, t := range ts {
		h, err := newHead()
		if err != nil {
			return nil, err
		}
		tx, ty := trainSet(t.train, oosClass)
		if _, err := models.NewLinearTrainer(h).TrainRows(tx, ty, lc, rng); err != nil {
			return nil, fmt.Errorf("intent: %s local: %w", t.name, err)
		}
		if err := thresholded(h, scale.Scorer, t.val, t.test, cfg.RejectRate, &res.Local, locAcc); err != nil {
			return nil, err
		}
	}
	// Centralized: pooled logistic regression (models.FitLinear), no
	// privacy, pooled validation threshold, both scores.
	var pooled, pooledVal, pooledTest intentRows
	var trX, trO, vaX, vaO, teX, teO []models.Rows
	for _, t := range ts {
		trX, trO, vaX, vaO, teX, teO = append(trX, t.train.x), append(trO, t.train.oos), append(vaX, t.val.x), append(vaO, t.val.oos), append(teX, t.test.x), append(teO, t.test.oos)
		pooled.y = append(pooled.y, t.train.y...)
		pooledVal.y = append(pooledVal.y, t.val.y...)
		pooledTest.y = append(pooledTest.y, t.test.y...)
	}
	pooled.x, pooled.oos = models.Concat(trX...), models.Concat(trO...)
	pooledVal.x, pooledVal.oos = models.Concat(vaX...), models.Concat(vaO...)
	pooledTest.x, pooledTest.oos = models.Concat(teX...), models.Concat(teO...)
	ph, err := newHead()
	if err != nil {
		return nil, err
	}
	px, py := trainSet(pooled, oosClass)
	if err := models.FitLinearRows(ph, px, py, models.FitOptions{}); err != nil {
		return nil, fmt.Errorf("intent: centralized: %w", err)
	}
	cenAcc := &meanAccuracy{}
	if err := thresholded(ph, scale.Scorer, pooledVal, pooledTest, cfg.RejectRate, &res.Centralized, cenAcc); err != nil {
		return nil, err
	}
	if err := thresholded(ph, msp, pooledVal, pooledTest, cfg.RejectRate, &res.CentralizedMSP, nil); err != nil {
		return nil, err
	}
	res.MatchedRecall = map[string]float64{}
	for name, m := range map[string]*models.LinearHead{"federated": global, "centralized": ph} {
		if res.MatchedRecall[name], err = matchedRecall(m, scale.Scorer, pooledTest, cfg.RejectRate); err != nil {
			return nil, err
		}
	}
	// The strongest centralized reference: the same pooled data with the
	// tenants' out-of-scope training messages as a class, scored by
	// energy minus the class's logit (with OOSClass, ph already is that
	// model). Reported so the ratio is read against it too.
	if rowsLen(pooled.oos) > 0 {
		eh, inK := ph, oosClass
		if oosClass < 0 {
			inK = len(labels)
			if eh, err = models.NewLinearHead(models.LinearConfig{InputDim: cfg.Encoder.Dim(), Classes: inK + 1}); err != nil {
				return nil, err
			}
			ex, ey := trainSet(pooled, inK)
			if err := models.FitLinearRows(eh, ex, ey, models.FitOptions{}); err != nil {
				return nil, fmt.Errorf("intent: centralized with an out-of-scope class: %w", err)
			}
		}
		eo := intent.Scorer{Kind: intent.ScoreEnergyMinusOOS, Temperature: scale.Scorer.Temperature, InScopeClasses: inK}
		res.CentralizedEnergyOOS = &intent.Metrics{}
		if err := thresholded(eh, eo, pooledVal, pooledTest, cfg.RejectRate, res.CentralizedEnergyOOS, nil); err != nil {
			return nil, err
		}
		if res.MatchedRecall["centralized_energy_oos"], err = matchedRecall(eh, eo, pooledTest, cfg.RejectRate); err != nil {
			return nil, err
		}
	}
	if knn {
		pix, err := intent.NewNeighbours(pooled.x, cfg.Encoder.Dim())
		if err != nil {
			return nil, err
		}
		if err := thresholdedKNN(ph, scale.Scorer, pix, pooledVal, pooledTest, cfg.RejectRate, &res.CentralizedKNN); err != nil {
			return nil, err
		}
	}
	res.FederatedAcc, res.LocalAcc, res.CentralizedAcc = fedAcc.mean(), locAcc.mean(), cenAcc.mean()
	return res, nil
}

// rowsLen is r's length, 0 for none.
func rowsLen(r models.Rows) int {
	if r == nil {
		return 0
	}
	return r.Len()
}
