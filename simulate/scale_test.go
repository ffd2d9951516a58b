package simulate

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"google.golang.org/grpc"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/client/enroll"
	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/privacy"
)

// TestScaleSeparateProcesses runs the coordinator as its own process
// (`fedb2b coordinator`, built for the test, with mutual TLS and
// enrolment on its port) and the tenants' real clients in this process,
// over gRPC/TLS on loopback, with SecAgg+ parameters from
// secagg.ChooseNeighbours for 5 % drop-outs, and 5 % of each round's
// cohort dropping before its masked input (so the coordinator
// reconstructs their pairwise masks). It logs each round's wall time, the
// coordinator's CPU time and resident memory per round (from /proc), and
// at the end both processes' peak RSS (VmHWM/ru_maxrss) and CPU time
// (rusage). By default it runs n = 20 tenants and a d = 990 adapter;
// FEDB2B_SCALE=1 runs the issue-19 shape (d = 100,020, 3 rounds) with
// FEDB2B_SCALE_TENANTS tenants (default 100):
//
// FEDB2B_SCALE_ROUNDS and FEDB2B_SCALE_TIMEOUT override the rounds and
// the stage timeout, FEDB2B_SCALE_NEIGHBOURS and FEDB2B_SCALE_THRESHOLD
// the SecAgg+ k and t, FEDB2B_SCALE_POLL the poll interval; without FEDB2B_SCALE, FEDB2B_SCALE_TENANTS sets n
// for the small adapter (a cheap run of the protocol at a larger n). The
// clients' warnings are counted and their errors logged as they happen;
// each secure stage's closing is logged with who was silent.
//
//	FEDB2B_SCALE=1 FEDB2B_SCALE_TENANTS=1000 nice -n 10 go test ./simulate -run '^TestScaleSeparateProcesses$' -v -timeout 3h
func TestScaleSeparateProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the fedb2b binary and runs it as a process")
	}
	tenants, rank, rounds, timeout := 20, 32, 2, 5*time.Second
	var err error
	scale := os.Getenv("FEDB2B_SCALE") == "1"
	if scale {
		tenants, rank, rounds = 100, loadRank, 3
	}
	if s := os.Getenv("FEDB2B_SCALE_TENANTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 20 {
			t.Fatalf("FEDB2B_SCALE_TENANTS=%q: want an integer ≥ 20", s)
		}
		tenants = n
	}
	if scale {
		// A stage waits this long for drop-outs; it must also exceed the
		// slowest stage's honest work, which grows with n·k (and with the
		// machine's other load).
		timeout = time.Duration(max(120, 3*tenants/10)) * time.Second
	}
	if s := os.Getenv("FEDB2B_SCALE_ROUNDS"); s != "" {
		if rounds, err = strconv.Atoi(s); err != nil || rounds < 1 {
			t.Fatalf("FEDB2B_SCALE_ROUNDS=%q: want a positive integer", s)
		}
	}
	if s := os.Getenv("FEDB2B_SCALE_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		timeout = d
	}
	const dropFrac = 0.05
	// Waiting clients poll every 2 ms per tenant (at least 100 ms): each
	// poll is an RPC under the federation's lock.
	retry := max(100*time.Millisecond, time.Duration(tenants)*2*time.Millisecond)
	if s := os.Getenv("FEDB2B_SCALE_POLL"); s != "" {
		if retry, err = time.ParseDuration(s); err != nil {
			t.Fatal(err)
		}
	}
	choice, err := secagg.ChooseNeighbours(tenants, dropFrac, secagg.Policy{}, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct {
		env string
		v   *int
	}{{"FEDB2B_SCALE_NEIGHBOURS", &choice.Neighbours}, {"FEDB2B_SCALE_THRESHOLD", &choice.Threshold}} {
		if s := os.Getenv(o.env); s != "" {
			if *o.v, err = strconv.Atoi(s); err != nil {
				t.Fatalf("%s=%q: %v", o.env, s, err)
			}
		}
	}
	watch := newClientWatch(t)
	perRound := int(math.Ceil(dropFrac * float64(tenants)))
	dir := t.TempDir()
	bin := filepath.Join(dir, "fedb2b")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/fedb2b").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: loadInputDim})
	if err != nil {
		t.Fatal(err)
	}
	data := scriptLabelled(dataset.Synthesize(dataset.SynthConfig{Seed: 1, Records: 20 * tenants}))
	labels, _ := dataset.LabelIndex(data)
	labelFile := filepath.Join(dir, "labels.txt")
	if err := os.WriteFile(labelFile, []byte(strings.Join(labels, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Tenants: tenants, Rounds: rounds, Data: data, Seed: 1, Encoder: enc, Rank: rank,
		LocalSteps: 3, SampleRate: 0.25, TargetEpsilon: 8, EpsilonCap: 10, RoundTimeout: timeout,
		EvalEpsilon: 0.5, WeightEpsilon: 0.05, Rand: privacy.SeededReader(2026), Log: watch.logger()}
	if err := cfg.fill(); err != nil {
		t.Fatal(err)
	}
	split, err := prepare(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	fed, err := classifyFederation(cfg, split)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(fed.Tenants))
	for i, td := range fed.Tenants {
		names[i] = td.Name
	}
	// 5 % of the tenants drop in each round, before their masked input.
	drops := map[string]*dropPoint{}
	for i, name := range names[:min(len(names)-3, perRound*rounds)] {
		drops[name] = &dropPoint{Round: 1 + i/perRound, Stage: "masked_input"}
	}

	// The operator's CA, and every invitation before the coordinator
	// loads the registry.
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	caDir := filepath.Join(dir, "ca")
	if err := pki.Init(caDir, pki.InitOptions{Recipient: id.Recipient(), Organization: "fedb2b scale test"}); err != nil {
		t.Fatal(err)
	}
	auth, err := pki.LoadAuthority(caDir, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	invites := make([]string, len(names))
	for i, name := range names {
		inv, err := auth.Registry().Invite(name, 3*time.Hour, time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		invites[i] = inv.String()
	}
	idFile := filepath.Join(dir, "secrets", "age-identity.txt")
	if err := os.MkdirAll(filepath.Dir(idFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The coordinator runs from the exported directory (no CA key); the CA
	// service, a third process, serves enrolment and mirrors the registry.
	tlsDir := filepath.Join(dir, "coordinator-tls")
	if err := pki.ExportServer(caDir, tlsDir); err != nil {
		t.Fatal(err)
	}
	addr, caAddr := scaleFreeAddr(t), scaleFreeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 170*time.Minute)
	defer cancel()
	defer watch.finish() // before cancel: clients that stop after the test do not log
	var caOut syncBuf
	caSrv := exec.CommandContext(ctx, bin, "ca", "serve", "--dir", caDir, "--listen", caAddr, "--identity", idFile,
		"--mirror", filepath.Join(tlsDir, "registry.json"), "--enroll-burst", fmt.Sprint(2*tenants))
	caSrv.Stdout, caSrv.Stderr = &caOut, &caOut
	if err := caSrv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { caSrv.Process.Signal(os.Interrupt); caSrv.Wait() }()
	coord := exec.CommandContext(ctx, bin, "coordinator", "--listen", addr, "--tls-dir", tlsDir, "--identity", idFile,
		"--labels-from", labelFile, "--tenants", fmt.Sprint(tenants), "--min-clients", fmt.Sprint(tenants-perRound*rounds),
		"--rounds", fmt.Sprint(rounds), "--round-timeout", timeout.String(), "--rank", fmt.Sprint(rank),
		"--encoder", fmt.Sprintf("hashing:%d", loadInputDim), "--local-steps", "3", "--q", "0.25", "--epsilon", "8",
		"--neighbours", fmt.Sprint(choice.Neighbours), "--threshold", fmt.Sprint(choice.Threshold),
		"--max-connections", fmt.Sprint(2*tenants+16), "--poll-retry", retry.String(), "--workdir", filepath.Join(dir, "coordinator"))
	out, err := coord.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	coord.Stderr = coord.Stdout
	if err := coord.Start(); err != nil {
		t.Fatal(err)
	}
	mon := &coordMonitor{pid: coord.Process.Pid, onLine: func(line string) {
		watch.logf("coordinator: %s\n    %s", shortLine(line), watch.summary())
	}}
	defer func() {
		if t.Failed() {
			watch.logf("%s\ncoordinator log (tail):\n%s", watch.summary(), tail(mon.text(), 8000))
		}
	}()
	lines := make(chan struct{})
	go func() { defer close(lines); mon.read(out) }()

	// Enrol every tenant with the coordinator process, then start them.
	waitListening(t, ctx, addr)
	waitListening(t, ctx, caAddr)
	start := time.Now()
	var stages stageClock
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	results := make([]client.Result, len(names))
	for i, td := range fed.Tenants {
		_, identity, err := ed25519.GenerateKey(cfg.Rand)
		if err != nil {
			t.Fatal(err)
		}
		key, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		creds, err := enroll.Enroll(ctx, enroll.Options{Coordinator: caAddr, Invite: invites[i], Dir: filepath.Join(dir, td.Name, "tls"),
			Recipient: key.Recipient(), ServerName: "localhost", IdentityKey: identity.Public().(ed25519.PublicKey)})
		if err != nil {
			t.Fatalf("enrol %s: %v\n%s\n%s", td.Name, err, caOut.String(), mon.text())
		}
		opt, err := creds.DialOption("localhost")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(addr, opt)
		if err != nil {
			t.Fatal(err)
		}
		cc, err := tenantClientConfig(cfg, tenantRef{name: td.Name, learner: td.Learner}, &client.MemSpendLog{}, drops[td.Name], identity, creds.CA)
		if err != nil {
			t.Fatal(err)
		}
		inner := cc.Hooks.BeforeStage
		cc.Hooks.BeforeStage = func(round int, stage string) error {
			if inner != nil {
				if err := inner(round, stage); err != nil {
					return err
				}
			}
			stages.mark(round, stage)
			return nil
		}
		c, err := client.New(cc)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		watch.started()
		go func() {
			defer wg.Done()
			defer conn.Close()
			results[i], errs[i] = c.Run(ctx, api.NewFederationClient(conn))
			watch.stopped(td.Name, errs[i], errors.Is(errs[i], errKilled))
		}()
	}
	enrolled := time.Since(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, errKilled) {
			t.Errorf("%s: %v", names[i], err)
		}
	}
	if err := coord.Wait(); err != nil {
		t.Fatalf("coordinator: %v", err) // its log's tail is printed on failure
	}
	<-lines
	total := time.Since(start)
	log := mon.text()
	if !strings.Contains(log, fmt.Sprintf("finished: completed %d rounds", rounds)) {
		t.Fatalf("the federation did not complete %d rounds:\n%s", rounds, tail(log, 4000))
	}
	agg := mon.aggregated()
	if len(agg) != rounds {
		t.Fatalf("%d rounds aggregated, want %d:\n%s", len(agg), rounds, tail(log, 4000))
	}
	for r, a := range agg {
		wantDropped := 0
		for _, d := range drops {
			if d.Round == r+1 {
				wantDropped++
			}
		}
		if a.dropped != wantDropped {
			t.Errorf("round %d: %d tenants dropped, planned %d", r+1, a.dropped, wantDropped)
		}
	}
	for i, r := range results {
		if drops[names[i]] == nil && len(r.Rounds) != rounds {
			t.Errorf("%s trained in rounds %v, want all %d", names[i], r.Rounds, rounds)
		}
	}

	cu := coord.ProcessState.SysUsage().(*syscall.Rusage)
	var self syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
		t.Fatal(err)
	}
	d := loadClasses*rank + loadClasses
	t.Logf("n=%d d=%d k=%d t=%d c=%d (union bound on a neighbourhood losing more than k−t: 2^%.1f) drops/round=%d at masked_input stage-timeout=%s poll-retry=%s GOMAXPROCS=%d load=%s",
		tenants, d, choice.Neighbours, choice.Threshold, choice.MaxCorrupt, choice.FailLog2, perRound, timeout, retry, runtime.GOMAXPROCS(0), loadAvg())
	t.Logf("enrolment of %d tenants over TLS: %.1f s", tenants, enrolled.Seconds())
	for r, a := range agg {
		wait := stages.dropWait(r+1, timeout)
		t.Logf("round %d: %.1f s wall (plan to aggregate), of which ≈ %.1f s waiting for the %d drop-outs' masked inputs; coordinator CPU %.1f s, RSS %.0f MiB at aggregation",
			r+1, a.wall.Seconds(), wait.Seconds(), a.dropped, a.cpu.Seconds(), float64(a.rssKB)/1024)
	}
	t.Logf("total %.1f s; coordinator process: peak RSS %.0f MiB (VmHWM at its last log line; rusage says %.0f MiB, which counts this process's RSS at the fork), CPU %.1f s user + %.1f s system; clients' process (%d clients): peak RSS %.0f MiB, CPU %.1f s user + %.1f s system",
		total.Seconds(), float64(mon.peakKB())/1024, float64(cu.Maxrss)/1024, tv(cu.Utime), tv(cu.Stime), tenants, float64(self.Maxrss)/1024, tv(self.Utime), tv(self.Stime))
}
