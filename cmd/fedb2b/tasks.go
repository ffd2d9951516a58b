package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/models/intent"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/simulate"
)

// taskSummary is the machine-readable outcome of `demo --task` for the
// intent, forecast and recommend tasks.
type taskSummary struct {
	Task      string                        `json:"task"`
	Final     map[string]float64            `json:"final"`
	Baselines map[string]map[string]float64 `json:"baselines"`
	Privacy   taskPrivacy                   `json:"privacy"`
	Tenants   int                           `json:"tenants"`
	// Federation is the federated evaluation the operator saw (noised
	// sums), for tasks run over the coordinator.
	Federation map[string]float64 `json:"federation,omitempty"`
	// FederationSD is roughly how much the noise moves each figure of
	// Federation (one standard deviation; simulate.Report.FinalValuesSD).
	FederationSD map[string]float64 `json:"federation_noise_sd,omitempty"`
	// FederationUnmeasurable lists the ratios of Federation whose count
	// the noise alone could have made.
	FederationUnmeasurable []string `json:"federation_not_measurable,omitempty"`
	// Deployed are the final model's metrics as tenants deploy it, when
	// that differs from what evaluation may release (recommend: ranking
	// with the tenant's own popularity), counted by the simulation.
	Deployed map[string]float64 `json:"deployed,omitempty"`
	Note     string             `json:"note"`
}

type taskPrivacy struct {
	Unit            string  `json:"unit"`
	Epsilon         float64 `json:"epsilon_per_tenant"`
	Delta           float64 `json:"delta"`
	NoiseMultiplier float64 `json:"noise_multiplier"`
	Steps           int     `json:"steps"`
	// Mode is the record-level trust model when not local DP-SGD
	// ("distributed"), HonestTenants the shares its ε assumes.
	Mode          string `json:"mode,omitempty"`
	HonestTenants int    `json:"honest_tenants,omitempty"`
}

// kindFlags are the demo's names for the task kind: --kind, as the
// coordinator says, and --task.
var kindFlags = []string{"kind", "task"}

// taskArg returns the value of --kind (or --task) in args ("classify"
// when absent).
func taskArg(args []string) string {
	for i, a := range args {
		for _, name := range kindFlags {
			for _, dash := range []string{"--", "-"} {
				switch {
				case a == dash+name:
					if i+1 < len(args) {
						return args[i+1]
					}
				case strings.HasPrefix(a, dash+name+"="):
					return a[len(dash+name+"="):]
				}
			}
		}
	}
	return "classify"
}

// runTaskDemo runs the federated simulation of the intent, forecast or
// recommend task with its baselines (in process; see the task packages).
func runTaskDemo(task string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo --task "+task, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("task", task, "classify, intent, forecast or recommend (same as --kind)")
	fs.String("kind", task, "classify, intent, forecast or recommend")
	data := fs.String("data", "", "the data file (intent: labelled CSV/JSONL; forecast, recommend: transactions CSV with online_retail's columns)")
	textCol := fs.String("text-col", "text", "intent: text column")
	labelCol := fs.String("label-col", "label", "intent: label column")
	tenants := fs.Int("tenants", 5, "intent: tenants (forecast and recommend split tenants by country)")
	eps := fs.Float64("epsilon", 0, "ε per tenant over all rounds (default: the task's)")
	seed := fs.Uint64("seed", 1, "seed of the split and the public projections")
	evalEps := fs.Float64("eval-epsilon", simulate.Defaults().EvalEpsilon, "ε of each tenant's noised evaluation statistics per evaluation, in the task's privacy unit (default: intent 0.5, forecast 0.1, recommend 0.3)")
	rounds := fs.Int("rounds", 0, "federated rounds (default: the task's: intent 40, forecast 100, recommend 20)")
	evalEvery := fs.Int("eval-every", 0, "evaluate every N-th round and the last (default: the task's; forecast 20, recommend 20)")
	adapter := fs.String("adapter", "linear", "intent: linear (full-rank linear head, energy out-of-scope score) or head (LoRA head, maximum softmax)")
	dpMode := fs.String("dp-mode", "local", "intent (linear head): record-level trust model, local (each tenant's own DP-SGD) or distributed (one DP-SGD step per round, the noise added inside secure aggregation in shares; 1,000 rounds, q 0.1, C 0.1, FedAdam 0.1 unless given; one noised evaluation after the last round, charged to each ledger, gives the global threshold)")
	honest := fs.Int("honest-tenants", 0, "with --dp-mode distributed: honest tenants the record-level ε assumes in every unmasked sum (0: t − c + 1)")
	colluders := fs.Int("assume-colluders", 0, "with --dp-mode distributed: survivors each tenant assumes may collude with the coordinator")
	oosClass := fs.Bool("oos-class", false, "intent (linear head): train each tenant's out-of-scope training messages (label \""+intent.OOSLabel+"\") as one more class; the out-of-scope score still reads the in-scope logits only")
	jsonOut := fs.String("json", "", "write the summary to this file")
	var files fileFlags
	files.register(fs)
	quiet := fs.Bool("quiet", false, "no progress lines on a terminal (they never go into files or pipes)")
	progress := func() func(string) { return progressTo(stderr, *quiet) }
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "fedb2b demo --task %s: %v\n", task, err); return 1 }
	if *data == "" {
		return fail(fmt.Errorf("--data is required for this task"))
	}
	if !(*evalEps > 0) {
		// Exact evaluation statistics have record-level ε = ∞.
		return fail(refuseExact([]string{"exact evaluation statistics (--eval-epsilon 0)"}))
	}
	if *dpMode != "local" && task != "intent" {
		return fail(fmt.Errorf("--dp-mode %s: only the intent task runs the distributed mode", *dpMode))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sum := taskSummary{Task: task, Baselines: map[string]map[string]float64{},
		Note: "simulated in one process (FedAvg across tenants, DP as stated); not yet over the gRPC coordinator and secure aggregation"}
	switch task {
	case "intent":
		ex, rep, err := files.loadData(*data, dataset.LoadOptions{TextCol: *textCol, LabelCol: *labelCol})
		if err != nil {
			return fail(err)
		}
		if rep.Skipped > 0 {
			fmt.Fprintf(stderr, "skipped %d bad rows of %d\n", rep.Skipped, rep.Rows)
		}
		r, err := simulate.RunIntent(ctx, ex, simulate.IntentConfig{Progress: progress(), Tenants: *tenants, Seed: *seed, TargetEpsilon: *eps, Rounds: *rounds,
			EvalEpsilon: *evalEps, EvalEvery: *evalEvery, Adapter: *adapter, DPMode: *dpMode, HonestTenants: *honest, AssumeColluders: *colluders, OOSClass: *oosClass})
		if err != nil {
			return fail(err)
		}
		intentSummary(&sum, r)
	case "forecast", "recommend":
		tx, rep, err := forecast.LoadTransactionsFile(*data, forecast.OnlineRetailColumns())
		if err != nil {
			return fail(err)
		}
		if rep.Skipped > 0 {
			fmt.Fprintf(stderr, "skipped %d bad rows of %d\n", rep.Skipped, rep.Rows)
		}
		if task == "forecast" {
			enc, err := models.OrDefault(nil)
			if err != nil {
				return fail(err)
			}
			run, groups, err := forecastRun(tx, enc, *seed, cmp.Or(*eps, 1), taskEvalEps(fs, *evalEps, 0.1), cmp.Or(*evalEvery, 20))
			if err != nil {
				return fail(err)
			}
			run.cfg.Rounds = cmp.Or(*rounds, run.cfg.Rounds)
			run.cfg.Progress = progress()
			if err := run.run(ctx, &sum); err != nil {
				return fail(err)
			}
			base, err := modeltask.ForecastBaselines(run.fed.Spec, groups)
			if err != nil {
				return fail(err)
			}
			maps.Copy(sum.Baselines, base)
			sum.Note += "; forecast: federated, operator's view, centralized and local_only are the released statistics of each customer's own series (examples: customers), as deployed and *_deployed the head on the product-level rows the classical baselines are counted on"
		} else {
			enc, err := models.OrDefault(nil)
			if err != nil {
				return fail(err)
			}
			run, baselines, err := recommendRun(tx, enc, *seed, cmp.Or(*eps, 1), taskEvalEps(fs, *evalEps, 0.3), cmp.Or(*evalEvery, 20))
			if err != nil {
				return fail(err)
			}
			run.cfg.Rounds = cmp.Or(*rounds, run.cfg.Rounds)
			run.cfg.Progress = progress()
			if err := run.run(ctx, &sum); err != nil {
				return fail(err)
			}
			b := baselines()
			sum.Baselines["popularity"] = b.Popularity.Metrics()
			sum.Baselines["global_popularity"] = b.GlobalPopularity.Metrics()
			sum.Baselines["buy_again"] = b.Repeat.Metrics()
			sum.Baselines["own_orders"] = b.OwnOrders.Metrics()
			sum.Baselines["own_recent"] = b.OwnRecent.Metrics()
		}
	default:
		return fail(fmt.Errorf("unknown task (want classify, intent, forecast or recommend)"))
	}
	fmt.Fprintf(stdout, "fedb2b demo --task %s: %d tenants; ε=%.4g at δ=%g per tenant (unit: %s)\n", task, sum.Tenants, sum.Privacy.Epsilon, sum.Privacy.Delta, sum.Privacy.Unit)
	printMetrics(stdout, "federated", sum.Final)
	if sum.Deployed != nil {
		printMetrics(stdout, "as deployed", sum.Deployed)
	}
	if sum.Federation != nil {
		printMetricsSD(stdout, "operator's view", sum.Federation, sum.FederationSD, sum.FederationUnmeasurable)
	}
	for _, n := range slices.Sorted(maps.Keys(sum.Baselines)) {
		printMetrics(stdout, n, sum.Baselines[n])
	}
	fmt.Fprintln(stdout, "note:", sum.Note)
	if *jsonOut != "" {
		if err := writeJSONFile(*jsonOut, sum); err != nil {
			return fail(err)
		}
	}
	return 0
}

func printMetrics(w io.Writer, name string, m map[string]float64) {
	printMetricsSD(w, name, m, nil, nil)
}

// printMetricsSD is printMetrics with "±sd" after each figure sd has
// (how much the noise of a noised release moves it) and "(noise)" after
// each of unmeasurable (a ratio whose count the noise could have made).
func printMetricsSD(w io.Writer, name string, m, sd map[string]float64, unmeasurable []string) {
	fmt.Fprintf(w, "  %-16s", name)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(w, "  %s %.4f%s", k, m[k], modeltask.NoiseSuffix(k, sd, unmeasurable))
	}
	fmt.Fprintln(w)
}

// taskEvalEps is --eval-epsilon if given, else the task's default def.
func taskEvalEps(fs *flag.FlagSet, v, def float64) float64 {
	if flagSet(fs, "eval-epsilon") {
		return v
	}
	return def
}
