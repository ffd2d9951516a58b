package simulate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/intent"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/protocol"
)

// IntentConfig sets up RunIntent. Zero fields take the defaults in brackets:
// the classification demo's (simulate.Defaults) except more,
// shorter rounds and a larger sampling rate, which did better on banking77
// (federated in-scope accuracy 0.51 vs 0.39 with 8×50 steps at q = 0.1, at
// the same ε = 8): with label-skewed tenants, long local runs drift apart.
type IntentConfig struct {
	Tenants      int     // [5]
	Alpha        float64 // Dirichlet label skew of the in-scope split [0.5]
	Seed         uint64  // split and LoRA seed (public) [1]
	TestFraction float64 // [0.2]
	ValFraction  float64 // of each tenant's remaining data, for calibration [0.15]
	RejectRate   float64 // in-scope validation rejected by CalibrateQuantile [0.05]
	// Joint calibrates with CalibrateJoint when a tenant's validation split
	// has out-of-scope messages (clinc150 leaves only a handful per tenant,
	// too few: the default is CalibrateQuantile).
	Joint bool

	// Adapter is the classifier: modeltask.AdapterLinear (default: the
	// full-rank linear head over hashed features, DP-Adam, exact FedAvg,
	// out-of-scope score Scale) or modeltask.AdapterHead (the LoRA head,
	// maximum softmax). Bracketed defaults below are the head's; the
	// linear head's are simulate.LinearDefaults' (8 rounds × 100 steps,
	// q = 0.1, learning rate 0.05, server learning rate 1, hashing with
	// models.DefaultLinearDim buckets).
	Adapter string
	// Scale is the linear head's out-of-scope score and histogram range
	// (nil: modeltask.DefaultIntentLinearScale).
	Scale *modeltask.IntentScale
	// OOSClass (linear head only) trains each tenant's out-of-scope
	// training messages as one more class, intent.OOSLabel, last
	// (Larson et al. 2019's "oos-train"): the out-of-scope score still
	// reads the in-scope logits only (intent.Scorer.InScopeClasses).
	// Every model trains the same way: each tenant alone and the
	// centralized one too. Without it out-of-scope messages are never
	// trained on.
	OOSClass bool

	Rank       int     // [models.DefaultRank]
	Rounds     int     // [40]
	LocalSteps int     // [10]
	SampleRate float64 // [0.3]
	// ExpectedBatch is DP-SGD's public normaliser (models.TrainConfig)
	// [SampleRate·models.DefaultExpectedRecords].
	ExpectedBatch   float64
	ClipNorm        float64 // [1]
	LearningRate    float64 // [8]
	Momentum        float64 // [0.9]
	ServerLR        float64 // FedAvg server learning rate [1.5]
	NoiseMultiplier float64 // 0: calibrated to TargetEpsilon
	TargetEpsilon   float64 // record-level per tenant [8]
	Delta           float64 // [1e-5]
	CentralSteps    int     // non-private centralized steps [3000]

	Encoder models.Encoder
	Rand    io.Reader // seeds each party's CSPRNG; nil means crypto/rand
	// EvalEpsilon is each tenant's record-level ε per noised evaluation
	// release of the federation (within TargetEpsilon).
	EvalEpsilon float64
	// EvalEvery > 1 evaluates only every EvalEvery-th round and the last
	// [10]: the final evaluation gives the deployed threshold, the others
	// only the operator's progress view, and each costs budget that
	// training noise would otherwise get.
	EvalEvery int
	// Progress, if set, is told when each long local step starts.
	Progress func(step string)
	// Observe, if set, sees every coordinator event of the linear head's
	// federation (Config.Observe).
	Observe func(protocol.TaskSpec, *coordinator.Federation, coordinator.Event)
	// Workdir, if set, keeps every party's keys and ledger on disk
	// (Config.Workdir).
	Workdir string

	// DPMode DPModeDistributed (linear head only) trains in the
	// record-level distributed mode (Config.DPMode) with
	// DistributedDefaults' settings for the fields left zero (1,000
	// one-step rounds, q = 0.1, C = 0.1, FedAdam at 0.1) and one noised
	// evaluation after the last round (EvalEvery = Rounds;
	// Config.DistributedEvaluation): the global threshold comes from its
	// noised histograms, charged to each tenant's ledger within
	// TargetEpsilon. The published model is the last version (no
	// iterate average: the evaluation measures it). HonestTenants and
	// AssumeColluders are Config's.
	DPMode          string
	HonestTenants   int
	AssumeColluders int
}

// distributed says whether c runs the record-level distributed mode.
func (c IntentConfig) distributed() bool { return c.DPMode == DPModeDistributed }

// intentRaw is one tenant's messages: in-scope training messages (its
// out-of-scope ones too with IntentConfig.OOSClass), validation and
// held-out test messages of both kinds.
type intentRaw struct {
	name             string
	train, val, test []dataset.Example
	// trainOOS are the out-of-scope messages of the training part,
	// whether or not train holds them (the centralized reference with
	// a trained class reads them).
	trainOOS []dataset.Example
}

// splitIntentTenants deals in-scope messages by Dirichlet label skew and
// out-of-scope ones round-robin, holds out each tenant's TestFraction by
// its keyed split and its ValFraction of the rest for validation.
func splitIntentTenants(in, oos []dataset.Example, cfg IntentConfig) ([]intentRaw, error) {
	parts, err := dataset.SplitDirichlet(in, cfg.Tenants, cfg.Alpha, cfg.Seed, dataset.SplitOptions{})
	if err != nil {
		return nil, fmt.Errorf("intent: split: %w", err)
	}
	var out []intentRaw
	for i, p := range parts {
		for j := i; j < len(oos); j += cfg.Tenants {
			p = append(p, oos[j])
		}
		key := dataset.SimulationSplitKey(cfg.Seed, i)
		rest, test := dataset.TrainTestSplit(p, cfg.TestFraction, key)
		train, val := dataset.TrainTestSplit(rest, cfg.ValFraction, key.Derive("validation"))
		r := intentRaw{name: fmt.Sprintf("tenant-%d", i+1), val: val, test: test}
		r.train, r.trainOOS = intent.SplitOOS(train)
		if cfg.OOSClass {
			r.train = train // out-of-scope messages are trained on only as their own class
		}
		out = append(out, r)
	}
	return out, nil
}

// intentTenant is one tenant's raw examples.
type intentTenant struct {
	name        string
	train, test []dataset.Example
}

func (c *IntentConfig) fill() error {
	c.Adapter = cmp.Or(c.Adapter, modeltask.AdapterLinear)
	switch c.Adapter {
	case modeltask.AdapterHead:
	case modeltask.AdapterLinear:
		l := LinearDefaults()
		if c.distributed() {
			l = DistributedDefaults()
			c.ClipNorm = cmp.Or(c.ClipNorm, l.ClipNorm)
			c.Rounds = cmp.Or(c.Rounds, l.Rounds)
			c.EvalEvery = cmp.Or(c.EvalEvery, c.Rounds) // one evaluation, after the last round
		}
		c.Rounds = cmp.Or(c.Rounds, l.Rounds)
		c.LocalSteps = cmp.Or(c.LocalSteps, l.LocalSteps)
		c.SampleRate = cmp.Or(c.SampleRate, l.SampleRate)
		c.LearningRate = cmp.Or(c.LearningRate, l.LearningRate)
		c.ServerLR = cmp.Or(c.ServerLR, l.ServerLR)
		c.ExpectedBatch = cmp.Or(c.ExpectedBatch, modeltask.DefaultExpectedBatch)
		if c.Encoder == nil {
			enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: models.DefaultLinearDim})
			if err != nil {
				return err
			}
			c.Encoder = enc
		}
	default:
		return fmt.Errorf("intent: adapter %q (want %q or %q)", c.Adapter, modeltask.AdapterLinear, modeltask.AdapterHead)
	}
	if c.OOSClass && c.Adapter != modeltask.AdapterLinear {
		return fmt.Errorf("intent: a trained %q class needs the linear adapter", intent.OOSLabel)
	}
	if c.DPMode != "" && c.DPMode != "local" && !(c.distributed() && c.Adapter == modeltask.AdapterLinear) {
		return fmt.Errorf("intent: dp mode %q needs the linear adapter (want local or %q)", c.DPMode, DPModeDistributed)
	}
	c.Tenants = cmp.Or(c.Tenants, 5)
	c.Alpha = cmp.Or(c.Alpha, 0.5)
	if c.Seed == 0 {
		c.Seed = 1
	}
	c.TestFraction = cmp.Or(c.TestFraction, 0.2)
	c.ValFraction = cmp.Or(c.ValFraction, 0.15)
	c.RejectRate = cmp.Or(c.RejectRate, 0.05)
	c.Rank = cmp.Or(c.Rank, models.DefaultRank)
	c.Rounds = cmp.Or(c.Rounds, 40)
	c.LocalSteps = cmp.Or(c.LocalSteps, 10)
	c.SampleRate = cmp.Or(c.SampleRate, 0.3)
	c.ExpectedBatch = cmp.Or(c.ExpectedBatch, c.SampleRate*models.DefaultExpectedRecords)
	c.ClipNorm = cmp.Or(c.ClipNorm, 1)
	c.LearningRate = cmp.Or(c.LearningRate, 8)
	c.Momentum = cmp.Or(c.Momentum, 0.9)
	c.ServerLR = cmp.Or(c.ServerLR, 1.5)
	c.TargetEpsilon = cmp.Or(c.TargetEpsilon, 8)
	c.Delta = cmp.Or(c.Delta, 1e-5)
	c.CentralSteps = cmp.Or(c.CentralSteps, 3000)
	c.EvalEvery = cmp.Or(c.EvalEvery, 10)
	enc, err := models.OrDefault(c.Encoder)
	if err != nil {
		return err
	}
	c.Encoder = enc
	return nil
}

// IntentResult holds the pooled test metrics (each tenant thresholds with its
// own calibrated threshold) of the federated model and the baselines.
type IntentResult struct {
	Tenants []TenantSummary
	Intents int
	// Global is the federated model with the global threshold the
	// federation's last noised evaluation gives (task.IntentMetrics: the
	// boundary rejecting at most 5 % of the noised calibration
	// histogram), applied by every tenant to its test split: calibrated
	// only from noised statistics.
	Global          intent.Metrics
	GlobalThreshold float64
	// Federated is the federated model with each tenant's own threshold,
	// calibrated locally on its validation split.
	Federated   intent.Metrics
	Local       intent.Metrics // each tenant alone, same DP-SGD steps
	Centralized intent.Metrics // pooled data, no privacy, pooled calibration
	// FederatedMSP and CentralizedMSP (linear head only) are the
	// federated and centralized models with the maximum-softmax score
	// instead of Score, thresholded as Federated and Centralized are:
	// the simple baseline score.
	FederatedMSP, CentralizedMSP intent.Metrics
	// FederatedKNN and CentralizedKNN (linear head only) add to Score
	// intent.KNNWeight times each message's largest cosine similarity to
	// the tenant's own in-scope training messages (to every pooled one,
	// centralized), thresholded as Federated and Centralized are, on the
	// validation split: what a tenant can compute as deployed. The
	// similarity depends on raw data with no small sensitivity, so no
	// noised statistic of it is released and there is no global
	// threshold for it. Zero (not measured) above
	// intent.MaxNeighbourRows pooled training messages.
	FederatedKNN, CentralizedKNN intent.Metrics
	// CentralizedEnergyOOS (linear head, when the tenants' training
	// parts hold out-of-scope messages) is the strongest centralized
	// reference found: pooled LR trained with those messages as one more
	// class, scored by intent.ScoreEnergyMinusOOS, thresholded as
	// Centralized is (with IntentConfig.OOSClass the same model as
	// Centralized; without it a second one).
	CentralizedEnergyOOS *intent.Metrics
	// MatchedRecall (linear head) is each model's out-of-scope recall at
	// the threshold that rejects RejectRate of the pooled held-out
	// in-scope messages themselves ("federated", "centralized",
	// "centralized_energy_oos"): a diagnostic of the models' scores alone,
	// without any calibration error, which no deployment can compute.
	MatchedRecall map[string]float64
	// RejectRate is IntentConfig.RejectRate: the in-scope rejection every
	// threshold aims at.
	RejectRate      float64
	Adapter         string
	Score           intent.Scorer // the out-of-scope score of every figure but the MSP ones
	FederatedAcc    float64       // in-scope argmax accuracy without threshold
	LocalAcc        float64
	CentralizedAcc  float64
	Epsilon, Delta  float64 // record-level per tenant
	NoiseMultiplier float64
	// DPMode is the record-level trust model (PrivacyReport.Mode: "" for
	// local DP-SGD, DPModeDistributed) and HonestTenants the shares the
	// distributed mode's ε assumes.
	DPMode        string
	HonestTenants int
	Steps         int
	// Federation is the operator's view: the federation's noised final
	// evaluation (global threshold chosen from the noised histograms).
	Federation map[string]float64
	// FederationSD is roughly how much the noise moves each of
	// Federation (Report.FinalValuesSD).
	FederationSD map[string]float64
	// FederationUnmeasurable (Report.FinalUnmeasurable) lists the ratios
	// of Federation the noise alone could have made.
	FederationUnmeasurable []string
}

// TenantSummary describes one simulated tenant.
type TenantSummary struct {
	Name                              string
	Train, Val, Test, OOSVal, OOSTest int
	Threshold                         float64 // federated model's calibrated threshold
}

type intentSplits struct {
	name             string
	train, val, test intent.Split
	raw              intentTenant
}

// RunIntent splits labelled messages among tenants (in-scope by Dirichlet
// label skew, out-of-scope messages, label intent.OOSLabel, dealt round-robin and
// used only for validation and test), trains the LoRA classifier with
// DP-SGD and FedAvg, calibrates each tenant's threshold on its own
// validation split and reports in-scope accuracy and out-of-scope recall on
// the tenants' test splits, against a local-only and a centralized model.
func RunIntent(ctx context.Context, ex []dataset.Example, cfg IntentConfig) (*IntentResult, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	in, oos := intent.SplitOOS(ex)
	labels, index := dataset.LabelIndex(in)
	if len(labels) < 2 {
		return nil, fmt.Errorf("intent: need at least 2 in-scope intents, have %d", len(labels))
	}
	raws, err := splitIntentTenants(in, oos, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.OOSClass {
		labels = append(labels, intent.OOSLabel)
	}
	if cfg.Adapter == modeltask.AdapterLinear {
		return runIntentLinear(ctx, cfg, labels, raws)
	}
	clf, err := models.NewClassifier(models.ClassifierConfig{InputDim: cfg.Encoder.Dim(), Rank: cfg.Rank, Classes: len(labels), Seed: cfg.Seed})
	if err != nil {
		return nil, err
	}
	project := func(es []dataset.Example) (intent.Split, error) {
		var s intent.Split
		var inT, oosT []string
		for _, e := range es {
			if e.Label == intent.OOSLabel {
				oosT = append(oosT, e.Text)
			} else {
				inT = append(inT, e.Text)
				s.Y = append(s.Y, index[e.Label])
			}
		}
		var err error
		if s.X, err = intentProject(ctx, cfg.Encoder, clf, inT); err != nil {
			return s, err
		}
		s.OOS, err = intentProject(ctx, cfg.Encoder, clf, oosT)
		return s, err
	}
	res := &IntentResult{Intents: len(labels), Delta: cfg.Delta, Adapter: cfg.Adapter, Score: intent.Scorer{Kind: intent.ScoreMSP}}
	if cfg.Progress != nil {
		cfg.Progress("encoding the tenants' messages")
	}
	var ts []*intentSplits
	for _, r := range raws {
		t := &intentSplits{name: r.name, raw: intentTenant{name: r.name, train: r.train, test: r.test}}
		if t.train, err = project(r.train); err != nil {
			return nil, err
		}
		if t.val, err = project(r.val); err != nil {
			return nil, err
		}
		if t.test, err = project(r.test); err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	res.Steps = cfg.Rounds * cfg.LocalSteps
	global, err := federateIntents(ctx, cfg, labels, clf, ts, res)
	if err != nil {
		return nil, fmt.Errorf("intent: federation: %w", err)
	}
	if cfg.Progress != nil {
		cfg.Progress("thresholds and baselines: each tenant alone with the same DP, and centralized")
	}
	return res, finishIntent(clf, ts, labels, global, cfg, res)
}

// federateIntents trains the global classifier over the real coordinator,
// clients, mutual TLS and secure aggregation (RunTask), each tenant's
// evaluation noised at cfg.EvalEpsilon. The federation's own (noised)
// final metrics, what the operator sees, go to res.Federation.
func federateIntents(ctx context.Context, c IntentConfig, labels []string, clf *models.Classifier, ts []*intentSplits, res *IntentResult) ([]float64, error) {
	cc := clf.Config()
	spec, initial, err := modeltask.ClassifySpec(modeltask.KindIntent, modeltask.ClassifySetup{ID: "intent", Labels: labels,
		Seed: cc.Seed, Rank: cc.Rank, Alpha: cc.Alpha}, c.Encoder)
	if err != nil {
		return nil, err
	}
	fed := TaskFederation{Spec: spec, Initial: initial}
	for _, t := range ts {
		fed.Tenants = append(fed.Tenants, TaskTenant{Name: t.name, Learner: modeltask.NewIntent(c.Encoder, t.raw.train, t.raw.test, nil)})
	}
	cfg := Config{Progress: c.Progress, Encoder: c.Encoder, Rounds: c.Rounds, LocalSteps: c.LocalSteps, SampleRate: c.SampleRate, ExpectedBatch: c.ExpectedBatch, ClipNorm: c.ClipNorm,
		LearningRate: c.LearningRate, ServerLR: c.ServerLR, TargetEpsilon: c.TargetEpsilon, NoiseMultiplier: c.NoiseMultiplier, Delta: c.Delta,
		EvalEpsilon: c.EvalEpsilon, EvalEvery: c.EvalEvery, WeightEpsilon: Defaults().WeightEpsilon, RoundTimeout: time.Minute, Rand: c.Rand, Workdir: c.Workdir}
	rep, err := RunTask(ctx, cfg, fed, nil)
	if err != nil {
		return nil, err
	}
	if rep.FinalModel == nil {
		return nil, errors.New("no round aggregated")
	}
	for _, e := range rep.Epsilon {
		res.Epsilon = max(res.Epsilon, e)
	}
	res.NoiseMultiplier, res.Federation, res.FederationSD = rep.Privacy.NoiseMultiplier, rep.FinalValues, rep.FinalValuesSD
	res.FederationUnmeasurable = rep.FinalUnmeasurable
	res.GlobalThreshold = rep.FinalValues["threshold"]
	return rep.FinalModel, nil
}

// finishIntent thresholds and evaluates the federated model on each tenant and
// runs the baselines.
func finishIntent(clf *models.Classifier, ts []*intentSplits, labels []string, global []float64, cfg IntentConfig, res *IntentResult) error {
	rng, err := privacy.NewRand(cfg.Rand)
	if err != nil {
		return err
	}
	tc := models.TrainConfig{Steps: cfg.LocalSteps, LearningRate: cfg.LearningRate, Momentum: cfg.Momentum, Private: true,
		SampleRate: cfg.SampleRate, ClipNorm: cfg.ClipNorm, NoiseMultiplier: res.NoiseMultiplier, ExpectedBatch: cfg.ExpectedBatch}
	if err := clf.SetParams(global); err != nil {
		return err
	}
	fedAcc, locAcc := &meanAccuracy{}, &meanAccuracy{}
	zero := make([]float64, len(global))
	for _, t := range ts {
		d := &intent.Detector{Classifier: clf, Labels: labels}
		if err := d.Calibrate(t.val, cfg.RejectRate, cfg.Joint); err != nil {
			return fmt.Errorf("intent: %s: %w", t.name, err)
		}
		m, acc, err := d.Evaluate(t.test)
		if err != nil {
			return err
		}
		res.Federated.Merge(m)
		fedAcc.add(acc, len(t.test.X))
		g := &intent.Detector{Classifier: clf, Labels: labels, Threshold: res.GlobalThreshold}
		if m, _, err = g.Evaluate(t.test); err != nil {
			return err
		}
		res.Global.Merge(m)
		res.Tenants = append(res.Tenants, TenantSummary{Name: t.name, Train: len(t.train.X), Val: len(t.val.X), Test: len(t.test.X),
			OOSVal: len(t.val.OOS), OOSTest: len(t.test.OOS), Threshold: d.Threshold})
	}
	// Local only: same DP-SGD steps on the tenant's own data.
	lc := tc
	lc.Steps = res.Steps
	for _, t := range ts {
		if err := clf.SetParams(zero); err != nil {
			return err
		}
		if len(t.train.X) > 0 {
			if _, err := clf.Train(t.train.X, t.train.Y, lc, rng); err != nil {
				return fmt.Errorf("intent: %s local: %w", t.name, err)
			}
		}
		d := &intent.Detector{Classifier: clf, Labels: labels}
		if err := d.Calibrate(t.val, cfg.RejectRate, cfg.Joint); err != nil {
			return err
		}
		m, acc, err := d.Evaluate(t.test)
		if err != nil {
			return err
		}
		res.Local.Merge(m)
		locAcc.add(acc, len(t.test.X))
	}
	// Centralized: pooled train, pooled validation, no privacy.
	var all intentSplits
	for _, t := range ts {
		all.train.X, all.train.Y = append(all.train.X, t.train.X...), append(all.train.Y, t.train.Y...)
		all.val.X, all.val.Y, all.val.OOS = append(all.val.X, t.val.X...), append(all.val.Y, t.val.Y...), append(all.val.OOS, t.val.OOS...)
		all.test.X, all.test.Y, all.test.OOS = append(all.test.X, t.test.X...), append(all.test.Y, t.test.Y...), append(all.test.OOS, t.test.OOS...)
	}
	if err := clf.SetParams(zero); err != nil {
		return err
	}
	cc := models.DefaultTrainConfig()
	cc.Steps = cfg.CentralSteps
	if _, err := clf.Train(all.train.X, all.train.Y, cc, rng); err != nil {
		return fmt.Errorf("intent: centralized: %w", err)
	}
	d := &intent.Detector{Classifier: clf, Labels: labels}
	if err := d.Calibrate(all.val, cfg.RejectRate, cfg.Joint); err != nil {
		return err
	}
	if res.Centralized, res.CentralizedAcc, err = d.Evaluate(all.test); err != nil {
		return err
	}
	res.FederatedAcc, res.LocalAcc = fedAcc.mean(), locAcc.mean()
	return nil
}

type meanAccuracy struct{ sum, n float64 }

func (a *meanAccuracy) add(acc float64, n int) { a.sum += acc * float64(n); a.n += float64(n) }
func (a *meanAccuracy) mean() float64 {
	if a.n == 0 {
		return 0
	}
	return a.sum / a.n
}

// intentProject encodes texts and projects them for clf.
func intentProject(ctx context.Context, enc models.Encoder, clf *models.Classifier, texts []string) ([][]float64, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	x, err := enc.Encode(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("intent: encode: %w", err)
	}
	return clf.Project(x)
}
