package task

import (
	"context"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/bert"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/protocol"
)

// tinyBERT is the randomly initialised 2-layer BERT (H = 32) of package
// bert's test data.
const tinyBERT = "../bert/testdata/tiny-bert"

func loadTinyBERT(t testing.TB, opt bert.Options) *bert.Encoder {
	t.Helper()
	e, err := bert.Load(tinyBERT, opt)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// toyPools are three classes over words of the tiny vocabulary: complaints,
// furniture wholesale, and Chinese company descriptions.
var toyPools = [][]string{
	{"refund", "damaged", "order", "request", "qty", "500", "packaging"},
	{"wholesale", "office", "furniture", "supplier", "stationery", "cafe", "equipment"},
	{"公", "司", "软", "件", "开", "发", "服", "务", "食", "品", "批"},
}

var toyFiller = []string{"we", "are", "a", "the", "for", "is", "and", "new"}

// toyExamples draws n examples per class: 3–6 words of the class's pool
// and up to two filler words, in random order.
func toyExamples(seed uint64, n int) []dataset.Example {
	r := mrand.New(mrand.NewPCG(seed, 99))
	var out []dataset.Example
	for range n {
		for c, pool := range toyPools {
			var words []string
			for range 3 + r.IntN(4) {
				words = append(words, pool[r.IntN(len(pool))])
			}
			for range r.IntN(3) {
				words = append(words, toyFiller[r.IntN(len(toyFiller))])
			}
			r.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
			out = append(out, dataset.Example{Text: strings.Join(words, " "), Label: fmt.Sprint("c", c)})
		}
	}
	return out
}

func toySpec(enc *bert.Encoder, layers, rank string) protocol.TaskSpec {
	opts := map[string]string{OptionAdapter: AdapterEncoderLoRA}
	if layers != "" {
		opts[OptionLoRALayers] = layers
	}
	if rank != "" {
		opts[OptionLoRARank] = rank
	}
	return protocol.TaskSpec{ID: "toy", Kind: KindClassify, EncoderID: enc.ID(), InputDim: enc.Dim(),
		Alpha: 8, Labels: []string{"c0", "c1", "c2"}, Seed: 17, Options: opts}
}

func newToyLearner(t testing.TB, enc *bert.Encoder, spec protocol.TaskSpec, train, test []dataset.Example) *EncoderLoRA {
	t.Helper()
	l, err := NewEncoderLoRA(enc, train, test, nil)(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return l.(*EncoderLoRA)
}

func randomParams(l *EncoderLoRA, seed uint64, scale float64) []float64 {
	r := mrand.New(mrand.NewPCG(seed, 5))
	p := make([]float64, l.NumParams())
	for i := range p {
		p[i] = r.NormFloat64() * scale
	}
	return p
}

// The learner's per-example gradient (head and LoRA B's together) against
// central finite differences of its cross-entropy loss, for every
// parameter, with both poolings and 1 or 2 adapted layers.
func TestEncoderLoRAGradientFiniteDifferences(t *testing.T) {
	for _, c := range []struct {
		opt          bert.Options
		layers, rank string
	}{{bert.Options{Pooling: bert.PoolMean}, "2", "2"}, {bert.Options{Pooling: bert.PoolCLS, Normalize: true}, "1", "3"}} {
		enc := loadTinyBERT(t, c.opt)
		l := newToyLearner(t, enc, toySpec(enc, c.layers, c.rank), toyExamples(1, 1), nil)
		p := randomParams(l, 3, 0.3)
		if err := l.SetParams(p); err != nil {
			t.Fatal(err)
		}
		for ex := range l.train {
			if err := l.SetParams(p); err != nil {
				t.Fatal(err)
			}
			grad := make([]float64, len(p))
			if _, err := l.exampleGrad(grad, l.train[ex], l.trainY[ex]); err != nil {
				t.Fatal(err)
			}
			loss := func(q []float64) float64 {
				if err := l.SetParams(q); err != nil {
					t.Fatal(err)
				}
				v, err := l.exampleGrad(make([]float64, len(q)), l.train[ex], l.trainY[ex])
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			const eps = 1e-5
			var worst, biggest, loraNorm float64
			q := append([]float64(nil), p...)
			for i := range p {
				q[i] = p[i] + eps
				fp := loss(q)
				q[i] = p[i] - eps
				fm := loss(q)
				q[i] = p[i]
				fd := (fp - fm) / (2 * eps)
				worst = max(worst, math.Abs(fd-grad[i]))
				biggest = max(biggest, math.Abs(fd))
				if i < l.nb {
					loraNorm += grad[i] * grad[i]
				}
			}
			if loraNorm == 0 || worst > 1e-8*max(1, biggest) {
				t.Fatalf("%+v example %d: worst |fd − grad| = %g (max |grad| %g, LoRA part norm² %g)", c, ex, worst, biggest, loraNorm)
			}
			t.Logf("pooling %s layers %s example %d: worst |fd − grad| %.2g, max |grad| %.3g", c.opt.Pooling, c.layers, ex, worst, biggest)
		}
	}
}

// Averaging two tenants' parameter vectors and loading the average gives,
// in every adapted layer and target, ΔW equal to the average of the two
// tenants' ΔW (A is identical everywhere), and the average head.
func TestEncoderLoRAAggregationExact(t *testing.T) {
	enc := loadTinyBERT(t, bert.Options{Pooling: bert.PoolCLS, Normalize: true})
	spec := toySpec(enc, "2", "4")
	a := newToyLearner(t, enc, spec, toyExamples(1, 6), nil)
	b := newToyLearner(t, enc, spec, toyExamples(2, 6), nil)
	g := newToyLearner(t, enc, spec, nil, nil)
	for i, l := range []*EncoderLoRA{a, b} {
		if err := l.SetParams(randomParams(l, uint64(10+i), 0.05)); err != nil {
			t.Fatal(err)
		}
		cfg := models.TrainConfig{Steps: 5, LearningRate: 0.5, Private: true, SampleRate: 0.5, ClipNorm: 1, NoiseMultiplier: 1, ExpectedBatch: 9}
		if _, err := l.Train(cfg, mrand.New(mrand.NewPCG(uint64(i), 1))); err != nil {
			t.Fatal(err)
		}
	}
	pa, pb := a.Params(), b.Params()
	avg := make([]float64, len(pa))
	for i := range avg {
		avg[i] = (pa[i] + pb[i]) / 2
	}
	if err := g.SetParams(avg); err != nil {
		t.Fatal(err)
	}
	for layer := g.LoRA().FirstLayer(); layer < 2; layer++ {
		for _, target := range []string{"query", "value"} {
			got, err := g.LoRA().DeltaW(layer, target)
			if err != nil {
				t.Fatal(err)
			}
			da, _ := a.LoRA().DeltaW(layer, target)
			db, _ := b.LoRA().DeltaW(layer, target)
			var worst, size float64
			for i := range got {
				worst = max(worst, math.Abs(got[i]-(da[i]+db[i])/2))
				size = max(size, math.Abs(da[i]-db[i]))
			}
			if size == 0 || worst > 1e-15 {
				t.Fatalf("layer %d %s: |ΔW(avg) − avg ΔW| = %g (tenants differ by %g)", layer, target, worst, size)
			}
		}
	}
	for i := range g.w {
		if g.w[i] != avg[g.nb+i] {
			t.Fatal("head weight is not the averaged parameter")
		}
	}
}

// DP-SGD on one record with q = 1 and negligible noise: the step is
// −lr·C·g/‖g‖ over the whole vector, head and LoRA scaled by the same
// factor (the clip is of the concatenated per-example gradient).
func TestEncoderLoRAClipsWholeExampleGradient(t *testing.T) {
	enc := loadTinyBERT(t, bert.Options{})
	l := newToyLearner(t, enc, toySpec(enc, "2", "2"), toyExamples(3, 1)[:1], nil)
	p := randomParams(l, 4, 0.3)
	l.SetParams(p)
	g := make([]float64, len(p))
	if _, err := l.exampleGrad(g, l.train[0], l.trainY[0]); err != nil {
		t.Fatal(err)
	}
	var gn float64
	for _, v := range g {
		gn += v * v
	}
	gn = math.Sqrt(gn)
	const clip, lr = 0.01, 2.0
	if gn < 10*clip {
		t.Fatalf("gradient norm %g too small for the test", gn)
	}
	rng, _ := privacy.NewRand(privacy.SeededReader(1))
	st, err := l.Train(models.TrainConfig{Steps: 1, LearningRate: lr, Private: true, SampleRate: 1, ClipNorm: clip, NoiseMultiplier: 1e-9, ExpectedBatch: 1}, rng)
	if err != nil {
		t.Fatal(err)
	}
	if st.Examples != 1 || st.ClippedFraction != 1 {
		t.Fatalf("stats %+v, want 1 example, all clipped", st)
	}
	for i, v := range l.Params() {
		want := p[i] - lr*clip*g[i]/gn
		if math.Abs(v-want) > 1e-9 {
			t.Fatalf("parameter %d (LoRA part: %t): %g, want %g", i, i < l.nb, v, want)
		}
	}
}

// Training on a small separable set raises held-out accuracy well above
// chance (all-zero start: every logit equal, accuracy 1/3), under DP-SGD
// and without privacy, and moves the encoder adapters, not only the head.
func TestEncoderLoRATrainingImprovesAccuracy(t *testing.T) {
	enc := loadTinyBERT(t, bert.Options{Pooling: bert.PoolMean, Normalize: true})
	for _, cfg := range []models.TrainConfig{
		{Steps: 60, LearningRate: 0.5, Momentum: 0.9, BatchSize: 16},
		{Steps: 60, LearningRate: 0.5, Momentum: 0.9, Private: true, SampleRate: 0.25, ClipNorm: 1, NoiseMultiplier: 0.5, ExpectedBatch: 15},
	} {
		l := newToyLearner(t, enc, toySpec(enc, "2", "4"), toyExamples(5, 20), toyExamples(6, 20))
		acc := func() float64 {
			s, err := l.EvalStats()
			if err != nil {
				t.Fatal(err)
			}
			a, _, _ := ClassMetrics(s, 3)
			return a
		}
		before := acc()
		rng, _ := privacy.NewRand(privacy.SeededReader(7))
		st, err := l.Train(cfg, rng)
		if err != nil {
			t.Fatal(err)
		}
		after := acc()
		var bn float64
		for _, v := range l.LoRA().Params() {
			bn += v * v
		}
		t.Logf("private %t: accuracy %.3f → %.3f, mean loss %.3f, clipped %.2f, ‖B‖ %.3g", cfg.Private, before, after, st.MeanLoss, st.ClippedFraction, math.Sqrt(bn))
		if !(after >= 0.9 && after > before) || bn == 0 {
			t.Fatalf("private %t: accuracy %.3f → %.3f, ‖B‖² %g", cfg.Private, before, after, bn)
		}
	}
}

// Same seed, same result; divergence restores the parameters.
func TestEncoderLoRADeterministicAndDivergence(t *testing.T) {
	enc := loadTinyBERT(t, bert.Options{})
	spec := toySpec(enc, "1", "2")
	cfg := models.TrainConfig{Steps: 4, LearningRate: 0.3, Private: true, SampleRate: 0.5, ClipNorm: 1, NoiseMultiplier: 1, ExpectedBatch: 7.5}
	var runs [2][]float64
	for i := range runs {
		l := newToyLearner(t, enc, spec, toyExamples(8, 5), nil)
		rng, _ := privacy.NewRand(privacy.SeededReader(9))
		if _, err := l.Train(cfg, rng); err != nil {
			t.Fatal(err)
		}
		runs[i] = l.Params()
	}
	for i := range runs[0] {
		if runs[0][i] != runs[1][i] {
			t.Fatalf("parameter %d differs between runs with the same seed", i)
		}
	}
	l := newToyLearner(t, enc, spec, toyExamples(8, 5), nil)
	p := randomParams(l, 2, 0.1)
	l.SetParams(p)
	_, err := l.Train(models.TrainConfig{Steps: 5, LearningRate: 1e308, BatchSize: 4}, mrand.New(mrand.NewPCG(1, 1)))
	if !errors.Is(err, models.ErrDiverged) {
		t.Fatalf("huge learning rate: %v, want ErrDiverged", err)
	}
	for i, v := range l.Params() {
		if v != p[i] {
			t.Fatalf("parameter %d not restored after divergence", i)
		}
	}
	if _, err := l.Train(cfg, nil); err == nil {
		t.Fatal("nil generator accepted")
	}
	empty := newToyLearner(t, enc, spec, nil, nil)
	plain := models.TrainConfig{Steps: 4, LearningRate: 0.3, BatchSize: 4}
	if _, err := empty.Train(plain, mrand.New(mrand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), "no training examples") {
		t.Fatalf("no data, non-private: %v", err)
	}
	// Private training without examples runs its steps, noise only: an
	// error would tell an empty tenant from one with an example
	// (simulate/empirical TestRedteamTextUpdateEmptyTenant).
	before := empty.Params()
	if st, err := empty.Train(cfg, mrand.New(mrand.NewPCG(1, 1))); err != nil || st.Steps != cfg.Steps || st.Examples != 0 {
		t.Fatalf("no data, private: %+v, %v", st, err)
	}
	if slices.Equal(before, empty.Params()) {
		t.Fatal("no data, private: parameters exactly unchanged (no noise)")
	}
	s, err := empty.EvalStats()
	if err != nil || len(s) != ClassStatsLen(spec) || s[0] != 0 {
		t.Fatalf("evaluation without held-out data: %v %v", s, err)
	}
}

// Bad options and specs give errors that name the task and the problem.
func TestEncoderLoRABadOptions(t *testing.T) {
	enc := loadTinyBERT(t, bert.Options{})
	ex := toyExamples(1, 2)
	for _, c := range []struct {
		name string
		edit func(*protocol.TaskSpec)
		want string
	}{
		{"missing layers", func(s *protocol.TaskSpec) { delete(s.Options, OptionLoRALayers) }, `option lora_layers is required`},
		{"missing rank", func(s *protocol.TaskSpec) { delete(s.Options, OptionLoRARank) }, `option lora_rank is required`},
		{"layers not a number", func(s *protocol.TaskSpec) { s.Options[OptionLoRALayers] = "two" }, `option lora_layers = "two" is not an integer`},
		{"too many layers", func(s *protocol.TaskSpec) { s.Options[OptionLoRALayers] = "3" }, `lora_layers = 3 out of range [1, 2]`},
		{"zero layers", func(s *protocol.TaskSpec) { s.Options[OptionLoRALayers] = "0" }, `lora_layers = 0 out of range`},
		{"rank too big", func(s *protocol.TaskSpec) { s.Options[OptionLoRARank] = "33" }, `lora_rank = 33 out of range [1, 32]`},
		{"rank negative", func(s *protocol.TaskSpec) { s.Options[OptionLoRARank] = "-1" }, `lora_rank = -1 out of range`},
		{"unknown adapter", func(s *protocol.TaskSpec) { s.Options[OptionAdapter] = "prefix-tuning" }, `adapter = "prefix-tuning": this learner is for "encoder-lora"`},
		{"no adapter", func(s *protocol.TaskSpec) { delete(s.Options, OptionAdapter) }, `adapter = ""`},
		{"wrong kind", func(s *protocol.TaskSpec) { s.Kind = "forecast" }, `of kind "forecast"`},
		{"wrong encoder", func(s *protocol.TaskSpec) { s.EncoderID = "hash:1" }, `needs encoder "hash:1"`},
		{"wrong input dim", func(s *protocol.TaskSpec) { s.InputDim = 64 }, `input dimension 64`},
		{"one label", func(s *protocol.TaskSpec) { s.Labels = []string{"c0"} }, `1 labels`},
		{"duplicate label", func(s *protocol.TaskSpec) { s.Labels = []string{"c0", "c1", "c0"} }, `label "c0" listed twice`},
		{"bad alpha", func(s *protocol.TaskSpec) { s.Alpha = math.Inf(1) }, `alpha +Inf`},
	} {
		spec := toySpec(enc, "2", "4")
		c.edit(&spec)
		_, err := NewEncoderLoRA(enc, ex, ex, nil)(context.Background(), spec)
		if err == nil || !strings.Contains(err.Error(), c.want) || (spec.Kind == KindClassify && !strings.Contains(err.Error(), `task "toy"`)) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
	if _, err := NewEncoderLoRA(nil, ex, ex, nil)(context.Background(), toySpec(enc, "2", "4")); err == nil {
		t.Error("nil encoder accepted")
	}
	l := newToyLearner(t, enc, toySpec(enc, "2", "4"), ex, nil)
	if err := l.SetParams(make([]float64, 3)); err == nil {
		t.Error("short parameter vector accepted")
	}
	p := make([]float64, l.NumParams())
	p[len(p)-1] = math.NaN()
	if err := l.SetParams(p); err == nil {
		t.Error("NaN head bias accepted")
	}
	c, _ := ParseEncoderLoRA(toySpec(enc, "2", "4"), enc.Model().Config())
	if n := c.NumParams(enc.Model().Config()); n != l.NumParams() || n != 2*2*32*4+3*32+3 {
		t.Errorf("NumParams %d, learner %d, want %d", n, l.NumParams(), 2*2*32*4+3*32+3)
	}
}

// Predict on texts gives the classes the cached evaluation counts.
func TestEncoderLoRAPredictMatchesEvaluation(t *testing.T) {
	enc := loadTinyBERT(t, bert.Options{Pooling: bert.PoolMean, Normalize: true})
	test := toyExamples(4, 15)
	l := newToyLearner(t, enc, toySpec(enc, "2", "4"), toyExamples(5, 5), test)
	if _, err := l.Train(models.TrainConfig{Steps: 20, LearningRate: 0.5, Momentum: 0.9, BatchSize: 8}, mrand.New(mrand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	texts := make([]string, len(test))
	for i, e := range test {
		texts[i] = e.Text
	}
	pred, err := l.Predict(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var correct int64
	seen := map[int]bool{}
	for i, p := range pred {
		seen[p] = true
		if fmt.Sprint("c", p) == test[i].Label {
			correct++
		}
	}
	s, err := l.EvalStats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d correct, classes predicted %v", correct, len(test), seen)
	if s[0] != int64(len(test)) || s[1] != correct || len(seen) < 2 {
		t.Fatalf("evaluation counts %d correct of %d, Predict %d of %d (classes predicted %v)", s[1], s[0], correct, len(test), seen)
	}
}
