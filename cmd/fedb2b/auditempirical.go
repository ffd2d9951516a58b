package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/fedb2b/fedb2b/simulate/empirical"
)

// auditRow is one scenario of 'audit empirical --json'.
type auditRow struct {
	Scenario   string   `json:"scenario"`
	Release    string   `json:"release"`
	Unit       string   `json:"unit"`
	Claimed    *float64 `json:"claimed_epsilon"` // null: ∞ (an exact release)
	Lower      float64  `json:"epsilon_lower_bound"`
	MaxLower   float64  `json:"max_lower_bound"`
	Trials     int      `json:"trials_per_world"`
	FP         int      `json:"false_positives"`
	FN         int      `json:"false_negatives"`
	Evaluated  int      `json:"evaluated_per_world"`
	Violated   bool     `json:"violated"`
	Delta      float64  `json:"delta"`
	Confidence float64  `json:"confidence"`
}

func runAuditEmpirical(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit empirical", flag.ContinueOnError)
	fs.SetOutput(stderr)
	trials := fs.Int("trials", 1000, "runs of each release per neighbouring data set")
	kinds := fs.String("kinds", "", "comma-separated task kinds (default: classify, intent, forecast, recommend, and encoder-lora with --bert)")
	bertDir := fs.String("bert", "", "BERT-family model directory for the encoder-lora kind")
	broken := fs.Bool("broken", false, "also audit the former normalisation by q·N of the tenant's own N (must be caught)")
	exact := fs.Bool("exact", false, "also audit exact evaluation and count releases (ε = ∞: must be separated)")
	tenant := fs.Bool("tenant", false, "also audit the tenant-level release: the decoded secure-aggregation sum of a cohort with one tenant's update replaced by zero (distributed discrete Gaussian)")
	tenantKind := fs.String("tenant-kind", "forecast", "task kind whose real updates the tenant-level audit encodes")
	tenantCohort := fs.Int("tenant-cohort", 2, "tenants in the tenant-level audit's cohort (= the noise shares the plan relies on)")
	tenantEps := fs.Float64("tenant-epsilon", 1, "planned tenant-level ε of one round in the tenant-level audit")
	rounds := fs.Int("rounds", 0, "also audit the composition over this many rounds (≥ 2): the same release repeated on D and D′, the scores summed, against the composed claim (record-level for every kind; tenant-level with --tenant; with --broken also the claim of one round, which must be refuted)")
	confidence := fs.Float64("confidence", 0.95, "confidence of each lower bound (the probability it is wrong is 1 − this)")
	jsonOut := fs.String("json", "", "write the results to this file")
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	alpha := new(float64)
	*alpha = 1 - *confidence
	o := empirical.Options{BERTDir: *bertDir, Broken: *broken, Exact: *exact}
	if *kinds != "" {
		o.Kinds = strings.Split(*kinds, ",")
	}
	ss, err := empirical.Scenarios(context.Background(), o)
	if err == nil && *rounds != 0 {
		var cs []empirical.Scenario
		if cs, err = empirical.CompositionScenarios(context.Background(), o, *rounds, *broken); err == nil {
			ss = append(ss, cs...)
		}
	}
	if err == nil && *tenant {
		var ts []empirical.Scenario
		r := *rounds
		ts, err = empirical.TenantScenarios(context.Background(), empirical.TenantOptions{Kind: *tenantKind,
			Tenants: *tenantCohort, Epsilon: *tenantEps, Rounds: r, Broken: *broken})
		ss = append(ss, ts...)
	}
	if err != nil {
		fmt.Fprintf(stderr, "fedb2b audit empirical: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "%-52s %-10s %10s %12s %8s  %s\n", "scenario", "release", "claimed ε", "lower bound", "max", "errors (FP, FN of evaluated)")
	var rows []auditRow
	violated := false
	for _, s := range ss {
		r, err := empirical.Run(s, *trials, *alpha, nil)
		if err != nil {
			fmt.Fprintf(stderr, "fedb2b audit empirical: %v\n", err)
			return 1
		}
		claimed := fmtEps(r.Claimed)
		flag := ""
		// The intended violations (the broken normalisation, the exact
		// releases) are shown, not counted as failures.
		intended := strings.Contains(s.Name, "broken") || math.IsInf(s.Claimed, 1)
		if r.Violated() {
			flag = "  VIOLATED"
			if intended {
				flag = "  caught (expected)"
			} else {
				violated = true
			}
		} else if strings.Contains(s.Name, "broken") {
			flag = "  not caught: too few trials for this claim (raise --trials)"
		} else if math.IsInf(s.Claimed, 1) {
			flag = "  separated without error (exact: ε = ∞)"
			if r.FP+r.FN > 0 {
				flag = "  not separated"
			}
		}
		fmt.Fprintf(stdout, "%-52s %-10s %10s %12.3f %8.2f  %d, %d of %d%s\n", r.Scenario, r.Release, claimed, r.Epsilon, r.MaxEpsilon, r.FP, r.FN, r.N0, flag)
		row := auditRow{Scenario: r.Scenario, Release: r.Release, Unit: r.Unit, Lower: r.Epsilon, MaxLower: r.MaxEpsilon,
			Trials: r.Trials, FP: r.FP, FN: r.FN, Evaluated: r.N0, Violated: r.Violated() && !intended, Delta: r.Delta, Confidence: 1 - r.Alpha}
		if !math.IsInf(r.Claimed, 1) {
			c := r.Claimed
			row.Claimed = &c
		}
		rows = append(rows, row)
	}
	fmt.Fprintf(stdout, "\nlower bounds at confidence %.0f%% (Clopper–Pearson, threshold chosen on half of the %d trials per world); δ = %g\n", 100*(1-*alpha), *trials, ss[0].Delta)
	if *jsonOut != "" {
		if err := writeJSONFile(*jsonOut, rows); err != nil {
			fmt.Fprintf(stderr, "fedb2b audit empirical: %v\n", err)
			return 1
		}
	}
	if violated {
		fmt.Fprintln(stdout, "a claimed ε is refuted by the lower bound above")
		return 1
	}
	return 0
}
