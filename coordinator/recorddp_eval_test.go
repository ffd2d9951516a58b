package coordinator

import (
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/privacy"
)

// recordDPConfig is a record-level distributed configuration over secure
// aggregation (3 tenants, 3 honest shares).
func recordDPConfig() Config {
	c := testConfig()
	c.InsecurePlainAggregation = false
	c.MinJoined, c.MinClients, c.Rounds = 3, 3, 4
	c.Strategy = &aggregation.FedAdam{Eta: 0.1}
	c.Train.LocalSteps, c.Train.NoiseMultiplier, c.EvalEpsilon = 1, 0, 0.5
	c.Secure = &SecureConfig{ClipNorm: 40, RecordDP: &RecordDP{Epsilon: 8, Delta: 1e-5, Shares: 3, SumClip: 40, ExpectedBatch: 64}}
	return c
}

// A distributed plan that evaluates must reserve every noised evaluation
// in its noise (else the tenants' ledgers would exceed the ε the plan
// promised once the evaluations are charged), and never release exact
// statistics.
func TestRecordDPEvaluationMustBeReserved(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"evaluation not reserved", func(c *Config) {}, "reserves 0 noised evaluations, the run makes 4"},
		{"too few reserved", func(c *Config) { c.EvalEvery, c.Secure.RecordDP.EvalNoise = 2, []float64{10} }, "reserves 1 noised evaluations, the run makes 2"},
		{"exact evaluation", func(c *Config) { c.EvalEpsilon, c.Secure.RecordDP.EvalNoise = 0, []float64{10, 10, 10, 10} }, "needs noised evaluations"},
		{"bad noise", func(c *Config) { c.EvalEvery, c.Secure.RecordDP.EvalNoise = 4, []float64{0} }, "must be positive"},
		{"reserved", func(c *Config) { c.EvalEvery, c.Secure.RecordDP.EvalNoise = 4, []float64{7} }, ""}, // z 7.03 at ε 0.5, δ 1e-5
		{"no evaluation", func(c *Config) { c.SkipEvaluation = true }, ""},
	} {
		c := recordDPConfig()
		tc.edit(&c)
		_, err := New(c, []float64{0, 0})
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

// The plan leaves room for the reserved evaluations: its rounds and the
// evaluations, composed as a tenant's ledger composes them, stay within
// ε, where the plan without the reservation would overspend.
func TestRecordPlanLeavesRoomForEvaluations(t *testing.T) {
	eps := func(c Config, evalZ []float64) float64 {
		t.Helper()
		f, err := New(c, []float64{0, 0})
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.recordPlan(3)
		if err != nil {
			t.Fatal(err)
		}
		acc := privacy.NewRDPAccountant(nil)
		for _, z := range evalZ {
			if err := acc.Compose(1, z, 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := acc.ComposeRDP(r.RDPAt, c.Rounds); err != nil {
			t.Fatal(err)
		}
		e, _, err := acc.Epsilon(1e-5)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	evalZ := []float64{3}
	c := recordDPConfig()
	c.EvalEvery, c.Secure.RecordDP.EvalNoise = c.Rounds, evalZ
	if got := eps(c, evalZ); got > 8 || got < 7.9 {
		t.Errorf("reserved plan plus its evaluation: ε %.4f, want just within 8", got)
	}
	c = recordDPConfig()
	c.SkipEvaluation = true
	if got := eps(c, evalZ); got <= 8 {
		t.Errorf("unreserved plan plus the same evaluation: ε %.4f within 8: the test cannot tell a reservation", got)
	}
}
