package pki_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/client/enroll"
	"github.com/fedb2b/fedb2b/coordinator/pki"
)

// newCA makes a CA directory with an X25519 identity (fast; scrypt is
// exercised by the CLI test).
func newCA(t *testing.T) (string, *age.X25519Identity, *pki.Authority) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.Init(dir, pki.InitOptions{Recipient: id.Recipient(), ServerNames: []string{"coord.example"}}); err != nil {
		t.Fatal(err)
	}
	a, err := pki.LoadAuthority(dir, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	return dir, id, a
}

// fakeFederation answers with the tenant the guard put in the context.
type fakeFederation struct {
	api.UnimplementedFederationServer
}

func (fakeFederation) Poll(ctx context.Context, req *api.PollRequest) (*api.PollResponse, error) {
	t, err := pki.TenantFromContext(ctx)
	if err != nil {
		return nil, err
	}
	return &api.PollResponse{Action: &api.PollResponse_Finished{Finished: &api.Finished{Reason: t}}}, nil
}

func (fakeFederation) Join(ctx context.Context, req *api.JoinRequest) (*api.JoinResponse, error) {
	if err := pki.CheckTenant(ctx, req.GetTenant()); err != nil {
		return nil, err
	}
	return &api.JoinResponse{Task: &api.TaskSpec{TaskId: "t"}}, nil
}

func (fakeFederation) Download(req *api.DownloadRequest, s grpc.ServerStreamingServer[api.Chunk]) error {
	t, err := pki.TenantFromContext(s.Context())
	if err != nil {
		return err
	}
	return s.Send(&api.Chunk{Data: []byte(t)})
}

type server struct {
	addr     string
	mu       sync.Mutex
	rejected []error
	refusals []error // the enrolment service's real reasons
}

func (s *server) rejects() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.rejected...)
}

// serve starts a coordinator-like gRPC server on loopback with mTLS, the
// guard, the enrolment service and fakeFederation.
func serve(t *testing.T, dir string, id age.Identity, a *pki.Authority) *server {
	t.Helper()
	s := &server{}
	opts, err := pki.GRPCServerOptions(pki.ServerConfig{
		Dir: dir, Identity: id, Registry: a.Registry(), AllowEnrollment: true,
		OnReject: func(err error) { s.mu.Lock(); s.rejected = append(s.rejected, err); s.mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(opts...)
	svc := pki.NewEnrollmentService(a, nil)
	svc.Burst = 1000 // tests of the rate limit set their own
	svc.OnRefuse = func(_ string, err error) { s.mu.Lock(); s.refusals = append(s.refusals, err); s.mu.Unlock() }
	svc.Register(g)
	api.RegisterFederationServer(g, fakeFederation{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	s.addr = lis.Addr().String()
	return s
}

// enrolTenant enrols name over the network into a fresh directory.
func enrolTenant(t *testing.T, a *pki.Authority, addr, name string) *enroll.Credentials {
	t.Helper()
	inv, err := a.Registry().Invite(name, time.Hour, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	c, err := enroll.Enroll(context.Background(), enroll.Options{Coordinator: addr, Invite: inv.String(), Dir: t.TempDir(), Recipient: id.Recipient()})
	if err != nil {
		t.Fatalf("enrol %s: %v", name, err)
	}
	return c
}

// issueAt enrols name without the network, as if at time at.
func issueAt(t testing.TB, a *pki.Authority, name string, at time.Time) tls.Certificate {
	t.Helper()
	inv, err := a.Registry().Invite(name, time.Hour, at, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		t.Fatal(err)
	}
	req, err := pki.CheckEnrollRequest(name, inv.Token(), csr)
	if err != nil {
		t.Fatal(err)
	}
	der, cert, err := a.Enroll(req, at)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}
}

// dial connects with the given client certificate (none if empty), trusting
// the CA of a.
func dial(t *testing.T, a *pki.Authority, addr string, cert tls.Certificate) api.FederationClient {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(a.Certificate())
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool, ServerName: "127.0.0.1"}
	if len(cert.Certificate) > 0 {
		cfg.Certificates = []tls.Certificate{cert}
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return api.NewFederationClient(conn)
}

func mustIdentity(t testing.TB) *age.X25519Identity {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
