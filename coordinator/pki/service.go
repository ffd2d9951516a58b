package pki

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/api/enrollpb"
)

// EnrollmentService serves the enrolment RPC (fedb2b.enroll.v1.Enrollment)
// on top of an [Authority]. It is public (no client certificate), so it
// validates everything before touching the registry.
type EnrollmentService struct {
	enrollpb.UnimplementedEnrollmentServer
	auth *Authority
	now  func() time.Time
}

// NewEnrollmentService returns the service; now is the clock (time.Now if
// nil).
func NewEnrollmentService(a *Authority, now func() time.Time) *EnrollmentService {
	if now == nil {
		now = time.Now
	}
	return &EnrollmentService{auth: a, now: now}
}

// Register adds the service to a gRPC server.
func (s *EnrollmentService) Register(g *grpc.Server) { enrollpb.RegisterEnrollmentServer(g, s) }

// Enroll implements enrollpb.EnrollmentServer. Malformed requests are
// codes.InvalidArgument; a token that is unknown, used, expired or for
// another tenant is codes.PermissionDenied.
func (s *EnrollmentService) Enroll(ctx context.Context, req *enrollpb.EnrollRequest) (*enrollpb.EnrollResponse, error) {
	r, err := CheckEnrollRequest(req.GetTenant(), req.GetToken(), req.GetCsr())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "enroll: %v", err)
	}
	der, cert, err := s.auth.Enroll(r, s.now())
	switch {
	case errors.Is(err, ErrTokenRefused):
		return nil, status.Errorf(codes.PermissionDenied, "enroll: %v", err)
	case err != nil:
		return nil, status.Errorf(codes.Internal, "enroll: %v", err)
	}
	return &enrollpb.EnrollResponse{
		Certificate:   der,
		CaCertificate: s.auth.Certificate().Raw,
		NotAfterUnix:  cert.NotAfter.Unix(),
	}, nil
}
