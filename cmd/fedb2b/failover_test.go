package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/coordinator/store"
	"github.com/fedb2b/fedb2b/coordinator/store/pgstore"
	"github.com/fedb2b/fedb2b/internal/pgtest"
)

// failoverLongEnv, when set, makes TestFailover also run a chain of three
// coordinators per stage: the first SIGKILLed in round 1, the second (a
// standby that took over) in round 2 of the same stage, the third
// finishing; and runs TestFailoverRefusesForeignLedger.
const failoverLongEnv = "FEDB2B_FAILOVER_LONG"

// TestFailover runs two coordinator processes on one PostgreSQL database
// (a real server: see package pgtest) and four real clients that know
// both addresses. The first coordinator takes the lease and leads; the
// second waits as a standby. The leader is SIGKILLed at a stage of round
// 2 (every stage, one case each); the standby takes over once the lease
// expires, resumes exactly as a restarted coordinator does, and finishes
// the federation. The checks are the stage-fault test's
// (checkFederationIn, checkCoordinatorFault): versions 1..N once each,
// survivors = tenants whose ledgers released = tenants charged, every
// ledger verifies; plus the database's own Verify, one takeover (epoch
// 2), and the interrupted round named in the takeover's output.
func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	pgtest.Database(t) // skip (or fail under CI=true) before building without a server
	bin := buildBinary(t)
	for _, stage := range []string{"train", "share_keys", "check_shares", "masked_input", "consistency", "unmask", "evaluate"} {
		t.Run(stage, func(t *testing.T) {
			t.Parallel()
			p, rounds, outs := failoverCase(t, bin, []string{fmt.Sprintf("kill-at:%d:%s", faultRound, stage), ""})
			checkCoordinatorFault(t, p.dir, stage, rounds)
			want := fmt.Sprintf("interrupted rounds [%d] were aborted, next round is %d", faultRound, faultRound+1)
			if stage == "evaluate" {
				want = fmt.Sprintf("resumed from stored version %d after %d finished rounds; interrupted rounds [] were aborted, next round is %d", faultRound, faultRound, faultRound+1)
			}
			if !strings.Contains(outs[1].String(), want) {
				t.Errorf("the standby's takeover did not say %q:\n%s", want, outs[1].String())
			}
		})
	}
	if os.Getenv(failoverLongEnv) == "" {
		return
	}
	for _, stage := range []string{"train", "share_keys", "masked_input", "consistency", "unmask", "evaluate"} {
		t.Run("chain/"+stage, func(t *testing.T) {
			t.Parallel()
			p, rounds, _ := failoverCase(t, bin, []string{fmt.Sprintf("kill-at:1:%s", stage), fmt.Sprintf("kill-at:2:%s", stage), ""})
			checkCoordinatorFault(t, p.dir, stage, rounds)
		})
	}
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// failoverCase starts one coordinator per fault on one new database (the
// first leads, the second waits as its standby; each later one starts as
// a standby once the one before it leads), then the clients with every
// coordinator's address. Every coordinator but the
// last must die by SIGKILL at its fault; the last must finish the
// federation. It checks the federation (checkFederationIn), the
// database's invariants and that there was one takeover per kill, and
// returns the processes, the stored rounds and each coordinator's output.
func failoverCase(t *testing.T, bin string, faults []string) (*fedProcs, []store.RoundRecord, []*syncBuffer) {
	dsn := pgtest.Database(t)
	p := newFedProcs(t, bin)
	// The lease outlives a 1 s stall of a loaded machine (renewals every
	// ttl/3) and keeps the takeover quick.
	p.coordArgs = []string{"--store", dsn, "--lease-ttl", "3s"}
	addrs := []string{p.addr}
	for range faults[1:] {
		addrs = append(addrs, freeAddr(t))
	}
	p.clientAddrs = strings.Join(addrs, ",")
	outs := make([]*syncBuffer, len(faults))
	coords := make([]*exec.Cmd, len(faults))
	// start starts coordinator i, which must become leader (i == 0) or
	// wait as a standby of leader.
	start := func(i, leader int) {
		outs[i] = new(syncBuffer)
		coords[i] = p.coordinatorAt(addrs[i], faults[i], outs[i])
		if i == leader {
			waitOutput(t, outs[i], "coordinator: leader")
			return
		}
		waitOutput(t, outs[i], "coordinator: standby on")
		checkStandby(t, addrs[i], addrs[leader])
	}
	// One standby at a time, so the takeover order is the faults' order.
	start(0, 0)
	start(1, 0)
	var clientOuts [faultTenants + 1]syncBuffer
	var clients []*exec.Cmd
	for i := 1; i <= faultTenants; i++ {
		clients = append(clients, p.client(i, "", &clientOuts[i]))
	}
	for i := range len(faults) - 1 {
		err := coords[i].Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("coordinator %d (%s) ended with %v, want SIGKILL at its fault\n%s", i+1, faults[i], err, outs[i].String())
		}
		if i+2 < len(faults) {
			waitOutput(t, outs[i+1], "coordinator: leader")
			start(i+2, i+1)
		}
	}
	for i, c := range clients {
		waitExit(t, fmt.Sprintf("tenant-%d", i+1), c, 0, &clientOuts[i+1])
	}
	last := len(coords) - 1
	waitExit(t, "the last coordinator", coords[last], 0, outs[last])
	if !strings.Contains(outs[last].String(), fmt.Sprintf("finished: completed %d rounds", faultRounds)) {
		t.Errorf("the federation did not finish its rounds:\n%s", outs[last].String())
	}
	st, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rounds := checkFederationIn(t, st, p.dir, tenantNames(faultTenants)...)
	if err := st.Verify(); err != nil {
		t.Error(err)
	}
	// One epoch per leader: the first, then one per takeover.
	if l, err := st.Lease(context.Background()); err != nil || l.Epoch != int64(len(faults)) {
		t.Errorf("lease %+v (%v): want epoch %d, one per leader", l, err, len(faults))
	}
	return p, rounds, outs
}

// waitOutput waits until out contains want (a minute at most).
func waitOutput(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(out.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", want, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkStandby checks what a standby at addr answers: gRPC health
// NOT_SERVING, and Unavailable naming the leader's address to a
// federation call.
func checkStandby(t *testing.T, addr, leader string) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || h.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("standby health: %v %v, want NOT_SERVING", h, err)
	}
	_, err = api.NewFederationClient(conn).Poll(ctx, &api.PollRequest{Tenant: "tenant-1"})
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "the leader is at "+leader) {
		t.Errorf("standby's answer to Poll: %v, want Unavailable naming the leader %s", err, leader)
	}
}

// TestFailoverPausedLeader attacks split brain: the leader is paused
// (SIGSTOP) in round 2 until a standby has taken its lease, then resumed
// (SIGCONT), as a leader frozen by a long GC pause or a VM migration
// would be. The old leader must stop (exit status 4: its renewal is
// refused, or its next store write is fenced) without applying anything;
// while it is alive, the new leader waits for the shared ledger's lock
// rather than write beside it; the federation then finishes under the
// new leader with the stage-fault test's invariants.
func TestFailoverPausedLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	t.Parallel() // the processes mostly wait for deadlines
	dsn := pgtest.Database(t)
	bin := buildBinary(t)
	p := newFedProcs(t, bin)
	p.coordArgs = []string{"--store", dsn, "--lease-ttl", "2s"}
	addrB := freeAddr(t)
	p.clientAddrs = p.addr + "," + addrB
	var outA, outB syncBuffer
	a := p.coordinatorAt(p.addr, "", &outA)
	waitOutput(t, &outA, "coordinator: leader")
	httpB := freeAddr(t)
	p.coordArgs = append(p.coordArgs, "--http", httpB)
	b := p.coordinatorAt(addrB, "", &outB)
	waitOutput(t, &outB, "coordinator: standby on")
	if code, body := httpGet(t, "http://"+httpB+"/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "standby") || !strings.Contains(body, p.addr) {
		t.Errorf("standby's /healthz: %d %q, want 503 naming the leader %s", code, body, p.addr)
	}
	var clientOuts [faultTenants + 1]syncBuffer
	var clients []*exec.Cmd
	for i := 1; i <= faultTenants; i++ {
		clients = append(clients, p.client(i, "", &clientOuts[i]))
	}
	waitOutput(t, &outA, "round 1: version 1")
	if err := a.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, &outB, "coordinator: leader")
	waitOutput(t, &outB, "waiting for the previous leader's process to release the ledger")
	if err := a.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitExit(t, "the paused leader", a, exitLeaseLost, &outA)
	waitOutput(t, &outB, "dashboard on")
	if code, body := httpGet(t, "http://"+httpB+"/healthz"); code != http.StatusOK {
		t.Errorf("the new leader's /healthz: %d %q, want 200", code, body)
	}
	if !strings.Contains(outA.String(), "lost the leader lease") {
		t.Errorf("the paused leader did not say why it stopped:\n%s", outA.String())
	}
	for i, c := range clients {
		waitExit(t, fmt.Sprintf("tenant-%d", i+1), c, 0, &clientOuts[i+1])
	}
	waitExit(t, "the new leader", b, 0, &outB)
	if !strings.Contains(outB.String(), fmt.Sprintf("finished: completed %d rounds", faultRounds)) {
		t.Errorf("the federation did not finish its rounds:\n%s", outB.String())
	}
	st, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkFederationIn(t, st, p.dir, tenantNames(faultTenants)...)
	if err := st.Verify(); err != nil {
		t.Error(err)
	}
	if l, err := st.Lease(context.Background()); err != nil || l.Epoch != 2 {
		t.Errorf("lease %+v (%v): want epoch 2", l, err)
	}
}

// TestFailoverRefusesForeignLedger: a standby whose --workdir is not the
// leader's (so its ledger lacks the entries the leader wrote) refuses to
// take over, saying why, instead of running rounds with a ledger that an
// audit would find incomplete; it changes nothing in the database.
func TestFailoverRefusesForeignLedger(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	if os.Getenv(failoverLongEnv) == "" {
		t.Skipf("the guard is tested in-process by TestLedgerHeadGuard; set %s=1 for this process-level run", failoverLongEnv)
	}
	t.Parallel() // the processes mostly wait for deadlines
	dsn := pgtest.Database(t)
	bin := buildBinary(t)
	p := newFedProcs(t, bin)
	p.coordArgs = []string{"--store", dsn, "--lease-ttl", "2s"}
	addrB := freeAddr(t)
	p.clientAddrs = p.addr + "," + addrB
	var outA, outB syncBuffer
	a := p.coordinatorAt(p.addr, "kill-at:1:evaluate", &outA) // round 1 committed, its inputs in the ledger
	waitOutput(t, &outA, "coordinator: leader")
	p.coordArgs = append(p.coordArgs, "--workdir", t.TempDir())
	b := p.coordinatorAt(addrB, "", &outB)
	waitOutput(t, &outB, "coordinator: standby on")
	var clientOuts [faultTenants + 1]syncBuffer
	for i := 1; i <= faultTenants; i++ {
		p.client(i, "", &clientOuts[i]) // killed when the test ends
	}
	err := a.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("leader ended with %v, want SIGKILL\n%s", err, outA.String())
	}
	waitExit(t, "the standby with another ledger", b, 1, &outB)
	if !strings.Contains(outB.String(), "the coordinators must share --workdir") {
		t.Errorf("the standby did not say why it refused:\n%s", outB.String())
	}
	st, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rounds, err := st.Rounds()
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := st.LatestVersion(); v != 1 || len(rounds) != 1 || rounds[0].Outcome != store.Finished {
		t.Errorf("the refusing standby changed the state: latest version %d, rounds %+v", v, rounds)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}
