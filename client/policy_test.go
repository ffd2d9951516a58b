package client

import (
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/ledger"
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

func TestLedgerSpendLogSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	_, priv, _ := ed25519.GenerateKey(privacy.SeededReader(1))
	l, err := ledger.Open(path, priv)
	if err != nil {
		t.Fatal(err)
	}
	log := NewLedgerSpendLog(l, "tenant-1")
	s := Spend{Task: "t", Round: 1, SampleRate: 0.05, NoiseMultiplier: 1.2, ClipNorm: 1, Steps: 20}
	b := Budget{Epsilon: 8, Delta: 1e-5}
	id, err := log.Record(s, b)
	if err != nil {
		t.Fatal(err)
	}
	// Crash before the release: reopen; the intent is there and counted.
	l.Close()
	l2, err := ledger.Open(path, priv)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	log2 := NewLedgerSpendLog(l2, "tenant-1")
	if got := log2.Spends(); len(got) != 1 || got[0] != s {
		t.Fatalf("after restart: %+v", got)
	}
	if len(l2.Pending()) != 1 || l2.Pending()[0].Seq != id {
		t.Fatalf("pending %+v", l2.Pending())
	}
	want, _ := privacy.RDPEpsilon(0.05, 1.2, 20, 1e-5)
	if got, _ := Epsilon(log2.Spends(), 1e-5); got != want {
		t.Fatalf("ε %v, accountant %v", got, want)
	}
	// The restarted client declines the same round instead of releasing twice.
	d, err := Policy{Budget: b}.Decide("t", s, 5, log2.Spends())
	if err != nil || d.Accept || !strings.Contains(d.Reason, "already on record") {
		t.Fatalf("decision %+v %v", d, err)
	}
	// The ledger itself refuses an intent above the cap.
	big := Spend{Task: "t", Round: 2, SampleRate: 0.5, NoiseMultiplier: 0.6, ClipNorm: 1, Steps: 500}
	if _, err := log2.Record(big, b); err == nil || !errors.Is(err, ledger.ErrBudgetExceeded) {
		t.Fatalf("over-cap intent: %v", err)
	}
}
