package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/client/enroll"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

func init() {
	register("client", "run a tenant's client next to its private data", runClient)
}

func runClient(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "enroll" {
		return runEnroll(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("coordinator", "127.0.0.1:7070", "coordinator address, or a comma-separated list of the addresses of active/standby coordinators (calls go to one; Unavailable moves on to the next)")
	tenant := fs.String("tenant", "", "this tenant's name")
	data := fs.String("data", "", "the tenant's labelled CSV or JSONL file")
	textCol := fs.String("text-col", "text", "text column")
	labelCol := fs.String("label-col", "label", "label column")
	onBad := fs.String("on-bad-row", "skip", "skip (and count) or fail on a malformed row")
	testFrac := fs.Float64("test-fraction", 0.2, "held-out fraction for federated evaluation")
	exactEval := fs.Bool("allow-exact-counts", false, "release exact evaluation statistics and example counts when the coordinator asks for them: each is written to the ledger with ε = ∞, after which every further round is declined by the finite --epsilon-cap (default: only noised ones, charged to the budget)")
	workdir := fs.String("workdir", ".", "directory for this tenant's files (keys, privacy ledger)")
	epsCap := fs.Float64("epsilon-cap", 8, "this tenant's record-level ε cap over all rounds")
	delta := fs.Float64("delta", 1e-5, "δ of this tenant's guarantee")
	tenantCap := fs.Float64("tenant-epsilon-cap", 0, "this tenant's tenant-level ε cap (distributed discrete Gaussian rounds, every round it advertised in counted, abandoned ones too); rounds that would exceed it, and rounds without tenant-level noise, are declined (0: no cap)")
	minNoise := fs.Float64("min-noise", 0, "refuse rounds with a smaller noise multiplier")
	dpMode := fs.String("dp-mode", client.DPModeLocal, "record-level trust model this tenant accepts: local (DP-SGD on this tenant's own update; holds against everyone) or distributed (one DP-SGD step per round with this tenant's share of the noise added inside secure aggregation; holds against the coordinator only while secure aggregation holds and the plan's honest tenants are honest, a number each ledger entry records)")
	colluders := fs.Int("assume-colluders", 0, "with --dp-mode distributed: survivors that may collude with the coordinator; this tenant helps unmask only sums of at least the plan's honest tenants plus this many inputs")
	minCohort := fs.Int("min-cohort", 0, "refuse rounds with a smaller cohort")
	keyFile := fs.String("key", "", "this tenant's age-encrypted ed25519 identity and ledger-signing key (default WORKDIR/signing.key.age; created on first run with signing.pub beside it, encrypted as --passphrase-env or --identity say)")
	tlsDir := fs.String("tls-dir", "", "credentials made by 'fedb2b client enroll --dir' (mutual TLS 1.3)")
	serverName := fs.String("server-name", "localhost", "name in the coordinator's certificate")
	noTLS := fs.Bool("insecure-no-tls", false, "INSECURE: plain gRPC without TLS (tests on one machine only)")
	allowPlain := fs.Bool("insecure-allow-plain-aggregation", false, "INSECURE: take part in rounds without secure aggregation, so the coordinator sees this tenant's update and example count (default: decline them)")
	var ak ageKeyFlags
	ak.register(fs, false)
	var files fileFlags
	files.register(fs)
	var lf logFlags
	lf.register(fs)
	modelOut := fs.String("model-out", "", "when the federation finishes, write the final global model here (the file 'fedb2b predict --model' reads)")
	encFlags := addEncoderFlags(fs)
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "fedb2b client: %v\n", err); return 1 }
	var dial grpc.DialOption
	var creds *enroll.Credentials // nil without TLS
	switch {
	case *tlsDir != "" && !*noTLS:
		id, err := ak.ageIdentity()
		if err != nil {
			return fail(fmt.Errorf("--tls-dir needs the key that decrypts tenant.key.age: %w", err))
		}
		if creds, err = enroll.Load(*tlsDir, id); err != nil {
			return fail(err)
		}
		if dial, err = creds.DialOption(*serverName); err != nil {
			return fail(err)
		}
	case *noTLS && *tlsDir == "":
		dial = grpc.WithTransportCredentials(insecure.NewCredentials())
	default:
		return fail(fmt.Errorf("give --tls-dir DIR (made by 'fedb2b client enroll') for mutual TLS, or --insecure-no-tls"))
	}
	if *tenant == "" || *data == "" {
		return fail(fmt.Errorf("--tenant and --data are required"))
	}
	if *dpMode != client.DPModeLocal && *dpMode != client.DPModeDistributed {
		return fail(fmt.Errorf("--dp-mode %q: want %s or %s", *dpMode, client.DPModeLocal, client.DPModeDistributed))
	}
	policy := dataset.Skip
	switch *onBad {
	case "skip":
	case "fail":
		policy = dataset.Fail
	default:
		return fail(fmt.Errorf("--on-bad-row %q: want skip or fail", *onBad))
	}
	ex, rep, err := files.loadData(*data, dataset.LoadOptions{TextCol: *textCol, LabelCol: *labelCol, OnError: policy})
	if err != nil {
		return fail(err)
	}
	if rep.Skipped > 0 {
		fmt.Fprintf(stderr, "fedb2b client: %s: skipped %d of %d rows; first: %v\n", *data, rep.Skipped, rep.Rows, rep.Bad[0])
	}
	if err := os.MkdirAll(*workdir, 0o700); err != nil {
		return fail(err)
	}
	if *keyFile == "" {
		*keyFile = filepath.Join(*workdir, "signing.key.age")
	}
	identity, err := ak.signingKey(*keyFile)
	if err != nil {
		return fail(err)
	}
	// Each record's side of the split is a keyed hash of that record alone
	// (the key derived from this tenant's identity key), so adding or
	// removing a record moves no other between training and held-out.
	train, test := dataset.TrainTestSplit(ex, *testFrac, dataset.SplitKeyFrom(identity.Seed()))
	var pinnedCA *x509.Certificate
	if creds != nil {
		// Peers take this tenant's identity key from its certificate:
		// say so now if --key is not the key it enrolled with.
		switch pub := identity.Public().(ed25519.PublicKey); {
		case creds.Identity == nil:
			fmt.Fprintf(stderr, "fedb2b client: warning: the certificate in %s binds no identity key; secure-aggregation rounds will refuse this tenant (enrol again with --workdir or --identity-pub)\n", *tlsDir)
		case !pub.Equal(creds.Identity):
			return fail(fmt.Errorf("--key %s is identity %s, but the certificate in %s binds identity %s: use the key you enrolled with", *keyFile, keys.ID(pub), *tlsDir, keys.ID(creds.Identity)))
		}
		pinnedCA = creds.CA
	}
	// The tenant's privacy ledger, signed with its identity key: every
	// spend is written (and fsynced) before anything is released.
	led, err := ledger.Open(filepath.Join(*workdir, "ledger.jsonl"), identity)
	if err != nil {
		return fail(err)
	}
	defer led.Close()
	if n := len(led.Pending()); n > 0 {
		fmt.Fprintf(stderr, "fedb2b client: %d spend(s) on record without a confirmed release (restart after a crash): counted as spent, not released again\n", n)
	}
	spends := client.NewLedgerSpendLog(led, *tenant)
	enc, err := encFlags.open(context.Background())
	if err != nil {
		return fail(err)
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return fail(err)
	}
	hooks, err := faultHooks(os.Getenv("FEDB2B_FAULT"))
	if err != nil {
		return fail(err)
	}
	c, err := client.New(client.Config{
		Hooks:  hooks,
		Tenant: *tenant, Encoder: enc, Train: train, Test: test, Spends: spends, Log: log, Identity: identity, CA: pinnedCA, ModelOut: *modelOut,
		AllowInsecurePlainAggregation: *allowPlain,
		Policy: client.Policy{Budget: client.Budget{Epsilon: *epsCap, Delta: *delta}, MinNoise: *minNoise, MinCohort: *minCohort, DPMode: *dpMode, AssumeColluders: *colluders,
			RequireNoisedCounts: !*exactEval, TenantEpsilon: *tenantCap},
	})
	if err != nil {
		return fail(err)
	}
	conn, err := client.NewFailover(strings.Split(*addr, ","), dial)
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := c.Run(ctx, api.NewFederationClient(conn))
	if err != nil {
		return fail(err)
	}
	spent := fmt.Sprintf("%.4f", res.Epsilon)
	if res.ExactReleases > 0 {
		spent = fmt.Sprintf("∞ (%d exact releases on record in the ledger, allowed by --allow-exact-counts)", res.ExactReleases)
	}
	fmt.Fprintf(stdout, "%s: trained in rounds %v, declined %v, record-level ε spent %s at δ=%g (cap %g); final version %d (%s)\n",
		*tenant, res.Rounds, res.Declined, spent, *delta, *epsCap, res.FinalVersion, res.Reason)
	return 0
}

// faultHooks reads the fault-injection setting FEDB2B_FAULT, used by the
// crash tests. Each fault makes the process exit with status 3, like a
// crash:
//   - "exit-after-ledger:R": right after round R's spend is durable in the
//     ledger and before anything of that round is sent;
//   - "exit-before:R:STAGE": before sending round R's secure-aggregation
//     message of STAGE (advertise, share_keys, check_shares, masked_input,
//     consistency or unmask).
//
// Empty means no fault.
func faultHooks(spec string) (client.Hooks, error) {
	if spec == "" {
		return client.Hooks{}, nil
	}
	var round int
	if rest, ok := strings.CutPrefix(spec, "exit-before:"); ok {
		num, stage, ok := strings.Cut(rest, ":")
		if _, err := fmt.Sscanf(num, "%d", &round); !ok || err != nil || round < 1 {
			return client.Hooks{}, fmt.Errorf("FEDB2B_FAULT=%q: want exit-before:ROUND:STAGE", spec)
		}
		switch stage {
		case "advertise", "share_keys", "check_shares", "masked_input", "consistency", "unmask":
		default:
			return client.Hooks{}, fmt.Errorf("FEDB2B_FAULT=%q: stage %q: want advertise, share_keys, check_shares, masked_input, consistency or unmask", spec, stage)
		}
		return client.Hooks{BeforeStage: func(r int, st string) error {
			if r == round && st == stage {
				os.Exit(3)
			}
			return nil
		}}, nil
	}
	if _, err := fmt.Sscanf(spec, "exit-after-ledger:%d", &round); err != nil {
		return client.Hooks{}, fmt.Errorf("FEDB2B_FAULT=%q: want exit-after-ledger:ROUND or exit-before:ROUND:STAGE", spec)
	}
	exit := func(r int) error {
		if r == round {
			os.Exit(3)
		}
		return nil
	}
	return client.Hooks{
		BeforeSend:  exit,
		BeforeStage: func(r int, stage string) error { return exit(r) },
	}, nil
}
