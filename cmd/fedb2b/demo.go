package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/protocol"
	"github.com/fedb2b/fedb2b/simulate"
)

func init() {
	register("demo", "run a whole federation in one process over loopback gRPC, with baselines", runDemo)
	register("simulate", "same as demo (for experiments: every flag of demo)", runDemo)
}

// allowExactFlag registers --allow-exact-releases.
func allowExactFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("allow-exact-releases", false, "record-level runs only: allow exact evaluation statistics (--eval-epsilon 0) or example counts (--weight-epsilon 0); their ε is ∞ and is reported so (default: refused)")
}

// refuseExact returns the error of a record-level run that asks for the
// exact releases listed without --allow-exact-releases.
func refuseExact(exact []string) error {
	return fmt.Errorf("%s would leave each tenant exactly: under add/remove-one adjacency an exact count has record-level ε = ∞; give a positive --eval-epsilon and --weight-epsilon, or --allow-exact-releases to run anyway with ε reported as ∞", strings.Join(exact, " and "))
}

func demoFlags(fs *flag.FlagSet, cfg *simulate.Config) (data, textCol, labelCol, jsonOut, peftOut *string, verbose *bool) {
	d := simulate.Defaults()
	*cfg = d
	fs.IntVar(&cfg.Tenants, "tenants", d.Tenants, "number of tenants")
	fs.Float64Var(&cfg.Alpha, "alpha", d.Alpha, "Dirichlet concentration of the label skew across tenants (smaller: more skew)")
	fs.Uint64Var(&cfg.Seed, "seed", d.Seed, "seed of the data split and of the task (not of the DP noise)")
	fs.IntVar(&cfg.SynthRecords, "records", d.SynthRecords, "synthetic records when --data is not given")
	fs.IntVar(&cfg.Rounds, "rounds", d.Rounds, "federated rounds")
	fs.IntVar(&cfg.LocalSteps, "local-steps", d.LocalSteps, "DP-SGD steps per tenant per round")
	fs.Float64Var(&cfg.SampleRate, "q", d.SampleRate, "Poisson sampling rate per DP-SGD step")
	fs.Float64Var(&cfg.ExpectedBatch, "expected-batch", 0, "DP-SGD's public normaliser announced with the task (0: q·1000); never a tenant's own q·N")
	fs.Float64Var(&cfg.ClipNorm, "clip", d.ClipNorm, "per-example clip norm C")
	fs.Float64Var(&cfg.LearningRate, "lr", d.LearningRate, "local learning rate")
	fs.Float64Var(&cfg.NoiseMultiplier, "noise", 0, "noise multiplier z (0: calibrate to --epsilon)")
	fs.Float64Var(&cfg.TargetEpsilon, "epsilon", d.TargetEpsilon, "record-level ε each tenant spends over all rounds (calibrates z)")
	fs.Float64Var(&cfg.Delta, "delta", d.Delta, "δ of the record-level guarantee")
	fs.IntVar(&cfg.Rank, "rank", d.Rank, "LoRA rank (with --adapter encoder-lora: the encoder LoRA rank, default 8)")
	fs.StringVar(&cfg.Adapter, "adapter", modeltask.AdapterLinear, "linear (full-rank linear softmax head over the encoder output, DP-Adam; its own defaults for --lr, --local-steps, --server-lr and --encoder unless given), head (LoRA classifier over pooled vectors) or encoder-lora (LoRA on query/value of the top --lora-layers layers of a bert: encoder, with a linear head)")
	peftOut = fs.String("peft-out", "", "with --adapter encoder-lora: write the final federated adapter in Hugging Face PEFT format into this directory")
	fs.IntVar(&cfg.LoRALayers, "lora-layers", 2, "with --adapter encoder-lora: adapted encoder layers, from the top")
	fs.StringVar(&cfg.Strategy, "strategy", d.Strategy, "server strategy: fedavg or fedadam")
	fs.Float64Var(&cfg.ServerLR, "server-lr", d.ServerLR, "server learning rate")
	fs.Float64Var(&cfg.AverageDecay, "average-decay", d.AverageDecay, "publish the exponential moving average of the global models at this decay β in (0, 1) instead of the last one (post-processing, no privacy cost; runs without federated evaluation only; default 0, and simulate.DistributedAverageDecay with --dp-mode distributed)")
	fs.IntVar(&cfg.MinClients, "min-clients", 0, "updates needed for a round to aggregate (0: half the tenants)")
	fs.BoolVar(&cfg.InsecurePlainAggregation, "insecure-plain-aggregation", false, "INSECURE: send plain updates, so the coordinator sees each tenant's update (default: secure aggregation)")
	fs.Float64Var(&cfg.UpdateClip, "update-clip", d.UpdateClip, "L2 bound S on each update in secure aggregation (clipping is counted and logged)")
	fs.Float64Var(&cfg.MaxWeight, "max-weight", d.MaxWeight, "secure aggregation: FedAvg weight = a tenant's example count capped at this (0: every tenant counts once)")
	fs.IntVar(&cfg.Neighbours, "neighbours", 0, "SecAgg+ neighbours k per tenant (0: all, plain SecAgg)")
	fs.IntVar(&cfg.Threshold, "threshold", 0, "SecAgg+ Shamir threshold t (0: ⌊k/2⌋+1)")
	fs.BoolVar(&cfg.TenantDPEvaluation, "tenant-dp-eval", false, "with --tenant-epsilon: still release the (record-level-noised) evaluation statistics, which the tenant-level ε does not cover (default: no evaluation released)")
	fs.Float64Var(&cfg.TenantEpsilon, "tenant-epsilon", 0, "add tenant-level DP inside secure aggregation (distributed discrete Gaussian): each tenant's tenant-level ε over all rounds at --delta (0: off)")
	fs.Float64Var(&cfg.EvalEpsilon, "eval-epsilon", d.EvalEpsilon, "record-level ε of each tenant's noised evaluation statistics per round (Gaussian, Google DP library), within --epsilon (0: exact statistics)")
	fs.Float64Var(&cfg.WeightEpsilon, "weight-epsilon", d.WeightEpsilon, "record-level ε of each tenant's noised example count (FedAvg weight) per round, within --epsilon (0: exact counts)")
	fs.IntVar(&cfg.EvalEvery, "eval-every", 1, "evaluate every N-th round and the last (each evaluation costs budget)")
	fs.Float64Var(&cfg.AdaptiveQuantile, "adaptive-clip", 0, "with --tenant-epsilon: make the update clip follow this quantile of the update norms (adaptive clipping; 0: fixed clip)")
	fs.BoolVar(&cfg.InsecureNoTLS, "insecure-no-tls", false, "INSECURE: plain loopback gRPC without the operator CA and mutual TLS")
	fs.IntVar(&cfg.DropTenants, "drop-tenants", 0, "make N random tenants vanish at a random secure-aggregation stage of a random round")
	fs.StringVar(&cfg.DPMode, "dp-mode", "local", "record-level trust model: local (each tenant runs DP-SGD on its own update; holds against everyone) or distributed (one DP-SGD step per round, each tenant's share of the noise added inside secure aggregation so the sum carries one pooled step's noise; holds against the coordinator only while secure aggregation holds and --honest-tenants survivors add their share and do not collude; its own defaults for --rounds, --q, --clip, --local-steps, --strategy, --server-lr and --average-decay unless given; no federated evaluation)")
	fs.IntVar(&cfg.HonestTenants, "honest-tenants", 0, "with --dp-mode distributed: honest tenants the record-level ε assumes in every unmasked sum, recorded in each ledger (0: t − c + 1, the most the tenants' secure-aggregation policy accepts; rounds with fewer masked inputs stop before unmasking)")
	fs.IntVar(&cfg.AssumeColluders, "assume-colluders", 0, "with --dp-mode distributed: survivors each tenant assumes may collude with the coordinator; it helps unmask only sums of at least --honest-tenants plus this many inputs")
	fs.StringVar(&cfg.Workdir, "workdir", "", "keep every party's files (keys, privacy ledgers) under DIR/coordinator and DIR/<tenant>, and print the audit command")
	data = fs.String("data", "", "labelled CSV or JSONL to split across tenants instead of synthetic data")
	textCol = fs.String("text-col", "text", "text column of --data")
	labelCol = fs.String("label-col", "label", "label column of --data")
	jsonOut = fs.String("json", "", "write a machine-readable summary to this file")
	fs.BoolVar(&cfg.Baselines, "baselines", d.Baselines, "also train the reference models (pooled and each tenant alone, no DP; the same-DP local baseline): on a large --data file the pooled L-BFGS fit takes far longer than the federation")
	verbose = fs.Bool("v", false, "log what clients and coordinator do")
	return
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	if t := taskArg(args); t != "classify" {
		return runTaskDemo(t, args, stdout, stderr)
	}
	args = dropTaskFlag(args)
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg simulate.Config
	data, textCol, labelCol, jsonOut, peftOut, verbose := demoFlags(fs, &cfg)
	allowExact := allowExactFlag(fs)
	encFlags := addEncoderFlags(fs)
	var files fileFlags
	files.register(fs)
	quiet := fs.Bool("quiet", false, "no progress lines on a terminal (they never go into files or pipes)")
	httpAddr := fs.String("http", "", "serve the operator's dashboard and Prometheus /metrics on this address during the run (e.g. 127.0.0.1:8080)")
	httpWait := fs.Bool("http-wait", false, "with --http: keep serving the dashboard after the run until interrupted")
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	if flagSet(fs, "max-weight") && cfg.MaxWeight == 0 {
		cfg.MaxWeight = -1 // simulate.Config: negative means unweighted
	}
	if ex := cfg.ExactReleases(); len(ex) > 0 && !*allowExact {
		fmt.Fprintf(stderr, "fedb2b demo: %v\n", refuseExact(ex))
		return 1
	}
	if cfg.Adapter == modeltask.AdapterEncoderLoRA && !flagSet(fs, "rank") {
		cfg.Rank = 8
	}
	if cfg.Adapter == modeltask.AdapterLinear {
		applyLinearDefaults(fs, &cfg, encFlags)
	}
	if cfg.DPMode == simulate.DPModeDistributed {
		applyDistributedDefaults(fs, &cfg)
	}
	if *verbose {
		cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	if *data != "" {
		ex, rep, err := files.loadData(*data, dataset.LoadOptions{TextCol: *textCol, LabelCol: *labelCol})
		if err != nil {
			fmt.Fprintf(stderr, "fedb2b demo: %v\n", err)
			return 1
		}
		if rep.Skipped > 0 {
			fmt.Fprintf(stderr, "fedb2b demo: %s: skipped %d bad rows of %d (first: %v)\n", *data, rep.Skipped, rep.Rows, rep.Bad[0])
		}
		cfg.Data = ex
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	enc, err := encFlags.open(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "fedb2b demo: %v\n", err)
		return 1
	}
	cfg.Encoder = enc
	cfg.Progress = progressTo(stderr, *quiet)

	src := "synthetic B2B company profiles (zh + en)"
	if *data != "" {
		src = *data
	}
	fmt.Fprintf(stdout, "fedb2b demo: %d tenants, %d rounds, data: %s\n", cfg.Tenants, cfg.Rounds, src)
	fmt.Fprintf(stdout, "encoder: %s (dimension %d)\n", enc.ID(), enc.Dim())
	fmt.Fprintf(stdout, "%5s  %8s  %8s  %9s  %-12s  %8s  %s\n", "round", "accuracy", "macro-F1", "took part", "dropped", "declined", "ε per tenant (record-level)")
	if *httpAddr != "" {
		mon, addr, closeHTTP, err := serveDashboard(*httpAddr, "classify", cfg.Rounds, nil)
		if err != nil {
			fmt.Fprintf(stderr, "fedb2b demo: --http: %v\n", err)
			return 1
		}
		defer closeHTTP(*httpWait, ctx, stdout)
		cfg.Observe = func(spec protocol.TaskSpec, f *coordinator.Federation, e coordinator.Event) {
			if e.Kind == coordinator.EvRoundStarted && e.Round == 1 {
				mon.SetMetrics(func(stats []int64) (map[string]float64, error) { return modeltask.Metrics(spec, stats) })
			}
			mon.Observe(f, e)
		}
		fmt.Fprintf(stdout, "dashboard on http://%s/ (Prometheus metrics at /metrics)\n", addr)
	}
	every := 1 // distributed runs have a thousand one-step rounds: print 20
	if cfg.DPMode == simulate.DPModeDistributed {
		every = max(1, cfg.Rounds/20)
	}
	runCfg := cfg
	cfg.Data = nil // Run's copy holds the examples and lets them go once they are split
	rep, err := simulate.Run(ctx, runCfg, func(r simulate.RoundReport) {
		if r.Round%every != 0 && r.Round != cfg.Rounds && !r.Abandoned && len(r.Dropped) == 0 {
			return
		}
		status := ""
		if r.Abandoned {
			status = "  abandoned: " + r.Reason
		}
		acc, f1 := fmt.Sprintf("%8.4f", r.Accuracy), fmt.Sprintf("%8.4f", r.MacroF1)
		if !r.Evaluated {
			acc, f1 = "       -", "       -"
		}
		fmt.Fprintf(stdout, "%5d  %s  %s  %9d  %-12s  %8d  %s%s\n", r.Round, acc, f1, r.Participants,
			listOrDash(r.Dropped), len(r.Declined), epsList(r.Epsilon), status)
	})
	if err != nil {
		fmt.Fprintf(stderr, "fedb2b demo: %v\n", err)
		return 1
	}
	if sa := rep.SecureAggregation; sa != nil {
		fmt.Fprintf(stdout, "\nsecure aggregation: %s, %d-bit ring, update clip S=%g (%d updates clipped)", sa.Protocol, sa.Bits, sa.UpdateClip, sa.ClippedUpdates)
		for _, d := range sa.Dropped {
			fmt.Fprintf(stdout, "; %s vanished in round %d at stage %s", d.Tenant, d.Round, d.Stage)
		}
		fmt.Fprintln(stdout)
	} else {
		fmt.Fprintln(stdout, "\nINSECURE: plain aggregation, the coordinator saw every tenant's update")
	}
	if tl := rep.Privacy.TenantLevel; tl != nil {
		fmt.Fprintf(stdout, "privacy: tenant-level (distributed discrete Gaussian inside secure aggregation; adjacency: one tenant's update replaced by zero), δ=%g, ε per tenant: %s\n", tl.Delta, epsList(tl.EpsilonPerTenant))
		if cfg.TenantDPEvaluation {
			fmt.Fprintln(stdout, "privacy: the tenant-level ε covers the model updates; the evaluation statistics each tenant released carry record-level DP only")
		} else {
			fmt.Fprintln(stdout, "privacy: no evaluation statistics were released, so the tenant-level ε covers every release about the tenants' data (who took part is still known to the coordinator); the final figure is the simulation's own count")
		}
	}
	fmt.Fprintf(stdout, "privacy: record-level, δ=%g, noise multiplier z=%.4f, q=%g, %d steps per round\n",
		rep.Privacy.Delta, rep.Privacy.NoiseMultiplier, rep.Privacy.SampleRate, rep.Privacy.StepsPerRound)
	if rep.Privacy.Mode == simulate.DPModeDistributed {
		fmt.Fprintf(stdout, "privacy: distributed mode: the noise (z on the sum) was added inside secure aggregation in shares; each tenant's ε holds against the coordinator only while secure aggregation holds and %d honest tenants' shares are in every unmasked sum (recorded in every ledger); no evaluation statistics were released, the final figure is the simulation's own count\n", rep.Privacy.HonestTenants)
	}
	if ex := rep.Privacy.ExactReleases; len(ex) > 0 {
		fmt.Fprintf(stdout, "privacy: EXACT releases (%s): ε = ∞ (record-level, and tenant-level where reported) for every tenant that took part, as its ledger records\n", strings.Join(ex, ", "))
	}
	if cfg.EvalEpsilon > 0 && (cfg.TenantEpsilon == 0 || cfg.TenantDPEvaluation) && rep.Privacy.Mode == "" {
		fmt.Fprintf(stdout, "privacy: evaluation statistics noised by each tenant at record-level ε=%g per round (Gaussian, Google DP library), within the same budget\n", cfg.EvalEpsilon)
	}
	fmt.Fprintf(stdout, "\n%-36s %9s %9s\n", "model", "accuracy", "macro-F1")
	label := "federated (DP-SGD)"
	if cfg.EvalEpsilon > 0 {
		label = "federated, noised eval"
	}
	if slices.ContainsFunc(rep.Rounds, func(r simulate.RoundReport) bool { return r.Evaluated }) {
		fmt.Fprintf(stdout, "%-36s %9.4f %9.4f\n", label, rep.Final.Accuracy, rep.Final.MacroF1)
	}
	if fe := rep.FinalExact; fe != nil {
		fmt.Fprintf(stdout, "%-36s %9.4f %9.4f\n", "federated, exact (sim only)", fe.Accuracy, fe.MacroF1)
	}
	printBaselines(stdout, rep)
	if *peftOut != "" {
		if err := modeltask.ExportPEFT(rep.Spec, enc, rep.FinalModel, *peftOut, enc.ID()); err != nil {
			fmt.Fprintf(stderr, "fedb2b demo: --peft-out: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "\nfederated encoder adapter written in PEFT format to %s\n", *peftOut)
	}
	if c := rep.AuditCommand(); c != "" {
		c = selfCommand() + strings.TrimPrefix(c, "fedb2b")
		fmt.Fprintf(stdout, "\nprivacy ledgers written; an auditor checks them with:\n  %s\n", c)
	}
	if *jsonOut != "" {
		if err := writeJSONFile(*jsonOut, rep); err != nil {
			fmt.Fprintf(stderr, "fedb2b demo: %v\n", err)
			return 1
		}
	}
	return 0
}

func listOrDash(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

func epsList(m map[string]float64) string {
	names := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmtEps(m[n])
	}
	return strings.Join(parts, " ")
}

// fmtEps prints ε with two decimals, or ∞.
func fmtEps(e float64) string {
	if math.IsInf(e, 1) {
		return "∞"
	}
	return fmt.Sprintf("%.2f", e)
}

// writeJSONFile writes v as indented JSON, atomically (models.WriteFileAtomic).
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return models.WriteFileAtomic(path, append(b, '\n'), 0o644)
}

// dropTaskFlag removes --task classify from args.
func dropTaskFlag(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		drop := false
		for _, name := range kindFlags {
			if a == "--"+name || a == "-"+name {
				i++
				drop = true
			}
			if strings.HasPrefix(a, "--"+name+"=") || strings.HasPrefix(a, "-"+name+"=") {
				drop = true
			}
		}
		if !drop {
			out = append(out, a)
		}
	}
	return out
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
