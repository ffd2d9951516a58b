package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/privacy/audit"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// buildBinary compiles fedb2b into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fedb2b")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestClientKilledBetweenLedgerAndSend kills a tenant's client process
// right after its round-1 spend is durable in its ledger and before it
// sends anything, then restarts it. The spend is on record and counted,
// the restarted client does not release round 1 again, the federation
// finishes, and the auditor's verification of all ledgers passes.
func TestClientKilledBetweenLedgerAndSend(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	run := func(args ...string) string {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("data", "synth", "--out", filepath.Join(dir, "data"), "--tenants", "4", "--records", "1600", "--alpha", "5")
	addr := freeAddr(t)
	keyArgs := secretIdentity(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var coordOut bytes.Buffer
	coord := exec.CommandContext(ctx, bin, append([]string{"coordinator", "--listen", addr, "--labels-from", filepath.Join(dir, "data", "labels.txt"),
		"--tenants", "4", "--min-clients", "3", "--rounds", "3", "--round-timeout", "4s", "--local-steps", "10",
		"--workdir", filepath.Join(dir, "coordinator"), "--insecure-no-tls"}, keyArgs...)...)
	coord.Stdout, coord.Stderr = &coordOut, &coordOut
	if err := coord.Start(); err != nil {
		t.Fatal(err)
	}
	client := func(i int, fault string) *exec.Cmd {
		c := exec.CommandContext(ctx, bin, append([]string{"client", "--coordinator", addr, "--tenant", fmt.Sprintf("tenant-%d", i),
			"--data", filepath.Join(dir, "data", fmt.Sprintf("tenant-%d.csv", i)), "--workdir", filepath.Join(dir, fmt.Sprintf("tenant-%d", i)), "--insecure-no-tls"}, keyArgs...)...)
		c.Env = append(os.Environ(), "FEDB2B_FAULT="+fault)
		return c
	}
	var outs [5]bytes.Buffer
	var clients []*exec.Cmd
	for i := 1; i <= 3; i++ {
		c := client(i, "")
		c.Stdout, c.Stderr = &outs[i], &outs[i]
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	crash := client(4, "exit-after-ledger:1")
	out, err := crash.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("faulty client: want exit status 3, got %v\n%s", err, out)
	}
	led4 := filepath.Join(dir, "tenant-4", "ledger.jsonl")
	entries, err := ledger.ReadFile(led4)
	// The round's intents: its DP-SGD and its noised example count.
	if err != nil || len(entries) != 2 || entries[0].Mechanism != ledger.MechDPSGD || entries[1].Mechanism != ledger.MechScalarGaussian ||
		entries[0].Status != ledger.StatusIntent || entries[1].Status != ledger.StatusIntent || entries[0].Round != 1 || entries[1].Round != 1 {
		t.Fatalf("after the crash the ledger holds %+v (%v), want the round-1 intents of DP-SGD and of the noised count", entries, err)
	}
	again := client(4, "")
	again.Stdout, again.Stderr = &outs[4], &outs[4]
	if err := again.Run(); err != nil {
		t.Fatalf("restarted client: %v\n%s", err, outs[4].String())
	}
	for i, c := range clients {
		if err := c.Wait(); err != nil {
			t.Fatalf("tenant-%d: %v\n%s", i+1, err, outs[i+1].String())
		}
	}
	if err := coord.Wait(); err != nil {
		t.Fatalf("coordinator: %v\n%s", err, coordOut.String())
	}
	if !strings.Contains(outs[4].String(), "counted as spent, not released again") {
		t.Errorf("restarted client did not report the pending spend:\n%s", outs[4].String())
	}
	// Round 1 was declined after the restart (or was over), never sent
	// twice. (The restarted client may have evaluated round 1's model: a
	// noised-evaluation intent and release, which are not training.)
	entries, _ = ledger.ReadFile(led4)
	var r1 int
	for _, e := range entries {
		if e.Round == 1 && training(entries, e) {
			r1++
			if e.Status != ledger.StatusIntent {
				t.Errorf("round 1 has a release entry: %+v", e)
			}
		}
	}
	if r1 != 1 {
		t.Errorf("tenant-4 has %d round-1 entries, want the one intent", r1)
	}
	coordEntries, err := ledger.ReadFile(filepath.Join(dir, "coordinator", "ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range coordEntries {
		if e.Tenant == "tenant-4" && e.Round == 1 && (e.Kind == ledger.KindUpdate || e.Kind == ledger.KindMaskedInput) {
			t.Errorf("the coordinator recorded a round-1 update from the crashed tenant: %+v", e)
		}
	}
	// The auditor's view: everything verifies and the crashed round counts.
	res := verifyPartyLedgers(t, dir, "coordinator", "tenant-1", "tenant-2", "tenant-3", "tenant-4")
	for _, b := range res.Budgets {
		if b.Party == "tenant-4" && b.Tenant == "tenant-4" && b.Pending != 2 {
			t.Errorf("tenant-4 budget: %d pending intents, want 2 (the crashed round's DP-SGD and noised count, counted)", b.Pending)
		}
	}
}

// verifyPartyLedgers runs the auditor's verification over each party's
// ledger and public key under dir/party and fails the test if it fails.
func verifyPartyLedgers(t *testing.T, dir string, parties ...string) audit.Result {
	t.Helper()
	var paths []string
	var trusted []audit.TrustedKey
	for _, p := range parties {
		paths = append(paths, filepath.Join(dir, p, "ledger.jsonl"))
		pub, err := keys.ReadPublic(filepath.Join(dir, p, "signing.pub"))
		if err != nil {
			t.Fatal(err)
		}
		trusted = append(trusted, audit.TrustedKey{Party: p, Key: pub})
	}
	res := audit.Verify(audit.Load(paths...), trusted)
	if f, bad := res.First(); bad || !res.OK {
		t.Fatalf("audit failed: %+v", f)
	}
	return res
}
