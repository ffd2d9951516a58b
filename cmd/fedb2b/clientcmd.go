package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"filippo.io/age"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/privacy/keys"
)

func init() {
	register("client", "run a tenant's client next to its private data", runClient)
}

func runClient(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("coordinator", "127.0.0.1:7070", "coordinator address")
	tenant := fs.String("tenant", "", "this tenant's name")
	data := fs.String("data", "", "the tenant's labelled CSV or JSONL file")
	textCol := fs.String("text-col", "text", "text column")
	labelCol := fs.String("label-col", "label", "label column")
	onBad := fs.String("on-bad-row", "skip", "skip (and count) or fail on a malformed row")
	testFrac := fs.Float64("test-fraction", 0.2, "held-out fraction for federated evaluation")
	seed := fs.Uint64("split-seed", 1, "seed of the train/held-out split")
	workdir := fs.String("workdir", ".", "directory for this tenant's files (spend log)")
	epsCap := fs.Float64("epsilon-cap", 8, "this tenant's record-level ε cap over all rounds")
	delta := fs.Float64("delta", 1e-5, "δ of this tenant's guarantee")
	minNoise := fs.Float64("min-noise", 0, "refuse rounds with a smaller noise multiplier")
	minCohort := fs.Int("min-cohort", 0, "refuse rounds with a smaller cohort")
	keyFile := fs.String("key", "", "this tenant's age-encrypted ed25519 identity key (default WORKDIR/identity.key.age; created on first run)")
	ageID := fs.String("age-identity", "", "age identity file that decrypts --key (default WORKDIR/age-identity.txt; created on first run — keep it elsewhere in production)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "fedb2b client: %v\n", err); return 1 }
	if *tenant == "" || *data == "" {
		return fail(fmt.Errorf("--tenant and --data are required"))
	}
	policy := dataset.Skip
	switch *onBad {
	case "skip":
	case "fail":
		policy = dataset.Fail
	default:
		return fail(fmt.Errorf("--on-bad-row %q: want skip or fail", *onBad))
	}
	ex, rep, err := dataset.LoadFile(*data, dataset.LoadOptions{TextCol: *textCol, LabelCol: *labelCol, OnError: policy})
	if err != nil {
		return fail(err)
	}
	if rep.Skipped > 0 {
		fmt.Fprintf(stderr, "fedb2b client: %s: skipped %d of %d rows; first: %v\n", *data, rep.Skipped, rep.Rows, rep.Bad[0])
	}
	train, test := dataset.TrainTestSplit(ex, *testFrac, *seed)
	if err := os.MkdirAll(*workdir, 0o700); err != nil {
		return fail(err)
	}
	spends, err := client.OpenFileSpendLog(filepath.Join(*workdir, "spend.jsonl"))
	if err != nil {
		return fail(err)
	}
	if *keyFile == "" {
		*keyFile = filepath.Join(*workdir, "identity.key.age")
	}
	if *ageID == "" {
		*ageID = filepath.Join(*workdir, "age-identity.txt")
	}
	identity, err := loadOrCreateIdentity(*keyFile, *ageID)
	if err != nil {
		return fail(err)
	}
	enc, err := models.NewHashingEncoder(models.HashingConfig{})
	if err != nil {
		return fail(err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	c, err := client.New(client.Config{
		Tenant: *tenant, Encoder: enc, Train: train, Test: test, Spends: spends, Log: log, Identity: identity,
		Policy: client.Policy{Budget: client.Budget{Epsilon: *epsCap, Delta: *delta}, MinNoise: *minNoise, MinCohort: *minCohort},
	})
	if err != nil {
		return fail(err)
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
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
	fmt.Fprintf(stdout, "%s: trained in rounds %v, declined %v, record-level ε spent %.4f at δ=%g (cap %g); final version %d (%s)\n",
		*tenant, res.Rounds, res.Declined, res.Epsilon, *delta, *epsCap, res.FinalVersion, res.Reason)
	return 0
}

// loadOrCreateIdentity loads the tenant's identity key, encrypted at rest
// with age; on first use it creates an age identity file and the key.
func loadOrCreateIdentity(keyPath, agePath string) (ed25519.PrivateKey, error) {
	if _, err := os.Stat(keyPath); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(agePath); errors.Is(err, os.ErrNotExist) {
			id, err := age.GenerateX25519Identity()
			if err != nil {
				return nil, err
			}
			if err := models.WriteFileAtomic(agePath, []byte(id.String()+"\n"), 0o600); err != nil {
				return nil, err
			}
		}
		ids, err := keys.ReadIdentityFile(agePath)
		if err != nil {
			return nil, err
		}
		priv, err := keys.Generate(nil)
		if err != nil {
			return nil, err
		}
		if err := keys.Save(keyPath, priv, ids[0].Recipient()); err != nil {
			return nil, err
		}
		return priv, nil
	}
	ids, err := keys.ReadIdentityFile(agePath)
	if err != nil {
		return nil, err
	}
	return keys.Load(keyPath, ids[0])
}
