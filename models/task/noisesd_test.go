package task

import (
	"math"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/privacy/scalar"
)

// linearIntentStats spreads right, wrong, oos and cal messages evenly
// over the linear intent scale's buckets [60, 80), [40, 60), [0, 40) and
// [10, 80).
func linearIntentStats(right, wrong, oos, cal int64) []int64 {
	b := IntentLinearBuckets
	s := make([]int64, 4*b)
	spread := func(off, from, to int, n int64) {
		for i := from; i < to; i++ {
			s[off+i] = n / int64(to-from)
		}
		s[off+from] += n % int64(to-from)
	}
	spread(0, 60, 80, right)
	spread(b, 40, 60, wrong)
	spread(2*b, 0, 40, oos)
	spread(3*b, 10, 80, cal)
	return s
}

// The noise's spread of the operator's figures: accuracy's matches the
// first-order (delta-method) value, no noise gives none, and out-of-scope
// recall over a small held-out set is flagged as mostly noise while over
// a large one it is not.
func TestMetricsNoiseSD(t *testing.T) {
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 64})
	spec, _, err := ClassifySpec(KindIntent, ClassifySetup{ID: "i", Labels: []string{"a", "b"}, Adapter: AdapterLinear}, enc)
	if err != nil {
		t.Fatal(err)
	}
	s := 7 * math.Sqrt(5) // about 5 tenants' noise at ε = 0.5
	const right, wrong = 3000.0, 500.0
	stats := linearIntentStats(right, wrong, 40, 12000)
	sd, unmeasurable, err := MetricsNoiseSD(spec, stats, s)
	if err != nil {
		t.Fatal(err)
	}
	vr := float64(IntentLinearBuckets) * s * s // each histogram's total sums 80 noised entries
	want := math.Sqrt(wrong*wrong*vr+right*right*vr) / math.Pow(right+wrong, 2)
	if got := sd["accuracy"]; math.Abs(got-want) > 0.2*want {
		t.Errorf("accuracy sd %v, delta method %v", got, want)
	}
	// 40 out-of-scope messages against a count spread of √80·s ≈ 140:
	// not measurable.
	if _, ok := sd["oos_recall"]; ok || len(unmeasurable) != 1 || unmeasurable[0] != "oos_recall" {
		t.Errorf("out-of-scope recall over 40 messages: sd %v, not measurable %q; want it flagged", sd["oos_recall"], unmeasurable)
	}
	mid, unm, err := MetricsNoiseSD(spec, linearIntentStats(right, wrong, 400, 12000), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(unm) != 0 || mid["oos_recall"] < 0.1 {
		t.Errorf("out-of-scope recall over 400 messages: sd %v, not measurable %q; want measurable but rough (> 0.1)", mid["oos_recall"], unm)
	}
	big, unm, err := MetricsNoiseSD(spec, linearIntentStats(right, wrong, 4000, 12000), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(unm) != 0 || big["oos_recall"] > 0.05 {
		t.Errorf("out-of-scope recall over 4,000 messages: sd %v (%q), want < 0.05", big["oos_recall"], unm)
	}
	// A degenerate release (nothing counted; the threshold rejects
	// nothing in every draw) must not read as exact: every ratio is
	// flagged.
	_, unm, err = MetricsNoiseSD(spec, linearIntentStats(0, 0, 0, 0), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(unm) != 5 {
		t.Errorf("empty release: not measurable %q, want all 5 ratios", unm)
	}
	// A released in-scope count far below zero (an honest −3σ draw on
	// an empty split, or a hostile tenant) clamps to 0 in every redraw:
	// its ratios must still be flagged, not read "0±0" (red team F1).
	neg := linearIntentStats(0, 0, 400, 12000)
	neg[0], neg[IntentLinearBuckets+1] = -500, -500
	if _, unm, err = MetricsNoiseSD(spec, neg, s); err != nil || len(unm) != 3 {
		t.Errorf("in-scope count −1,000: not measurable %q (%v), want accuracy, held_out_reject_rate and in_scope_accuracy", unm, err)
	}
	zero, unm, err := MetricsNoiseSD(spec, stats, 0)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range zero {
		if v > 1e-9 {
			t.Errorf("no noise: %s sd %v", k, v)
		}
	}
	if len(unm) != 0 {
		t.Errorf("no noise: not measurable %q", unm)
	}
	if _, _, err := MetricsNoiseSD(spec, stats[1:], s); err == nil {
		t.Error("short statistics accepted")
	}
	if _, _, err := MetricsNoiseSD(spec, stats, math.NaN()); err == nil {
		t.Error("NaN noise accepted")
	}
	// EvalNoiseSD: the clients' Gaussian for the kind's bounds, √n of it
	// for n evaluators.
	rec, err := scalar.VectorRecord(1, 1, 0.5, 1e-5, scalar.Gaussian)
	if err != nil {
		t.Fatal(err)
	}
	got, err := EvalNoiseSD(spec, 0.5, 1e-5, 5)
	if err != nil || math.Abs(got-rec.NoiseStd*math.Sqrt(5)) > 1e-12 {
		t.Errorf("EvalNoiseSD %v (%v), want %v", got, err, rec.NoiseStd*math.Sqrt(5))
	}
	if _, err := EvalNoiseSD(spec, 0.5, 1e-5, 0); err == nil {
		t.Error("no evaluators accepted")
	}
}

// Classification declares its ratios' count too: accuracy over a handful
// of examples against noise of 30 per count is flagged, over thousands
// it is not.
func TestMetricsNoiseSDClassify(t *testing.T) {
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 64})
	spec, _, err := ClassifySpec(KindClassify, ClassifySetup{ID: "c", Labels: []string{"a", "b"}, Rank: 4}, enc)
	if err != nil {
		t.Fatal(err)
	}
	// total, correct, support a/b, predicted a/b, true positives a/b.
	small := []int64{12, 9, 6, 6, 5, 7, 4, 5}
	big := []int64{4000, 3600, 2000, 2000, 1900, 2100, 1750, 1850}
	_, unm, err := MetricsNoiseSD(spec, small, 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(unm) != 2 {
		t.Errorf("12 examples against noise 30: not measurable %q, want accuracy and macro_f1", unm)
	}
	sd, unm, err := MetricsNoiseSD(spec, big, 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(unm) != 0 || !(sd["accuracy"] > 0 && sd["accuracy"] < 0.02) {
		t.Errorf("4,000 examples: sd %v, not measurable %q", sd, unm)
	}
}
