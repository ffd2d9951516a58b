package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/coordinator/store"
)

// syncBuffer is a bytes.Buffer safe for a process writing while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCoordinatorKilledAndRestarted kills the coordinator with SIGKILL
// after its first round, while the second is under way, and restarts it on
// the same directory. It resumes from the stored version, aborts the
// interrupted round, the clients rejoin, the federation finishes all its
// rounds with each finished round recorded once, and every ledger verifies.
func TestCoordinatorKilledAndRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	if out, err := exec.Command(bin, "data", "synth", "--out", filepath.Join(dir, "data"), "--tenants", "4", "--records", "1600", "--alpha", "5").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	addr := freeAddr(t)
	keyArgs := secretIdentity(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	coordinator := func(out *syncBuffer) *exec.Cmd {
		c := exec.CommandContext(ctx, bin, append([]string{"coordinator", "--listen", addr, "--labels-from", filepath.Join(dir, "data", "labels.txt"),
			"--tenants", "4", "--min-clients", "3", "--rounds", "4", "--round-timeout", "5s", "--local-steps", "10",
			"--workdir", filepath.Join(dir, "coordinator"), "--insecure-no-tls"}, keyArgs...)...)
		c.Stdout, c.Stderr = out, out
		return c
	}
	var first, second syncBuffer
	c1 := coordinator(&first)
	if err := c1.Start(); err != nil {
		t.Fatal(err)
	}
	var outs [5]syncBuffer
	var clients []*exec.Cmd
	for i := 1; i <= 4; i++ {
		c := exec.CommandContext(ctx, bin, append([]string{"client", "--coordinator", addr, "--tenant", fmt.Sprintf("tenant-%d", i),
			"--data", filepath.Join(dir, "data", fmt.Sprintf("tenant-%d.csv", i)), "--workdir", filepath.Join(dir, fmt.Sprintf("tenant-%d", i)),
			"--insecure-no-tls", "--epsilon-cap", "12"}, keyArgs...)...) // room for the round the crash wastes
		c.Stdout, c.Stderr = &outs[i], &outs[i]
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	// Kill the coordinator once round 1 is evaluated (round 2 is running).
	for !strings.Contains(first.String(), "round 1: version 1") {
		if ctx.Err() != nil {
			t.Fatalf("round 1 never finished:\n%s", first.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	c1.Process.Signal(syscall.SIGKILL)
	c1.Wait()
	c2 := coordinator(&second)
	if err := c2.Start(); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		if err := c.Wait(); err != nil {
			t.Fatalf("tenant-%d: %v\n%s", i+1, err, outs[i+1].String())
		}
	}
	if err := c2.Wait(); err != nil {
		t.Fatalf("restarted coordinator: %v\n%s", err, second.String())
	}
	if !strings.Contains(second.String(), "resumed from stored version 1") {
		t.Errorf("restart did not resume from version 1:\n%s", second.String())
	}
	if !strings.Contains(second.String(), "finished: completed 4 rounds") {
		t.Errorf("restarted federation did not finish its rounds:\n%s", second.String())
	}
	st, err := store.Open(filepath.Join(dir, "coordinator", "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rounds, err := st.Rounds()
	if err != nil {
		t.Fatal(err)
	}
	finished, aborted := 0, 0
	for _, r := range rounds {
		switch r.Outcome {
		case store.Finished:
			finished++
		case store.Aborted:
			aborted++
		}
	}
	if v, _, _ := st.LatestVersion(); finished != 4 || v != 4 {
		t.Errorf("store: %d finished rounds, latest version %d; want 4 and 4 (%+v)", finished, v, rounds)
	}
	if aborted < 1 {
		t.Errorf("the interrupted round was not recorded as aborted: %+v", rounds)
	}
	verifyPartyLedgers(t, dir, "coordinator", "tenant-1", "tenant-2", "tenant-3", "tenant-4")
}
