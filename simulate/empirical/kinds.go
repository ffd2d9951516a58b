package empirical

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/bert"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/models/recommend"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/protocol"
)

// Options chooses what Scenarios builds.
type Options struct {
	// Kinds to audit; empty means Kinds (without encoder-lora unless
	// BERTDir is set).
	Kinds []string
	// BERTDir is a BERT-family model directory for the encoder-lora kind
	// (models/bert/testdata/tiny-bert in the tests).
	BERTDir string
	// Broken adds, for every kind, the update scenario with the former
	// normalisation by q·N of the tenant's own N.
	Broken bool
	// Exact adds the exact (ε = 0) evaluation and weight releases.
	Exact bool
	// Delta of every claim (default 1e-5).
	Delta float64
	// NoiseMultiplier, SampleRate and Steps of the audited round
	// (defaults 3, 0.5, 1): one DP-SGD round of the kind's learner.
	NoiseMultiplier, SampleRate float64
	Steps                       int
	// EvalEpsilon and WeightEpsilon of the audited releases (defaults 1
	// and 1).
	EvalEpsilon, WeightEpsilon float64
}

// Kinds are the task kinds Scenarios knows.
var Kinds = []string{task.KindClassify, task.KindIntent, task.KindForecast, task.KindRecommend, KindEncoderLoRA}

// KindEncoderLoRA names the classification task with LoRA inside a BERT
// encoder (task.AdapterEncoderLoRA).
const KindEncoderLoRA = "encoder-lora"

func (o *Options) fill() {
	if o.Delta == 0 {
		o.Delta = 1e-5
	}
	if o.NoiseMultiplier == 0 {
		o.NoiseMultiplier = 3
	}
	if o.SampleRate == 0 {
		o.SampleRate = 0.5
	}
	if o.Steps == 0 {
		o.Steps = 1
	}
	if o.EvalEpsilon == 0 {
		o.EvalEpsilon = 1
	}
	if o.WeightEpsilon == 0 {
		o.WeightEpsilon = 1
	}
	if len(o.Kinds) == 0 {
		for _, k := range Kinds {
			if k != KindEncoderLoRA || o.BERTDir != "" {
				o.Kinds = append(o.Kinds, k)
			}
		}
	}
}

// Scenarios builds the audit scenarios of o: for every kind one round's
// update and the evaluation statistics, and the weight release (with the
// broken and exact variants when asked).
func Scenarios(ctx context.Context, o Options) ([]Scenario, error) {
	o.fill()
	tp := protocol.TrainParams{SampleRate: o.SampleRate, ClipNorm: 1, NoiseMultiplier: o.NoiseMultiplier,
		LocalSteps: o.Steps, LearningRate: 1}
	var out []Scenario
	for _, k := range o.Kinds {
		train, held, err := pairs(ctx, k, o, tp)
		if err != nil {
			return nil, fmt.Errorf("empirical: kind %s: %w", k, err)
		}
		s, err := updateScenario(train, tp, o.Delta, false)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		if o.Broken {
			if s, err = updateScenario(train, tp, o.Delta, true); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		epss := []float64{o.EvalEpsilon}
		if o.Exact {
			epss = append(epss, 0)
		}
		for _, eps := range epss {
			s, err := evalScenario(held, eps, o.Delta)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	out = append(out, weightScenario(100, o.WeightEpsilon, o.Delta))
	if o.Exact {
		out = append(out, weightScenario(100, 0, o.Delta))
	}
	return out, nil
}

// pairs builds kind k's learners on neighbouring data sets: for the
// update audit (one training unit removed) and for the evaluation audit
// (one held-out unit removed).
func pairs(ctx context.Context, k string, o Options, tp protocol.TrainParams) (train, held pair, err error) {
	switch k {
	case task.KindClassify, task.KindIntent, KindEncoderLoRA:
		return textPairs(ctx, k, o)
	case task.KindForecast:
		return forecastPairs(ctx)
	case task.KindRecommend:
		return recommendPairs(ctx)
	}
	return pair{}, pair{}, fmt.Errorf("unknown kind %q (known: %v)", k, Kinds)
}

// build makes the learners of the two worlds from factories.
func build(ctx context.Context, kind, unit string, spec protocol.TaskSpec, initial []float64, f [2]task.Factory) (pair, error) {
	p := pair{kind: kind, unit: unit, spec: spec, initial: initial}
	for w := range f {
		l, err := f[w](ctx, spec)
		if err != nil {
			return p, err
		}
		p.learners[w] = l
	}
	return p, nil
}

// auditBatch is the public expected batch of every audited task.
const auditBatch = 5

// withBatch announces the audit's expected batch with spec.
func withBatch(spec protocol.TaskSpec) (protocol.TaskSpec, error) {
	err := task.SetExpectedBatch(&spec, auditBatch)
	return spec, err
}

// textPairs: 10 training and 30 held-out synthetic company profiles.
func textPairs(ctx context.Context, k string, o Options) (train, held pair, err error) {
	ex := dataset.Synthesize(dataset.SynthConfig{Seed: 13, Records: 40, ZhFraction: dataset.EnglishOnly})
	labels, _ := dataset.LabelIndex(ex)
	tr, te := ex[:10], ex[10:]
	var enc models.Encoder
	setup := task.ClassifySetup{ID: "audit-" + k, Labels: labels, Seed: 3, Rank: 128, Alpha: 128}
	kind, unit := k, "labelled text"
	switch k {
	case KindEncoderLoRA:
		be, err := bert.Load(o.BERTDir, bert.Options{Pooling: bert.PoolMean, Normalize: true})
		if err != nil {
			return pair{}, pair{}, err
		}
		enc = be
		kind = task.KindClassify
		setup.Adapter, setup.LoRALayers, setup.Rank, setup.Alpha = task.AdapterEncoderLoRA, 1, 4, 8
	default:
		if enc, err = models.NewHashingEncoder(models.HashingConfig{Dim: 1024}); err != nil {
			return pair{}, pair{}, err
		}
	}
	if k == task.KindIntent {
		unit = "message"
	}
	spec, initial, err := task.ClassifySpec(kind, setup, enc)
	if err != nil {
		return pair{}, pair{}, err
	}
	if spec, err = withBatch(spec); err != nil {
		return pair{}, pair{}, err
	}
	factory := func(train, test []dataset.Example) task.Factory {
		if kind == task.KindIntent {
			return task.NewIntent(enc, train, test, nil)
		}
		return task.NewClassifier(enc, train, test, nil)
	}
	if train, err = build(ctx, k, unit, spec, initial, [2]task.Factory{factory(tr, te), factory(tr[1:], te)}); err != nil {
		return pair{}, pair{}, err
	}
	held, err = build(ctx, k, unit, spec, initial, [2]task.Factory{factory(tr, te), factory(tr, te[1:])})
	return train, held, err
}

// week0 is the synthetic calendar's first Monday.
var week0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// sale is one synthetic order line.
func sale(week int, customer, product string, qty float64) forecast.Transaction {
	return forecast.Transaction{Time: week0.AddDate(0, 0, 7*week+1), Customer: customer, Product: product,
		Description: "product " + product, Quantity: qty, UnitPrice: 1}
}

// forecastPairs: a 6-week calendar with the last 2 weeks held out and 256
// description features (so the update has 260-odd coordinates); the
// privacy unit is the customer. Customer c1 orders product 10001 every
// week, so it has training rows at weeks 1 to 3 and held-out rows; c2
// orders 10099 once, in week 2, which gives it a training row (week 3) and
// two held-out rows. D′ removes c2: one training unit (2 against 1) and
// one held-out unit, so one pair serves both audits.
func forecastPairs(ctx context.Context) (train, held pair, err error) {
	var tx []forecast.Transaction
	for w := range 6 {
		tx = append(tx, sale(w, "c1", "10001", float64(3+w%3)))
	}
	z := sale(2, "c2", "10099", 7)
	withZ := append(slices.Clone(tx), z)
	cal, err := forecast.CalendarOf(withZ)
	if err != nil {
		return pair{}, pair{}, err
	}
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	if err != nil {
		return pair{}, pair{}, err
	}
	spec, initial, err := task.ForecastSpec("audit-forecast", enc, forecast.Setup{Calendar: cal, Holdout: 2, TextDim: 256}, 5)
	if err != nil {
		return pair{}, pair{}, err
	}
	if spec, err = withBatch(spec); err != nil {
		return pair{}, pair{}, err
	}
	if train, err = build(ctx, task.KindForecast, "customer", spec, initial,
		[2]task.Factory{task.NewForecast(enc, withZ, nil), task.NewForecast(enc, tx, nil)}); err != nil {
		return pair{}, pair{}, err
	}
	if d := train.learners[0].TrainSize() - train.learners[1].TrainSize(); d != 1 {
		return pair{}, pair{}, fmt.Errorf("forecast audit data: training customers differ by %d, want 1", d)
	}
	return train, train, nil
}

// recommendPairs: 20 products, 10 customers who each buy 3 products
// before the cut and 2 after; D′ removes one customer.
func recommendPairs(ctx context.Context) (train, held pair, err error) {
	var tx []forecast.Transaction
	for c := range 10 {
		cust := fmt.Sprintf("c%d", c)
		for j := range 3 {
			tx = append(tx, sale(j, cust, fmt.Sprintf("200%02d", (2*c+j)%20), 1))
		}
		for j := range 2 {
			tx = append(tx, sale(10+j, cust, fmt.Sprintf("200%02d", (2*c+j+5)%20), 1))
		}
	}
	for p := range 20 { // every product is in the public catalogue
		tx = append(tx, sale(0, "seed", fmt.Sprintf("200%02d", p), 1))
	}
	cut := week0.AddDate(0, 0, 7*9)
	cat := recommend.BuildCatalog(tx, cut)
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	if err != nil {
		return pair{}, pair{}, err
	}
	spec, initial, err := task.RecommendSpec("audit-recommend", enc, cat, task.RecommendOptions{Cut: cut, TowerDim: 32, FeatureDim: 64}, 7)
	if err != nil {
		return pair{}, pair{}, err
	}
	if spec, err = withBatch(spec); err != nil {
		return pair{}, pair{}, err
	}
	without := slices.DeleteFunc(slices.Clone(tx), func(t forecast.Transaction) bool { return t.Customer == "c9" })
	f := [2]task.Factory{task.NewRecommender(enc, cat, tx), task.NewRecommender(enc, cat, without)}
	if train, err = build(ctx, task.KindRecommend, "customer", spec, initial, f); err != nil {
		return pair{}, pair{}, err
	}
	// A customer is both a training and a held-out unit: the same pair.
	return train, train, nil
}
