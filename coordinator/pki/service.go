package pki

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/api/enrollpb"
)

// Refusal texts of the enrolment service. Every failed enrolment gets the
// same one, whatever the reason (unknown tenant, wrong, used or expired
// token, malformed request), so the public service does not tell which
// tenant names the operator has invited.
const (
	RefusedMessage     = "enroll: refused: the invitation is not valid for this tenant (unknown, used, expired or mistyped), or the request is malformed"
	RateLimitedMessage = "enroll: too many enrolment attempts from this address; retry later"
)

// Default enrolment rate limit per source address: a burst of 5 attempts,
// then one every 12 seconds (5 a minute).
const (
	DefaultEnrollBurst = 5
	DefaultEnrollEvery = 12 * time.Second
	// maxSources bounds the per-source limiter table; idle entries are
	// dropped first.
	maxSources = 10000
)

// EnrollmentService serves the enrolment RPC (fedb2b.enroll.v1.Enrollment)
// on top of an [Authority]. It is public (no client certificate), so it
// validates everything before touching the registry, answers every failure
// with one generic refusal ([RefusedMessage]) and limits attempts per
// source address.
type EnrollmentService struct {
	enrollpb.UnimplementedEnrollmentServer
	auth *Authority
	now  func() time.Time

	// Every and Burst set the per-source rate limit (defaults
	// DefaultEnrollEvery, DefaultEnrollBurst). Set before serving.
	Every time.Duration
	Burst int
	// OnRefuse, if set, is told the real reason of each refusal (for the
	// operator's log; it names the tenant, never the token).
	OnRefuse func(source string, reason error)
	// OnEnrolled, if set, runs after a certificate is issued and before it
	// is returned (`fedb2b ca serve` mirrors the registry there, so the
	// coordinator knows the certificate before the tenant can present it).
	OnEnrolled func()

	mu      sync.Mutex
	sources map[string]*sourceLimit
}

type sourceLimit struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewEnrollmentService returns the service; now is the clock (time.Now if
// nil).
func NewEnrollmentService(a *Authority, now func() time.Time) *EnrollmentService {
	if now == nil {
		now = time.Now
	}
	return &EnrollmentService{auth: a, now: now, sources: map[string]*sourceLimit{}}
}

// Register adds the service to a gRPC server.
func (s *EnrollmentService) Register(g *grpc.Server) { enrollpb.RegisterEnrollmentServer(g, s) }

// Enroll implements enrollpb.EnrollmentServer. A refused enrolment of any
// kind is codes.PermissionDenied with [RefusedMessage]; too many attempts
// from one address are codes.ResourceExhausted.
func (s *EnrollmentService) Enroll(ctx context.Context, req *enrollpb.EnrollRequest) (*enrollpb.EnrollResponse, error) {
	src := sourceOf(ctx)
	if !s.allow(src) {
		s.refused(src, errors.New("rate limited"))
		return nil, status.Error(codes.ResourceExhausted, RateLimitedMessage)
	}
	r, err := CheckEnrollRequest(req.GetTenant(), req.GetToken(), req.GetCsr())
	if err != nil {
		s.refused(src, err)
		return nil, status.Error(codes.PermissionDenied, RefusedMessage)
	}
	der, cert, err := s.auth.Enroll(r, s.now())
	if err != nil {
		s.refused(src, err)
		if errors.Is(err, ErrTokenRefused) || errors.Is(err, ErrUnknownTenant) {
			return nil, status.Error(codes.PermissionDenied, RefusedMessage)
		}
		return nil, status.Error(codes.Internal, "enroll: internal error of the enrolment service; the operator's log has the reason")
	}
	if s.OnEnrolled != nil {
		s.OnEnrolled()
	}
	return &enrollpb.EnrollResponse{
		Certificate:   der,
		CaCertificate: s.auth.Certificate().Raw,
		NotAfterUnix:  cert.NotAfter.Unix(),
	}, nil
}

func (s *EnrollmentService) refused(src string, err error) {
	if s.OnRefuse != nil {
		s.OnRefuse(src, err)
	}
}

// allow takes one attempt from src's token bucket.
func (s *EnrollmentService) allow(src string) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.sources[src]
	if !ok {
		if len(s.sources) >= maxSources {
			s.evict(now)
		}
		every, burst := s.Every, s.Burst
		if every <= 0 {
			every = DefaultEnrollEvery
		}
		if burst <= 0 {
			burst = DefaultEnrollBurst
		}
		l = &sourceLimit{lim: rate.NewLimiter(rate.Every(every), burst)}
		s.sources[src] = l
	}
	l.seen = now
	return l.lim.AllowN(now, 1)
}

// evict drops the sources idle longest (those whose bucket has refilled
// are indistinguishable from new ones), keeping the table bounded.
func (s *EnrollmentService) evict(now time.Time) {
	for k, l := range s.sources {
		if now.Sub(l.seen) > time.Hour {
			delete(s.sources, k)
		}
	}
	for k := range s.sources { // still full: drop arbitrary entries
		if len(s.sources) < maxSources {
			break
		}
		delete(s.sources, k)
	}
}

// sourceOf is the caller's source for rate limiting: its IPv4 address, or
// the /64 prefix of its IPv6 address (one host is routed a whole /64, so
// a limit per full IPv6 address would give it 2^64 buckets), or
// "unknown".
func sourceOf(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return "unknown"
	}
	host, _, err := net.SplitHostPort(p.Addr.String())
	if err != nil {
		return p.Addr.String()
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		pfx, _ := ip.Prefix(64)
		return pfx.String()
	}
	return ip.String()
}
