package ddg

import (
	"math"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/privacy"
)

func randomUpdate(t *testing.T, d int, scale float64, seed uint64) []float64 {
	r := testRand(t, seed)
	x := make([]float64, d)
	for i := range x {
		x[i] = scale * r.NormFloat64()
	}
	return x
}

func clipped(x []float64, c float64) []float64 {
	y := append([]float64(nil), x...)
	privacy.ClipL2(y, c)
	return y
}

// modSum adds words mod 2^32, as secure aggregation does.
func modSum(vs [][]uint32) []uint32 {
	s := make([]uint32, len(vs[0]))
	for _, v := range vs {
		for i, w := range v {
			s[i] += w
		}
	}
	return s
}

// TestDecodedNoiseVariance: over many trials, decoded sum − true clipped
// sum has mean 0 and per-coordinate variance m·σ² (m = Threshold clients
// summed) plus rounding variance ≤ m·γ²/4.
func TestDecodedNoiseVariance(t *testing.T) {
	p := Params{Dim: 50, ClipNorm: 1, Gamma: 0.01, Sigma: 0.2, Beta: DefaultBeta, Threshold: 5, Cohort: 8, Bits: 32}
	c, err := NewCodec(p)
	if err != nil {
		t.Fatal(err)
	}
	r := testRand(t, 40)
	const trials = 400
	m := p.Threshold
	var sum, sq float64
	var count int
	for tr := range trials {
		var seed RoundSeed
		seed[0], seed[1] = byte(tr), byte(tr>>8)
		words := make([][]uint32, m)
		truth := make([]float64, p.Dim)
		for i := range m {
			x := randomUpdate(t, p.Dim, 0.3, uint64(1000*tr+i)) // norm ≈ 2.1: clipped
			for j, v := range clipped(x, p.ClipNorm) {
				truth[j] += v
			}
			words[i] = make([]uint32, p.PaddedDim())
			if _, err := c.Encode(words[i], x, seed, r); err != nil {
				t.Fatal(err)
			}
		}
		got := make([]float64, p.Dim)
		if err := c.Decode(got, modSum(words), seed); err != nil {
			t.Fatal(err)
		}
		for j := range got {
			e := got[j] - truth[j]
			sum += e
			sq += e * e
			count++
		}
	}
	mean := sum / float64(count)
	v := sq/float64(count) - mean*mean
	want := float64(m) * p.Sigma * p.Sigma
	round := float64(m) * p.Gamma * p.Gamma / 4
	if se := math.Sqrt(want / float64(count)); math.Abs(mean) > 5*se {
		t.Errorf("mean error %.4g, want 0 ± %.3g", mean, 5*se)
	}
	// The decoded coordinates are uncorrelated within a trial, so the count
	// is the number of independent-ish samples; 5 standard errors.
	tol := 5 * want * math.Sqrt(2/float64(count))
	if v < want-tol || v > want+round+tol {
		t.Errorf("error variance %.5g, want %.5g (+ rounding ≤ %.3g) ± %.3g", v, want, round, tol)
	}
	t.Logf("%d trials × %d coordinates: mean %.3g, variance %.5g, planned m·σ² = %.5g (rounding ≤ %.2g)", trials, p.Dim, mean, v, want, round)
}

// TestSecAggRoundTrip sums encoded updates with the real secure
// aggregation protocol, with one client dropping after sending its masked
// input and one before, and checks the decoded sum against the survivors'
// clipped updates.
func TestSecAggRoundTrip(t *testing.T) {
	p := Params{Dim: 100, ClipNorm: 1, Gamma: 1e-4, Sigma: 0.02, Beta: DefaultBeta, Threshold: 3, Cohort: 6, Bits: secagg.Bits}
	c, err := NewCodec(p)
	if err != nil {
		t.Fatal(err)
	}
	r := testRand(t, 41)
	seed := RoundSeed{7}
	xs := make([][]float64, p.Cohort)
	words := make([][]uint32, p.Cohort)
	for i := range xs {
		xs[i] = randomUpdate(t, p.Dim, 0.05*float64(i+1), uint64(i))
		words[i] = make([]uint32, p.PaddedDim())
		if _, err := c.Encode(words[i], xs[i], seed, r); err != nil {
			t.Fatal(err)
		}
	}
	drop := map[int]secagg.Stage{1: secagg.StageMaskedInput, 4: secagg.StageUnmask}
	sum, surv, err := secagg.Simulate(secagg.SimConfig{Round: 1, Threshold: p.Threshold, Neighbours: p.Cohort - 1}, words, drop, privacy.SeededReader(3))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, p.Dim)
	if err := c.Decode(got, sum, seed); err != nil {
		t.Fatal(err)
	}
	truth := make([]float64, p.Dim)
	for _, i := range surv {
		for j, v := range clipped(xs[i], p.ClipNorm) {
			truth[j] += v
		}
	}
	sd := math.Sqrt(float64(len(surv))) * p.Sigma
	var sq float64
	for j := range got {
		e := got[j] - truth[j]
		if math.Abs(e) > 6*sd {
			t.Fatalf("coordinate %d: error %.4g beyond 6σ = %.4g (survivors %v)", j, e, 6*sd, surv)
		}
		sq += e * e
	}
	t.Logf("survivors %v: rms error %.4g, planned σ %.4g", surv, math.Sqrt(sq/float64(p.Dim)), sd)
}

func TestEncodeErrors(t *testing.T) {
	p := Params{Dim: 3, ClipNorm: 1, Gamma: 1e-3, Sigma: 0.01, Beta: DefaultBeta, Threshold: 2, Cohort: 2, Bits: 32}
	c, err := NewCodec(p)
	if err != nil {
		t.Fatal(err)
	}
	r := testRand(t, 1)
	dst := make([]uint32, 4)
	if _, err := c.Encode(dst, []float64{1, math.NaN(), 0}, RoundSeed{}, r); err == nil || !strings.Contains(err.Error(), "coordinate 1") {
		t.Errorf("NaN: %v", err)
	}
	if _, err := c.Encode(dst, []float64{1, 2}, RoundSeed{}, r); err == nil || !strings.Contains(err.Error(), "Params.Dim") {
		t.Errorf("short update: %v", err)
	}
	if _, err := c.Encode(dst[:3], []float64{1, 2, 3}, RoundSeed{}, r); err == nil {
		t.Error("short output: no error")
	}
	if err := c.Decode(make([]float64, 3), make([]uint32, 5), RoundSeed{}); err == nil {
		t.Error("decode of a wrong-length sum: no error")
	}
	st, err := c.Encode(dst, []float64{3, 4, 0}, RoundSeed{}, r)
	if err != nil || !st.Clipped || st.Norm != 5 {
		t.Errorf("stats %+v, err %v", st, err)
	}
	p.Bits = 40
	if _, err := NewCodec(p); err == nil {
		t.Error("40-bit codec: no error")
	}
}

// TestConditionalRounding: every accepted rounding is within Δ₂, and with
// β = e^{-1/2} most attempts succeed.
func TestConditionalRounding(t *testing.T) {
	p := Params{Dim: 256, ClipNorm: 1, Gamma: 0.02, Sigma: 0.1, Beta: DefaultBeta, Threshold: 2, Cohort: 2, Bits: 32}
	c, err := NewCodec(p)
	if err != nil {
		t.Fatal(err)
	}
	r := testRand(t, 9)
	y := make([]float64, p.PaddedDim())
	z := make([]int64, len(y))
	accepted := 0
	for trial := range 500 {
		x := clipped(randomUpdate(t, p.Dim, 1, uint64(trial)), p.ClipNorm)
		Rotate(y, x, RoundSeed{byte(trial)})
		for i := range y {
			y[i] /= p.Gamma
		}
		if c.roundOnce(z, y, r) {
			accepted++
			var n2 float64
			for _, v := range z {
				n2 += float64(v * v)
			}
			if n2 > p.NormBound()*p.NormBound() {
				t.Fatalf("accepted ‖z‖² = %v > Δ₂² = %v", n2, p.NormBound()*p.NormBound())
			}
		}
	}
	if accepted < int(500*(1-p.Beta)) {
		t.Errorf("only %d of 500 roundings accepted, want ≥ %d", accepted, int(500*(1-p.Beta)))
	}
}

func FuzzDecode(f *testing.F) {
	p := Params{Dim: 5, ClipNorm: 1, Gamma: 1e-3, Sigma: 0.01, Beta: DefaultBeta, Threshold: 2, Cohort: 2, Bits: 32}
	c, err := NewCodec(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		sum := make([]uint32, len(b)/4)
		for i := range sum {
			sum[i] = uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24
		}
		out := make([]float64, p.Dim)
		if err := c.Decode(out, sum, RoundSeed{}); err != nil {
			return
		}
		for _, v := range out {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("non-finite output %v", v)
			}
		}
	})
}

func TestCodecWithClip(t *testing.T) {
	p := Params{Dim: 10, ClipNorm: 1, Gamma: 1e-3, Sigma: 0.05, Beta: DefaultBeta, Threshold: 2, Cohort: 2, Bits: 32}
	c, err := NewCodec(p)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := c.WithClip(3)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Sampler() != c.Sampler() || c2.Params().Gamma != 3e-3 || c2.bound2 != c.bound2 {
		t.Errorf("WithClip: params %+v", c2.Params())
	}
	if _, err := c.WithClip(-1); err == nil {
		t.Error("negative clip accepted")
	}
}

// FuzzParams: parameters from a remote plan never make Validate, Epsilon
// or NewCodec panic.
func FuzzParams(f *testing.F) {
	f.Add(1000, 1.0, 1e-4, 0.3, 0.6, 10, 12, 32, 0.0)
	f.Add(3, 0.0, -1.0, math.NaN(), 2.0, 0, -1, 70, math.Inf(1))
	f.Fuzz(func(t *testing.T, dim int, clip, gamma, sigma, beta float64, thr, cohort, bits int, wrap float64) {
		p := Params{Dim: dim, ClipNorm: clip, Gamma: gamma, Sigma: sigma, Beta: beta, Threshold: thr % 1000, Cohort: cohort % 1000, Bits: bits, MaxWrapProb: wrap}
		if p.Validate() != nil {
			return
		}
		if _, err := Epsilon(p, 3, 1e-5); err != nil {
			t.Fatalf("valid params %+v: %v", p, err)
		}
		if p.IntSigma() <= 64 && p.Dim <= 1<<12 {
			if _, err := NewCodec(p); err != nil && p.Bits <= 32 {
				t.Fatalf("valid params %+v: NewCodec: %v", p, err)
			}
		}
	})
}
