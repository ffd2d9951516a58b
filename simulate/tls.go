package simulate

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/fedb2b/fedb2b/client/enroll"
	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/coordinator/pki"
)

// transport is the simulation's view of the network security: an
// operator CA with mutual TLS 1.3 (the default), or plain loopback.
type transport struct {
	dir  string
	id   *age.X25519Identity
	auth *pki.Authority
}

// newTransport creates an operator CA under dir (a temporary directory if
// dir is empty) or nothing when insecure.
func newTransport(dir string, insecureNoTLS bool) (*transport, func(), error) {
	if insecureNoTLS {
		return nil, func() {}, nil
	}
	cleanup := func() {}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "fedb2b-ca-*")
		if err != nil {
			return nil, nil, err
		}
		dir, cleanup = tmp, func() { os.RemoveAll(tmp) }
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, cleanup, err
	}
	caDir := filepath.Join(dir, "ca")
	if err := pki.Init(caDir, pki.InitOptions{Recipient: id.Recipient(), Organization: "fedb2b demo operator"}); err != nil {
		return nil, cleanup, fmt.Errorf("simulate: CA: %w", err)
	}
	auth, err := pki.LoadAuthority(caDir, id, 0)
	if err != nil {
		return nil, cleanup, err
	}
	return &transport{dir: caDir, id: id, auth: auth}, cleanup, nil
}

// server returns the coordinator's gRPC server, serving enrolment too.
func (t *transport) server(svc *coordinator.Service) (*grpc.Server, error) {
	if t == nil {
		g := grpc.NewServer(coordinator.ServerOptions(coordinator.Limits{})...)
		svc.Register(g)
		return g, nil
	}
	opts, err := pki.GRPCServerOptions(pki.ServerConfig{Dir: t.dir, Identity: t.id, Registry: t.auth.Registry(), AllowEnrollment: true})
	if err != nil {
		return nil, err
	}
	g := grpc.NewServer(append(coordinator.ServerOptions(coordinator.Limits{}), opts...)...)
	es := pki.NewEnrollmentService(t.auth, nil)
	// Every simulated tenant enrols from 127.0.0.1: the per-source limit
	// (5 by default) would refuse a federation of more than five.
	es.Burst = 1 << 16
	es.Register(g)
	svc.SetAuthenticator(pki.CheckTenant)
	svc.Register(g)
	return g, nil
}

// dial enrols tenant with a one-time invitation (its TLS key is generated
// and kept in tenantDir; its identity key is bound into the certificate)
// and returns a mutually authenticated connection and the pinned CA
// certificate (nil, and a plain connection, when insecure).
func (t *transport) dial(ctx context.Context, addr, tenant, tenantDir string, identity ed25519.PublicKey) (*grpc.ClientConn, *x509.Certificate, error) {
	if t == nil {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		return conn, nil, err
	}
	inv, err := t.auth.Registry().Invite(tenant, time.Hour, time.Now(), nil)
	if err != nil {
		return nil, nil, err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, nil, err
	}
	creds, err := enroll.Enroll(ctx, enroll.Options{Coordinator: addr, Invite: inv.String(), Dir: tenantDir,
		Recipient: id.Recipient(), ServerName: "localhost", IdentityKey: identity})
	if err != nil {
		return nil, nil, fmt.Errorf("simulate: enrol %s: %w", tenant, err)
	}
	opt, err := creds.DialOption("localhost")
	if err != nil {
		return nil, nil, err
	}
	conn, err := grpc.NewClient(addr, opt)
	return conn, creds.CA, err
}
