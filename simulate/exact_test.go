package simulate

import (
	"encoding/json"
	"math"
	"testing"
)

func TestExactReleasesAndInfiniteEpsilon(t *testing.T) {
	d := Defaults()
	if ex := d.ExactReleases(); len(ex) != 0 {
		t.Errorf("defaults ask for exact releases %v", ex)
	}
	c := d
	c.EvalEpsilon, c.WeightEpsilon = 0, 0
	if ex := c.ExactReleases(); len(ex) != 2 {
		t.Errorf("eval and weight ε 0: exact releases %v, want both", ex)
	}
	c.TenantEpsilon = 8 // tenant-level runs release neither
	if ex := c.ExactReleases(); len(ex) != 0 {
		t.Errorf("tenant-level run: exact releases %v", ex)
	}
	b, err := json.Marshal(PrivacyReport{EpsilonPerTenant: Epsilons{"a": math.Inf(1), "b": 1.5}, EpsilonInfinite: true})
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Eps      map[string]*float64 `json:"epsilon_per_tenant"`
		Infinite bool                `json:"epsilon_infinite"`
	}
	if err := json.Unmarshal(b, &back); err != nil || back.Eps["a"] != nil || back.Eps["b"] == nil || *back.Eps["b"] != 1.5 || !back.Infinite {
		t.Fatalf("JSON %s (%v)", b, err)
	}
}
