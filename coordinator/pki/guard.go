package pki

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/api/enrollpb"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

// ErrNoIdentity is returned by [TenantFromContext] when the call carries no
// verified client certificate.
var ErrNoIdentity = errors.New("no verified client certificate")

type tenantKey struct{}

// TenantFromContext returns the tenant named by the verified client
// certificate of the gRPC call in ctx: the value the [Guard] stored, or else
// the leaf of the peer's first verified TLS chain.
func TenantFromContext(ctx context.Context) (string, error) {
	if t, ok := ctx.Value(tenantKey{}).(string); ok {
		return t, nil
	}
	p, ok := peer.FromContext(ctx)
	if !ok {
		return "", fmt.Errorf("%w: no gRPC peer in context", ErrNoIdentity)
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return "", fmt.Errorf("%w: connection from %s is not TLS", ErrNoIdentity, p.Addr)
	}
	if len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return "", fmt.Errorf("%w: connection from %s presented none", ErrNoIdentity, p.Addr)
	}
	return certs.TenantFromCertificate(info.State.VerifiedChains[0][0])
}

// CheckTenant returns a PermissionDenied status error if the tenant named
// in a request (claimed) is not the tenant of the call's certificate, and an
// Unauthenticated one if the call has no certificate.
func CheckTenant(ctx context.Context, claimed string) error {
	t, err := TenantFromContext(ctx)
	if err != nil {
		return status.Error(codes.Unauthenticated, err.Error())
	}
	if claimed != t {
		return status.Errorf(codes.PermissionDenied, "request names tenant %q but the client certificate is for %q", claimed, t)
	}
	return nil
}

// Guard is the server-side gRPC interceptor pair: every call except the
// public methods (the enrolment RPC) must carry a verified client
// certificate whose tenant and serial the registry accepts and which has
// not expired since the handshake; the tenant is then put in the context
// for [TenantFromContext]. Refusals are codes.Unauthenticated (no or
// expired certificate) or codes.PermissionDenied (revoked, unknown).
// Re-checking on every call makes `fedb2b tenant revoke` cut long-lived
// connections too.
type Guard struct {
	reg    *Registry
	public map[string]bool
	now    func() time.Time
}

// NewGuard returns a guard checking against reg. The enrolment method is
// always public; publicMethods adds others (full method names, e.g. a
// health check).
func NewGuard(reg *Registry, now func() time.Time, publicMethods ...string) *Guard {
	if now == nil {
		now = time.Now
	}
	g := &Guard{reg: reg, now: now, public: map[string]bool{enrollpb.Enrollment_Enroll_FullMethodName: true}}
	for _, m := range publicMethods {
		g.public[m] = true
	}
	return g
}

// authorize checks one call and returns the context to run it with.
func (g *Guard) authorize(ctx context.Context, method string) (context.Context, error) {
	if g.public[method] {
		return ctx, nil
	}
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "pki: no peer information")
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return nil, status.Errorf(codes.Unauthenticated, "pki: %s requires a client certificate; enrol first (fedb2b client enroll)", method)
	}
	leaf := info.State.VerifiedChains[0][0]
	if now := g.now(); now.After(leaf.NotAfter) {
		return nil, status.Errorf(codes.Unauthenticated, "pki: client certificate expired at %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	tenant, err := checkLeaf(g.reg, leaf)
	if err != nil {
		if errors.Is(err, ErrRevoked) || errors.Is(err, ErrUnknownTenant) || errors.Is(err, ErrUnknownCert) || errors.Is(err, certs.ErrBadName) {
			return nil, status.Error(codes.PermissionDenied, err.Error())
		}
		return nil, status.Error(codes.Unauthenticated, err.Error())
	}
	return context.WithValue(ctx, tenantKey{}, tenant), nil
}

// Unary returns the unary server interceptor.
func (g *Guard) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		ctx, err := g.authorize(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return h(ctx, req)
	}
}

// Stream returns the stream server interceptor.
func (g *Guard) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		ctx, err := g.authorize(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return h(srv, &guardedStream{ServerStream: ss, ctx: ctx})
	}
}

type guardedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *guardedStream) Context() context.Context { return s.ctx }

// GRPCServerOptions returns the server options that wire TLS and the guard:
// credentials from [ServerTLSConfig] and the unary and stream interceptors.
// Pass them to grpc.NewServer along with size limits.
func GRPCServerOptions(c ServerConfig) ([]grpc.ServerOption, error) {
	if c.Registry == nil {
		reg, err := OpenRegistry(c.Dir)
		if err != nil {
			return nil, err
		}
		c.Registry = reg
	}
	cfg, err := ServerTLSConfig(c)
	if err != nil {
		return nil, err
	}
	g := NewGuard(c.Registry, c.Now, c.PublicMethods...)
	return []grpc.ServerOption{
		grpc.Creds(credentials.NewTLS(cfg)),
		grpc.ChainUnaryInterceptor(g.Unary()),
		grpc.ChainStreamInterceptor(g.Stream()),
	}, nil
}

// CertificateFromContext returns the verified client certificate (the
// leaf of the first verified chain) of the gRPC call in ctx, or an error
// wrapping [ErrNoIdentity] when the call is not mutually authenticated
// TLS (for example on an --insecure-no-tls coordinator).
func CertificateFromContext(ctx context.Context) (*x509.Certificate, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil, fmt.Errorf("%w: no gRPC peer in context", ErrNoIdentity)
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return nil, fmt.Errorf("%w: connection from %s is not TLS", ErrNoIdentity, p.Addr)
	}
	if len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return nil, fmt.Errorf("%w: connection from %s presented none", ErrNoIdentity, p.Addr)
	}
	return info.State.VerifiedChains[0][0], nil
}
