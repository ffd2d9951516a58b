package client

import (
	"math"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// composeEach is the reference: every spend composed on its own.
func composeEach(spends []Spend) (*privacy.RDPAccountant, error) {
	acc := privacy.NewRDPAccountant(nil)
	for _, s := range spends {
		if err := acc.Compose(s.SampleRate, s.NoiseMultiplier, s.Steps); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

func manySpends(rounds int) []Spend {
	var out []Spend
	for r := 1; r <= rounds; r++ {
		out = append(out, Spend{Round: r, SampleRate: 0.1, NoiseMultiplier: 1.5, Steps: 50})
		if r%3 == 0 { // an evaluation-like release now and then
			out = append(out, Spend{Round: r, SampleRate: 1, NoiseMultiplier: 8, Steps: 1})
		}
	}
	return out
}

// Grouping identical mechanisms gives the same ε as composing each spend.
func TestComposeGroupsIdenticalMechanisms(t *testing.T) {
	spends := manySpends(40)
	got, err := compose(spends)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := composeEach(spends)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err1 := got.Epsilon(1e-5)
	b, _, err2 := ref.Epsilon(1e-5)
	if err1 != nil || err2 != nil || math.Abs(a-b) > 1e-9*b || got.Steps() != ref.Steps() {
		t.Fatalf("grouped ε %v (steps %d), each %v (steps %d): %v %v", a, got.Steps(), b, ref.Steps(), err1, err2)
	}
}

// Benchmark the tenant's per-decision accounting after 200 rounds, grouped
// against composing every spend (the reference), in the same run.
func BenchmarkEpsilon200Rounds(b *testing.B) {
	spends := manySpends(200)
	b.Run("grouped", func(b *testing.B) {
		for b.Loop() {
			if _, err := Epsilon(spends, 1e-5); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("each", func(b *testing.B) {
		for b.Loop() {
			acc, err := composeEach(spends)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := epsilonOf(acc, 1e-5); err != nil {
				b.Fatal(err)
			}
		}
	})
}
