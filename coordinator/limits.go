package coordinator

import (
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/fedb2b/fedb2b/protocol"
)

// ErrBusy is returned when an upload would exceed a concurrency bound:
// the tenant already has one open, or MaxUploads are open.
var ErrBusy = errors.New("coordinator: too many uploads")

// Limits bound what streams may hold on the coordinator. Zero fields take
// the defaults below.
type Limits struct {
	// MaxUploads bounds the uploads open at once over all tenants
	// (default 64). Each tenant has at most one open at a time.
	MaxUploads int
	// RecvIdle cuts an upload whose next chunk does not arrive within it
	// (default 30 s).
	RecvIdle time.Duration
	// MaxStream bounds the life of any Upload or Download stream (default
	// 10 min); an upload also ends at its stage's deadline.
	MaxStream time.Duration
	// MaxConcurrentStreams bounds the streams of one connection (default 16).
	MaxConcurrentStreams uint32
}

// The defaults of Limits.
const (
	DefaultMaxUploads           = 64
	DefaultRecvIdle             = 30 * time.Second
	DefaultMaxStream            = 10 * time.Minute
	DefaultMaxConcurrentStreams = 8
)

// Transport limits that ServerOptions sets: the largest message
// (protocol.MaxMessage: larger submissions are chunked uploads), the
// flow-control windows (fixed, which also turns off gRPC's BDP-driven
// window growth) and the keepalive policy. gRPC reads a unary message
// whole before any interceptor runs and returns connection window as bytes
// arrive, so one connection can hold up to MaxConcurrentStreams unfinished
// messages: PerConnection bounds what that costs.
const (
	MaxRecvMsg   = protocol.MaxMessage
	StreamWindow = 1 << 20
	ConnWindow   = 4 << 20
)

// PerConnection is the most transport data one connection can make the
// coordinator hold with the default Limits: a full message on every
// stream, plus the connection window.
const PerConnection = DefaultMaxConcurrentStreams*MaxRecvMsg + ConnWindow

func (l Limits) withDefaults() Limits {
	if l.MaxUploads <= 0 {
		l.MaxUploads = DefaultMaxUploads
	}
	if l.RecvIdle <= 0 {
		l.RecvIdle = DefaultRecvIdle
	}
	if l.MaxStream <= 0 {
		l.MaxStream = DefaultMaxStream
	}
	if l.MaxConcurrentStreams == 0 {
		l.MaxConcurrentStreams = DefaultMaxConcurrentStreams
	}
	return l
}

// SetLimits sets the service's stream limits (zero fields: defaults). Call
// it before serving, with the Limits given to ServerOptions.
func (s *Service) SetLimits(l Limits) {
	s.limits = l.withDefaults()
	s.uploads = uploads{open: map[string]bool{}, max: s.limits.MaxUploads}
}

// ServerOptions returns the gRPC server options that bound the resources
// of connections and streams: MaxConcurrentStreams, the message size and
// flow-control windows, a keepalive enforcement policy (clients may ping
// at most every 15 s, also without an open stream) and server keepalive
// parameters (idle connections close after 15 min; a peer that does not
// answer a ping within 20 s is dropped), and a 20 s handshake timeout.
// Add TLS and interceptors (package pki) to them.
func ServerOptions(l Limits) []grpc.ServerOption {
	l = l.withDefaults()
	return []grpc.ServerOption{
		grpc.MaxConcurrentStreams(l.MaxConcurrentStreams),
		grpc.MaxRecvMsgSize(MaxRecvMsg),
		grpc.InitialWindowSize(StreamWindow),
		grpc.InitialConnWindowSize(ConnWindow),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 15 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 15 * time.Minute, Time: 2 * time.Minute, Timeout: 20 * time.Second}),
		grpc.ConnectionTimeout(20 * time.Second),
	}
}

// uploads tracks the open uploads: one per tenant, max in all.
type uploads struct {
	mu   sync.Mutex
	open map[string]bool
	max  int
	// held is the bytes the open uploads' buffers hold now, and peak
	// the most they held at once (for tests and metrics).
	held, peak int64
}

func (u *uploads) acquire(tenant string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.open[tenant] {
		return errors.Join(ErrBusy, errors.New("this tenant already has an upload open"))
	}
	if len(u.open) >= u.max {
		return errors.Join(ErrBusy, errors.New("the coordinator's uploads are all in use; retry"))
	}
	u.open[tenant] = true
	return nil
}

func (u *uploads) release(tenant string, held int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.open, tenant)
	u.held -= held
}

func (u *uploads) grow(n int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.held += n
	u.peak = max(u.peak, u.held)
}

// UploadBytesPeak returns the most bytes the buffers of open uploads held
// at once since the service started.
func (s *Service) UploadBytesPeak() int64 {
	s.uploads.mu.Lock()
	defer s.uploads.mu.Unlock()
	return s.uploads.peak
}
