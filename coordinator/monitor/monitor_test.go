package monitor

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/coordinator"
)

// feed plays a small federation's events: round 1 aggregated and
// evaluated, round 2 abandoned, round 3 aggregated without evaluation.
func feed(m *Monitor) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	for _, e := range []coordinator.Event{
		{Kind: coordinator.EvRoundStarted, Round: 1, Time: at(0), Cohort: []string{"acme", "globex", "initech"}},
		{Kind: coordinator.EvStage, Round: 1, Time: at(2), Stage: "share_keys"},
		{Kind: coordinator.EvStage, Round: 1, Time: at(2.5), Stage: "masked_input"},
		{Kind: coordinator.EvStage, Round: 1, Time: at(3.5), Stage: "unmask"},
		{Kind: coordinator.EvRoundAggregated, Round: 1, Version: 1, Time: at(4), Participants: []string{"acme", "globex"},
			Dropped: []string{"initech"}},
		{Kind: coordinator.EvStage, Round: 1, Time: at(4), Stage: "evaluate"},
		{Kind: coordinator.EvEvaluated, Round: 1, Version: 1, Time: at(5), Stats: []int64{100, 80}, EvalEpsilon: 0.5},
		{Kind: coordinator.EvRoundStarted, Round: 2, Time: at(6), Cohort: []string{"acme", "globex", "initech"}},
		{Kind: coordinator.EvRoundAbandoned, Round: 2, Time: at(9), Reason: "2 updates, need 3", Declined: map[string]string{"initech": "budget"}},
		{Kind: coordinator.EvRoundStarted, Round: 3, Time: at(10), Cohort: []string{"acme", "globex", "initech"}},
		{Kind: coordinator.EvRoundAggregated, Round: 3, Version: 2, Time: at(12), Participants: []string{"acme", "globex", "initech"}, EvalSkipped: true},
	} {
		m.Observe(nil, e)
	}
}

func newTestMonitor() *Monitor {
	return New(Config{Task: "industry", Rounds: 5, Metrics: func(s []int64) (map[string]float64, error) {
		return map[string]float64{"accuracy": float64(s[1]) / float64(s[0])}, nil
	}})
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return string(b)
}

func TestMetricsFollowEvents(t *testing.T) {
	m := newTestMonitor()
	feed(m)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	body := get(t, srv.URL+"/metrics")
	for _, want := range []string{
		`fedb2b_rounds_started_total{task="industry"} 3`,
		`fedb2b_rounds_total{outcome="aggregated",task="industry"} 2`,
		`fedb2b_rounds_total{outcome="abandoned",task="industry"} 1`,
		`fedb2b_round_participants{task="industry"} 3`,
		`fedb2b_tenants_dropped_total{task="industry"} 1`,
		`fedb2b_tenants_declined_total{task="industry"} 1`,
		`fedb2b_model_version{task="industry"} 2`,
		`fedb2b_eval_metric{metric="accuracy",task="industry"} 0.8`,
		`fedb2b_stage_duration_seconds_count{stage="train",task="industry"} 3`,
		`fedb2b_stage_duration_seconds_sum{stage="masked_input",task="industry"} 1`,
		`fedb2b_stage_duration_seconds_sum{stage="evaluate",task="industry"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if got := get(t, srv.URL+"/healthz"); got != "ok\n" {
		t.Errorf("healthz: %q", got)
	}
	var st State
	if err := json.Unmarshal([]byte(get(t, srv.URL+"/api/state")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Rounds) != 3 || st.Rounds[1].Outcome != "abandoned" || st.Rounds[0].Metrics["accuracy"] != 0.8 || len(st.Tenants) != 3 {
		t.Fatalf("state %+v", st)
	}
	// Round 1's stages in order, with their durations.
	var names []string
	for _, s := range st.Rounds[0].Stages {
		names = append(names, s.Name+"="+s.Duration.String())
	}
	if got := strings.Join(names, " "); got != "train=2s share_keys=500ms masked_input=1s unmask=500ms evaluate=1s" {
		t.Errorf("round 1 stages %s", got)
	}
}

func TestDashboardPage(t *testing.T) {
	m := newTestMonitor()
	feed(m)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	page := get(t, srv.URL+"/")
	if n := strings.Count(page, "<polyline"); n != 1 {
		t.Errorf("%d charts, want 1 (accuracy)", n)
	}
	rows := regexp.MustCompile(`(?s)<h2>Rounds</h2>.*`).FindString(page)
	if n := strings.Count(rows, "<tr>") - 1; n != 3 {
		t.Errorf("rounds table has %d rows, want 3", n)
	}
	for _, want := range []string{"2 / 5", "abandoned: 2 updates, need 3", "initech", "masked_input", "acme", "<b>v2</b>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Tenant and task names are escaped like any other remote text.
	m2 := New(Config{Task: "<script>x</script>"})
	m2.Observe(nil, coordinator.Event{Kind: coordinator.EvRoundStarted, Round: 1, Cohort: []string{"<img src=x>"}})
	m2.Observe(nil, coordinator.Event{Kind: coordinator.EvRoundAggregated, Round: 1, Participants: []string{"<img src=x>"}})
	srv2 := httptest.NewServer(m2.Handler())
	defer srv2.Close()
	if p := get(t, srv2.URL+"/"); strings.Contains(p, "<script>x") || strings.Contains(p, "<img src=x>") {
		t.Error("names not escaped")
	}
}

func TestLineChartTicks(t *testing.T) {
	var pts []point
	for r := 1; r <= 40; r++ {
		pts = append(pts, point{float64(r), float64(r) / 40})
	}
	c := newLineChart("accuracy", pts)
	seen := map[string]bool{}
	for _, tk := range c.XTicks {
		if seen[tk.Label] {
			t.Fatalf("x label %s repeats", tk.Label)
		}
		seen[tk.Label] = true
	}
	if len(c.XTicks) > 10 || len(c.Dots) != 40 {
		t.Fatalf("%d x ticks, %d dots", len(c.XTicks), len(c.Dots))
	}
}

// A tenant that announced ε = ∞ (an exact release on record) is served as
// JSON: Charged null with ChargedInfinite, not an encoding error.
func TestTenantInfiniteChargeJSON(t *testing.T) {
	b, err := json.Marshal(State{Tenants: []Tenant{{Name: "a", Charged: math.Inf(1), Cap: 8}, {Name: "b", Charged: 1.5, Cap: 8}}})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `"Charged":null,"ChargedInfinite":true`) || !strings.Contains(s, `"Charged":1.5`) {
		t.Fatalf("JSON %s", s)
	}
}
