package task

import (
	"context"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/protocol"
)

// Hand-computed: 3 classes, truth×prediction counts
//
//	a: 2 a, 1 b      support a 3, b 2, c 1
//	b: 2 b           predicted a 2, b 3, c 1
//	c: 1 c           tp a 2, b 2, c 1
//
// accuracy 5/6; F1 a = 4/5, b = 4/5, c = 1; macro-F1 13/15.
func TestClassStatsHandComputed(t *testing.T) {
	m := models.ConfusionMatrix{Classes: 3, Counts: []int64{2, 1, 0, 0, 2, 0, 0, 0, 1}}
	s := ClassStats(m)
	want := []int64{6, 5, 3, 2, 1, 2, 3, 1, 2, 2, 1}
	if !slices.Equal(s, want) {
		t.Fatalf("stats %v, want %v", s, want)
	}
	acc, f1, err := ClassMetrics(s, 3)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(acc-5.0/6) > 1e-12 || math.Abs(f1-13.0/15) > 1e-12 {
		t.Fatalf("accuracy %v macro-F1 %v, want 5/6 and 13/15", acc, f1)
	}
}

// The statistics carry exactly the metrics of the confusion matrix,
// including classes absent from both labels and predictions; and adding one
// record changes at most ClassL0 entries by one (the sensitivity the noise
// is calibrated to).
func TestClassStatsMatchConfusionAndSensitivity(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	for trial := range 300 {
		k := 2 + r.IntN(8)
		m, _ := models.NewConfusionMatrix(k)
		for i := range m.Counts {
			if r.IntN(3) > 0 {
				m.Counts[i] = int64(r.IntN(20))
			}
		}
		s := ClassStats(m)
		acc, f1, err := ClassMetrics(s, k)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(acc-m.Accuracy()) > 1e-12 || math.Abs(f1-m.MacroF1()) > 1e-12 {
			t.Fatalf("trial %d: stats give %v/%v, matrix %v/%v", trial, acc, f1, m.Accuracy(), m.MacroF1())
		}
		tr, p := r.IntN(k), r.IntN(k)
		m.Counts[tr*k+p]++
		s2 := ClassStats(m)
		changed := 0
		for i := range s {
			switch d := s2[i] - s[i]; d {
			case 0:
			case 1:
				changed++
			default:
				t.Fatalf("trial %d: entry %d moved by %d", trial, i, d)
			}
		}
		if changed > ClassL0 {
			t.Fatalf("trial %d: one record changed %d entries, bound %d", trial, changed, ClassL0)
		}
	}
}

// Noised statistics may be negative or inconsistent; the metrics stay in
// [0, 1].
func TestClassMetricsOfNoisedStatsAreBounded(t *testing.T) {
	r := mrand.New(mrand.NewPCG(3, 4))
	for range 500 {
		k := 2 + r.IntN(5)
		s := make([]int64, 2+3*k)
		for i := range s {
			s[i] = int64(r.IntN(41) - 20)
		}
		acc, f1, err := ClassMetrics(s, k)
		if err != nil {
			t.Fatal(err)
		}
		if !(acc >= 0 && acc <= 1 && f1 >= 0 && f1 <= 1) {
			t.Fatalf("stats %v: accuracy %v macro-F1 %v", s, acc, f1)
		}
	}
	if _, _, err := ClassMetrics(make([]int64, 7), 3); err == nil || !strings.Contains(err.Error(), "want 11") {
		t.Fatalf("wrong length: %v", err)
	}
}

func TestMetricsChecksKindAndLength(t *testing.T) {
	spec := protocol.TaskSpec{ID: "t", Kind: KindClassify, Labels: []string{"a", "b"}}
	if _, err := Metrics(spec, make([]int64, 3)); err == nil || !strings.Contains(err.Error(), "kind \"classify\" has 8") {
		t.Fatalf("wrong length: %v", err)
	}
	m, err := Metrics(spec, []int64{4, 3, 2, 2, 3, 1, 2, 1})
	if err != nil || m["accuracy"] != 0.75 || m["examples"] != 4 {
		t.Fatalf("metrics %v, %v", m, err)
	}
	spec.Kind = "nope"
	if _, err := Metrics(spec, nil); err == nil || !strings.Contains(err.Error(), `unknown kind "nope"`) || !strings.Contains(err.Error(), "classify") {
		t.Fatalf("unknown kind: %v", err)
	}
}

// The classification learner encodes the tenant's data for the announced
// task, trains, and reports the statistics of its held-out split.
func TestClassifierLearner(t *testing.T) {
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	if err != nil {
		t.Fatal(err)
	}
	var train, test []dataset.Example
	for i := range 200 {
		ex := dataset.Example{Text: "steel pipes and valves", Label: "industrial"}
		if i%2 == 1 {
			ex = dataset.Example{Text: "fresh bread and pastry", Label: "food"}
		}
		if i < 150 {
			train = append(train, ex)
		} else {
			test = append(test, ex)
		}
	}
	train = append(train, dataset.Example{Text: "unknown", Label: "other"})
	spec := protocol.TaskSpec{ID: "t", Kind: KindClassify, EncoderID: enc.ID(), InputDim: enc.Dim(), Rank: 4, Labels: []string{"food", "industrial"}, Seed: 7}
	l, err := NewClassifier(enc, train, test, nil)(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if l.TrainSize() != 150 {
		t.Fatalf("train size %d, want 150 (the example with an unknown label skipped)", l.TrainSize())
	}
	rng := mrand.New(mrand.NewPCG(5, 6))
	if _, err := l.Train(models.TrainConfig{Steps: 30, LearningRate: 1, BatchSize: 16}, rng); err != nil {
		t.Fatal(err)
	}
	s, err := l.EvalStats()
	if err != nil {
		t.Fatal(err)
	}
	if s[0] != 50 || s[1] != 50 {
		t.Fatalf("stats %v: want all 50 held-out examples correct", s)
	}
	spec.Kind = "forecast"
	if _, err := NewClassifier(enc, train, test, nil)(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "kind \"forecast\"") {
		t.Fatalf("wrong kind: %v", err)
	}
}

// Every registered kind names its privacy unit, and its contribution
// bounds are positive.
func TestKindsNameTheirUnit(t *testing.T) {
	for _, name := range []string{KindClassify, KindIntent, KindForecast, KindRecommend} {
		k, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if k.Unit == "" || k.L0 < 1 || k.LInf < 1 || k.EvalLen == nil || k.Metrics == nil {
			t.Errorf("kind %q: %+v", name, k)
		}
	}
}
