package monitor

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed dashboard.html
var dashboardHTML string

var dashboard = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"join": func(s []string) string {
		if len(s) == 0 {
			return "–"
		}
		return strings.Join(s, ", ")
	},
	"f4": func(v float64) string {
		if math.IsInf(v, 1) {
			return "∞" // a tenant that announced an exact release
		}
		return fmt.Sprintf("%.4f", v)
	},
	"dur": func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"pct": func(a, b float64) float64 {
		if !(b > 0) {
			return 0
		}
		return math.Min(100, 100*a/b)
	},
}).Parse(dashboardHTML))

// Handler serves the operator's pages: "/" the dashboard (refreshes
// itself), "/metrics" Prometheus (with Go runtime and process
// collectors), "/api/state" the dashboard's data as JSON, "/healthz".
func (m *Monitor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /api/state", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(m.State())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := dashboard.Execute(w, m.view()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	return mux
}

// page is what the dashboard template renders.
type page struct {
	State
	Aggregated, Abandoned int
	Charts                []lineChart
	Latest                *Round
	Stages                []stageRow
}

// stageRow is one stage's mean duration over ended rounds.
type stageRow struct {
	Name  string
	Mean  time.Duration
	Count int
	Width float64 // % of the slowest stage
}

func (m *Monitor) view() page {
	p := page{State: m.State()}
	sums := map[string]time.Duration{}
	counts := map[string]int{}
	var order []string
	series := map[string][]point{}
	var names []string
	for i := range p.Rounds {
		r := &p.Rounds[i]
		switch r.Outcome {
		case "aggregated":
			p.Aggregated++
		case "abandoned":
			p.Abandoned++
		}
		for _, s := range r.Stages {
			if s.Open {
				continue
			}
			if _, ok := sums[s.Name]; !ok {
				order = append(order, s.Name)
			}
			sums[s.Name] += s.Duration
			counts[s.Name]++
		}
		for k, v := range r.Metrics {
			if _, ok := series[k]; !ok {
				names = append(names, k)
			}
			series[k] = append(series[k], point{float64(r.Number), v})
		}
		latest := *r
		p.Latest = &latest
	}
	var slowest time.Duration
	for _, n := range order {
		row := stageRow{Name: n, Mean: sums[n] / time.Duration(counts[n]), Count: counts[n]}
		slowest = max(slowest, row.Mean)
		p.Stages = append(p.Stages, row)
	}
	for i := range p.Stages {
		if slowest > 0 {
			p.Stages[i].Width = 100 * float64(p.Stages[i].Mean) / float64(slowest)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		p.Charts = append(p.Charts, newLineChart(n, series[n]))
	}
	slices.Reverse(p.Rounds) // newest first in the table
	return p
}
