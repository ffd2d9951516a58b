package privacy

import "testing"

// Accountant benchmarks for the DP-SGD regime of the brief: 1e4 steps with
// q = 1e-3 (σ = 1, δ = 1e-5): one Compose and one Epsilon per iteration.
// Goals: RDP < 1 ms, PLD < 1 s.

func BenchmarkRDP1e4Steps(b *testing.B) {
	for i := 0; i < b.N; i++ {
		a := NewRDPAccountant(nil)
		if err := a.Compose(1e-3, 1, 10000); err != nil {
			b.Fatal(err)
		}
		if _, _, err := a.Epsilon(1e-5); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRDP1e4StepsOpacusOrders(b *testing.B) {
	for i := 0; i < b.N; i++ {
		a := NewRDPAccountant(OpacusRDPOrders)
		if err := a.Compose(1e-3, 1, 10000); err != nil {
			b.Fatal(err)
		}
		if _, _, err := a.Epsilon(1e-5); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPLD1e4Steps(b *testing.B) {
	for i := 0; i < b.N; i++ {
		a := NewPLDAccountant(0)
		if err := a.Compose(1e-3, 1, 10000); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Epsilon(1e-5); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPLD1e4StepsSigma0_8 is a harder case of the same regime (a wider
// loss range per step).
func BenchmarkPLD1e4StepsSigma0_8(b *testing.B) {
	for i := 0; i < b.N; i++ {
		a := NewPLDAccountant(0)
		if err := a.Compose(1e-3, 0.8, 10000); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Epsilon(1e-5); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCalibrateNoiseRDP(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := CalibrateNoiseRDP(1e-3, 10000, 1e-5, 1); err != nil {
			b.Fatal(err)
		}
	}
}
