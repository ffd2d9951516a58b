package coordinator

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/protocol"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testConfig() Config {
	return Config{
		Task:         protocol.TaskSpec{ID: "t", EncoderID: "enc", Labels: []string{"a", "b"}, NumParams: 2, EvalLen: 4},
		Rounds:       2,
		Strategy:     &aggregation.FedAvg{},
		Train:        protocol.TrainParams{SampleRate: 0.1, ClipNorm: 1, NoiseMultiplier: 1, LocalSteps: 5, LearningRate: 0.1},
		MinJoined:    3,
		MinClients:   2,
		RoundTimeout: time.Minute,

		InsecurePlainAggregation: true,
	}
}

func newFed(t *testing.T) *Federation {
	t.Helper()
	return newFedWith(t, testConfig())
}

func newFedWith(t *testing.T, c Config) *Federation {
	t.Helper()
	f, err := New(c, []float64{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c"} {
		if err := f.Join(n, JoinInfo{EncoderID: "enc"}, t0); err != nil {
			t.Fatal(err)
		}
	}
	// A round starts once MinJoined tenants have polled (are ready).
	mustPoll(t, f, "a", t0, ActWait)
	mustPoll(t, f, "b", t0, ActWait)
	mustPoll(t, f, "c", t0, ActTrain)
	return f
}

func mustPoll(t *testing.T, f *Federation, name string, now time.Time, want ActionKind) Action {
	t.Helper()
	a, err := f.Poll(name, now)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != want {
		t.Fatalf("%s: action %v, want %v", name, a.Kind, want)
	}
	return a
}

func TestRoundWithDropoutCompletesAtDeadline(t *testing.T) {
	f := newFed(t)
	now := t0.Add(time.Second)
	for _, n := range []string{"a", "b", "c"} {
		p := mustPoll(t, f, n, now, ActTrain).Plan
		if p.Round != 1 || p.Version != 0 || len(p.Cohort) != 3 {
			t.Fatalf("plan %+v", p)
		}
	}
	// a: w=1, Δ=(1,1); b: w=3, Δ=(−1,3); c never answers.
	if err := f.SubmitUpdate("a", 1, []float64{1, 1, 1}, now); err != nil {
		t.Fatal(err)
	}
	if err := f.SubmitUpdate("b", 1, []float64{-3, 9, 3}, now); err != nil {
		t.Fatal(err)
	}
	if err := f.SubmitUpdate("b", 1, []float64{-3, 9, 3}, now); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	mustPoll(t, f, "a", now, ActWait) // c still pending, before deadline
	late := t0.Add(2 * time.Minute)
	mustPoll(t, f, "a", late, ActEval)
	if f.Latest() != 1 {
		t.Fatalf("latest = %d", f.Latest())
	}
	m, _ := f.Model(1)
	if m[0] != -0.5 || m[1] != 2.5 {
		t.Fatalf("model %v, want weighted mean (-0.5, 2.5)", m)
	}
	ev := f.Events()
	var agg *Event
	for i := range ev {
		if ev[i].Kind == EvRoundAggregated {
			agg = &ev[i]
		}
	}
	if agg == nil || len(agg.Participants) != 2 || len(agg.Dropped) != 1 || agg.Dropped[0] != "c" {
		t.Fatalf("aggregated event %+v", agg)
	}
	// c answers late: refused with a typed error.
	if err := f.SubmitUpdate("c", 1, []float64{1, 1, 1}, late); !errors.Is(err, ErrWrongStage) {
		t.Fatalf("late update: %v", err)
	}
}

func TestBelowMinimumRoundIsAbandoned(t *testing.T) {
	f := newFed(t)
	now := t0.Add(time.Second)
	for _, n := range []string{"a", "b", "c"} {
		mustPoll(t, f, n, now, ActTrain)
	}
	if err := f.Decline("b", 1, "budget exhausted", now); err != nil {
		t.Fatal(err)
	}
	if err := f.Decline("c", 1, "policy", now); err != nil {
		t.Fatal(err)
	}
	if err := f.SubmitUpdate("a", 1, []float64{1, 1, 1}, now); err != nil {
		t.Fatal(err)
	}
	var abandoned bool
	for _, e := range f.Events() {
		if e.Kind == EvRoundAbandoned {
			abandoned = true
			if e.Declined["b"] != "budget exhausted" {
				t.Fatalf("declined reasons %v", e.Declined)
			}
		}
	}
	if !abandoned || f.Latest() != 0 {
		t.Fatalf("abandoned=%v latest=%d", abandoned, f.Latest())
	}
	// The next round starts with a new number; messages for round 1 are refused.
	a := mustPoll(t, f, "a", now, ActTrain)
	if a.Plan.Round != 2 {
		t.Fatalf("round %d", a.Plan.Round)
	}
	if err := f.SubmitUpdate("a", 1, []float64{1, 1, 1}, now); !errors.Is(err, ErrWrongRound) {
		t.Fatalf("replay from round 1: %v", err)
	}
}

func TestFullFederationFinishes(t *testing.T) {
	c := testConfig()
	c.EvalEpsilon = 0.5
	f := newFedWith(t, c)
	now := t0
	for r := 1; r <= 2; r++ {
		for _, n := range []string{"a", "b", "c"} {
			p := mustPoll(t, f, n, now, ActTrain).Plan
			if err := f.SubmitUpdate(n, p.Round, []float64{1, 0, 1}, now); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []string{"a", "b", "c"} {
			a := mustPoll(t, f, n, now, ActEval)
			if a.EvalEps != 0.5 {
				t.Fatalf("evaluation ε %v, configured 0.5", a.EvalEps)
			}
			stats, why := []int64{1, 0, 0, 1}, ""
			if r == 2 && n == "c" {
				stats, why = nil, "only noised statistics"
			}
			if err := f.SubmitEval(n, a.Round, a.Version, stats, why, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Until each tenant has polled once more, it does not know the
	// federation finished: the coordinator must not stop before (Untold).
	if n := f.Untold(now, time.Minute); n != 3 {
		t.Fatalf("Untold before the final polls = %d, want 3", n)
	}
	mustPoll(t, f, "a", now, ActFinished)
	mustPoll(t, f, "b", now, ActFinished)
	if n := f.Untold(now, time.Minute); n != 1 {
		t.Fatalf("Untold after a and b polled = %d, want 1 (c)", n)
	}
	if n := f.Untold(now.Add(2*time.Minute), time.Minute); n != 0 {
		t.Fatalf("Untold counts c, silent for longer than the active window: %d", n)
	}
	var evals int
	for _, e := range f.Events() {
		if e.Kind == EvEvaluated {
			evals++
			want, decl := int64(3), []string(nil)
			if e.Round == 2 {
				want, decl = 2, []string{"c"}
			}
			if e.Stats[0] != want || e.Stats[3] != want || !slices.Equal(e.EvalDecline, decl) || len(e.Evaluators) != int(want) || e.EvalEpsilon != 0.5 {
				t.Fatalf("round %d: stats %v, evaluators %v, declined %v, ε %v", e.Round, e.Stats, e.Evaluators, e.EvalDecline, e.EvalEpsilon)
			}
		}
	}
	if evals != 2 || f.Latest() != 2 {
		t.Fatalf("evals=%d latest=%d", evals, f.Latest())
	}
}

func TestBadInputIsRefused(t *testing.T) {
	f := newFed(t)
	now := t0
	mustPoll(t, f, "a", now, ActTrain)
	cases := []struct {
		name   string
		values []float64
	}{
		{"short", []float64{1, 1}},
		{"long", []float64{1, 1, 1, 1}},
		{"nan", []float64{1, nanF(), 1}},
		{"zero weight", []float64{1, 1, 0}},
	}
	for _, c := range cases {
		if err := f.SubmitUpdate("a", 1, c.values, now); !errors.Is(err, ErrBadUpdate) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if err := f.Join("x y", JoinInfo{EncoderID: "enc"}, now); !errors.Is(err, ErrBadTenant) {
		t.Errorf("bad name: %v", err)
	}
	if err := f.Join("d", JoinInfo{EncoderID: "other"}, now); !errors.Is(err, ErrEncoderMismatch) {
		t.Errorf("encoder: %v", err)
	}
	if _, err := f.Poll("nobody", now); !errors.Is(err, ErrUnknownTenant) {
		t.Errorf("unknown: %v", err)
	}
	if err := f.SubmitEval("a", 1, 0, []int64{1}, "", now); !errors.Is(err, ErrBadUpdate) || !contains(err.Error(), "1 evaluation statistics, the task has 4") {
		t.Errorf("statistics size: %v", err)
	}
	if err := f.SubmitEval("a", 1, 0, []int64{1, 0, 0, 1}, "no budget", now); !errors.Is(err, ErrBadUpdate) || !contains(err.Error(), "both declined") {
		t.Errorf("declined with statistics: %v", err)
	}
	if err := f.SubmitEval("a", 1, 0, []int64{1, 0, 1 << 41, 1}, "", now); !errors.Is(err, ErrBadUpdate) || !contains(err.Error(), "statistic 2") {
		t.Errorf("statistic out of range: %v", err)
	}
}

func TestConfigErrorsNameTheParameter(t *testing.T) {
	c := testConfig()
	c.Train.SampleRate = 2
	_, err := New(c, []float64{0, 0})
	if err == nil || !contains(err.Error(), "sample rate") {
		t.Fatalf("got %v", err)
	}
}

// TestTouchKeepsPendingNotice checks that marking a tenant alive (as a
// model download does) does not consume an abort notice meant for its
// next Poll.
func TestTouchKeepsPendingNotice(t *testing.T) {
	f := newFed(t)
	f.notices["a"] = Action{Kind: ActSecAgg, Stage: "abort", Reason: "test"}
	if err := f.Touch("a", t0); err != nil {
		t.Fatal(err)
	}
	if a := mustPoll(t, f, "a", t0, ActSecAgg); a.Reason != "test" {
		t.Fatalf("notice lost: %+v", a)
	}
	if err := f.Touch("nobody", t0); !errors.Is(err, ErrUnknownTenant) {
		t.Fatalf("unknown tenant: %v", err)
	}
}

// With EvalEvery 2 over 3 rounds only rounds 2 and 3 are evaluated: round
// 1's aggregation says the evaluation was skipped.
func TestEvalEvery(t *testing.T) {
	c := testConfig()
	c.Rounds, c.EvalEvery = 3, 2
	f := newFedWith(t, c)
	now := t0
	var evaluated, skipped []int
	for r := 1; r <= 3; r++ {
		for _, n := range []string{"a", "b", "c"} {
			p := mustPoll(t, f, n, now, ActTrain).Plan
			if err := f.SubmitUpdate(n, p.Round, []float64{1, 0, 1}, now); err != nil {
				t.Fatal(err)
			}
		}
		if r == 1 {
			continue
		}
		for _, n := range []string{"a", "b", "c"} {
			a := mustPoll(t, f, n, now, ActEval)
			if err := f.SubmitEval(n, a.Round, a.Version, []int64{1, 0, 0, 1}, "", now); err != nil {
				t.Fatal(err)
			}
		}
	}
	mustPoll(t, f, "a", now, ActFinished)
	for _, e := range f.Events() {
		switch {
		case e.Kind == EvEvaluated:
			evaluated = append(evaluated, e.Round)
		case e.Kind == EvRoundAggregated && e.EvalSkipped:
			skipped = append(skipped, e.Round)
		}
	}
	if !slices.Equal(evaluated, []int{2, 3}) || !slices.Equal(skipped, []int{1}) {
		t.Fatalf("evaluated %v, skipped %v", evaluated, skipped)
	}
	// SkipEvaluation: rounds follow each other with no evaluation stage.
	c = testConfig()
	c.Rounds, c.SkipEvaluation = 2, true
	f = newFedWith(t, c)
	for range 2 {
		for _, n := range []string{"a", "b", "c"} {
			p := mustPoll(t, f, n, now, ActTrain).Plan
			if err := f.SubmitUpdate(n, p.Round, []float64{1, 0, 1}, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	mustPoll(t, f, "a", now, ActFinished)
	for _, e := range f.Events() {
		if e.Kind == EvEvaluated || (e.Kind == EvRoundAggregated && !e.EvalSkipped) {
			t.Fatalf("event %+v in a federation without evaluation", e)
		}
	}
	for _, c := range []struct{ rounds, every, want int }{{8, 1, 8}, {8, 0, 8}, {8, 2, 4}, {9, 2, 5}, {100, 10, 10}, {3, 5, 1}, {8, -1, 0}} {
		if got := Evaluations(c.rounds, c.every); got != c.want {
			t.Errorf("Evaluations(%d, %d) = %d, want %d", c.rounds, c.every, got, c.want)
		}
	}
}

// The coordinator holds O(d) parameters whatever the number of rounds:
// only the newest versions stay in memory (the rest live in the store).
func TestOldVersionsLeaveMemory(t *testing.T) {
	c := testConfig()
	c.Rounds = 6
	c.SkipEvaluation = true
	f := newFedWith(t, c)
	now := t0
	for r := 1; r <= c.Rounds; r++ {
		for _, n := range []string{"a", "b", "c"} {
			p := mustPoll(t, f, n, now, ActTrain).Plan
			if err := f.SubmitUpdate(n, p.Round, []float64{1, 0, 1}, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	mustPoll(t, f, "a", now, ActFinished)
	held := 0
	for v := 0; v <= f.Latest(); v++ {
		if _, ok := f.Model(v); ok {
			held++
			if v < f.Latest()-keptVersions+1 {
				t.Errorf("version %d of %d still held", v, f.Latest())
			}
		}
	}
	if f.Latest() != c.Rounds || held != keptVersions {
		t.Fatalf("latest %d, %d versions held, want %d", f.Latest(), held, keptVersions)
	}
}

// A task that announces an evaluation bound has every tenant's statistics
// held to it: a hostile tenant cannot swamp the summed evaluation with a
// huge count, and the refusal names the tenant and the statistic.
func TestEvalStatisticsBounded(t *testing.T) {
	c := testConfig()
	c.Rounds = 1
	c.Task.Options = map[string]string{protocol.OptionEvalBound: "1000"}
	f := newFedWith(t, c)
	now := t0
	for _, n := range []string{"a", "b", "c"} {
		p := mustPoll(t, f, n, now, ActTrain).Plan
		if err := f.SubmitUpdate(n, p.Round, []float64{1, 0, 1}, now); err != nil {
			t.Fatal(err)
		}
	}
	a := mustPoll(t, f, "a", now, ActEval)
	err := f.SubmitEval("a", a.Round, a.Version, []int64{10, 1001, 0, 0}, "", now)
	if !errors.Is(err, ErrBadUpdate) || !strings.Contains(err.Error(), "statistic 1 = 1001") {
		t.Fatalf("statistic beyond the bound: %v", err)
	}
	if err := f.SubmitEval("a", a.Round, a.Version, []int64{10, -1000, 1000, 0}, "", now); err != nil {
		t.Fatalf("statistics within the bound refused: %v", err)
	}
	c.Task.Options[protocol.OptionEvalBound] = "-5"
	if _, err := New(c, []float64{0, 0}); err == nil || !strings.Contains(err.Error(), "evaluation bound") {
		t.Fatalf("malformed bound accepted: %v", err)
	}
}
