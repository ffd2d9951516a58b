package ddg

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

func baseParams() Params {
	return Params{Dim: 1000, ClipNorm: 1, Gamma: 1e-4, Sigma: 0.3, Beta: DefaultBeta, Threshold: 10, Cohort: 12, Bits: 32}
}

func TestParamsErrors(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Params)
		want string
	}{
		{"sigma zero", func(p *Params) { p.Sigma = 0 }, "Params.Sigma"},
		{"sigma negative", func(p *Params) { p.Sigma = -1 }, "Params.Sigma"},
		{"sigma NaN", func(p *Params) { p.Sigma = math.NaN() }, "Params.Sigma"},
		{"gamma zero", func(p *Params) { p.Gamma = 0 }, "Params.Gamma"},
		{"clip", func(p *Params) { p.ClipNorm = math.Inf(1) }, "Params.ClipNorm"},
		{"dim", func(p *Params) { p.Dim = 0 }, "Params.Dim"},
		{"beta", func(p *Params) { p.Beta = 1 }, "Params.Beta"},
		{"threshold", func(p *Params) { p.Threshold = 0 }, "Params.Threshold"},
		{"cohort below threshold", func(p *Params) { p.Cohort = 5 }, "Params.Cohort"},
		{"integer noise too small", func(p *Params) { p.Sigma = p.Gamma / 4 }, "Params.Sigma/Params.Gamma"},
		{"bits too small for cohort", func(p *Params) { p.Bits = 16 }, "Params.Bits"},
		{"wrap likely", func(p *Params) { p.Gamma = 1e-9 }, "wrap-around"},
	}
	for _, c := range cases {
		p := baseParams()
		if err := p.Validate(); err != nil {
			t.Fatalf("base params: %v", err)
		}
		c.mod(&p)
		err := p.Validate()
		if err == nil || !errors.Is(err, ErrParams) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.want)
		}
	}
	p := baseParams()
	for _, d := range []float64{0, 1, 1.5, -1, math.NaN()} {
		if _, err := Epsilon(p, 10, d); err == nil || !strings.Contains(err.Error(), "delta") {
			t.Errorf("Epsilon with delta %v: error %v", d, err)
		}
	}
	if _, err := Epsilon(p, -1, 1e-5); err == nil {
		t.Error("Epsilon with negative rounds: no error")
	}
	if _, err := Calibrate(0, 1e-5, 10, p); err == nil {
		t.Error("Calibrate with target 0: no error")
	}
}

// TestEpsilonMatchesGaussianLimit: with τ ≈ 0 the bound is the Gaussian
// mechanism's RDP α·s²/2, which privacy.RDPEpsilon computes with q = 1 and
// noise multiplier 1/s (different order grids: allow 1%).
func TestEpsilonMatchesGaussianLimit(t *testing.T) {
	p := baseParams()
	if tau := p.Tau(); tau > 1e-100 {
		t.Fatalf("tau %g not negligible", tau)
	}
	s := p.NormBound() / (math.Sqrt(float64(p.Threshold)) * p.IntSigma())
	for _, rounds := range []int{1, 10, 100} {
		got, err := Epsilon(p, rounds, 1e-5)
		if err != nil {
			t.Fatal(err)
		}
		want, err := privacy.RDPEpsilon(1, 1/s, rounds, 1e-5)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 0.01*want {
			t.Errorf("rounds %d: ε = %.5f, Gaussian RDP gives %.5f", rounds, got, want)
		}
	}
}

func TestTauAndNormBound(t *testing.T) {
	p := baseParams()
	p.Gamma, p.Sigma = 1, 0.6 // integer σ = 0.6: τ is not negligible
	want := 0.0
	for k := 1; k < p.Threshold; k++ {
		want += math.Exp(-2 * math.Pi * math.Pi * 0.36 * float64(k) / float64(k+1))
	}
	if got := p.Tau(); math.Abs(got-10*want) > 1e-12*want {
		t.Errorf("Tau = %g, want %g", got, 10*want)
	}
	// Δ₂ with β = 0 is S/γ + √D; with β > 0 it is smaller.
	q := baseParams()
	q.Beta = 0
	if got, want := q.NormBound(), 1e4+math.Sqrt(1024); math.Abs(got-want) > 1e-9 {
		t.Errorf("NormBound(β=0) = %v, want %v", got, want)
	}
	if b := baseParams().NormBound(); !(b < q.NormBound() && b > 1e4) {
		t.Errorf("NormBound(β) = %v not in (S/γ, S/γ+√D)", b)
	}
}

func TestEpsilonMonotone(t *testing.T) {
	p := baseParams()
	e1, _ := Epsilon(p, 10, 1e-5)
	e2, _ := Epsilon(p, 20, 1e-5)
	p.Sigma *= 1.5
	e3, _ := Epsilon(p, 10, 1e-5)
	if !(e2 > e1 && e3 < e1) {
		t.Errorf("ε not monotone: 10 rounds %v, 20 rounds %v, more noise %v", e1, e2, e3)
	}
	p.Threshold = 5 // fewer guaranteed noise shares: less privacy
	e4, _ := Epsilon(p, 10, 1e-5)
	if !(e4 > e3) {
		t.Errorf("fewer noise shares gave ε %v ≤ %v", e4, e3)
	}
}

func TestCalibrate(t *testing.T) {
	p := baseParams()
	for _, target := range []float64{0.5, 2, 8} {
		q, err := Calibrate(target, 1e-5, 50, p)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := Epsilon(q, 50, 1e-5)
		if e > target {
			t.Errorf("target %v: calibrated ε %v", target, e)
		}
		q.Sigma *= 0.999
		if e, _ := Epsilon(q, 50, 1e-5); e <= target {
			t.Errorf("target %v: σ not minimal (ε %v with 0.1%% less noise)", target, e)
		}
	}
}

func TestPlan(t *testing.T) {
	g := Goal{Epsilon: 8, Delta: 1e-5, Rounds: 30, Dim: 5140, ClipNorm: 0.5, Threshold: 16, Cohort: 20}
	p, err := Plan(g)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	e, _ := Epsilon(p, g.Rounds, g.Delta)
	if e > g.Epsilon || e < 0.99*g.Epsilon {
		t.Errorf("planned ε = %v, target %v", e, g.Epsilon)
	}
	if p.Bits != 32 || p.WrapProb() > DefaultMaxWrapProb || p.BitsNeeded() > 32 {
		t.Errorf("plan bits %d, wrap %g, needs %d bits", p.Bits, p.WrapProb(), p.BitsNeeded())
	}
	t.Logf("plan: γ=%.4g σ=%.4g (integer σ %.1f) Δ₂=%.1f τ=%.3g wrap %.3g, bits needed %d; ε=%.4f",
		p.Gamma, p.Sigma, p.IntSigma(), p.NormBound(), p.Tau(), p.WrapProb(), p.BitsNeeded(), e)
	// A narrow ring forces a coarse γ (small integer σ); too narrow fails.
	g.Bits = 16
	p16, err := Plan(g)
	if err != nil {
		t.Fatal(err)
	}
	if !(p16.Gamma > p.Gamma) || p16.WrapProb() > DefaultMaxWrapProb {
		t.Errorf("16-bit plan γ %v (32-bit %v), wrap %g", p16.Gamma, p.Gamma, p16.WrapProb())
	}
	t.Logf("16-bit plan: γ=%.4g integer σ %.2f, τ=%.3g, σ=%.4g", p16.Gamma, p16.IntSigma(), p16.Tau(), p16.Sigma)
	g.Bits = 6
	if _, err := Plan(g); err == nil || !strings.Contains(err.Error(), "Params.") {
		t.Errorf("6-bit plan: error %v", err)
	}
	g.Bits, g.Delta = 32, 1
	if _, err := Plan(g); err == nil || !strings.Contains(err.Error(), "delta") {
		t.Errorf("delta 1: error %v", err)
	}
}

func TestWithClipKeepsEpsilon(t *testing.T) {
	p := baseParams()
	q := p.WithClip(7.5)
	e1, _ := Epsilon(p, 20, 1e-5)
	e2, err := Epsilon(q, 20, 1e-5)
	if err != nil || math.Abs(e1-e2) > 1e-9*e1 || q.ClipNorm != 7.5 {
		t.Errorf("ε %v then %v (err %v)", e1, e2, err)
	}
	if math.Abs(q.NoiseMultiplier()-p.NoiseMultiplier()) > 1e-12 {
		t.Errorf("noise multiplier changed")
	}
}

// TestReplaceOneAdjacency attacks the adjacency claim (issue #13 finding
// 5): replace-one neighbours' sums differ by up to 2Δ₂, so the same
// parameters give a much larger ε than the replace-by-zero one Epsilon
// states. For the demo's tenant-level configuration (8 rounds, 5 tenants,
// threshold 3 = MinClients, update clip 100, d = 15·256 + 15) the
// replace-by-zero plan for ε = 8 is worth about 19 under replace-one.
func TestReplaceOneAdjacency(t *testing.T) {
	p, err := Plan(Goal{Epsilon: 8, Delta: 1e-5, Rounds: 8, Dim: 15*256 + 15, ClipNorm: 100, Threshold: 3, Cohort: 5})
	if err != nil {
		t.Fatal(err)
	}
	zero, err := Epsilon(p, 8, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	one, err := EpsilonReplaceOne(p, 8, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("replace-by-zero ε %.3f, replace-one ε %.3f", zero, one)
	if !(zero <= 8) || !(one > 2*zero) {
		t.Fatalf("replace-by-zero ε %v, replace-one ε %v: want ≤ 8 and more than twice it", zero, one)
	}
	// Replace-one is replace-by-zero with the sensitivity doubled.
	q := p
	for _, a := range []float64{1.5, 4, 32} {
		if got, want := p.RDPReplaceOne(a), q.rdp(a, 2); got != want || !(got > 3.9*p.RDP(a)) {
			t.Errorf("α=%v: replace-one RDP %v, replace-by-zero %v", a, got, p.RDP(a))
		}
	}
}
