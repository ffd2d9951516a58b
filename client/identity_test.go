package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/client/enroll"
	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/protocol"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

// testCA is an operator CA in a temporary directory.
type testCA struct {
	dir  string
	id   *age.X25519Identity
	auth *pki.Authority
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	id, _ := age.GenerateX25519Identity()
	if err := pki.Init(dir, pki.InitOptions{Recipient: id.Recipient()}); err != nil {
		t.Fatal(err)
	}
	a, err := pki.LoadAuthority(dir, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{dir, id, a}
}

// issue enrols tenant with identity key idKey without the network and
// returns the DER certificate.
func (c testCA) issue(t *testing.T, tenant string, idKey ed25519.PublicKey) []byte {
	t.Helper()
	inv, err := c.auth.Registry().Invite(tenant, time.Hour, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: tenant}, URIs: []*url.URL{certs.IdentityURI(idKey)}}, key)
	req, err := pki.CheckEnrollRequest(tenant, inv.Token(), csr)
	if err != nil {
		t.Fatal(err)
	}
	der, _, err := c.auth.Enroll(req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// forgeCert is what a coordinator without the CA's key can make: a
// self-signed certificate naming tenant and binding idKey.
func forgeCert(t *testing.T, tenant string, idKey ed25519.PublicKey) []byte {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(99), Subject: pkix.Name{CommonName: tenant},
		URIs:      []*url.URL{certs.TenantURI(tenant), certs.IdentityURI(idKey)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestCohortIdentities(t *testing.T) {
	ca := newTestCA(t)
	names := []string{"acme", "globex", "initech"}
	plan := &api.TrainPlan{Cohort: names}
	pubs := make([]ed25519.PublicKey, len(names))
	for i, n := range names {
		pubs[i], _, _ = ed25519.GenerateKey(rand.Reader)
		plan.CohortKeys = append(plan.CohortKeys, pubs[i])
		plan.CohortCerts = append(plan.CohortCerts, ca.issue(t, n, pubs[i]))
	}
	now := time.Now()
	got, err := cohortIdentities(plan, ca.auth.Certificate(), now)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if !got[i].Equal(pubs[i]) {
			t.Fatalf("key %d = %x, want %x", i, got[i], pubs[i])
		}
	}
	evil, _, _ := ed25519.GenerateKey(rand.Reader)
	otherCA := newTestCA(t)
	for name, tc := range map[string]struct {
		tamper func(p *api.TrainPlan)
		now    time.Time
		want   string
	}{
		"key substituted": {func(p *api.TrainPlan) { p.CohortKeys[1] = evil }, now, "keys substituted"},
		"key and forged self-signed certificate": {func(p *api.TrainPlan) {
			p.CohortKeys[1], p.CohortCerts[1] = evil, forgeCert(t, "globex", evil)
		}, now, "does not verify against the pinned CA"},
		"key and certificate from another CA": {func(p *api.TrainPlan) {
			p.CohortKeys[1], p.CohortCerts[1] = evil, otherCA.issue(t, "globex", evil)
		}, now, "does not verify against the pinned CA"},
		"another tenant's genuine certificate": {func(p *api.TrainPlan) {
			p.CohortKeys[1], p.CohortCerts[1] = p.CohortKeys[0], p.CohortCerts[0]
		}, now, `relayed for "globex" names tenant "acme"`},
		"certificates withheld": {func(p *api.TrainPlan) { p.CohortCerts = nil }, now, "carries 0 certificates for 3"},
		"certificate expired":   {func(p *api.TrainPlan) {}, now.Add(pki.DefaultClientValidity + time.Hour), "expired"},
	} {
		p := proto.Clone(plan).(*api.TrainPlan)
		tc.tamper(p)
		_, err := cohortIdentities(p, ca.auth.Certificate(), tc.now)
		if err == nil || !strings.Contains(err.Error(), "refusing the session") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want a refusal containing %q", name, err, tc.want)
		}
	}
	// Without a pinned CA (no TLS) the coordinator is trusted: the
	// substituted key is used as sent.
	p := proto.Clone(plan).(*api.TrainPlan)
	p.CohortKeys[1], p.CohortCerts = evil, nil
	if got, err := cohortIdentities(p, nil, now); err != nil || !got[1].Equal(evil) {
		t.Fatalf("without a CA: %x, %v", got, err)
	}
}

// federationCase runs one secure round over mutual TLS with real clients
// whose identity keys are bound to their certificates. tamper, if not nil,
// is a malicious coordinator's edit of every train plan it sends. It
// returns each client's result and error.
func federationCase(t *testing.T, tamper func(*api.TrainPlan)) (map[string]Result, map[string]error) {
	t.Helper()
	ca := newTestCA(t)
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 64})
	if err != nil {
		t.Fatal(err)
	}
	labels := []string{"food", "tools"}
	clf, err := models.NewClassifier(models.ClassifierConfig{InputDim: enc.Dim(), Rank: 2, Classes: len(labels), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	task := protocol.TaskSpec{ID: "t", Kind: "classify", EncoderID: enc.ID(), InputDim: enc.Dim(), Rank: 2, Labels: labels, Seed: 1, NumParams: clf.NumParams(), EvalLen: 2 + 3*len(labels),
		Options: map[string]string{"expected_batch": "4"}}
	fed, err := coordinator.New(coordinator.Config{
		Task: task, Rounds: 1, Strategy: &aggregation.FedAvg{},
		Train:     protocol.TrainParams{SampleRate: 0.5, ClipNorm: 1, NoiseMultiplier: 1, LocalSteps: 2, LearningRate: 0.1},
		MinJoined: 3, MinClients: 3, RoundTimeout: 3 * time.Second, Retry: 10 * time.Millisecond,
		Secure: &coordinator.SecureConfig{ClipNorm: 1},
	}, clf.Params())
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan coordinator.Event, 64)
	go func() {
		for range events {
		}
	}()
	svc := coordinator.NewService(fed, protocol.EncodeParams, events, nil)
	opts, err := pki.GRPCServerOptions(pki.ServerConfig{Dir: ca.dir, Identity: ca.id, Registry: ca.auth.Registry(), AllowEnrollment: true})
	if err != nil {
		t.Fatal(err)
	}
	if tamper != nil {
		opts = append(opts, grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			resp, err := h(ctx, req)
			if pr, ok := resp.(*api.PollResponse); ok && pr.GetTrain() != nil {
				tamper(pr.GetTrain())
			}
			return resp, err
		}))
	}
	g := grpc.NewServer(opts...)
	pki.NewEnrollmentService(ca.auth, nil).Register(g)
	svc.SetAuthenticator(pki.CheckTenant)
	svc.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(lis)
	defer g.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go svc.Run(ctx, 10*time.Millisecond)

	errs, results := map[string]error{}, map[string]Result{}
	logs = map[string]*syncLog{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, name := range []string{"acme", "globex", "initech"} {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		inv, _ := ca.auth.Registry().Invite(name, time.Hour, time.Now(), nil)
		creds, err := enroll.Enroll(ctx, enroll.Options{Coordinator: lis.Addr().String(), Invite: inv.String(), Dir: t.TempDir(),
			Recipient: ca.id.Recipient(), ServerName: "localhost", IdentityKey: priv.Public().(ed25519.PublicKey)})
		if err != nil {
			t.Fatal(err)
		}
		dial, err := creds.DialOption("localhost")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(lis.Addr().String(), dial)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var train []dataset.Example
		for j := range 40 {
			train = append(train, dataset.Example{Text: fmt.Sprintf("order %d of %s", j, labels[j%2]), Label: labels[j%2]})
		}
		logs[name] = &syncLog{}
		c, err := New(Config{Tenant: name, Encoder: enc, Train: train, Test: train[:10], Spends: &MemSpendLog{},
			Policy:   Policy{Budget: Budget{Epsilon: 100, Delta: 1e-5}},
			Identity: priv, CA: creds.CA, Reconnect: time.Second, Rand: rand.Reader,
			Log: slog.New(slog.NewTextHandler(logs[name], nil))})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Run(ctx, api.NewFederationClient(conn))
			mu.Lock()
			errs[name], results[name] = err, res
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results, errs
}

// logs holds each tenant's log of the last federationCase.
var logs map[string]*syncLog

// syncLog is a log buffer safe for the client's goroutines.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *syncLog) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// An honest round over mutual TLS completes with the identity keys taken
// from the certificates; a coordinator that substitutes one tenant's
// identity key (alone, or with a forged certificate for it) is refused by
// every client before it spends, trains or advertises anything.
func TestCoordinatorCannotSubstituteIdentityKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	results, errs := federationCase(t, nil)
	for name, err := range errs {
		if err != nil || len(results[name].Rounds) != 1 || results[name].FinalVersion != 1 {
			t.Fatalf("honest coordinator: %s: %+v, %v (want one secure round and version 1)", name, results[name], err)
		}
	}
	evil, _, _ := ed25519.GenerateKey(rand.Reader)
	forged := map[string][]byte{}
	for _, n := range []string{"acme", "globex", "initech"} {
		forged[n] = forgeCert(t, n, evil)
	}
	for name, tc := range map[string]struct {
		tamper func(*api.TrainPlan)
		want   string
	}{
		"key": {func(p *api.TrainPlan) { p.CohortKeys[2] = evil }, "keys substituted"},
		"key and forged certificate": {func(p *api.TrainPlan) {
			p.CohortKeys[2], p.CohortCerts[2] = evil, forged[p.Cohort[2]]
		}, "does not verify against the pinned CA"},
	} {
		tampered, errs := federationCase(t, tc.tamper)
		if len(errs) != 3 {
			t.Fatalf("%s: %d results", name, len(errs))
		}
		// Every client declines the round before spending or training,
		// says why, and keeps running (a coordinator cannot make it
		// burn budget or exit).
		for tenant, err := range errs {
			res, log := tampered[tenant], logs[tenant].String()
			if err != nil || len(res.Rounds) != 0 || !slices.Contains(res.Declined, 1) || res.Epsilon != 0 {
				t.Errorf("%s: %s: err %v, result %+v: want round 1 declined, nothing spent", name, tenant, err, res)
			}
			if !strings.Contains(log, "refusing the secure session before spending") || !strings.Contains(log, tc.want) {
				t.Errorf("%s: %s: log lacks a refusal containing %q:\n%s", name, tenant, tc.want, log)
			}
		}
	}
}
