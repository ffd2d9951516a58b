package ddg

import (
	"math"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// recordFixture is a record-level round for banking77's linear head
// (8192·77 + 77 parameters), 5 tenants all assumed honest.
func recordFixture(t *testing.T, eps float64, shares int) Record {
	t.Helper()
	r, err := PlanRecord(RecordGoal{Epsilon: eps, Delta: 1e-5, Rounds: 1000, SampleRate: 0.05, RecordClip: 1, SumClip: 400,
		Dim: 8192*77 + 77, Shares: shares, Cohort: 5})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The record-level bound can only be weaker than pooled DP-SGD with the
// same noise (the sampled continuous Gaussian's RDP is exact; ours adds
// the rounding term to the sensitivity and Zhu–Wang's factor 3), and it
// must not be much weaker, or the mode would waste its budget.
// Measured here: the planned z is 1.18× pooled DP-SGD's at ε = 4 and 8, 1.38× at ε = 1
// (1.17× and 1.29× before the rounding term was doubled to 2√D).
func TestRecordEpsilonAgainstSampledGaussian(t *testing.T) {
	for _, eps := range []float64{1, 4, 8} {
		r := recordFixture(t, eps, 5)
		got, err := RecordEpsilon(r, 1000, 1e-5)
		if err != nil {
			t.Fatal(err)
		}
		if got > eps*(1+1e-3) {
			t.Errorf("ε=%g: planned parameters give ε %.4f", eps, got)
		}
		z := r.NoiseMultiplier()
		pooled, err := privacy.RDPEpsilon(0.05, z, 1000, 1e-5)
		if err != nil {
			t.Fatal(err)
		}
		if pooled > got {
			t.Errorf("ε=%g: record-level bound %.4f is below the pooled sampled-Gaussian ε %.4f of the same z=%.4f: it cannot be", eps, got, pooled, z)
		}
		zc, err := privacy.CalibrateNoiseRDP(0.05, 1000, 1e-5, eps)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ε=%g: z=%.4f (pooled DP-SGD needs %.4f: %.3f×), rounding inflation %.4f, pooled ε of this z %.4f", eps, z, zc, z/zc,
			r.Sensitivity()*r.Gamma/r.RecordClip, pooled)
		// Measured: 1.18× at ε = 4 and 8, 1.38× at ε = 1 (the general
		// sampling bound and the rounding term 2√D of the sensitivity:
		// 1.13× alone at ε = 1, where γ is largest).
		if z > 1.45*zc {
			t.Errorf("ε=%g: z=%.4f is more than 45%% above pooled DP-SGD's %.4f", eps, z, zc)
		}
	}
}

// Fewer honest shares must cost noise per share: the sum of Threshold
// shares is what the bound counts on.
func TestRecordSharesScaleSigma(t *testing.T) {
	r5, r3 := recordFixture(t, 8, 5), recordFixture(t, 8, 3)
	if !(r3.Sigma > r5.Sigma) {
		t.Fatalf("σ for 3 shares %.4g not above σ for 5 shares %.4g", r3.Sigma, r5.Sigma)
	}
	if a, b := r5.NoiseMultiplier(), r3.NoiseMultiplier(); math.Abs(a/b-1) > 0.02 {
		t.Errorf("the guaranteed z should barely depend on the shares: %.4f vs %.4f", a, b)
	}
	// The same Params accounted with fewer shares than planned give a
	// larger ε: the check clients make before unmasking matters.
	low := r5
	low.Threshold = 3
	e5, _ := RecordEpsilon(r5, 1000, 1e-5)
	e3, _ := RecordEpsilon(low, 1000, 1e-5)
	if !(e3 > e5*1.2) {
		t.Errorf("ε with 3 of 5 planned shares %.3f, with 5 %.3f: want clearly larger", e3, e5)
	}
}

// Sampling must amplify (q < 1 gives less than q = 1), and the bound must
// reduce to the base mechanism at q = 1.
func TestRecordSampling(t *testing.T) {
	r := recordFixture(t, 8, 5)
	full := r
	full.SampleRate = 1
	for _, a := range []int{2, 8, 32} {
		if s, b := r.RDP(a), full.RDP(a); !(s < b) {
			t.Errorf("α=%d: sampled RDP %.4g not below unsampled %.4g", a, s, b)
		}
		if full.RDP(a) != full.BaseRDP(float64(a)) {
			t.Errorf("α=%d: q=1 RDP differs from the base", a)
		}
	}
	if r.RDPAt(2.5) != r.RDP(3) || r.RDPAt(1.1) != r.RDP(2) {
		t.Error("RDPAt does not round up to an integer order ≥ 2")
	}
}

func TestRecordRejects(t *testing.T) {
	r := recordFixture(t, 8, 5)
	for name, mod := range map[string]func(*Record){
		"clip above sum clip": func(r *Record) { r.RecordClip = r.ClipNorm * 2 },
		"q zero":              func(r *Record) { r.SampleRate = 0 },
		"q above one":         func(r *Record) { r.SampleRate = 1.5 },
		"nan clip":            func(r *Record) { r.RecordClip = math.NaN() },
	} {
		bad := r
		mod(&bad)
		if _, err := RecordEpsilon(bad, 10, 1e-5); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
