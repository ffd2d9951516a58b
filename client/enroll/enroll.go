package enroll

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/api/enrollpb"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

// Files of a tenant's credential directory.
const (
	KeyFile  = "tenant.key.age"
	CertFile = "tenant.crt"
	CAFile   = "ca.crt"
)

// ErrEnrolled is returned by [Enroll] when the directory already holds a
// certificate.
var ErrEnrolled = errors.New("already enrolled")

// Options configures [Enroll].
type Options struct {
	// Coordinator is the host:port of the coordinator.
	Coordinator string
	// Invite is the invitation string from `fedb2b tenant invite`.
	Invite string
	// Dir receives the credentials (created 0700 if absent).
	Dir string
	// Recipient encrypts the private key at rest (required).
	Recipient age.Recipient
	// ServerName is the name the coordinator's certificate must carry; the
	// host of Coordinator if empty.
	ServerName string
	// Rand is the key generation source (crypto/rand if nil).
	Rand io.Reader
	// Timeout bounds the enrolment call (30 s if zero).
	Timeout time.Duration
	// IdentityKey is the tenant's long-term ed25519 identity public key
	// (client.Config.Identity's public half). The CA binds it into the
	// certificate, so that peers in secure aggregation take it from the
	// CA-signed certificate rather than from the coordinator. Optional,
	// but a tenant enrolled without it cannot join secure rounds of a
	// coordinator that uses TLS.
	IdentityKey ed25519.PublicKey
}

// Enroll enrols the tenant named by the invitation: see the package
// documentation. Nothing is written unless the coordinator returned a
// certificate that passed every check.
func Enroll(ctx context.Context, o Options) (*Credentials, error) {
	inv, err := certs.ParseInvite(o.Invite)
	if err != nil {
		return nil, err
	}
	if o.Recipient == nil {
		return nil, errors.New("enroll: no age recipient for the private key")
	}
	if _, err := os.Stat(filepath.Join(o.Dir, CertFile)); err == nil {
		return nil, fmt.Errorf("enroll: %s: %w", filepath.Join(o.Dir, CertFile), ErrEnrolled)
	}
	if _, err := os.Stat(filepath.Join(o.Dir, KeyFile)); err == nil {
		return nil, fmt.Errorf("enroll: %s exists without %s (an interrupted enrolment?): remove it and ask for a new invitation", filepath.Join(o.Dir, KeyFile), CertFile)
	}
	serverName := o.ServerName
	if serverName == "" {
		h, _, err := net.SplitHostPort(o.Coordinator)
		if err != nil {
			return nil, fmt.Errorf("enroll: coordinator address %q: %w", o.Coordinator, err)
		}
		serverName = h
	}
	var uris []*url.URL
	if o.IdentityKey != nil {
		if len(o.IdentityKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("enroll: identity key has %d bytes, want %d", len(o.IdentityKey), ed25519.PublicKeySize)
		}
		uris = append(uris, certs.IdentityURI(o.IdentityKey))
	}
	rnd := o.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, fmt.Errorf("enroll: failed to generate key: %w", err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: inv.Tenant}, URIs: uris}, key)
	if err != nil {
		return nil, fmt.Errorf("enroll: failed to create CSR: %w", err)
	}
	conn, err := grpc.NewClient(o.Coordinator, grpc.WithTransportCredentials(credentials.NewTLS(certs.EnrollTLSConfig(inv.CAFingerprint, serverName, nil))))
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	defer conn.Close()
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := enrolWaiting(cctx, enrollpb.NewEnrollmentClient(conn), &enrollpb.EnrollRequest{Tenant: inv.Tenant, Token: inv.Token(), Csr: csr})
	if err != nil {
		return nil, fmt.Errorf("enroll: coordinator %s: %w", o.Coordinator, err)
	}
	c, err := checkResponse(inv, key, o.IdentityKey, resp.GetCertificate(), resp.GetCaCertificate())
	if err != nil {
		return nil, err
	}
	if err := c.save(o.Dir, o.Recipient); err != nil {
		return nil, err
	}
	return c, nil
}

// checkResponse verifies what the coordinator returned: the CA is the one
// the invitation pins, the certificate chains to it for client
// authentication, names the invited tenant, certifies key and binds the
// identity key id (no identity key if id is nil).
func checkResponse(inv certs.Invite, key crypto.Signer, id ed25519.PublicKey, certDER, caDER []byte) (*Credentials, error) {
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("enroll: CA certificate in response: %w", err)
	}
	if certs.Fingerprint(ca) != inv.CAFingerprint {
		return nil, errors.New("enroll: CA certificate in response does not match the invitation's fingerprint")
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("enroll: certificate in response: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, fmt.Errorf("enroll: issued certificate does not verify: %w", err)
	}
	name, err := certs.TenantFromCertificate(cert)
	if err != nil {
		return nil, fmt.Errorf("enroll: issued certificate: %w", err)
	}
	if name != inv.Tenant {
		return nil, fmt.Errorf("enroll: issued certificate names tenant %q, invited %q", name, inv.Tenant)
	}
	want, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	got, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
	if err != nil || !bytes.Equal(want, got) {
		return nil, errors.New("enroll: issued certificate is not for the key generated here")
	}
	got, err = certs.IdentityFromCertificate(cert)
	switch {
	case errors.Is(err, certs.ErrNoIdentityKey) && id == nil:
		got = nil
	case err != nil:
		return nil, fmt.Errorf("enroll: issued certificate: %w", err)
	case !bytes.Equal(got, id):
		return nil, errors.New("enroll: issued certificate binds an identity key other than the one sent")
	}
	return &Credentials{Tenant: name, CA: ca, Cert: cert, Key: key, Identity: ed25519.PublicKey(got)}, nil
}

// enrolWaiting calls Enroll, retrying while nothing listens at the address
// yet (a service still starting) until ctx ends; every other failure, a
// refused TLS pin included, is returned at once.
func enrolWaiting(ctx context.Context, c enrollpb.EnrollmentClient, req *enrollpb.EnrollRequest) (*enrollpb.EnrollResponse, error) {
	wait := 100 * time.Millisecond
	for {
		resp, err := c.Enroll(ctx, req)
		// gRPC reports a refused TCP connection as Unavailable with the
		// system's "connection refused" text; nothing else is retried.
		if err == nil || status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "connection refused") {
			return resp, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("nothing answered before the timeout: %w", err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}
