package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

// Files of a CA directory.
const (
	caCertName     = "ca.crt"
	caKeyName      = "ca.key.age"
	serverCertName = "server.crt"
	serverKeyName  = "server.key.age"
	registryName   = "registry.json"
)

// Default validity periods.
const (
	DefaultCAValidity     = 10 * 365 * 24 * time.Hour
	DefaultServerValidity = 365 * 24 * time.Hour
	DefaultClientValidity = 30 * 24 * time.Hour
	DefaultInviteTTL      = 72 * time.Hour
)

// InitOptions configures [Init].
type InitOptions struct {
	// Recipient encrypts the CA and server private keys (required).
	Recipient age.Recipient
	// ServerNames are the DNS names and IP addresses the coordinator is
	// reached at; localhost and 127.0.0.1 are always added.
	ServerNames []string
	// Organization names the operator in certificate subjects.
	Organization string
	// Now is the issuing time (time.Now if zero).
	Now time.Time
	// CAValidity and ServerValidity default to DefaultCAValidity and
	// DefaultServerValidity.
	CAValidity, ServerValidity time.Duration
}

// Init creates the operator's CA in dir (created 0700 if absent): an ECDSA
// P-256 CA certificate and key, a server certificate for the coordinator
// signed by it, and an empty tenant registry. Private keys are encrypted to
// opts.Recipient with age. Init refuses a directory that already holds a CA
// ([ErrExists]).
func Init(dir string, opts InitOptions) error {
	if opts.Recipient == nil {
		return fmt.Errorf("ca init: no age recipient for the private keys")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if opts.CAValidity <= 0 {
		opts.CAValidity = DefaultCAValidity
	}
	if opts.ServerValidity <= 0 {
		opts.ServerValidity = DefaultServerValidity
	}
	if opts.Organization == "" {
		opts.Organization = "fedb2b operator"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("ca init: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, caCertName)); err == nil {
		return fmt.Errorf("ca init: %s: %w", filepath.Join(dir, caCertName), certs.ErrExists)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("ca init: %w", err)
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "fedb2b CA", Organization: []string{opts.Organization}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(opts.CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := sign(caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return fmt.Errorf("ca init: %w", err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("ca init: %w", err)
	}
	srvTmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "fedb2b coordinator", Organization: []string{opts.Organization}},
		NotBefore:   now.Add(-time.Minute),
		NotAfter:    minTime(now.Add(opts.ServerValidity), caCert.NotAfter),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range append([]string{"localhost", "127.0.0.1", "::1"}, opts.ServerNames...) {
		if ip := net.ParseIP(n); ip != nil {
			srvTmpl.IPAddresses = append(srvTmpl.IPAddresses, ip)
		} else if n != "" {
			srvTmpl.DNSNames = append(srvTmpl.DNSNames, n)
		}
	}
	srvDER, err := sign(srvTmpl, caCert, srvKey.Public(), caKey)
	if err != nil {
		return fmt.Errorf("ca init: %w", err)
	}
	// Keys first: a directory with a certificate but no key is useless,
	// and ca.crt is what marks a directory as initialised.
	for _, step := range []func() error{
		func() error { return certs.SaveKey(filepath.Join(dir, caKeyName), caKey, opts.Recipient) },
		func() error { return certs.SaveKey(filepath.Join(dir, serverKeyName), srvKey, opts.Recipient) },
		func() error { return certs.WriteNew(filepath.Join(dir, registryName), newRegistryFile(), 0o600) },
		func() error { return certs.WriteCertificate(filepath.Join(dir, serverCertName), srvDER) },
		func() error { return certs.WriteCertificate(filepath.Join(dir, caCertName), caDER) },
	} {
		if err := step(); err != nil {
			return fmt.Errorf("ca init: %w", err)
		}
	}
	return nil
}

// ReadCA returns the CA certificate of the CA directory dir.
func ReadCA(dir string) (*x509.Certificate, error) {
	return certs.ReadCertificate(filepath.Join(dir, caCertName))
}

// Invite creates a one-time invitation for tenant, valid for ttl from now
// (DefaultInviteTTL if ttl <= 0), with a secret drawn from rnd (crypto/rand
// if nil). Only the secret's hash is stored; the returned [Invite] is shown
// once to the operator, who hands it to the tenant.
func (r *Registry) Invite(tenant string, ttl time.Duration, now time.Time, rnd io.Reader) (certs.Invite, error) {
	if err := certs.CheckName(tenant); err != nil {
		return certs.Invite{}, err
	}
	if ttl <= 0 {
		ttl = DefaultInviteTTL
	}
	ca, err := ReadCA(filepath.Dir(r.path))
	if err != nil {
		return certs.Invite{}, err
	}
	secret, err := newSecret(rnd)
	if err != nil {
		return certs.Invite{}, err
	}
	if err := r.addInvite(tenant, secret, now, now.Add(ttl)); err != nil {
		return certs.Invite{}, err
	}
	return certs.Invite{Tenant: tenant, Secret: secret, CAFingerprint: certs.Fingerprint(ca)}, nil
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial.Add(serial, big.NewInt(1))
	return x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
