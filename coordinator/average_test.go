package coordinator

import (
	"math"
	"strings"
	"testing"
)

// TestPublishedIsIterateAverage: with AverageDecay the published model is
// the bias-corrected moving average of the versions the rounds produced
// (computed here from its definition), not the last version; rounds
// still train from the last version.
func TestPublishedIsIterateAverage(t *testing.T) {
	c := testConfig()
	c.Rounds, c.SkipEvaluation, c.AverageDecay = 5, true, 0.6
	f := newFedWith(t, c)
	if p := f.Published(); p[0] != 0 || p[1] != 0 {
		t.Fatalf("published before any round: %v, want the initial model", p)
	}
	var versions [][]float64
	for r := 1; r <= c.Rounds; r++ {
		for _, n := range []string{"a", "b", "c"} {
			p := mustPoll(t, f, n, t0, ActTrain).Plan
			if p.Version != f.Latest() {
				t.Fatalf("round %d trains from version %d, latest is %d", r, p.Version, f.Latest())
			}
			// Δ = (r², −r), weight 1: FedAvg moves the model by Δ.
			if err := f.SubmitUpdate(n, p.Round, []float64{float64(r * r), -float64(r), 1}, t0); err != nil {
				t.Fatal(err)
			}
		}
		m, ok := f.Model(f.Latest())
		if !ok || f.Latest() != r {
			t.Fatalf("round %d: latest version %d", r, f.Latest())
		}
		versions = append(versions, m)
	}
	mustPoll(t, f, "a", t0, ActFinished)
	want := make([]float64, 2)
	var norm float64
	for i, v := range versions {
		w := math.Pow(c.AverageDecay, float64(len(versions)-1-i))
		norm += w
		for j := range want {
			want[j] += w * v[j]
		}
	}
	got, last := f.Published(), versions[len(versions)-1]
	for j := range want {
		want[j] /= norm
		if math.Abs(got[j]-want[j]) > 1e-9*(1+math.Abs(want[j])) {
			t.Fatalf("published %v, want the moving average %v (last version %v)", got, want, last)
		}
	}
	if math.Abs(got[0]-last[0]) < 1 {
		t.Fatalf("published %v is the last version %v", got, last)
	}
}

// TestPublishedWithoutAverageIsLatest: the default publishes the last
// version.
func TestPublishedWithoutAverageIsLatest(t *testing.T) {
	c := testConfig()
	c.SkipEvaluation = true
	f := newFedWith(t, c)
	for r := 1; r <= c.Rounds; r++ {
		for _, n := range []string{"a", "b", "c"} {
			p := mustPoll(t, f, n, t0, ActTrain).Plan
			if err := f.SubmitUpdate(n, p.Round, []float64{float64(r), 1, 1}, t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	last, _ := f.Model(f.Latest())
	if got := f.Published(); got[0] != last[0] || got[1] != last[1] || last[0] != 3 {
		t.Fatalf("published %v, last version %v", got, last)
	}
}

func TestAverageDecayChecked(t *testing.T) {
	for _, tc := range []struct {
		decay float64
		skip  bool
		want  string
	}{
		{1, true, "decay 1 must be in [0, 1)"},
		{-0.5, true, "must be in [0, 1)"},
		{math.NaN(), true, "must be in [0, 1)"},
		{0.9, false, "without federated evaluation"},
	} {
		c := testConfig()
		c.AverageDecay, c.SkipEvaluation = tc.decay, tc.skip
		_, err := New(c, []float64{0, 0})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("decay %v, skip evaluation %v: error %v, want %q", tc.decay, tc.skip, err, tc.want)
		}
	}
}

// TestResumedAverageRestartsFromResumedVersion: the average is not
// stored, so a resumed coordinator averages from the version it resumed
// (never from the initial model or nothing).
func TestResumedAverageRestartsFromResumedVersion(t *testing.T) {
	c := testConfig()
	c.Rounds, c.SkipEvaluation, c.AverageDecay = 5, true, 0.5
	f, err := NewResumed(c, ResumeState{Version: 3, Params: []float64{8, -8}, RoundsDone: 3, NextRound: 4})
	if err != nil {
		t.Fatal(err)
	}
	if p := f.Published(); p[0] != 8 || p[1] != -8 {
		t.Fatalf("published after resuming %v, want the resumed version [8 -8]", p)
	}
	for _, n := range []string{"a", "b", "c"} {
		if err := f.Join(n, JoinInfo{EncoderID: "enc"}, t0); err != nil {
			t.Fatal(err)
		}
	}
	mustPoll(t, f, "a", t0, ActWait)
	mustPoll(t, f, "b", t0, ActWait)
	mustPoll(t, f, "c", t0, ActTrain)
	for _, n := range []string{"a", "b", "c"} {
		p := mustPoll(t, f, n, t0, ActTrain).Plan
		if err := f.SubmitUpdate(n, p.Round, []float64{4, 4, 1}, t0); err != nil {
			t.Fatal(err)
		}
	}
	// Versions 3 = (8, −8) and 4 = (12, −4): (0.5·v3 + v4) / 1.5.
	got := f.Published()
	if math.Abs(got[0]-32.0/3) > 1e-12 || math.Abs(got[1]+16.0/3) > 1e-12 {
		t.Fatalf("published %v, want [10.667 -5.333]", got)
	}
}
