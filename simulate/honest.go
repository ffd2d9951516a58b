package simulate

import (
	"context"
	"fmt"

	"github.com/fedb2b/fedb2b/models"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
)

// Keys of Report.Baselines for the honest references (issue #16): what a
// tenant gets without joining and what pooling would give, with a strong
// learner trained well and no privacy, on the task's encoder features.
const (
	// BaselinePooled is multinomial logistic regression (models.FitLinear,
	// C = 10, L-BFGS) on every tenant's training data pooled, no DP: the
	// reference the federation is measured against.
	BaselinePooled = "pooled_nonprivate"
	// BaselineAlone is each tenant's own logistic regression on its own
	// training data only, no DP (data that never leaves needs no noise):
	// Metrics is the mean over tenants, PerTenant each one.
	BaselineAlone = "alone_nonprivate"
	// BaselineAloneBest is the best tenant of BaselineAlone.
	BaselineAloneBest = "alone_nonprivate_best"
	// BaselineLocalDP is each tenant alone with the federation's own
	// DP training and budget (the weak baseline, kept and labelled as
	// what it is); key "local_only" as before.
	BaselineLocalDP = "local_only"
)

// honestData is the union of held-out splits and each tenant's training
// split, sparse-encoded with the task's encoder as the tenants' linear
// learners do.
type honestData struct {
	testX  models.Rows
	testY  []int
	trainX []models.Rows
	trainY [][]int
}

// encodeHonest gathers the tenants' encoded data: a tenant's linear
// learner already holds exactly these rows (the same encoder, labels and
// split), so they are shared rather than encoded a second time; other
// tenants' data is encoded here.
func encodeHonest(ctx context.Context, cfg Config, s *splitData, learners []modeltask.Learner) (*honestData, error) {
	var d honestData
	var tests []models.Rows
	for i, t := range s.tenants {
		var l *modeltask.LinearClassifier
		if i < len(learners) {
			l, _ = learners[i].(*modeltask.LinearClassifier)
		}
		if l != nil {
			x, y, tx, ty := l.Data()
			d.trainX, d.trainY = append(d.trainX, x), append(d.trainY, y)
			tests, d.testY = append(tests, tx), append(d.testY, ty...)
			continue
		}
		x, y, err := modeltask.EncodeSparse(ctx, cfg.Encoder, s.labels, t.train, "baseline", cfg.Log)
		if err != nil {
			return nil, err
		}
		tx, ty, err := modeltask.EncodeSparse(ctx, cfg.Encoder, s.labels, t.test, "baseline", cfg.Log)
		if err != nil {
			return nil, err
		}
		d.trainX, d.trainY = append(d.trainX, x), append(d.trainY, y)
		tests, d.testY = append(tests, tx), append(d.testY, ty...)
	}
	d.testX = models.Concat(tests...)
	return &d, nil
}

func (d *honestData) evaluate(h *models.LinearHead) (Metrics, error) {
	m, err := h.EvaluateRows(d.testX, d.testY)
	if err != nil {
		return Metrics{}, err
	}
	return MetricsFromConfusion(m.Counts, h.Config().Classes), nil
}

// runHonestBaselines adds BaselinePooled, BaselineAlone and
// BaselineAloneBest to rep, all evaluated on the union of the tenants'
// held-out splits like the federated model; with the linear adapter also
// BaselineLocalDP, each tenant alone with the federation's DP-Adam
// settings and noise for the same number of steps (the same ε).
func runHonestBaselines(ctx context.Context, cfg Config, s *splitData, rep *Report) error {
	d, err := encodeHonest(ctx, cfg, s, rep.learners)
	if err != nil {
		return err
	}
	newHead := func() (*models.LinearHead, error) {
		return models.NewLinearHead(models.LinearConfig{InputDim: cfg.Encoder.Dim(), Classes: len(s.labels)})
	}
	if rep.Baselines == nil {
		rep.Baselines = map[string]Baseline{}
	}
	var pooledY []int
	for i := range d.trainX {
		pooledY = append(pooledY, d.trainY[i]...)
	}
	pooledX := models.Concat(d.trainX...)
	h, err := newHead()
	if err != nil {
		return err
	}
	if err := models.FitLinearRows(h, pooledX, pooledY, models.FitOptions{}); err != nil {
		return fmt.Errorf("simulate: pooled baseline: %w", err)
	}
	m, err := d.evaluate(h)
	if err != nil {
		return err
	}
	rep.Baselines[BaselinePooled] = Baseline{Metrics: m}

	alone := Baseline{PerTenant: map[string]Metrics{}}
	var best Metrics
	var bestName string
	for i, t := range s.tenants {
		if d.trainX[i].Len() == 0 {
			continue
		}
		h, err := newHead()
		if err != nil {
			return err
		}
		if err := models.FitLinearRows(h, d.trainX[i], d.trainY[i], models.FitOptions{}); err != nil {
			return fmt.Errorf("simulate: %s alone: %w", t.name, err)
		}
		m, err := d.evaluate(h)
		if err != nil {
			return err
		}
		alone.PerTenant[t.name] = m
		alone.Accuracy += m.Accuracy / float64(len(s.tenants))
		alone.MacroF1 += m.MacroF1 / float64(len(s.tenants))
		alone.Examples = m.Examples
		if bestName == "" || m.Accuracy > best.Accuracy {
			best, bestName = m, t.name
		}
	}
	rep.Baselines[BaselineAlone] = alone
	rep.Baselines[BaselineAloneBest] = Baseline{Metrics: best, PerTenant: map[string]Metrics{bestName: best}}

	if cfg.Adapter != modeltask.AdapterLinear || cfg.distributed() {
		// The distributed mode's DP-SGD step is pooled across tenants;
		// a tenant alone has no such noise to share.
		return nil
	}
	rng, err := privacy.NewRand(cfg.Rand)
	if err != nil {
		return err
	}
	local := Baseline{PerTenant: map[string]Metrics{}}
	for i, t := range s.tenants {
		h, err := newHead()
		if err != nil {
			return err
		}
		lc := models.DefaultLinearPrivateConfig(cfg.Rounds*cfg.LocalSteps, cfg.NoiseMultiplier)
		lc.LearningRate, lc.SampleRate, lc.ClipNorm, lc.ExpectedBatch = cfg.LearningRate, cfg.SampleRate, cfg.ClipNorm, modeltask.DefaultExpectedBatch
		if _, err := models.NewLinearTrainer(h).TrainRows(d.trainX[i], d.trainY[i], lc, rng); err != nil {
			return fmt.Errorf("simulate: local-only baseline of %s: %w", t.name, err)
		}
		m, err := d.evaluate(h)
		if err != nil {
			return err
		}
		local.PerTenant[t.name] = m
		local.Accuracy += m.Accuracy / float64(len(s.tenants))
		local.MacroF1 += m.MacroF1 / float64(len(s.tenants))
		local.Examples = m.Examples
	}
	rep.Baselines[BaselineLocalDP] = local
	return nil
}
