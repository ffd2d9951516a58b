package coordinator

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/protocol"
)

// MaxSecAggMessages bounds the messages of one secure-aggregation submit
// (one share per neighbour).
const MaxSecAggMessages = 1 << 14

// ChunkSize is the size of the pieces a model download is streamed in.
const ChunkSize = 1 << 20

// Service is the gRPC face of a Federation: it validates each request with a
// pure check, calls the state machine under a mutex with the current time,
// and maps errors to status codes through one table.
type Service struct {
	api.UnimplementedFederationServer

	mu     sync.Mutex
	fed    *Federation
	now    func() time.Time
	encode func(params []float64) ([]byte, error)
	blobs  map[int]*encodedVersion // encoded versions, made on first download
	events chan<- Event
	// record, if set, sees every event under the lock before it is
	// published (the coordinator's ledger); its first error stops Run.
	record func(f *Federation, e Event) error
	recErr error
	// auth checks that the caller may speak for the tenant it names
	// (pki.CheckTenant under mutual TLS); nil accepts every name.
	auth func(ctx context.Context, tenant string) error
	// Limits bound the resources of streams (see Limits); set them with
	// SetLimits before serving.
	limits  Limits
	uploads uploads
}

// SetAuthenticator makes every call first check, with fn, that the caller
// is the tenant its request names (for example pki.CheckTenant, which
// compares it with the verified client certificate). fn returns a gRPC
// status error. Call it before serving.
func (s *Service) SetAuthenticator(fn func(ctx context.Context, tenant string) error) { s.auth = fn }

func (s *Service) authenticate(ctx context.Context, tenant string) error {
	if s.auth == nil {
		return nil
	}
	return s.auth(ctx, tenant)
}

// SetRecorder installs fn to see every event, under the service's lock,
// before it is published. Call it before serving.
func (s *Service) SetRecorder(fn func(f *Federation, e Event) error) { s.record = fn }

// Err returns the recorder's first error, if any.
func (s *Service) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recErr
}

// NewService wraps fed. encode turns a parameter vector into the bytes a
// client downloads (a safetensors file); events, if not nil, receives every
// Event (the caller must keep reading it). now is the clock (time.Now if nil).
func NewService(fed *Federation, encode func([]float64) ([]byte, error), events chan<- Event, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{fed: fed, now: now, encode: encode, blobs: map[int]*encodedVersion{}, events: events}
	s.SetLimits(Limits{})
	return s
}

// Register adds the service to a gRPC server.
func (s *Service) Register(g *grpc.Server) { api.RegisterFederationServer(g, s) }

// Model returns a copy of global version v (see Federation.Model), read
// under the service's lock; it publishes nothing, so an event consumer may
// call it.
func (s *Service) Model(v int) ([]float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.fed.Model(v)
	return slices.Clone(p), ok
}

// Published returns a copy of the model the federation publishes (see
// Federation.Published), read under the service's lock.
func (s *Service) Published() []float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.fed.Published())
}

// do runs fn on the federation under the lock and publishes its events.
func (s *Service) do(fn func(f *Federation, now time.Time) error) error {
	s.mu.Lock()
	if s.recErr != nil {
		s.mu.Unlock()
		return fmt.Errorf("coordinator: stopped after a ledger failure: %w", s.recErr)
	}
	err := fn(s.fed, s.now())
	ev := s.fed.Events()
	if s.record != nil && s.recErr == nil {
		for _, e := range ev {
			if rerr := s.record(s.fed, e); rerr != nil {
				s.recErr = rerr
				break
			}
		}
	}
	s.mu.Unlock()
	if s.events != nil {
		for _, e := range ev {
			s.events <- e
		}
	}
	return err
}

// Untold is Federation.Untold at the service's clock.
func (s *Service) Untold(active time.Duration) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fed.Untold(s.now(), active)
}

// Run ticks the federation until ctx ends or the federation finishes.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			var fin bool
			_ = s.do(func(f *Federation, now time.Time) error {
				f.Tick(now)
				fin, _ = f.Finished()
				return nil
			})
			if fin || s.Err() != nil {
				return
			}
		}
	}
}

// Join implements api.FederationServer.
func (s *Service) Join(ctx context.Context, req *api.JoinRequest) (*api.JoinResponse, error) {
	if err := s.authenticate(ctx, req.GetTenant()); err != nil {
		return nil, err
	}
	// The verified client certificate, if the call is mutual TLS: it
	// binds the tenant's identity key, and peers get it in each plan.
	cert, err := pki.CertificateFromContext(ctx)
	if err != nil {
		cert = nil
	}
	var task protocol.TaskSpec
	err = s.do(func(f *Federation, now time.Time) error {
		task = f.Task()
		if err := checkJoinCertificate(req.GetTenant(), cert, req.GetIdentityKey(), f.cfg.Secure != nil); err != nil {
			return err
		}
		info := JoinInfo{EncoderID: req.GetEncoderId(), EpsCap: req.GetEpsilonCap(), EpsSpent: req.GetEpsilonSpent(),
			Delta: req.GetDelta(), IdentityKey: req.GetIdentityKey()}
		if cert != nil {
			info.Certificate = cert.Raw
		}
		return f.Join(req.GetTenant(), info, now)
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &api.JoinResponse{Task: protocol.TaskToProto(task)}, nil
}

// Poll implements api.FederationServer.
func (s *Service) Poll(ctx context.Context, req *api.PollRequest) (*api.PollResponse, error) {
	if err := s.authenticate(ctx, req.GetTenant()); err != nil {
		return nil, err
	}
	var a Action
	err := s.do(func(f *Federation, now time.Time) (err error) {
		a, err = f.Poll(req.GetTenant(), now)
		return err
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return ActionToProto(a), nil
}

// Download implements api.FederationServer: it streams the requested
// version in chunks, the last one carrying the size and SHA-256.
func (s *Service) Download(req *api.DownloadRequest, stream grpc.ServerStreamingServer[api.Chunk]) error {
	if err := s.authenticate(stream.Context(), req.GetTenant()); err != nil {
		return err
	}
	var blob *encodedVersion
	err := s.do(func(f *Federation, now time.Time) error {
		if err := f.Touch(req.GetTenant(), now); err != nil {
			return err
		}
		v := int(req.GetModelVersion())
		if b, ok := s.blobs[v]; ok {
			blob = b
			return nil
		}
		params, ok := f.Model(v)
		if !ok {
			return fmt.Errorf("%w: model version %d does not exist (latest is %d)", ErrWrongRound, v, f.Latest())
		}
		b, err := s.encode(params)
		if err != nil {
			return fmt.Errorf("coordinator: failed to encode model version %d: %w", v, err)
		}
		s.blobs[v] = newEncodedVersion(b)
		for old := range s.blobs { // encoded versions no longer held
			if _, ok := f.Model(old); !ok {
				delete(s.blobs, old)
			}
		}
		blob = s.blobs[v]
		return nil
	})
	if err != nil {
		return toStatus(err)
	}
	// The chunks go from a goroutine so that a peer that stops reading
	// cannot hold the stream past Limits.MaxStream: the handler returns,
	// gRPC tears the stream down and the blocked Send fails.
	done := make(chan error, 1)
	go func() { done <- sendBlob(stream, blob) }()
	limit := time.NewTimer(s.limits.MaxStream)
	defer limit.Stop()
	select {
	case err := <-done:
		return err
	case <-limit.C:
		return status.Errorf(codes.DeadlineExceeded, "download of version %d took longer than %v", req.GetModelVersion(), s.limits.MaxStream)
	}
}

// encodedVersion is a model version as downloads send it, with its
// checksums computed once rather than per download.
type encodedVersion struct {
	blob   []byte
	sha256 [32]byte
	crc32c uint32
}

func newEncodedVersion(b []byte) *encodedVersion {
	return &encodedVersion{blob: b, sha256: sha256.Sum256(b), crc32c: protocol.UpdateCRC32C(0, b)}
}

// sendBlob streams v in chunks, the last one with its size, CRC-32C and
// SHA-256 (for clients that check only the SHA-256).
func sendBlob(stream grpc.ServerStreamingServer[api.Chunk], v *encodedVersion) error {
	blob, sum := v.blob, v.sha256
	for off := 0; ; off += ChunkSize {
		end := min(off+ChunkSize, len(blob))
		last := end == len(blob)
		c := &api.Chunk{Data: blob[off:end], Last: last}
		if last {
			c.Sha256, c.Size, c.Crc32C = sum[:], int64(len(blob)), &v.crc32c
		}
		if err := stream.Send(c); err != nil {
			return err
		}
		if last {
			return nil
		}
	}
}

// Submit implements api.FederationServer.
func (s *Service) Submit(ctx context.Context, req *api.SubmitRequest) (*api.SubmitResponse, error) {
	if err := s.authenticate(ctx, req.GetTenant()); err != nil {
		return nil, err
	}
	name, round := req.GetTenant(), int(req.GetRound())
	var head *LedgerHead
	if h := req.GetLedgerHead(); h != nil {
		head = &LedgerHead{Seq: h.GetSeq(), Hash: h.GetHash(), Signature: h.GetSignature()}
		if err := ledger.CheckHead(head.Seq, head.Hash, head.Signature); err != nil {
			return nil, toStatus(fmt.Errorf("%w: tenant %q: %w", ErrBadUpdate, name, err))
		}
	}
	var err error
	switch p := req.GetPayload().(type) {
	case *api.SubmitRequest_Decline:
		err = s.do(func(f *Federation, now time.Time) error { return f.Decline(name, round, p.Decline.GetReason(), now) })
	case *api.SubmitRequest_Update:
		err = s.do(func(f *Federation, now time.Time) error {
			return f.SubmitUpdate(name, round, p.Update.GetValues(), now)
		})
	case *api.SubmitRequest_Secagg:
		if len(p.Secagg.GetMessages()) > MaxSecAggMessages {
			err = fmt.Errorf("%w: %d secure-aggregation messages, at most %d", ErrBadUpdate, len(p.Secagg.GetMessages()), MaxSecAggMessages)
			break
		}
		msgs := p.Secagg.GetMessages()
		var digest *[32]byte
		if p.Secagg.GetStage() == secagg.StageMaskedInput.String() && len(msgs) == 1 {
			// The receipt's SHA-256, before taking the lock: concurrent
			// uploads hash in parallel, and polls do not wait for it.
			d := sha256.Sum256(msgs[0])
			digest = &d
		}
		err = s.do(func(f *Federation, now time.Time) error {
			return f.submitSecAgg(name, round, p.Secagg.GetStage(), msgs, digest, now)
		})
	case *api.SubmitRequest_Eval:
		err = s.do(func(f *Federation, now time.Time) error {
			return f.SubmitEval(name, round, int(p.Eval.GetModelVersion()), p.Eval.GetStats(), p.Eval.GetDeclined(), now)
		})
	default:
		err = fmt.Errorf("%w: submit without a payload", ErrWrongStage)
	}
	if err == nil && head != nil {
		err = s.do(func(f *Federation, now time.Time) error { return f.NoteLedgerHead(name, round, *head, now) })
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return &api.SubmitResponse{Message: "ok"}, nil
}

// statusTable maps the federation's errors to gRPC codes; the first match wins.
var statusTable = []struct {
	err  error
	code codes.Code
}{
	{ErrUnknownTenant, codes.NotFound},
	{ErrBadTenant, codes.InvalidArgument},
	{ErrEncoderMismatch, codes.FailedPrecondition},
	{ErrBadUpdate, codes.InvalidArgument},
	{ErrWrongRound, codes.FailedPrecondition},
	{ErrWrongStage, codes.FailedPrecondition},
	{ErrNotInvited, codes.PermissionDenied},
	{ErrIdentityMismatch, codes.PermissionDenied},
	{ErrDuplicate, codes.AlreadyExists},
	{ErrFinished, codes.FailedPrecondition},
	{ErrTooLarge, codes.ResourceExhausted},
	{ErrBusy, codes.ResourceExhausted},
}

func toStatus(err error) error {
	for _, e := range statusTable {
		if errors.Is(err, e.err) {
			return status.Error(e.code, err.Error())
		}
	}
	return status.Error(codes.Internal, err.Error())
}
