package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

// The operator runs the CA apart from the coordinator: `ca serve` holds
// the CA key and enrols tenants; the coordinator runs from the directory
// `ca export` made, which holds no CA private key, and refuses the CA
// directory itself. Tenants enrol with the CA service, then train over
// mutual TLS and secure aggregation with the coordinator; a revocation
// reaches the coordinator's registry view through the mirror.
func TestCAApartFromCoordinator(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	opArgs := secretIdentity(t, filepath.Join(dir, "operator"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	start := func(out *syncBuffer, args ...string) *exec.Cmd {
		t.Helper()
		c := exec.CommandContext(ctx, bin, args...)
		c.Stdout, c.Stderr = out, out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	run("data", "synth", "--out", filepath.Join(dir, "data"), "--tenants", "3", "--records", "1200", "--alpha", "5")
	ca, coordTLS := filepath.Join(dir, "ca"), filepath.Join(dir, "coord-tls")
	run(append([]string{"ca", "init", "--dir", ca}, opArgs...)...)
	run("ca", "export", "--dir", ca, "--out", coordTLS)
	if _, err := os.Stat(filepath.Join(coordTLS, "ca.key.age")); err == nil {
		t.Fatal("ca export copied the CA private key")
	}
	if b, _ := os.ReadFile(filepath.Join(coordTLS, "registry.json")); strings.Contains(string(b), "sha256") {
		t.Fatalf("the coordinator's registry view holds invitation hashes:\n%s", b)
	}
	// The coordinator refuses to run from the CA directory.
	if _, e, code := runCLI(t, append([]string{"coordinator", "--tls-dir", ca, "--labels", "a,b", "--listen", "127.0.0.1:0", "--workdir", filepath.Join(dir, "refused")}, opArgs...)...); code != 1 || !strings.Contains(e, "holds the CA private key") {
		t.Fatalf("coordinator on the CA directory: %d %q", code, e)
	}

	caAddr, coordAddr := freeAddr(t), freeAddr(t)
	var caOut, coordOut syncBuffer
	caSrv := start(&caOut, append([]string{"ca", "serve", "--dir", ca, "--listen", caAddr, "--mirror", filepath.Join(coordTLS, "registry.json")}, opArgs...)...)
	defer func() { caSrv.Process.Kill(); caSrv.Wait() }()
	coord := start(&coordOut, append([]string{"coordinator", "--tls-dir", coordTLS, "--listen", coordAddr,
		"--labels-from", filepath.Join(dir, "data", "labels.txt"), "--tenants", "3", "--min-clients", "3", "--rounds", "2",
		"--round-timeout", "20s", "--local-steps", "5", "--workdir", filepath.Join(dir, "coordinator")}, opArgs...)...)
	var outs [4]syncBuffer
	var clients []*exec.Cmd
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("tenant-%d", i)
		inv, err := exec.CommandContext(ctx, bin, "tenant", "invite", name, "--dir", ca).Output()
		if err != nil {
			t.Fatalf("invite %s: %v", name, err)
		}
		tok := filepath.Join(dir, name+".invite")
		os.WriteFile(tok, inv, 0o600)
		tArgs := secretIdentity(t, filepath.Join(dir, name+"-secrets"))
		tdir := filepath.Join(dir, name)
		// The CA service may still be starting: enrol waits for it.
		run(append([]string{"client", "enroll", "--coordinator", caAddr, "--token-file", tok, "--dir", filepath.Join(tdir, "tls"),
			"--workdir", tdir}, tArgs...)...)
		clients = append(clients, start(&outs[i], append([]string{"client", "--coordinator", coordAddr, "--tenant", name,
			"--data", filepath.Join(dir, "data", name+".csv"), "--workdir", tdir, "--tls-dir", filepath.Join(tdir, "tls")}, tArgs...)...))
	}
	for i, c := range clients {
		waitExit(t, fmt.Sprintf("tenant-%d", i+1), c, 0, &outs[i+1])
	}
	waitExit(t, "coordinator", coord, 0, &coordOut)
	if out := coordOut.String(); !strings.Contains(out, "finished: completed 2 rounds") {
		t.Fatalf("coordinator output:\n%s", out)
	}

	// Revoking a tenant at the CA reaches the coordinator's view.
	run("tenant", "revoke", "tenant-1", "--dir", ca)
	view, err := pki.OpenRegistry(coordTLS)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := certs.ReadCertificate(filepath.Join(dir, "tenant-1", "tls", "tenant.crt"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for view.Check("tenant-1", cert.SerialNumber.Text(16)) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("revocation did not reach the coordinator's registry view; ca serve said:\n%s", caOut.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := view.Check("tenant-2", mustSerial(t, filepath.Join(dir, "tenant-2", "tls", "tenant.crt"))); err != nil {
		t.Fatalf("tenant-2 no longer accepted: %v", err)
	}
}

func mustSerial(t *testing.T, path string) string {
	t.Helper()
	c, err := certs.ReadCertificate(path)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber.Text(16)
}
