package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

func TestDecideDeclinesOverCap(t *testing.T) {
	round := Spend{Task: "t", Round: 1, SampleRate: 0.02, NoiseMultiplier: 1, ClipNorm: 1, Steps: 100}
	one, err := privacy.RDPEpsilon(0.02, 1, 100, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	two, _ := privacy.RDPEpsilon(0.02, 1, 200, 1e-5)
	// A cap between one and two rounds: the first is accepted, the second declined.
	p := Policy{Budget: Budget{Epsilon: (one + two) / 2, Delta: 1e-5}}
	d, err := p.Decide("t", round, 5, nil)
	if err != nil || !d.Accept {
		t.Fatalf("first round: %+v %v", d, err)
	}
	if diff := d.EpsAfter - one; diff > 1e-12 || diff < -1e-12 {
		t.Fatalf("EpsAfter %v, accountant says %v", d.EpsAfter, one)
	}
	second := round
	second.Round = 2
	d, err = p.Decide("t", second, 5, []Spend{round})
	if err != nil {
		t.Fatal(err)
	}
	if d.Accept || !strings.Contains(d.Reason, "above this tenant's cap") {
		t.Fatalf("second round: %+v", d)
	}
}

func TestDecidePolicy(t *testing.T) {
	s := Spend{Round: 1, SampleRate: 0.01, NoiseMultiplier: 0.8, Steps: 10}
	cases := []struct {
		p    Policy
		want string
	}{
		{Policy{Budget: Budget{Delta: 1e-5}, MinNoise: 1}, "below this tenant's minimum 1"},
		{Policy{Budget: Budget{Delta: 1e-5}, MinCohort: 10}, "cohort of 3"},
		{Policy{Budget: Budget{Delta: 1e-5}, Tasks: []string{"other"}}, "not in this tenant's allowed tasks"},
	}
	for _, c := range cases {
		d, err := c.p.Decide("t", s, 3, nil)
		if err != nil || d.Accept || !strings.Contains(d.Reason, c.want) {
			t.Errorf("policy %+v: %+v %v", c.p, d, err)
		}
	}
	zero := s
	zero.NoiseMultiplier = 0
	if d, _ := (Policy{Budget: Budget{Delta: 1e-5}}).Decide("t", zero, 3, nil); d.Accept {
		t.Error("a plan without noise was accepted")
	}
}

func TestCheckCapBelowOneRound(t *testing.T) {
	err := CheckCap(Budget{Epsilon: 0.1, Delta: 1e-5}, Spend{SampleRate: 0.1, NoiseMultiplier: 0.8, Steps: 100})
	if err == nil || !strings.Contains(err.Error(), "above the cap 0.1") {
		t.Fatalf("got %v", err)
	}
}

func TestFileSpendLogSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spend.jsonl")
	l, err := OpenFileSpendLog(path)
	if err != nil {
		t.Fatal(err)
	}
	s := Spend{Task: "t", Round: 1, SampleRate: 0.05, NoiseMultiplier: 1.2, ClipNorm: 1, Steps: 20}
	if err := l.Record(s); err != nil {
		t.Fatal(err)
	}
	l2, err := OpenFileSpendLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := l2.Spends(); len(got) != 1 || got[0] != s {
		t.Fatalf("after restart: %+v", got)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("spend log mode %v, want 0600", fi.Mode().Perm())
	}
	// A torn line is an error naming it, never silently dropped.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"task":"t","rou`)
	f.Close()
	if _, err := OpenFileSpendLog(path); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("torn line: %v", err)
	}
}
