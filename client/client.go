package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/protocol"
)

// MaxModelBytes bounds a downloaded model; a larger stream is refused.
const MaxModelBytes = 1 << 30

// Config configures a tenant's client.
type Config struct {
	Tenant  string
	Encoder models.Encoder
	// Learner builds the tenant's learner for the announced task from
	// its private data (package models/task). Nil means classification
	// or intent detection (as the task says) of Train with Test as the
	// held-out split (task.NewText).
	Learner task.Factory
	// Train and Test are the tenant's private examples for the default
	// Learner (Test is its held-out split for federated evaluation).
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
	// CA is the operator's CA certificate this tenant pinned at enrolment
	// (enroll.Credentials.CA). With it, the client takes every cohort
	// member's identity key from that member's CA-signed certificate, so
	// the coordinator cannot substitute keys; without it (a coordinator
	// without TLS) the coordinator is trusted with the identity keys.
	CA *x509.Certificate
	// AllowInsecurePlainAggregation lets this tenant send its plain update
	// (and example count) in rounds whose plan turns secure aggregation
	// off, so the coordinator sees them. Off by default: such rounds are
	// declined, and a coordinator cannot talk the tenant out of secure
	// aggregation (the downgrade attack of issue #14).
	AllowInsecurePlainAggregation bool
	// SecAgg is the tenant's own minimum for secure-aggregation parameters
	// (threshold, corruption quorum, noise shares), checked against the
	// cohort actually given; the zero value is the safe default (see
	// aggregation/secagg, "Malicious model").
	SecAgg secagg.Policy
	// Reconnect bounds how long the client retries an unreachable
	// coordinator (0: DefaultReconnect).
	Reconnect time.Duration
	// ModelOut, if set, is where the client writes the final global model
	// when the federation finishes (for `fedb2b predict`); the learner
	// must implement task.Saver.
	ModelOut string
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
	// TamperSecure, if set, rewrites the encoded messages of each
	// secure-aggregation stage before they are sent (a test playing a
	// hostile tenant; never set in production).
	TamperSecure func(round int, stage string, msgs [][]byte) [][]byte
}

// Result summarises a client's run.
type Result struct {
	Rounds   []int // rounds this tenant trained in
	Declined []int
	// Clipped lists the secure rounds whose update exceeded the plan's
	// bound S and was scaled down to it before quantisation.
	Clipped []int
	// Epsilon is the record-level ε spent at Policy.Budget.Delta, over
	// everything in the spend log: +Inf when an exact release is on
	// record (ExactReleases > 0), which only a tenant without
	// RequireNoisedCounts makes.
	Epsilon float64
	// ExactReleases counts the exact evaluation statistics and example
	// counts in the spend log, this run's and earlier runs' (the ledger
	// records each as ledger.MechExact, so a restarted client remembers
	// them).
	ExactReleases int
	FinalVersion  int
	Reason        string
}

// Client is one tenant's participant. Create with New, then Run.
type Client struct {
	cfg     Config
	log     *slog.Logger
	rng     *mrand.Rand
	task    protocol.TaskSpec
	kind    task.Kind
	learner task.Learner
	sec     *secSession
	secLeft int // the secure round this client left (0: none)
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.Tenant == "" || cfg.Encoder == nil || cfg.Spends == nil {
		return nil, errors.New("client: tenant, encoder and spend log are required")
	}
	if cfg.Learner == nil {
		if len(cfg.Train) == 0 {
			return nil, fmt.Errorf("client: tenant %q has no training examples", cfg.Tenant)
		}
		cfg.Learner = task.NewText(cfg.Encoder, cfg.Train, cfg.Test, cfg.Log)
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
	if err := c.join(ctx, conn, eps); err != nil {
		return res, err
	}
	for {
		pr, err := retry(ctx, c, func() (*api.PollResponse, error) {
			return conn.Poll(ctx, &api.PollRequest{Tenant: c.cfg.Tenant})
		})
		if status.Code(err) == codes.NotFound {
			// The coordinator restarted and forgot this tenant: join again.
			c.log.Warn("coordinator does not know this tenant any more; joining again")
			c.sec = nil
			if eps, err = Epsilon(c.cfg.Spends.Spends(), c.cfg.Policy.Budget.Delta); err != nil {
				return res, err
			}
			if err := c.join(ctx, conn, eps); err != nil {
				return res, err
			}
			continue
		}
		if err != nil {
			return res, fmt.Errorf("client: poll: %w", err)
		}
		err = c.act(ctx, conn, pr, &res)
		if errors.Is(err, errFinished) {
			spends := c.cfg.Spends.Spends()
			if res.Epsilon, err = Epsilon(spends, c.cfg.Policy.Budget.Delta); err != nil {
				return res, err // +Inf after an exact release
			}
			res.ExactReleases = len(exactOnRecord(spends))
			return res, c.saveFinal(ctx, conn, res.FinalVersion)
		}
		if _, remote := status.FromError(err); err != nil && remote {
			// The coordinator refused or lost this step (a restart, a
			// deadline): the round is lost for this tenant, its spend stays
			// on record; carry on with the next instruction.
			c.log.Warn("step refused by the coordinator; continuing", "err", err)
			if c.sec != nil {
				// Out of this secure round: its later stages must not
				// end the client (they once did, for "no session").
				if err := c.quitSecure(ctx, conn, c.sec.round); err != nil {
					return res, err
				}
			}
			continue
		}
		if err != nil {
			return res, err
		}
	}
}

// saveFinal downloads the final global version and writes it to
// Config.ModelOut, when one is set.
func (c *Client) saveFinal(ctx context.Context, conn api.FederationClient, version int) error {
	if c.cfg.ModelOut == "" {
		return nil
	}
	sv, ok := c.learner.(task.Saver)
	if !ok {
		return fmt.Errorf("client: --model-out: the learner of task kind %q cannot be saved for predict", c.task.Kind)
	}
	if version < 1 {
		return fmt.Errorf("client: --model-out: the federation finished without a model version")
	}
	global, err := c.download(ctx, conn, int64(version))
	if err != nil {
		return err
	}
	if err := c.learner.SetParams(global); err != nil {
		return fmt.Errorf("client: final version %d: %w", version, err)
	}
	if err := sv.SaveModel(c.cfg.ModelOut, c.task); err != nil {
		return fmt.Errorf("client: --model-out: %w", err)
	}
	c.log.Info("final model written", "version", version, "path", c.cfg.ModelOut)
	return nil
}

// errFinished ends Run's loop.
var errFinished = errors.New("client: federation finished")

// join announces the tenant and prepares its data for the task.
func (c *Client) join(ctx context.Context, conn api.FederationClient, eps float64) error {
	jr, err := retry(ctx, c, func() (*api.JoinResponse, error) {
		return conn.Join(ctx, &api.JoinRequest{
			Tenant: c.cfg.Tenant, EncoderId: c.cfg.Encoder.ID(),
			EpsilonCap: c.cfg.Policy.Budget.Epsilon, EpsilonSpent: eps, Delta: c.cfg.Policy.Budget.Delta,
			IdentityKey: c.identityPublic(),
		})
	})
	if err != nil {
		return fmt.Errorf("client: join: %w", err)
	}
	spec := protocol.TaskFromProto(jr.GetTask())
	if c.learner != nil && spec.ID == c.task.ID && spec.Seed == c.task.Seed && spec.NumParams == c.task.NumParams {
		return nil // same task: the encoded data are still good
	}
	return c.prepare(ctx, spec)
}

// act carries out one instruction of the coordinator.
func (c *Client) act(ctx context.Context, conn api.FederationClient, pr *api.PollResponse, res *Result) error {
	switch a := pr.GetAction().(type) {
	case *api.PollResponse_Wait:
		d := time.Duration(a.Wait.GetRetryAfterMs()) * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(max(d, 10*time.Millisecond)):
		}
		return nil
	case *api.PollResponse_Train:
		return c.trainRound(ctx, conn, a.Train, res)
	case *api.PollResponse_Secagg:
		return c.secureStep(ctx, conn, a.Secagg)
	case *api.PollResponse_Evaluate:
		return c.evaluate(ctx, conn, a.Evaluate)
	case *api.PollResponse_Finished:
		res.FinalVersion, res.Reason = int(a.Finished.GetFinalVersion()), a.Finished.GetReason()
		return errFinished
	default:
		return fmt.Errorf("client: coordinator sent an unknown action %T", a)
	}
}

// prepare builds the learner once (it encodes the data: the base is
// frozen) and checks it against what the task announces.
func (c *Client) prepare(ctx context.Context, spec protocol.TaskSpec) error {
	if spec.EncoderID != c.cfg.Encoder.ID() {
		return fmt.Errorf("client: task %q needs encoder %q, this tenant has %q", spec.ID, spec.EncoderID, c.cfg.Encoder.ID())
	}
	kind, err := task.Lookup(spec.Kind)
	if err != nil {
		return fmt.Errorf("client: task %q: %w", spec.ID, err)
	}
	if n := kind.EvalLen(spec); n != spec.EvalLen {
		return fmt.Errorf("client: task %q announces %d evaluation statistics, kind %q has %d", spec.ID, spec.EvalLen, kind.Name, n)
	}
	l, err := c.cfg.Learner(ctx, spec)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if l.NumParams() != spec.NumParams {
		return fmt.Errorf("client: task %q announces %d parameters, its adapter has %d", spec.ID, spec.NumParams, l.NumParams())
	}
	// A tenant without training records still takes part: its DP-SGD
	// steps are noise only. Refusing to start would tell the coordinator
	// that this tenant has at least one record (ε = ∞ between one record
	// and none).
	if l.TrainSize() == 0 {
		c.log.Warn("no training records for this task: the updates sent are noise only", "task", spec.ID)
	}
	c.task, c.kind, c.learner = spec, kind, l
	return nil
}

// download fetches a global version and loads it into the classifier.
func (c *Client) download(ctx context.Context, conn api.FederationClient, version int64) ([]float64, error) {
	stream, err := conn.Download(ctx, &api.DownloadRequest{Tenant: c.cfg.Tenant, ModelVersion: version})
	if err != nil {
		return nil, fmt.Errorf("client: download version %d: %w", version, err)
	}
	var buf bytes.Buffer
	// The encoded version is 8 bytes per parameter plus a small header:
	// room for it at once, rather than every step of a doubling buffer.
	if c.learner != nil {
		buf.Grow(min(8*c.learner.NumParams()+4096, MaxModelBytes))
	}
	var crc uint32
	for {
		ch, err := stream.Recv()
		if err != nil {
			return nil, fmt.Errorf("client: download version %d: %w", version, err)
		}
		if buf.Len()+len(ch.GetData()) > MaxModelBytes {
			return nil, fmt.Errorf("client: model version %d exceeds %d bytes", version, MaxModelBytes)
		}
		buf.Write(ch.GetData())
		crc = protocol.UpdateCRC32C(crc, ch.GetData())
		if ch.GetLast() {
			// The transport checksum (see protocol.UpdateCRC32C); SHA-256
			// from a coordinator that sends no CRC-32C.
			ok := ch.Crc32C != nil && ch.GetCrc32C() == crc
			if ch.Crc32C == nil {
				sum := sha256.Sum256(buf.Bytes())
				ok = bytes.Equal(sum[:], ch.GetSha256())
			}
			if ch.GetSize() != int64(buf.Len()) || !ok {
				return nil, fmt.Errorf("client: model version %d: checksum or size mismatch (got %d bytes)", version, buf.Len())
			}
			break
		}
	}
	params, err := protocol.DecodeParams(buf.Bytes(), c.learner.NumParams())
	if err != nil {
		return nil, fmt.Errorf("client: model version %d: %w", version, err)
	}
	return params, nil
}

func (c *Client) identityPublic() []byte {
	if c.cfg.Identity == nil {
		return nil
	}
	return c.cfg.Identity.Public().(ed25519.PublicKey)
}
