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

// Hand-computed: in-scope confidences 0.9, 0.8, 0.3 (right), 0.6 (wrong)
// and 17 more right ones at 0.95; out-of-scope 0.2, 0.35, 0.7. Plain
// accuracy 20/21. The calibration histogram holds the same 21 in-scope
// confidences: at most 5 % of them (1.05) may be rejected. Buckets are ⌊40√c⌋: 0.3 → 21, 0.6 → 30, so the threshold
// rises to boundary 30, τ = (30/40)² = 0.5625, rejecting only the message
// at 0.3. There in-scope accuracy is 19/21, and out-of-scope 0.2 (bucket
// 17) and 0.35 (23) are caught, 0.7 (33) is not: recall 2/3.
func TestIntentMetricsHandComputed(t *testing.T) {
	in := []float64{0.9, 0.8, 0.3, 0.6}
	ok := []bool{true, true, true, false}
	for range 17 {
		in, ok = append(in, 0.95), append(ok, true)
	}
	s := IntentStats(in, ok, []float64{0.2, 0.35, 0.7}, in)
	m, err := IntentMetrics(s)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"accuracy": 20.0 / 21, "threshold": 0.5625, "in_scope_accuracy": 19.0 / 21, "oos_recall": 2.0 / 3, "in_scope": 21, "out_of_scope": 3,
		"calibration": 21, "held_out_reject_rate": 1.0 / 21}
	for k, v := range want {
		if math.Abs(m[k]-v) > 1e-12 {
			t.Errorf("%s = %v, want %v (all: %v)", k, m[k], v, m)
		}
	}
	// With 4 in-scope messages none may be rejected (5 % of 4 < 1): the
	// threshold stops at the bucket of the lowest in-scope message, 0.1
	// (⌊40√0.1⌋ = 12, τ = 0.09); out-of-scope 0.05 (bucket 8) is caught.
	small := []float64{0.9, 0.1, 0.5, 0.5}
	m, _ = IntentMetrics(IntentStats(small, []bool{true, false, true, true}, []float64{0.05}, small))
	if math.Abs(m["threshold"]-0.09) > 1e-12 || m["in_scope_accuracy"] != 0.75 || m["oos_recall"] != 1 {
		t.Fatalf("small set: %v", m)
	}
	// The threshold follows the calibration histogram, not the held-out
	// one: 100 calibration messages, 5 at 0.04 (bucket 8) and 95 at 0.9
	// (bucket 37), allow 5 rejections, so τ rises to (37/40)²; of the
	// held-out in-scope messages 0.8 (bucket 35), 0.6 and 0.3 are then
	// rejected (3 of 21, two of them right), and every out-of-scope one.
	var cal []float64
	for i := range 100 {
		cal = append(cal, map[bool]float64{true: 0.04, false: 0.9}[i < 5])
	}
	m, _ = IntentMetrics(IntentStats(in, ok, []float64{0.2, 0.35, 0.7}, cal))
	if math.Abs(m["threshold"]-37.0*37/1600) > 1e-12 || math.Abs(m["held_out_reject_rate"]-3.0/21) > 1e-12 ||
		math.Abs(m["in_scope_accuracy"]-18.0/21) > 1e-12 || m["oos_recall"] != 1 {
		t.Fatalf("calibrated on training confidences: %v", m)
	}
}

// One message moves exactly one entry by one; noised sums give finite
// metrics in range.
func TestIntentStatsSensitivityAndNoise(t *testing.T) {
	r := mrand.New(mrand.NewPCG(7, 8))
	for range 200 {
		n := r.IntN(30)
		conf, ok := make([]float64, n), make([]bool, n)
		for i := range conf {
			conf[i], ok[i] = r.Float64(), r.IntN(2) == 0
		}
		oos := []float64{r.Float64()}
		a := IntentStats(conf, ok, nil, conf)
		b := IntentStats(conf, ok, oos, conf)
		c := IntentStats(append(conf, 1.0), append(ok, r.IntN(2) == 0), nil, conf)
		d := IntentStats(conf, ok, nil, append(conf, r.Float64()))
		for _, other := range [][]int64{b, c, d} {
			diff := 0
			for i := range a {
				diff += int(other[i] - a[i])
				if d := other[i] - a[i]; d != 0 && d != 1 {
					t.Fatalf("entry %d moved by %d", i, d)
				}
			}
			if diff != 1 {
				t.Fatalf("one message moved the statistics by %d", diff)
			}
		}
		noised := make([]int64, len(a))
		for i := range noised {
			noised[i] = a[i] + int64(r.IntN(21)-10)
		}
		m, err := IntentMetrics(noised)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"accuracy", "in_scope_accuracy", "oos_recall", "threshold", "held_out_reject_rate"} {
			if !(m[k] >= 0 && m[k] <= 1) {
				t.Fatalf("%s = %v from %v", k, m[k], noised)
			}
		}
	}
	if _, err := IntentMetrics(make([]int64, 5)); err == nil {
		t.Fatal("wrong length accepted")
	}
}

// The intent learner trains on in-scope messages only and counts the
// held-out out-of-scope ones.
func TestIntentLearner(t *testing.T) {
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	if err != nil {
		t.Fatal(err)
	}
	msgs := map[string][]string{"track_order": {"where is my order", "track my parcel", "order status please"},
		"refund": {"i want my money back", "refund my payment", "return and refund"}}
	var train, test []dataset.Example
	for i := range 60 {
		for label, texts := range msgs {
			e := dataset.Example{Text: fmt.Sprintf("%s %d", texts[i%3], i%5), Label: label}
			if i < 45 {
				train = append(train, e)
			} else {
				test = append(test, e)
			}
		}
	}
	train = append(train, dataset.Example{Text: "what is the weather", Label: intent.OOSLabel})
	test = append(test, dataset.Example{Text: "tell me a joke", Label: intent.OOSLabel}, dataset.Example{Text: "play some music", Label: intent.OOSLabel})
	spec := protocol.TaskSpec{ID: "i", Kind: KindIntent, EncoderID: enc.ID(), InputDim: enc.Dim(), Rank: 4, Labels: []string{"refund", "track_order"}, Seed: 3}
	l, err := NewIntent(enc, train, test, nil)(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if l.TrainSize() != 90 {
		t.Fatalf("train size %d, want the 90 in-scope messages", l.TrainSize())
	}
	if _, err := l.Train(models.TrainConfig{Steps: 40, LearningRate: 1, BatchSize: 16}, mrand.New(mrand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	s, err := l.EvalStats()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := IntentMetrics(s)
	if m["in_scope"] != 30 || m["out_of_scope"] != 2 || m["calibration"] != 90 || m["accuracy"] < 0.8 {
		t.Fatalf("metrics %v", m)
	}
}
