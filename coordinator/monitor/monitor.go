package monitor

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/fedb2b/fedb2b/coordinator"
)

// maxRounds bounds the rounds kept for the dashboard; older ones remain
// in the store and in the metrics' counters.
const maxRounds = 1000

// Config describes the federation being watched.
type Config struct {
	Task   string
	Rounds int // planned rounds
	// Metrics turns summed (noised) evaluation statistics into named
	// metrics (models/task.Metrics for the task); nil shows none.
	Metrics func(stats []int64) (map[string]float64, error)
	// Now is the clock for stage timings of events without a time.
	Now func() time.Time
}

// Round is what the dashboard shows of one round.
type Round struct {
	Number, Version int
	Outcome         string // running, aggregated, abandoned
	Cohort          []string
	Participants    []string
	Dropped         []string
	Declined        []string
	Reason          string
	// Metrics of the round's version from the noised evaluation sums.
	Metrics     map[string]float64
	EvalEpsilon float64
	// Stages in order with their durations (the last one may be open).
	Stages []Stage
	Start  time.Time
}

// Stage is one round stage and how long it lasted.
type Stage struct {
	Name     string
	Start    time.Time
	Duration time.Duration
	Open     bool
}

// Tenant is the coordinator's view of one tenant's budget.
type Tenant struct {
	Name string
	// Charged is the coordinator's lower bound on the tenant's
	// record-level ε (the tenant's own ledger is the authority).
	Charged, Cap, Delta float64
	Rounds              int // rounds aggregated with it
}

// MarshalJSON writes Charged as null, with ChargedInfinite set, when it is
// ∞ (a tenant that announced an exact release, privacy/ledger.MechExact):
// JSON has no number for it.
func (t Tenant) MarshalJSON() ([]byte, error) {
	type plain Tenant
	out := struct {
		plain
		Charged         *float64
		ChargedInfinite bool `json:",omitempty"`
	}{plain: plain(t)}
	if math.IsInf(t.Charged, 1) {
		out.ChargedInfinite = true
	} else {
		c := t.Charged
		out.Charged = &c
	}
	return json.Marshal(out)
}

// Monitor follows a federation's events for the dashboard and the
// Prometheus metrics. Safe for concurrent use.
type Monitor struct {
	cfg Config

	mu       sync.Mutex
	rounds   []*Round
	byNumber map[int]*Round
	tenants  map[string]*Tenant
	finished string

	reg     *prometheus.Registry
	m       metrics
	started time.Time
}

// New returns a monitor with its own Prometheus registry.
func New(cfg Config) *Monitor {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Monitor{cfg: cfg, byNumber: map[int]*Round{}, tenants: map[string]*Tenant{}, reg: prometheus.NewRegistry(), started: cfg.Now()}
	m.m = newMetrics(m.reg, cfg.Task)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// SetMetrics sets how evaluation statistics become metrics, for drivers
// that learn the task only once the federation starts.
func (m *Monitor) SetMetrics(fn func(stats []int64) (map[string]float64, error)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.Metrics = fn
}

// Registry is the monitor's Prometheus registry (to add collectors).
func (m *Monitor) Registry() *prometheus.Registry { return m.reg }

// Observe records e. f is the federation that emitted it, read for the
// tenants' budgets; call it where the federation's lock is held (the
// service's recorder), or pass nil to skip budgets.
func (m *Monitor) Observe(f *coordinator.Federation, e coordinator.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at := e.Time
	if at.IsZero() {
		at = m.cfg.Now()
	}
	switch e.Kind {
	case coordinator.EvRoundStarted:
		r := &Round{Number: e.Round, Version: e.Version, Outcome: "running", Cohort: slices.Clone(e.Cohort), Start: at,
			Stages: []Stage{{Name: "train", Start: at, Open: true}}}
		m.add(r)
		m.m.roundsStarted.Inc()
		m.m.cohort.Set(float64(len(e.Cohort)))
	case coordinator.EvStage:
		if r := m.byNumber[e.Round]; r != nil {
			m.closeStage(r, at)
			r.Stages = append(r.Stages, Stage{Name: e.Stage, Start: at, Open: true})
		}
	case coordinator.EvRoundAggregated, coordinator.EvRoundAbandoned:
		r := m.byNumber[e.Round]
		if r == nil {
			r = &Round{Number: e.Round, Start: at}
			m.add(r)
		}
		if e.Kind == coordinator.EvRoundAggregated {
			r.Outcome, r.Version = "aggregated", e.Version
			m.m.version.Set(float64(e.Version))
			if e.EvalSkipped {
				m.closeStage(r, at)
			}
		} else {
			r.Outcome, r.Reason = "abandoned", e.Reason
			m.closeStage(r, at)
		}
		m.m.rounds.WithLabelValues(r.Outcome).Inc()
		r.Participants, r.Dropped = slices.Clone(e.Participants), slices.Clone(e.Dropped)
		r.Declined = slices.Sorted(maps.Keys(e.Declined))
		m.m.participants.Set(float64(len(e.Participants)))
		m.m.dropped.Add(float64(len(e.Dropped)))
		m.m.declined.Add(float64(len(e.Declined)))
		for _, name := range e.Participants {
			m.tenant(name).Rounds++
		}
		m.budgets(f)
	case coordinator.EvEvaluated:
		r := m.byNumber[e.Round]
		if r == nil {
			break
		}
		m.closeStage(r, at)
		r.EvalEpsilon = e.EvalEpsilon
		if m.cfg.Metrics != nil {
			if vals, err := m.cfg.Metrics(e.Stats); err == nil {
				r.Metrics = vals
				for k, v := range vals {
					m.m.evalMetric.WithLabelValues(k).Set(v)
				}
			}
		}
	case coordinator.EvFinished:
		m.finished = e.Reason
		m.m.finished.Set(1)
	}
}

// add appends r, dropping the oldest round past maxRounds.
func (m *Monitor) add(r *Round) {
	m.rounds = append(m.rounds, r)
	m.byNumber[r.Number] = r
	if len(m.rounds) > maxRounds {
		delete(m.byNumber, m.rounds[0].Number)
		m.rounds = m.rounds[1:]
	}
}

// closeStage ends r's open stage at at and records its duration.
func (m *Monitor) closeStage(r *Round, at time.Time) {
	if n := len(r.Stages); n > 0 && r.Stages[n-1].Open {
		s := &r.Stages[n-1]
		s.Duration, s.Open = at.Sub(s.Start), false
		m.m.stageSeconds.WithLabelValues(s.Name).Observe(s.Duration.Seconds())
	}
}

func (m *Monitor) tenant(name string) *Tenant {
	t := m.tenants[name]
	if t == nil {
		t = &Tenant{Name: name}
		m.tenants[name] = t
	}
	return t
}

// budgets refreshes every known tenant's charged ε from f.
func (m *Monitor) budgets(f *coordinator.Federation) {
	if f == nil {
		return
	}
	for name, t := range m.tenants {
		if b, ok := f.Budget(name); ok {
			t.Cap, t.Delta = b.Cap, b.Delta
		}
		if eps, err := f.ChargedEpsilon(name); err == nil {
			t.Charged = eps
			m.m.tenantEps.WithLabelValues(name).Set(eps)
			m.m.tenantCap.WithLabelValues(name).Set(t.Cap)
		}
	}
}

// State is a consistent copy of what the monitor knows.
type State struct {
	Task          string
	PlannedRounds int
	Rounds        []Round
	Tenants       []Tenant
	Finished      string
	Started       time.Time
}

// State returns a copy of the monitor's view.
func (m *Monitor) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := State{Task: m.cfg.Task, PlannedRounds: m.cfg.Rounds, Finished: m.finished, Started: m.started}
	for _, r := range m.rounds {
		c := *r
		c.Stages = slices.Clone(r.Stages)
		c.Metrics = maps.Clone(r.Metrics)
		s.Rounds = append(s.Rounds, c)
	}
	for _, t := range m.tenants {
		s.Tenants = append(s.Tenants, *t)
	}
	sort.Slice(s.Tenants, func(i, j int) bool { return s.Tenants[i].Name < s.Tenants[j].Name })
	return s
}
