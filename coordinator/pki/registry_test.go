package pki_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/coordinator/pki"
)

// TestConcurrentRedemption races enrolments with one token through
// separate Registry handles (as the CLI and the coordinator would): exactly
// one certificate is issued.
func TestConcurrentRedemption(t *testing.T) {
	dir, id, a := newCA(t)
	inv, err := a.Registry().Invite("acme", time.Hour, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "acme"}}, key)
	req, err := pki.CheckEnrollRequest("acme", inv.Token(), csr)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := pki.LoadAuthority(dir, id, 0)
			if err == nil {
				_, _, err = b.Enroll(req, time.Now())
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, pki.ErrTokenRefused):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	st, _ := a.Registry().Tenants(time.Now())
	if ok != 1 || len(st) != 1 || st[0].Certificates != 1 {
		t.Fatalf("%d enrolments succeeded, registry %+v", ok, st)
	}
}

// BenchmarkRegistryCheck measures the per-call revocation check of the
// guard (a stat of registry.json and a map lookup), against a baseline of
// the bare map lookup on the cached registry.
func BenchmarkRegistryCheck(b *testing.B) {
	dir := b.TempDir() + "/ca"
	idt := mustIdentity(b)
	if err := pki.Init(dir, pki.InitOptions{Recipient: idt.Recipient()}); err != nil {
		b.Fatal(err)
	}
	a, err := pki.LoadAuthority(dir, idt, 0)
	if err != nil {
		b.Fatal(err)
	}
	cert := issueAt(b, a, "acme", time.Now())
	serial := cert.Leaf.SerialNumber.Text(16)
	b.Run("baseline-map", func(b *testing.B) {
		m := map[string]string{"acme": serial}
		for b.Loop() {
			if m["acme"] != serial {
				b.Fatal("lookup")
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		for b.Loop() {
			if err := a.Registry().Check("acme", serial); err != nil {
				b.Fatal(err)
			}
		}
	})
}
