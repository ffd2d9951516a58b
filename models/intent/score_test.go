package intent

import (
	"math"
	"testing"
)

func TestScorerHandComputed(t *testing.T) {
	z := []float64{2, 0, -1}
	e := math.Exp(2) + 1 + math.Exp(-1)
	cases := []struct {
		s    Scorer
		want float64
	}{
		{Scorer{Kind: ScoreMSP}, math.Exp(2) / e},
		{Scorer{Kind: ScoreMaxLogit}, 2},
		{Scorer{Kind: ScoreEnergy}, math.Log(e)},
		{Scorer{Kind: ScoreEnergy, Temperature: 0.5}, 0.5 * math.Log(math.Exp(4)+1+math.Exp(-2))},
	}
	for _, c := range cases {
		if err := c.s.Check(); err != nil {
			t.Fatal(err)
		}
		if got := c.s.Score(z); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%+v: %v, want %v", c.s, got, c.want)
		}
	}
	// Large logits do not overflow.
	if v := (Scorer{Kind: ScoreEnergy}).Score([]float64{1000, 1000}); math.Abs(v-1000-math.Log(2)) > 1e-9 {
		t.Errorf("energy of large logits %v", v)
	}
	for _, bad := range []Scorer{{Kind: "nosuch"}, {Kind: ScoreEnergy, Temperature: -1}, {Kind: ScoreEnergy, Temperature: math.NaN()}} {
		if bad.Check() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// The energy score separates what the maximum softmax cannot: a message
// whose logits are all small (features the model has no weights for) has
// the same softmax as a confident one with the same logit gaps, but a
// lower energy. On the fixture, energy rejects both out-of-scope messages
// at a threshold that keeps every in-scope one, and the maximum softmax
// (a constant on this fixture) rejects nothing: a scorer replaced by a
// constant fails here.
func TestEnergyScoreSeparatesWhereSoftmaxCannot(t *testing.T) {
	in := [][]float64{{6, 1, 0}, {1, 6, 0}, {0, 1, 6}, {6, 0, 1}}
	oos := [][]float64{{1, -4, -5}, {-4, 1, -5}} // same gaps, lower level
	count := func(s Scorer) Metrics {
		// The threshold that keeps every in-scope message.
		tau := minOf(s.Scores(in))
		var m Metrics
		correct := []bool{true, true, true, true}
		CountScores(&m, s.Scores(in), correct, s.Scores(oos), tau)
		return m
	}
	e := count(Scorer{Kind: ScoreEnergy})
	if e.OOSRecall() != 1 || e.FalseRejects != 0 || e.InScopeAccuracy() != 1 {
		t.Fatalf("energy: %+v", e)
	}
	if m := count(Scorer{Kind: ScoreMSP}); m.OOSRecall() != 0 {
		t.Fatalf("max softmax separated the fixture (recall %v): the fixture no longer tests what energy adds", m.OOSRecall())
	}
}

func minOf(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func TestScoreThresholdAndCount(t *testing.T) {
	s := []float64{-3, 5, 1, 2, -1, 4, 0, 3, 6, 7}
	// Sorted: -3 -1 0 1 …; rejecting 20 % of 10 → τ = s[2] = 0.
	tau, err := ScoreThreshold(s, 0.2)
	if err != nil || tau != 0 {
		t.Fatalf("τ = %v (%v), want 0", tau, err)
	}
	if tau, _ := ScoreThreshold(s, 0.05); tau != NoThreshold {
		t.Fatalf("5 %% of 10 rejects nothing, τ = %v", tau)
	}
	if _, err := ScoreThreshold(nil, 0.1); err == nil {
		t.Fatal("no scores accepted")
	}
	if _, err := ScoreThreshold(s, 1); err == nil {
		t.Fatal("reject rate 1 accepted")
	}
	var m Metrics
	CountScores(&m, []float64{-1, 0.5, 2}, []bool{true, true, false}, []float64{-2, 0, 1}, 0)
	// In-scope: -1 rejected, 0.5 accepted and correct, 2 accepted but wrong.
	// Out-of-scope: only -2 is below 0.
	if m.InScope != 3 || m.InScopeCorrect != 1 || m.FalseRejects != 1 || m.OOS != 3 || m.OOSDetected != 1 {
		t.Fatalf("%+v", m)
	}
}

// A trained out-of-scope class (the last label OOSLabel) shapes training
// only: the score and the predicted intent read the in-scope logits, so
// a message whose largest logit is the class's is still scored (and
// labelled) by its in-scope logits; ScoreEnergyMinusOOS subtracts the
// class's logit. Misplaced or lone OOSLabel labels are refused.
func TestInScopeClassesScoreAndPredict(t *testing.T) {
	n, err := InScopeClasses([]string{"a", "b", OOSLabel})
	if n != 2 || err != nil {
		t.Fatalf("InScopeClasses = %d, %v; want 2", n, err)
	}
	if n, err := InScopeClasses([]string{"a", "b"}); n != 2 || err != nil {
		t.Fatalf("without the class: %d, %v", n, err)
	}
	for _, bad := range [][]string{{OOSLabel, "a"}, {"a", OOSLabel, "b"}, {OOSLabel}} {
		if _, err := InScopeClasses(bad); err == nil {
			t.Errorf("labels %q accepted", bad)
		}
	}
	z := []float64{1, 3, 9} // the class's logit is the largest
	for _, c := range []struct {
		s    Scorer
		want float64
	}{
		{Scorer{Kind: ScoreMaxLogit, InScopeClasses: 2}, 3},
		{Scorer{Kind: ScoreMaxLogit}, 9},
		{Scorer{Kind: ScoreEnergy, InScopeClasses: 2}, math.Log(math.E + math.Exp(3))},
		{Scorer{Kind: ScoreMSP, InScopeClasses: 2}, math.Exp(3) / (math.E + math.Exp(3))},
		{Scorer{Kind: ScoreEnergyMinusOOS, InScopeClasses: 2}, math.Log(math.E+math.Exp(3)) - 9},
		{Scorer{Kind: ScoreEnergyMinusOOS}, math.Log(math.E + math.Exp(3) + math.Exp(9))},
	} {
		if err := c.s.Check(); err != nil {
			t.Fatal(err)
		}
		if got := c.s.Score(z); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%+v: %v, want %v", c.s, got, c.want)
		}
	}
	if b := (Scorer{Kind: ScoreEnergy, InScopeClasses: 2}).Best(z); b != 1 {
		t.Errorf("in-scope prediction %d, want 1", b)
	}
	if b := (Scorer{Kind: ScoreEnergy}).Best(z); b != 2 {
		t.Errorf("prediction over all logits %d, want 2", b)
	}
	if err := (Scorer{Kind: ScoreEnergy, InScopeClasses: -1}).Check(); err == nil {
		t.Error("negative in-scope classes accepted")
	}
}
