package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fedb2b/fedb2b/coordinator/monitor"
	"golang.org/x/net/netutil"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"google.golang.org/grpc"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/coordinator/store/pgstore"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/intent"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/protocol"
	"github.com/fedb2b/fedb2b/simulate"
)

func init() {
	register("coordinator", "run the operator's coordinator: plans rounds, aggregates, evaluates", runCoordinator)
}

func runCoordinator(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("coordinator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d := simulate.Defaults()
	listen := fs.String("listen", "127.0.0.1:7070", "address to listen on")
	labels := fs.String("labels", "", "comma-separated class labels of the task")
	labelsFrom := fs.String("labels-from", "", "the task's public label list, one label per line (for example labels.txt of 'fedb2b data synth'); never a tenant's data file")
	taskID := fs.String("task-id", "classify-industry", "task ID (the task's name in ledgers and on the dashboard; the kind is --kind)")
	rounds := fs.Int("rounds", d.Rounds, "rounds to run")
	tenants := fs.Int("tenants", 3, "tenants that must be ready before round 1")
	minClients := fs.Int("min-clients", 3, "updates needed for a round to aggregate (secure aggregation needs at least 3)")
	timeout := fs.Duration("round-timeout", 60*time.Second, "deadline of each round stage")
	pollRetry := fs.Duration("poll-retry", 100*time.Millisecond, "how long a waiting client sleeps before its next poll (raise it with the number of tenants: each poll is an RPC)")
	q := fs.Float64("q", d.SampleRate, "Poisson sampling rate of DP-SGD")
	expBatch := fs.Float64("expected-batch", 0, "DP-SGD's public normaliser announced with the task: every tenant divides its noised gradient sum by it (0: q·1000, a planning figure; never a tenant's own count)")
	clip := fs.Float64("clip", d.ClipNorm, "per-example clip norm")
	steps := fs.Int("local-steps", d.LocalSteps, "DP-SGD steps per round")
	lr := fs.Float64("lr", d.LearningRate, "local learning rate")
	noise := fs.Float64("noise", 0, "noise multiplier (0: calibrate to --epsilon over all rounds)")
	eps := fs.Float64("epsilon", d.TargetEpsilon, "record-level ε a tenant spends over all rounds (calibrates --noise)")
	delta := fs.Float64("delta", d.Delta, "δ used for calibration")
	weightEps := fs.Float64("weight-epsilon", d.WeightEpsilon, "record-level ε of each tenant's noised example count (its FedAvg weight) per round, within --epsilon (0: ask for exact counts, which tenants refuse by default)")
	evalEvery := fs.Int("eval-every", 1, "evaluate every N-th round and the last (each evaluation costs the tenants budget)")
	evalEps := fs.Float64("eval-epsilon", d.EvalEpsilon, "record-level ε of each tenant's noised evaluation statistics per round, within --epsilon (0: ask for exact statistics, which tenants refuse by default)")
	rank := fs.Int("rank", d.Rank, "LoRA rank")
	seed := fs.Uint64("seed", 1, "task seed (generates the frozen LoRA factor A)")
	strategy := fs.String("strategy", "fedavg", "fedavg or fedadam")
	serverLR := fs.Float64("server-lr", 0.01, "FedAdam's server learning rate")
	avgDecay := fs.Float64("average-decay", 0, "publish (--model-out) the exponential moving average of the global models at this decay β in [0, 1) instead of the last one (post-processing, no privacy cost; runs without federated evaluation only)")
	workdir := fs.String("workdir", "coordinator-data", "directory for the coordinator's files (signing key, privacy ledger)")
	tlsDir := fs.String("tls-dir", "", "mutual TLS 1.3 from the directory made by 'fedb2b ca export' (no CA private key; tenants enrol with 'fedb2b ca serve')")
	caDir := fs.String("ca-dir", "", "ALL-IN-ONE: the CA directory itself; this process then decrypts the CA key and serves enrolment on the same port (it could mint identities: prefer --tls-dir)")
	noTLS := fs.Bool("insecure-no-tls", false, "INSECURE: plain gRPC without TLS or tenant certificates (tests on one machine only)")
	var ak ageKeyFlags
	ak.register(fs, false)
	encFlags := addEncoderFlags(fs)
	insecure := fs.Bool("insecure-plain-aggregation", false, "INSECURE: accept plain updates, so this coordinator sees each tenant's update (default: secure aggregation)")
	updateClip := fs.Float64("update-clip", d.UpdateClip, "L2 bound S on each tenant's update in secure aggregation")
	neighbours := fs.Int("neighbours", 0, "SecAgg+ neighbours k (0: all)")
	maxWeight := fs.Float64("max-weight", d.MaxWeight, "FedAvg weight = a tenant's example count capped at this, summed inside secure aggregation (0: every tenant counts once)")
	threshold := fs.Int("threshold", 0, "SecAgg+ threshold t (0: ⌊k/2⌋+1)")
	dpMode := fs.String("dp-mode", client.DPModeLocal, "record-level trust model of the plans: local (tenants run DP-SGD on their own updates) or distributed (--adapter linear: one DP-SGD step per round, each tenant's share of the noise added inside secure aggregation, calibrated to --epsilon for --honest-tenants shares; tenants must opt in; FedAdam applies the step; its own defaults for --rounds, --q, --clip, --strategy, --server-lr and --average-decay unless given)")
	honest := fs.Int("honest-tenants", 0, "with --dp-mode distributed: honest tenants every unmasked sum must hold (the noise's shares; required, at most t − c + 1 or the tenants refuse the plan)")
	kindName := fs.String("kind", modeltask.KindClassify, "task kind over labelled texts: classify or intent (out-of-scope label \""+intent.OOSLabel+"\" held out of the classes unless --oos-class)")
	oosClass := fs.Bool("oos-class", false, "with --kind intent --adapter linear: train the tenants' out-of-scope messages (label \""+intent.OOSLabel+"\") as one more class, last; the out-of-scope score reads the in-scope logits only")
	adapter := fs.String("adapter", modeltask.AdapterHead, "classify: head (LoRA classifier over pooled vectors) or encoder-lora (LoRA inside the top --lora-layers layers of a bert: encoder, rank --rank)")
	peftOut := fs.String("peft-out", "", "with --adapter encoder-lora: write the final global adapter in Hugging Face PEFT format into this directory")
	loraLayers := fs.Int("lora-layers", 2, "with --adapter encoder-lora: adapted encoder layers, from the top")
	modelOut := fs.String("model-out", "", "when the federation finishes, write the final global model here (the file 'fedb2b predict --model' reads)")
	var lf logFlags
	lf.register(fs)
	maxConns := fs.Int("max-connections", 1024, "connections the coordinator accepts at once (each may hold up to 12.5 MiB of unfinished messages)")
	storeSpec := fs.String("store", "", "where the coordinator's state lives: empty for bbolt in --workdir/state (one process), or a postgres://… URL shared by any number of coordinators, of which the lease holder runs rounds and the others wait as standbys (see --lease-ttl)")
	leaseTTL := fs.Duration("lease-ttl", 10*time.Second, "with --store postgres://…: the leader lease's lifetime; a standby takes over at most this long after the leader died")
	advertise := fs.String("advertise", "", "with --store postgres://…: the address clients reach this coordinator at, which standbys name to clients (default --listen)")
	httpAddr := fs.String("http", "", "serve the operator's dashboard, Prometheus /metrics and /healthz on this address (e.g. 127.0.0.1:8080)")
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "fedb2b coordinator: %v\n", err); return 1 }
	if *dpMode == client.DPModeDistributed {
		serveDistributedDefaults(fs, rounds, q, clip, strategy, serverLR, avgDecay)
	}
	if *tlsDir != "" {
		// Before anything is created: never run from the CA's directory.
		if err := pki.CheckServerDir(*tlsDir); err != nil {
			return fail(err)
		}
	}
	names, err := taskLabels(*labels, *labelsFrom)
	if err != nil {
		return fail(err)
	}
	enc, err := encFlags.open(context.Background())
	if err != nil {
		return fail(err)
	}
	if *oosClass && *kindName != modeltask.KindIntent {
		return fail(fmt.Errorf("--oos-class is for --kind %s", modeltask.KindIntent))
	}
	if *kindName == modeltask.KindIntent {
		names = slices.DeleteFunc(names, func(l string) bool { return l == intent.OOSLabel })
		if *oosClass {
			names = append(names, intent.OOSLabel)
		}
	}
	spec, initial, err := modeltask.ClassifySpec(*kindName, modeltask.ClassifySetup{ID: *taskID, Labels: names, Seed: *seed, Rank: *rank,
		Adapter: *adapter, LoRALayers: *loraLayers}, enc)
	if err != nil {
		return fail(err)
	}
	if *expBatch == 0 {
		*expBatch = *q * models.DefaultExpectedRecords
	}
	if err := modeltask.SetExpectedBatch(&spec, *expBatch); err != nil {
		return fail(err)
	}
	if err := modeltask.SetEvalBound(&spec, modeltask.DefaultMaxEvalUnits); err != nil {
		return fail(err)
	}
	kind, err := modeltask.Lookup(spec.Kind)
	if err != nil {
		return fail(err)
	}
	distributed := *dpMode == client.DPModeDistributed
	switch {
	case *dpMode != client.DPModeLocal && !distributed:
		return fail(fmt.Errorf("--dp-mode %q: want %s or %s", *dpMode, client.DPModeLocal, client.DPModeDistributed))
	case distributed && (*adapter != modeltask.AdapterLinear || *insecure || *honest < 1):
		return fail(errors.New("--dp-mode distributed needs --adapter linear, secure aggregation and --honest-tenants ≥ 1"))
	case !distributed && *honest != 0:
		return fail(errors.New("--honest-tenants is an assumption of --dp-mode distributed"))
	}
	if *noise == 0 && !distributed {
		r := client.Releases{Evals: coordinator.Evaluations(*rounds, *evalEvery), EvalL0: kind.L0, EvalLInf: kind.LInf,
			EvalEpsilon: *evalEps, WeightEpsilon: *weightEps}
		if *insecure || *maxWeight > 0 {
			r.Weighted = *rounds
		}
		rel, err := r.Records(*delta)
		if err != nil {
			return fail(fmt.Errorf("--eval-epsilon or --weight-epsilon: %w", err))
		}
		if *noise, err = client.CalibrateNoise(*q, *steps, *rounds, rel, *delta, *eps); err != nil {
			return fail(err)
		}
	}
	var strat aggregation.Strategy = &aggregation.FedAvg{}
	if *strategy == "fedadam" {
		strat = &aggregation.FedAdam{Eta: *serverLR}
	} else if *strategy != "fedavg" {
		return fail(fmt.Errorf("unknown strategy %q (want fedavg or fedadam)", *strategy))
	}
	ccfg := coordinator.Config{
		Task: spec, EvalEpsilon: *evalEps, EvalEvery: *evalEvery,
		Rounds: *rounds, Strategy: strat,
		Train: protocol.TrainParams{SampleRate: *q, ClipNorm: *clip, NoiseMultiplier: *noise, LocalSteps: *steps, LearningRate: *lr,
			WeightEpsilon: *weightEps},
		MinJoined: *tenants, MinClients: *minClients, RoundTimeout: *timeout, Retry: *pollRetry,
		InsecurePlainAggregation: *insecure, AverageDecay: *avgDecay,
	}
	if !*insecure {
		ccfg.Secure = &coordinator.SecureConfig{ClipNorm: *updateClip, Neighbours: *neighbours, Threshold: *threshold, MaxWeight: *maxWeight}
	}
	if distributed {
		// The whole budget trains (no evaluation or count is released);
		// the sum clip is four public expected batches of clipped
		// gradients (simulate.Config.recordDP).
		ccfg.Secure.MaxWeight, ccfg.SkipEvaluation, ccfg.Train.WeightEpsilon, ccfg.EvalEpsilon = 0, true, 0, 0
		ccfg.Secure.RecordDP = &coordinator.RecordDP{Epsilon: *eps, Delta: *delta, Shares: *honest, Dim: modeltask.TrainableParams(spec),
			SumClip: 4 * *q * models.DefaultExpectedRecords * *clip, ExpectedBatch: *expBatch}
	}
	// The configuration is checked before anything is opened (a standby
	// would otherwise wait for the lease with a plan it cannot run).
	if _, err := coordinator.New(ccfg, initial); err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(*workdir, 0o700); err != nil {
		return fail(err)
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return fail(err)
	}
	serverOpts, enrol, authenticate, err := coordinatorServerOptions(*tlsDir, *caDir, *noTLS, &ak, log)
	if err != nil {
		return fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *advertise == "" {
		*advertise = *listen
	}
	st, err := openLeaderStore(ctx, standbyConfig{spec: *storeSpec, workdir: *workdir, listen: *listen, advertise: *advertise,
		httpAddr: *httpAddr, ttl: *leaseTTL, opts: serverOpts, log: log, stdout: stdout})
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	signer, err := ak.signingKey(filepath.Join(*workdir, "signing.key.age"))
	if err != nil {
		return fail(err)
	}
	led, err := st.openLedger(ctx, filepath.Join(*workdir, "ledger.jsonl"), signer, log)
	if err != nil {
		return fail(err)
	}
	defer led.Close()
	if err := st.checkLedgerHead(led, filepath.Join(*workdir, "ledger.jsonl")); err != nil {
		return fail(err)
	}
	durable := &coordinator.Durable{Store: st, Task: *taskID}
	resume, err := durable.Resume(initial)
	if err != nil {
		return fail(err)
	}
	fed, err := coordinator.NewResumed(ccfg, resume)
	if err != nil {
		return fail(err)
	}
	if resume.Version > 0 || len(resume.Interrupted) > 0 {
		fmt.Fprintf(stdout, "resumed from stored version %d after %d finished rounds; interrupted rounds %v were aborted, next round is %d\n",
			resume.Version, resume.RoundsDone, resume.Interrupted, resume.NextRound)
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(err)
	}
	lis = netutil.LimitListener(lis, *maxConns)
	events := make(chan coordinator.Event, 64)
	svc := coordinator.NewService(fed, protocol.EncodeParams, events, nil)
	rec := &coordinator.LedgerRecorder{Ledger: led, Task: *taskID, Train: ccfg.Train}
	fault, err := parseCoordinatorFault(os.Getenv("FEDB2B_FAULT"))
	if err != nil {
		return fail(err)
	}
	// The ledger entries of a round are written before its result is
	// committed to the store: after a crash in between, the ledger holds
	// the (real) releases of a round whose result was not applied.
	mon := monitor.New(monitor.Config{Task: *taskID, Rounds: *rounds,
		Metrics: func(stats []int64) (map[string]float64, error) { return modeltask.Metrics(spec, stats) }})
	svc.SetRecorder(func(f *coordinator.Federation, e coordinator.Event) error {
		mon.Observe(f, e)
		if err := rec.Record(f, e); err != nil {
			return err
		}
		if err := durable.Record(f, e); err != nil {
			if errors.Is(err, pgstore.ErrNotLeader) {
				leaseLost(err, log) // fenced: a standby took over
			}
			return err
		}
		if err := st.recordLedgerHead(led); err != nil {
			if errors.Is(err, pgstore.ErrNotLeader) {
				leaseLost(err, log)
			}
			return err
		}
		fault.check(e, stderr)
		return nil
	})
	srv := grpc.NewServer(serverOpts...)
	if enrol != nil {
		enrol(srv)
	}
	if authenticate {
		svc.SetAuthenticator(pki.CheckTenant)
	}
	svc.Register(srv)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	if *httpAddr != "" {
		hl, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			return fail(fmt.Errorf("--http: %w", err))
		}
		hsrv := &http.Server{Handler: mon.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go hsrv.Serve(hl)
		defer hsrv.Close()
		fmt.Fprintf(stdout, "dashboard on http://%s/ (Prometheus metrics at /metrics)\n", hl.Addr())
	}
	go srv.Serve(lis)
	go svc.Run(ctx, 100*time.Millisecond)
	fmt.Fprintf(stdout, "coordinator listening on %s: task %s, %d labels, %d rounds, z=%.4f (record-level ε=%g at δ=%g per tenant over all rounds)\n",
		lis.Addr(), *taskID, len(names), *rounds, *noise, *eps, *delta)
	if *evalEps == 0 || (*weightEps == 0 && (*insecure || *maxWeight > 0)) {
		fmt.Fprintln(stdout, "coordinator: this plan asks for exact evaluation statistics or example counts; tenants decline them unless started with --allow-exact-counts, and a tenant that releases one has record-level ε = ∞, not the figure above")
	}
	defer srv.Stop()
	var lastEval map[string]float64 // the last released evaluation's metrics (a linear intent task's threshold for --model-out)
	for {
		select {
		case <-ctx.Done():
			return 1
		case e := <-events:
			switch e.Kind {
			case coordinator.EvRoundStarted:
				log.Info("round started", "round", e.Round, "version", e.Version, "cohort", strings.Join(e.Cohort, ","))
			case coordinator.EvRoundAggregated:
				log.Info("round aggregated", "round", e.Round, "version", e.Version, "participants", len(e.Participants), "dropped", strings.Join(e.Dropped, ","), "declined", len(e.Declined))
			case coordinator.EvRoundAbandoned:
				log.Warn("round abandoned", "round", e.Round, "reason", e.Reason)
			case coordinator.EvStage:
				if e.Closed != "" {
					log.Info("secure stage closed", "round", e.Round, "closed", e.Closed, "by_deadline", e.ByDeadline,
						"silent", len(e.Dropped), "left", len(e.Left), "excluded", len(e.Excluded), "next", e.Stage, "awaited", len(e.Participants))
				}
			case coordinator.EvEvaluated:
				m, err := modeltask.Metrics(spec, e.Stats)
				if err != nil {
					log.Error("evaluation statistics", "round", e.Round, "err", err)
					continue
				}
				lastEval = m
				noised := "exact"
				var sd map[string]float64
				var unmeasurable []string
				if e.EvalEpsilon > 0 {
					noised = fmt.Sprintf("noised at record-level ε=%g per tenant", e.EvalEpsilon)
					if sd, unmeasurable, err = modeltask.EvalMetricsNoise(spec, e.Stats, e.EvalEpsilon, *delta, len(e.Evaluators)); err != nil {
						log.Error("evaluation noise", "round", e.Round, "err", err)
					} else if sd != nil {
						noised += fmt.Sprintf("; ±: one standard deviation of the noise at δ=%g; (noise): a ratio whose count the noise alone could have made", *delta)
					}
				}
				fmt.Fprintf(stdout, "round %d: version %d %s (%d tenants, %d declined; %s)\n",
					e.Round, e.Version, formatMetricsSD(m, sd, unmeasurable), len(e.Evaluators), len(e.EvalDecline), noised)
			case coordinator.EvFinished:
				fmt.Fprintf(stdout, "finished: %s\n", e.Reason)
				if *modelOut != "" {
					if err := modeltask.SaveGlobal(spec, svc.Published(), lastEval, *modelOut); err != nil {
						log.Error("--model-out", "err", err)
						return 1
					}
					what := fmt.Sprintf("version %d", e.Version)
					if ccfg.AverageDecay > 0 {
						what = fmt.Sprintf("moving average of the versions up to %d at decay %g", e.Version, ccfg.AverageDecay)
					}
					fmt.Fprintf(stdout, "final model (%s) written to %s\n", what, *modelOut)
				}
				if *peftOut != "" {
					if err := exportPEFT(svc, e.Version, ccfg.AverageDecay, spec, enc, *peftOut, stdout); err != nil {
						log.Error("PEFT export", "err", err)
						return 1
					}
				}
				// Let clients collect the final answer before stopping: at
				// least 2 s, then until every tenant seen within the grace
				// period has been told, at most max(5 s, 10 poll
				// intervals). A fixed 2 s left 92 of 950 tenants polling
				// every 2 s (n = 1,000) retrying a closed port until their
				// client gave up.
				grace := max(5*time.Second, 10**pollRetry)
				deadline := time.Now().Add(grace)
				time.Sleep(2 * time.Second)
				for time.Now().Before(deadline) && svc.Untold(grace) > 0 {
					time.Sleep(50 * time.Millisecond)
				}
				return 0
			}
		}
	}
}

// taskLabels reads the task's label set from a list or a data file.
func taskLabels(list, file string) ([]string, error) {
	if (list == "") == (file == "") {
		return nil, fmt.Errorf("give exactly one of --labels and --labels-from")
	}
	if list != "" {
		var out []string
		seen := map[string]bool{}
		for _, l := range strings.Split(list, ",") {
			l = strings.TrimSpace(l)
			if l == "" || seen[l] {
				return nil, fmt.Errorf("--labels: empty or repeated label %q", l)
			}
			seen[l] = true
			out = append(out, l)
		}
		return out, nil
	}
	// A public label list (the task definition), never a tenant's data
	// file: the label set a tenant's records happen to contain is itself
	// private (#13 finding 6).
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for i, line := range strings.Split(string(b), "\n") {
		l := strings.TrimSpace(line)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.ContainsAny(l, ",\t") || seen[l] {
			return nil, fmt.Errorf("--labels-from %s:%d: %q is not one new label per line (a label list, not a data file)", file, i+1, l)
		}
		seen[l] = true
		out = append(out, l)
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("--labels-from %s: %d labels, need at least 2", file, len(out))
	}
	return out, nil
}

// coordinatorFault is the fault-injection setting FEDB2B_FAULT of the
// coordinator, used by the process fault tests: "exit-at:R:STAGE" makes
// the process exit with status 3, like a crash, as soon as round R reaches
// STAGE, after that event is in the ledger and the store. STAGE is train
// (the round started, before any plan is handed out), share_keys,
// check_shares, masked_input, consistency, unmask (the secure-aggregation
// stage opened) or evaluate
// (the round's version is committed, evaluation starts).
// "kill-at:R:STAGE" sends the process SIGKILL at the same point instead
// (the failover test: no deferred cleanup runs, the lease is not
// released). Empty means none.
type coordinatorFault struct {
	round int
	stage string // "" for no fault
	kill  bool
}

func parseCoordinatorFault(spec string) (coordinatorFault, error) {
	if spec == "" {
		return coordinatorFault{}, nil
	}
	var f coordinatorFault
	rest, ok := strings.CutPrefix(spec, "exit-at:")
	if !ok {
		rest, ok = strings.CutPrefix(spec, "kill-at:")
		f.kill = ok
	}
	num, stage, ok2 := strings.Cut(rest, ":")
	if _, err := fmt.Sscanf(num, "%d", &f.round); !ok || !ok2 || err != nil || f.round < 1 {
		return coordinatorFault{}, fmt.Errorf("FEDB2B_FAULT=%q: want exit-at:ROUND:STAGE or kill-at:ROUND:STAGE", spec)
	}
	switch stage {
	case "train", "share_keys", "check_shares", "masked_input", "consistency", "unmask", "evaluate":
		f.stage = stage
	default:
		return coordinatorFault{}, fmt.Errorf("FEDB2B_FAULT=%q: stage %q: want train, share_keys, check_shares, masked_input, consistency, unmask or evaluate", spec, stage)
	}
	return f, nil
}

// check exits the process if e is the chosen round reaching the chosen stage.
func (f coordinatorFault) check(e coordinator.Event, stderr io.Writer) {
	if f.stage == "" || e.Round != f.round {
		return
	}
	if (f.stage == "train" && e.Kind == coordinator.EvRoundStarted) || (e.Kind == coordinator.EvStage && e.Stage == f.stage) {
		if f.kill {
			fmt.Fprintf(stderr, "fedb2b coordinator: FEDB2B_FAULT: SIGKILL at round %d, stage %s\n", f.round, f.stage)
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
		fmt.Fprintf(stderr, "fedb2b coordinator: FEDB2B_FAULT: exiting at round %d, stage %s\n", f.round, f.stage)
		os.Exit(3)
	}
}

// formatMetrics prints metrics as "name value" pairs in name order.
func formatMetrics(m map[string]float64) string { return formatMetricsSD(m, nil, nil) }

// formatMetricsSD is formatMetrics with "±sd" after each figure sd has
// and "(noise)" after each of unmeasurable.
func formatMetricsSD(m, sd map[string]float64, unmeasurable []string) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s %.4g%s", k, m[k], modeltask.NoiseSuffix(k, sd, unmeasurable))
	}
	return b.String()
}

// exportPEFT writes version v's encoder adapters in PEFT format into dir.
func exportPEFT(svc *coordinator.Service, v int, decay float64, spec protocol.TaskSpec, enc models.Encoder, dir string, stdout io.Writer) error {
	// The published model: version v, or with --average-decay the moving
	// average of the versions up to v — the same model --model-out writes.
	params := svc.Published()
	if params == nil {
		return fmt.Errorf("no model was published (version %d)", v)
	}
	if err := modeltask.ExportPEFT(spec, enc, params, dir, spec.EncoderID); err != nil {
		return err
	}
	what := fmt.Sprintf("version %d", v)
	if decay > 0 {
		what = fmt.Sprintf("moving average of the versions up to %d at decay %g", v, decay)
	}
	fmt.Fprintf(stdout, "PEFT adapter of %s written to %s\n", what, dir)
	return nil
}

// healthMethods are the gRPC health service's methods, callable by any
// client that completed the TLS handshake.
var healthMethods = []string{healthpb.Health_Check_FullMethodName, healthpb.Health_Watch_FullMethodName, healthpb.Health_List_FullMethodName}
