package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// party is one process of the end-to-end run and what it cost.
type party struct {
	name string
	cmd  *exec.Cmd
	out  syncBuffer
	wall time.Duration
}

func (p *party) start(t *testing.T) {
	t.Helper()
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func (p *party) usage() string {
	ru := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
	return fmt.Sprintf("%s: %.1f s wall, %.1f s CPU, peak RSS %.0f MiB", p.name, p.wall.Seconds(), cpu, float64(ru.Maxrss)/1024)
}

// TestBigAdapterEndToEnd runs a whole federation as separate processes of
// the built binary — the CA service, the coordinator (from its exported
// TLS directory) and each tenant's client, enrolled with invitations over
// mutual TLS — training the linear head over hashing:DIM features with
// secure aggregation, and logs each party's wall time, CPU time and peak
// RSS. By default DIM = 64 (d = 975); FEDB2B_1E7=1 takes DIM = 666,666,
// so d = 15·666,666 + 15 = 10,000,005 (a 40 MB masked input and an 80 MB
// model download per round, all in 1 MiB chunks):
//
//	FEDB2B_1E7=1 nice -n 10 go test ./cmd/fedb2b -run '^TestBigAdapterEndToEnd$' -v -timeout 60m
//
// FEDB2B_1E7_ONE_ROUND=1 runs one round; every party inherits GOMEMLIMIT.
func TestBigAdapterEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	dim, tenants, rounds := 64, 3, 2
	if os.Getenv("FEDB2B_1E7") == "1" {
		dim = 666_666
		if os.Getenv("FEDB2B_1E7_ONE_ROUND") == "1" {
			rounds = 1
		}
	}
	d := 15*dim + 15
	bin := buildBinary(t)
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		var stderr syncBuffer
		c := exec.Command(bin, args...)
		c.Stderr = &stderr
		out, err := c.Output()
		if err != nil {
			t.Fatalf("fedb2b %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		return string(out)
	}
	run("data", "synth", "--out", filepath.Join(dir, "data"), "--tenants", fmt.Sprint(tenants), "--records", fmt.Sprint(600*tenants))
	key := secretIdentity(t, dir)
	ca, tlsDir := filepath.Join(dir, "ca"), filepath.Join(dir, "coordinator-tls")
	run(append([]string{"ca", "init", "--dir", ca}, key...)...)
	run("ca", "export", "--dir", ca, "--out", tlsDir)
	caAddr, addr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Minute)
	defer cancel()
	caSrv := &party{name: "ca", cmd: exec.CommandContext(ctx, bin, append([]string{"ca", "serve", "--dir", ca, "--listen", caAddr,
		"--mirror", filepath.Join(tlsDir, "registry.json")}, key...)...)}
	caSrv.start(t)
	defer func() { caSrv.cmd.Process.Signal(os.Interrupt); caSrv.cmd.Wait() }()
	enc := fmt.Sprintf("hashing:%d", dim)
	coord := &party{name: "coordinator", cmd: exec.CommandContext(ctx, bin, append([]string{"coordinator", "--listen", addr, "--tls-dir", tlsDir,
		"--labels-from", filepath.Join(dir, "data", "labels.txt"), "--tenants", fmt.Sprint(tenants), "--min-clients", fmt.Sprint(tenants),
		"--rounds", fmt.Sprint(rounds), "--round-timeout", "10m", "--adapter", "linear", "--encoder", enc, "--local-steps", "3",
		"--workdir", filepath.Join(dir, "coordinator")}, key...)...)}
	start := time.Now()
	coord.start(t)
	var clients []*party
	for i := 1; i <= tenants; i++ {
		name := fmt.Sprintf("tenant-%d", i)
		inv := filepath.Join(dir, "invite-"+name)
		if err := os.WriteFile(inv, []byte(run("tenant", "invite", name, "--dir", ca)), 0o600); err != nil {
			t.Fatal(err)
		}
		work := filepath.Join(dir, name)
		run(append([]string{"client", "enroll", "--coordinator", caAddr, "--token-file", inv, "--dir", filepath.Join(work, "tls"),
			"--workdir", work}, key...)...)
		c := &party{name: name, cmd: exec.CommandContext(ctx, bin, append([]string{"client", "--coordinator", addr, "--tenant", name,
			"--data", filepath.Join(dir, "data", name+".csv"), "--workdir", work, "--tls-dir", filepath.Join(work, "tls"),
			"--encoder", enc}, key...)...)}
		c.start(t)
		clients = append(clients, c)
	}
	for _, p := range append(clients, coord) {
		err := p.cmd.Wait()
		p.wall = time.Since(start)
		if err != nil {
			t.Fatalf("%s: %v\n%s", p.name, err, p.out.String())
		}
	}
	log := coord.out.String()
	if !strings.Contains(log, fmt.Sprintf("finished: completed %d rounds", rounds)) {
		t.Fatalf("the federation did not finish:\n%s", log)
	}
	for r := 1; r <= rounds; r++ {
		if !strings.Contains(log, fmt.Sprintf("round %d: version %d", r, r)) {
			t.Errorf("round %d was not aggregated and evaluated:\n%s", r, log)
		}
	}
	t.Logf("d = %d (linear head, %s), %d tenants, %d rounds, SecAgg+ over mutual TLS, GOMEMLIMIT=%q, load %s", d, enc, tenants, rounds, os.Getenv("GOMEMLIMIT"), loadAverage())
	for _, p := range append([]*party{coord}, clients...) {
		t.Log(p.usage())
	}
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
