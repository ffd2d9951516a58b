package ddg

import (
	"math"
	"testing"
)

// TestRedteamRecordSensitivityCoversEveryRoundingPair attacks the proof of
// Record.Sensitivity: the bound on the mixture over rounding draws takes
// the worst pair of rounded vectors (joint quasi-convexity), and with
// conditional rounding the two sides' draws cannot be coupled coordinate
// by coordinate, so every pair in the two supports must be within Δ.
// Neighbours whose scaled, rotated vectors differ by a = 50.001 on each
// of D = 64 coordinates (‖y − y'‖ = C/γ), y = 50.0005, y' = −0.0005, can
// round to 51 and −1: 52 apart per coordinate, ‖r − r'‖ = 52·√D, above
// C/γ + √D = 51.001·√D. Both vectors pass the conditional rounding's norm
// check. Each coordinate can move by up to (not less than) 2 more than
// the difference, so Δ = C/γ + 2√D.
func TestRedteamRecordSensitivityCoversEveryRoundingPair(t *testing.T) {
	const d, a = 64, 50.001
	sq := math.Sqrt(d)
	r := Record{Params: Params{Dim: d, ClipNorm: 2, Beta: math.Exp(-0.5), Threshold: 2, Cohort: 3, Bits: 32,
		MaxWrapProb: DefaultMaxWrapProb}, RecordClip: 1, SampleRate: 0.1}
	r.Gamma = r.RecordClip / (a * sq)
	r.Sigma = 8 * r.Gamma
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	y, y2 := make([]float64, d), make([]float64, d)
	var dy float64
	for i := range y {
		y[i], y2[i] = 50.0005, -0.0005
		dy += (y[i] - y2[i]) * (y[i] - y2[i])
	}
	if math.Sqrt(dy) > r.RecordClip/r.Gamma*(1+1e-12) {
		t.Fatalf("‖y − y'‖ = %v exceeds C/γ = %v: not neighbours", math.Sqrt(dy), r.RecordClip/r.Gamma)
	}
	if n := y[0] * sq * r.Gamma; n > r.ClipNorm { // ‖x‖ = γ‖y‖ (orthonormal rotation)
		t.Fatalf("‖x‖ = %v above the sum clip", n)
	}
	// The rounded pair: every coordinate up for y, down for y'.
	up, down := make([]int64, d), make([]int64, d)
	var n2up, n2down, dist2 float64
	for i := range y {
		up[i], down[i] = int64(math.Ceil(y[i])), int64(math.Floor(y2[i]))
		n2up += float64(up[i] * up[i])
		n2down += float64(down[i] * down[i])
		dist2 += float64((up[i] - down[i]) * (up[i] - down[i]))
	}
	b2 := r.NormBound() * r.NormBound()
	if n2up > b2 || n2down > b2 {
		t.Fatalf("the pair is not in the conditional rounding's support: ‖r‖² %v, ‖r'‖² %v, bound %v", n2up, n2down, b2)
	}
	if got := math.Sqrt(dist2); got > r.Sensitivity() {
		t.Errorf("rounded neighbours %v apart, Record.Sensitivity() = %v (C/γ = %v, √D = %v)", got, r.Sensitivity(), r.RecordClip/r.Gamma, sq)
	}
}
