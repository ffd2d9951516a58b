package coordinator

import (
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy/scalar"
)

// TestRedteamRecordDPUnderReservedEvaluationRefused: the coordinator's
// own check of the evaluation reservation counted the reserved
// evaluations but not their noise. A plan that lists one evaluation at a
// noise multiplier far above the one its tenants release at (EvalEpsilon
// = 0.5: z = 7.03 at δ = 1e-5, whatever the kind's sensitivity, the
// Gaussian's σ being proportional to it) reserved almost nothing, and
// was accepted: its rounds then spend the whole target, so the run's ε
// with the evaluation exceeds the target it promised (tenants capped at
// the target decline the evaluation; a looser cap lets it through). Such
// a plan must be refused, the exact reservation and a larger one (more
// noise reserved than released) accepted.
func TestRedteamRecordDPUnderReservedEvaluationRefused(t *testing.T) {
	c := recordDPConfig()
	rec, err := scalar.VectorRecord(1, 1, c.EvalEpsilon, c.Secure.RecordDP.Delta, scalar.Gaussian)
	if err != nil {
		t.Fatal(err)
	}
	z := rec.NoiseStd / rec.Sensitivity
	for _, tc := range []struct {
		name    string
		z       float64
		wantErr string
	}{
		{"reserved at 10⁹, released at ε 0.5", 1e9, "leave room"},
		{"reserved at twice the release's z", 2 * z, "leave room"},
		{"reserved at the release's z", z, ""},
		{"reserved at half the release's z (more room)", z / 2, ""},
	} {
		cfg := recordDPConfig()
		cfg.EvalEvery, cfg.Secure.RecordDP.EvalNoise = cfg.Rounds, []float64{tc.z}
		_, err := New(cfg, []float64{0, 0})
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}
