package monitor

import "github.com/prometheus/client_golang/prometheus"

// metrics are the Prometheus series of one federation, all prefixed
// fedb2b_ and labelled with the task.
type metrics struct {
	roundsStarted prometheus.Counter
	rounds        *prometheus.CounterVec // by outcome
	participants  prometheus.Gauge
	cohort        prometheus.Gauge
	dropped       prometheus.Counter
	declined      prometheus.Counter
	version       prometheus.Gauge
	finished      prometheus.Gauge
	stageSeconds  *prometheus.HistogramVec // by stage
	evalMetric    *prometheus.GaugeVec     // by metric name
	tenantEps     *prometheus.GaugeVec     // by tenant
	tenantCap     *prometheus.GaugeVec     // by tenant
}

func newMetrics(reg prometheus.Registerer, task string) metrics {
	l := prometheus.Labels{"task": task}
	m := metrics{
		roundsStarted: prometheus.NewCounter(prometheus.CounterOpts{Name: "fedb2b_rounds_started_total", Help: "Rounds the coordinator started.", ConstLabels: l}),
		rounds:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fedb2b_rounds_total", Help: "Rounds that ended, by outcome (aggregated or abandoned).", ConstLabels: l}, []string{"outcome"}),
		participants:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "fedb2b_round_participants", Help: "Tenants whose update is in the last ended round's sum.", ConstLabels: l}),
		cohort:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "fedb2b_round_cohort", Help: "Tenants invited to the current round.", ConstLabels: l}),
		dropped:       prometheus.NewCounter(prometheus.CounterOpts{Name: "fedb2b_tenants_dropped_total", Help: "Invited tenants that did not answer by a stage deadline, summed over rounds.", ConstLabels: l}),
		declined:      prometheus.NewCounter(prometheus.CounterOpts{Name: "fedb2b_tenants_declined_total", Help: "Invitations declined by tenants (policy or budget), summed over rounds.", ConstLabels: l}),
		version:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "fedb2b_model_version", Help: "Newest global model version.", ConstLabels: l}),
		finished:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "fedb2b_finished", Help: "1 once the federation finished.", ConstLabels: l}),
		stageSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fedb2b_stage_duration_seconds", Help: "Duration of round stages (train, secure-aggregation stages, evaluate).",
			ConstLabels: l, Buckets: prometheus.ExponentialBuckets(0.01, 2, 16)}, []string{"stage"}),
		evalMetric: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fedb2b_eval_metric", Help: "Last evaluation's metrics, read from the sum of the tenants' noised statistics.", ConstLabels: l}, []string{"metric"}),
		tenantEps:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fedb2b_tenant_epsilon_charged", Help: "Coordinator's lower bound on each tenant's record-level ε (the tenant's ledger is the authority).", ConstLabels: l}, []string{"tenant"}),
		tenantCap:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fedb2b_tenant_epsilon_cap", Help: "Record-level ε cap each tenant announced.", ConstLabels: l}, []string{"tenant"}),
	}
	reg.MustRegister(m.roundsStarted, m.rounds, m.participants, m.cohort, m.dropped, m.declined, m.version, m.finished,
		m.stageSeconds, m.evalMetric, m.tenantEps, m.tenantCap)
	return m
}
