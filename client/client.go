package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"time"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/privacy"
)

// MaxModelBytes bounds a downloaded model; a larger stream is refused.
const MaxModelBytes = 1 << 30

// Config configures a tenant's client.
type Config struct {
	Tenant  string
	Encoder models.Encoder
	// Train and Test are the tenant's private examples (Test is its
	// held-out split for federated evaluation).
	Train, Test []dataset.Example
	Policy      Policy
	Spends      SpendLog
	// Rand seeds the DP-SGD generator; nil means crypto/rand.
	Rand io.Reader
	Log  *slog.Logger
	// Identity is the tenant's long-term ed25519 key; it signs the keys
	// the client advertises in secure aggregation. Required for secure
	// rounds.
	Identity ed25519.PrivateKey
	// Reconnect bounds how long the client retries an unreachable
	// coordinator (0: DefaultReconnect).
	Reconnect time.Duration
	// Hooks are for fault injection in tests; nil fields do nothing.
	Hooks Hooks
}

// Hooks let tests stop a client at chosen points. A hook that returns an
// error makes Run return it at once, without sending anything further.
type Hooks struct {
	AfterPlan   func(round int) error // plan received, before the budget check
	BeforeSend  func(round int) error // spend recorded, update not yet sent
	AfterUpdate func(round int) error
	// BeforeStage runs before each secure-aggregation message is sent.
	BeforeStage func(round int, stage string) error
}

// Result summarises a client's run.
type Result struct {
	Rounds   []int // rounds this tenant trained in
	Declined []int
	// Clipped lists the secure rounds whose update exceeded the plan's
	// bound S and was scaled down to it before quantisation.
	Clipped      []int
	Epsilon      float64 // record-level ε spent at Policy.Budget.Delta
	FinalVersion int
	Reason       string
}

// Client is one tenant's participant. Create with New, then Run.
type Client struct {
	cfg    Config
	log    *slog.Logger
	rng    *mrand.Rand
	task   coordinator.TaskSpec
	clf    *models.Classifier
	trainF [][]float64
	trainY []int
	testF  [][]float64
	testY  []int
	sec    *secSession
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.Tenant == "" || cfg.Encoder == nil || cfg.Spends == nil {
		return nil, errors.New("client: tenant, encoder and spend log are required")
	}
	if len(cfg.Train) == 0 {
		return nil, fmt.Errorf("client: tenant %q has no training examples", cfg.Tenant)
	}
	if !(cfg.Policy.Budget.Epsilon > 0) {
		return nil, fmt.Errorf("client: ε cap = %v must be positive", cfg.Policy.Budget.Epsilon)
	}
	if !(cfg.Policy.Budget.Delta > 0 && cfg.Policy.Budget.Delta < 1) {
		return nil, fmt.Errorf("client: δ = %v must be in (0, 1)", cfg.Policy.Budget.Delta)
	}
	rng, err := privacy.NewRand(cfg.Rand)
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{cfg: cfg, rng: rng, log: log.With("tenant", cfg.Tenant)}, nil
}

// Run joins the federation through conn and takes part until it finishes
// or ctx ends.
func (c *Client) Run(ctx context.Context, conn api.FederationClient) (Result, error) {
	var res Result
	eps, err := Epsilon(c.cfg.Spends.Spends(), c.cfg.Policy.Budget.Delta)
	if err != nil {
		return res, err
	}
	jr, err := retry(ctx, c, func() (*api.JoinResponse, error) {
		return conn.Join(ctx, &api.JoinRequest{
			Tenant: c.cfg.Tenant, EncoderId: c.cfg.Encoder.ID(),
			EpsilonCap: c.cfg.Policy.Budget.Epsilon, EpsilonSpent: eps, Delta: c.cfg.Policy.Budget.Delta,
			IdentityKey: c.identityPublic(),
		})
	})
	if err != nil {
		return res, fmt.Errorf("client: join: %w", err)
	}
	if err := c.prepare(ctx, coordinator.TaskFromProto(jr.GetTask())); err != nil {
		return res, err
	}
	for {
		pr, err := retry(ctx, c, func() (*api.PollResponse, error) {
			return conn.Poll(ctx, &api.PollRequest{Tenant: c.cfg.Tenant})
		})
		if err != nil {
			return res, fmt.Errorf("client: poll: %w", err)
		}
		switch a := pr.GetAction().(type) {
		case *api.PollResponse_Wait:
			d := time.Duration(a.Wait.GetRetryAfterMs()) * time.Millisecond
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(max(d, 10*time.Millisecond)):
			}
		case *api.PollResponse_Train:
			if err := c.trainRound(ctx, conn, a.Train, &res); err != nil {
				return res, err
			}
		case *api.PollResponse_Secagg:
			if err := c.secureStep(ctx, conn, a.Secagg); err != nil {
				return res, err
			}
		case *api.PollResponse_Evaluate:
			if err := c.evaluate(ctx, conn, a.Evaluate); err != nil {
				return res, err
			}
		case *api.PollResponse_Finished:
			res.FinalVersion, res.Reason = int(a.Finished.GetFinalVersion()), a.Finished.GetReason()
			res.Epsilon, err = Epsilon(c.cfg.Spends.Spends(), c.cfg.Policy.Budget.Delta)
			return res, err
		default:
			return res, fmt.Errorf("client: coordinator sent an unknown action %T", a)
		}
	}
}

func (c *Client) identityPublic() []byte {
	if c.cfg.Identity == nil {
		return nil
	}
	return c.cfg.Identity.Public().(ed25519.PublicKey)
}

// prepare encodes and projects the tenant's data once: the base is frozen.
func (c *Client) prepare(ctx context.Context, task coordinator.TaskSpec) error {
	if task.EncoderID != c.cfg.Encoder.ID() {
		return fmt.Errorf("client: task %q needs encoder %q, this tenant has %q", task.ID, task.EncoderID, c.cfg.Encoder.ID())
	}
	clf, err := models.NewClassifier(models.ClassifierConfig{
		InputDim: task.InputDim, Rank: task.Rank, Classes: len(task.Labels), Alpha: task.Alpha, Seed: task.Seed,
	})
	if err != nil {
		return fmt.Errorf("client: task %q: %w", task.ID, err)
	}
	if clf.NumParams() != task.NumParams {
		return fmt.Errorf("client: task %q announces %d parameters, its adapter has %d", task.ID, task.NumParams, clf.NumParams())
	}
	c.task, c.clf = task, clf
	index := make(map[string]int, len(task.Labels))
	for i, l := range task.Labels {
		index[l] = i
	}
	if c.trainF, c.trainY, err = c.features(ctx, c.cfg.Train, index, "train"); err != nil {
		return err
	}
	c.testF, c.testY, err = c.features(ctx, c.cfg.Test, index, "test")
	return err
}

func (c *Client) features(ctx context.Context, ex []dataset.Example, index map[string]int, split string) ([][]float64, []int, error) {
	texts := make([]string, 0, len(ex))
	labels := make([]int, 0, len(ex))
	unknown := 0
	for _, e := range ex {
		y, ok := index[e.Label]
		if !ok {
			unknown++
			continue
		}
		texts = append(texts, e.Text)
		labels = append(labels, y)
	}
	if unknown > 0 {
		c.log.Warn("examples with labels outside the task were skipped", "split", split, "skipped", unknown)
	}
	if len(texts) == 0 {
		return nil, nil, nil
	}
	x, err := c.cfg.Encoder.Encode(ctx, texts)
	if err != nil {
		return nil, nil, fmt.Errorf("client: encode %s split: %w", split, err)
	}
	f, err := c.clf.Project(x)
	if err != nil {
		return nil, nil, fmt.Errorf("client: project %s split: %w", split, err)
	}
	return f, labels, nil
}

// download fetches a global version and loads it into the classifier.
func (c *Client) download(ctx context.Context, conn api.FederationClient, version int64) ([]float64, error) {
	stream, err := conn.Download(ctx, &api.DownloadRequest{Tenant: c.cfg.Tenant, ModelVersion: version})
	if err != nil {
		return nil, fmt.Errorf("client: download version %d: %w", version, err)
	}
	var buf bytes.Buffer
	for {
		ch, err := stream.Recv()
		if err != nil {
			return nil, fmt.Errorf("client: download version %d: %w", version, err)
		}
		if buf.Len()+len(ch.GetData()) > MaxModelBytes {
			return nil, fmt.Errorf("client: model version %d exceeds %d bytes", version, MaxModelBytes)
		}
		buf.Write(ch.GetData())
		if ch.GetLast() {
			sum := sha256.Sum256(buf.Bytes())
			if ch.GetSize() != int64(buf.Len()) || !bytes.Equal(sum[:], ch.GetSha256()) {
				return nil, fmt.Errorf("client: model version %d: checksum or size mismatch (got %d bytes)", version, buf.Len())
			}
			break
		}
	}
	params, err := coordinator.DecodeParams(buf.Bytes(), c.clf.NumParams())
	if err != nil {
		return nil, fmt.Errorf("client: model version %d: %w", version, err)
	}
	return params, nil
}
