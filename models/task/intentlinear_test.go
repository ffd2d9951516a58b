package task

import (
	"context"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/intent"
	"github.com/fedb2b/fedb2b/protocol"
)

// Linear buckets of [-4, 16] with 80 buckets are 0.25 wide; a threshold at
// a boundary rejects exactly the buckets below it; the metrics follow
// the calibration rate.
func TestIntentLinearScaleHandComputed(t *testing.T) {
	sc := IntentScale{Scorer: intent.Scorer{Kind: intent.ScoreEnergy, Temperature: 1}, Lo: -4, Hi: 16, Buckets: IntentLinearBuckets, CalibrationRate: 0.1}
	for _, c := range []struct {
		v float64
		b int
	}{{-4, 0}, {-100, 0}, {math.NaN(), 0}, {-3.76, 0}, {-3.75, 1}, {0, 16}, {15.99, 79}, {16, 79}, {1e9, 79},
		{1e300, 79}, {math.Inf(1), 79}, {math.Inf(-1), 0}, {-1e300, 0}} { // huge and infinite scores too (red team F3)
		if got := sc.Bucket(c.v); got != c.b {
			t.Errorf("bucket(%v) = %d, want %d", c.v, got, c.b)
		}
	}
	if sc.Boundary(16) != 0 || sc.Boundary(1) != -3.75 {
		t.Fatalf("boundaries %v %v", sc.Boundary(16), sc.Boundary(1))
	}
	// Calibration: 10 messages, one at 0.1 (bucket 16), nine at 5
	// (bucket 36): 10 % allows one rejection, τ = boundary 36 = 5.
	// Held out: in-scope 0.1 (right), 6 (right), 4.9 (wrong); out of
	// scope 1 and 7.
	cal := []float64{0.1, 5, 5, 5, 5, 5, 5, 5, 5, 5}
	m, err := sc.Metrics(sc.Stats([]float64{0.1, 6, 4.9}, []bool{true, true, false}, []float64{1, 7}, cal))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"threshold": 5, "accuracy": 2.0 / 3, "in_scope_accuracy": 1.0 / 3, "oos_recall": 0.5,
		"held_out_reject_rate": 2.0 / 3, "calibration": 10, "in_scope": 3, "out_of_scope": 2}
	for k, v := range want {
		if math.Abs(m[k]-v) > 1e-12 {
			t.Errorf("%s = %v, want %v (%v)", k, m[k], v, m)
		}
	}
	// At the default 5 % of 10 (0.5 messages) the threshold passes the
	// lowest calibration bucket's boundary, 0 (bucket 16, one message),
	// and moves half a bucket into it: 0.125, which catches an
	// out-of-scope -1 but not 1.
	sc.CalibrationRate = 0
	if m, _ := sc.Metrics(sc.Stats(nil, nil, []float64{1, -1}, cal)); m["threshold"] != 0.125 || m["oos_recall"] != 0.5 {
		t.Fatalf("5 %% of 10: %v", m)
	}
	// Interpolated held-out counts: 40 calibration messages in bucket 16
	// and 60 in bucket 36; 5 % = 5 of them moves τ an eighth into bucket
	// 16 (0.03125); four held-out out-of-scope messages in bucket 16
	// count as half a rejection, one in bucket 10 as one: recall 1.5/5.
	var cal2 []float64
	for i := range 100 {
		cal2 = append(cal2, map[bool]float64{true: 0.1, false: 5}[i < 40])
	}
	m, _ = sc.Metrics(sc.Stats(nil, nil, []float64{0.1, 0.1, 0.1, 0.1, -1.4}, cal2))
	if math.Abs(m["threshold"]-0.03125) > 1e-12 || math.Abs(m["oos_recall"]-1.5/5) > 1e-12 {
		t.Fatalf("interpolated: %v", m)
	}
	// With every calibration score in the lowest bucket nothing is below
	// any boundary but the first: no threshold.
	if m, _ := sc.Metrics(sc.Stats(nil, nil, []float64{-10}, []float64{-5, -6})); m["threshold"] != intent.NoThreshold || m["oos_recall"] != 0 {
		t.Fatalf("all in the lowest bucket: %v", m)
	}
}

// The spec carries the scale; a tampered or malformed one is refused.
func TestIntentLinearSpecOptions(t *testing.T) {
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 64})
	want := IntentScale{Scorer: intent.Scorer{Kind: intent.ScoreMaxLogit}, Lo: -1, Hi: 3, Buckets: IntentLinearBuckets, CalibrationRate: 0.04}
	spec, initial, err := ClassifySpec(KindIntent, ClassifySetup{ID: "i", Labels: []string{"a", "b"}, Adapter: AdapterLinear, OOS: &want}, enc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := IntentScaleOf(spec)
	if err != nil || got != want || len(initial) != 64*2+2 || spec.EvalLen != 4*IntentLinearBuckets {
		t.Fatalf("scale %+v (%v), %d params, eval len %d", got, err, len(initial), spec.EvalLen)
	}
	for k, v := range map[string]string{OptionOOSScore: "nosuch", OptionOOSRange: "3,1", OptionOOSTemperature: "x", OptionOOSCalibration: "1.5"} {
		bad := spec
		bad.Options = map[string]string{OptionAdapter: AdapterLinear, k: v}
		if _, err := IntentScaleOf(bad); err == nil {
			t.Errorf("%s = %q accepted", k, v)
		}
		if _, err := NewIntent(enc, nil, nil, nil)(context.Background(), bad); err == nil {
			t.Errorf("learner built for %s = %q", k, v)
		}
	}
	if _, _, err := ClassifySpec(KindClassify, ClassifySetup{ID: "c", Labels: []string{"a", "b"}, Adapter: AdapterLinear, OOS: &want}, enc); err == nil {
		t.Error("an out-of-scope scale was accepted for a classification task")
	}
}

// intentFixture returns two intents' messages (train, test with two
// out-of-scope messages, and one in-scope training message that was
// dropped from the training set as an out-of-scope one).
func intentFixture() (train, test []dataset.Example) {
	msgs := map[string][]string{"track_order": {"where is my order", "track my parcel", "order status please"},
		"refund": {"i want my money back", "refund my payment", "return and refund"}}
	for i := range 60 {
		for _, label := range []string{"refund", "track_order"} {
			e := dataset.Example{Text: fmt.Sprintf("%s %d", msgs[label][i%3], i%5), Label: label}
			if i < 45 {
				train = append(train, e)
			} else {
				test = append(test, e)
			}
		}
	}
	train = append(train, dataset.Example{Text: "what is the weather", Label: intent.OOSLabel})
	test = append(test, dataset.Example{Text: "tell me a joke", Label: intent.OOSLabel}, dataset.Example{Text: "play some music", Label: intent.OOSLabel})
	return train, test
}

// The linear intent learner trains on in-scope messages only, counts the
// held-out out-of-scope ones, and its histograms are the energy scores
// of its own head; one message more (training, held-out in-scope or
// out-of-scope) moves exactly one entry by one: the sensitivity (L0 = 1,
// LInf = 1) the noised release is calibrated to.
func TestIntentLinearLearner(t *testing.T) {
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	train, test := intentFixture()
	spec, initial, err := ClassifySpec(KindIntent, ClassifySetup{ID: "i", Labels: []string{"refund", "track_order"}, Adapter: AdapterLinear}, enc)
	if err != nil {
		t.Fatal(err)
	}
	build := func(train, test []dataset.Example) *IntentLinear {
		l, err := NewIntent(enc, train, test, nil)(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		il, ok := l.(*IntentLinear)
		if !ok {
			t.Fatalf("learner %T, want *IntentLinear", l)
		}
		if err := il.SetParams(initial); err != nil {
			t.Fatal(err)
		}
		return il
	}
	l := build(train, test)
	if l.TrainSize() != 90 || l.Scale().Scorer.Kind != intent.ScoreEnergy {
		t.Fatalf("train size %d (want the 90 in-scope messages), scale %+v", l.TrainSize(), l.Scale())
	}
	if _, err := l.Train(models.TrainConfig{Steps: 60, LearningRate: 0.5, BatchSize: 16}, mrand.New(mrand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	s, err := l.EvalStats()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Metrics(spec, s)
	if err != nil {
		t.Fatal(err)
	}
	if m["in_scope"] != 30 || m["out_of_scope"] != 2 || m["calibration"] != 90 || m["accuracy"] < 0.9 {
		t.Fatalf("metrics %v", m)
	}
	// The histograms are of the head's energy: recount by hand.
	z, _ := l.Head().LogitsRows(l.trainX)
	cal := make([]int64, IntentLinearBuckets)
	for _, zi := range z {
		cal[l.Scale().Bucket(l.Scale().Scorer.Score(zi))]++
	}
	for i, c := range cal {
		if s[3*IntentLinearBuckets+i] != c {
			t.Fatalf("calibration bucket %d: %d, recounted %d", i, s[3*IntentLinearBuckets+i], c)
		}
	}
	p := l.Params()
	for name, n := range map[string][2][]dataset.Example{
		"training message":      {append(train[:len(train):len(train)], dataset.Example{Text: "refund please 9", Label: "refund"}), test},
		"held-out in-scope":     {train, append(test[:len(test):len(test)], dataset.Example{Text: "where is my order now", Label: "track_order"})},
		"held-out out-of-scope": {train, append(test[:len(test):len(test)], dataset.Example{Text: "book a flight", Label: intent.OOSLabel})},
	} {
		o := build(n[0], n[1])
		if err := o.SetParams(p); err != nil {
			t.Fatal(err)
		}
		s2, err := o.EvalStats()
		if err != nil {
			t.Fatal(err)
		}
		moved, total := 0, int64(0)
		for i := range s {
			if d := s2[i] - s[i]; d != 0 {
				moved++
				total += d
			}
		}
		if moved != 1 || total != 1 {
			t.Errorf("one more %s moved %d entries by %d in all", name, moved, total)
		}
	}
}

// A spec with the LoRA head keeps the maximum-softmax histograms; the
// linear learner refuses a task without the linear adapter.
func TestIntentAdapterDispatch(t *testing.T) {
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 64})
	spec := protocol.TaskSpec{ID: "i", Kind: KindIntent, EncoderID: enc.ID(), InputDim: 64, Rank: 4, Labels: []string{"a", "b"}, Seed: 1}
	if sc, err := IntentScaleOf(spec); err != nil || sc != headIntentScale {
		t.Fatalf("head scale %+v (%v)", sc, err)
	}
	spec.Options = map[string]string{OptionAdapter: AdapterEncoderLoRA}
	if _, err := NewIntent(enc, nil, nil, nil)(context.Background(), spec); err == nil {
		t.Fatal("intent learner built for an encoder-lora task")
	}
}

// With labels ending in intent.OOSLabel the linear intent learner trains
// its out-of-scope training messages as that class, its scale reads the
// in-scope logits, its calibration histogram holds the in-scope
// training messages only, and one more out-of-scope training message
// moves no histogram entry (one more in-scope one still moves one). The
// class is refused with the LoRA head and anywhere but last.
func TestIntentLinearLearnerWithOOSClass(t *testing.T) {
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	train, test := intentFixture()
	labels := []string{"refund", "track_order", intent.OOSLabel}
	spec, initial, err := ClassifySpec(KindIntent, ClassifySetup{ID: "i", Labels: labels, Adapter: AdapterLinear}, enc)
	if err != nil {
		t.Fatal(err)
	}
	build := func(train []dataset.Example) *IntentLinear {
		l, err := NewIntent(enc, train, test, nil)(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		il := l.(*IntentLinear)
		if err := il.SetParams(initial); err != nil {
			t.Fatal(err)
		}
		return il
	}
	l := build(train)
	if l.TrainSize() != 91 || l.Scale().Scorer.InScopeClasses != 2 {
		t.Fatalf("train size %d (want 90 in-scope + 1 out-of-scope), scorer %+v", l.TrainSize(), l.Scale().Scorer)
	}
	if _, err := l.Train(models.TrainConfig{Steps: 60, LearningRate: 0.5, BatchSize: 16}, mrand.New(mrand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	s, err := l.EvalStats()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Metrics(spec, s)
	if err != nil {
		t.Fatal(err)
	}
	if m["in_scope"] != 30 || m["out_of_scope"] != 2 || m["calibration"] != 90 || m["accuracy"] < 0.9 {
		t.Fatalf("metrics %v", m)
	}
	// The class learnt something: the out-of-scope training message's
	// class logit is its largest.
	z, _ := l.Head().LogitsRows(l.trainX)
	last := z[len(z)-1]
	if l.trainY[len(z)-1] != 2 || last[2] <= max(last[0], last[1]) {
		t.Errorf("out-of-scope training message: label %d, logits %v", l.trainY[len(z)-1], last)
	}
	p := l.Params()
	for name, c := range map[string]struct {
		extra dataset.Example
		moved int64
	}{
		"out-of-scope training message": {dataset.Example{Text: "is it going to rain", Label: intent.OOSLabel}, 0},
		"in-scope training message":     {dataset.Example{Text: "refund please 9", Label: "refund"}, 1},
	} {
		o := build(append(train[:len(train):len(train)], c.extra))
		if err := o.SetParams(p); err != nil {
			t.Fatal(err)
		}
		s2, err := o.EvalStats()
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for i := range s {
			total += abs64(s2[i] - s[i])
		}
		if total != c.moved {
			t.Errorf("one more %s moved the histograms by %d, want %d", name, total, c.moved)
		}
	}
	for _, bad := range []ClassifySetup{
		{ID: "h", Labels: labels},
		{ID: "m", Labels: []string{intent.OOSLabel, "refund"}, Adapter: AdapterLinear},
	} {
		if _, _, err := ClassifySpec(KindIntent, bad, enc); err == nil {
			t.Errorf("setup %+v accepted", bad)
		}
	}
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
