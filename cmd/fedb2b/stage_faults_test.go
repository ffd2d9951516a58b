package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/fedb2b/fedb2b/coordinator/store"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// The process fault tests of this file run a coordinator and four tenants'
// clients as subprocesses on loopback (secure aggregation, no TLS), make one
// process exit with status 3 at a chosen round stage through FEDB2B_FAULT
// (see parseCoordinatorFault and faultHooks), and check the outcome with
// checkFederation.
//
// What "the global model is the same as a run without the fault would
// accept" is checked as (DP noise is random, so two runs never give equal
// bits): the store holds exactly faultRounds finished rounds, each round
// number once, whose new versions are exactly 1..faultRounds (every
// finished round applied once, on top of the one before) and the latest
// version is faultRounds; every finished round's survivors (the tenants in
// its sum) are exactly the tenants whose own ledger released a record-level
// spend for that round, and each is among those the coordinator's ledger
// records it received an update or masked input from; every release a
// tenant's ledger holds, in any round (aborted ones too), is one the
// coordinator's ledger records it received, with the same artefact hash;
// the coordinator's ledger holds only received entries (no budgets); and
// the auditor's verification of all five ledgers passes. Releases a tenant
// made in a round the crash aborted stay in its ledger as real spends.

const (
	faultTenants = 4
	faultRounds  = 3
	faultRound   = 2 // the round each fault hits
)

// fedProcs runs one federation's processes in a test directory.
type fedProcs struct {
	t    *testing.T
	bin  string
	dir  string
	addr string
	ctx  context.Context
	// coordArgs are extra coordinator flags.
	coordArgs []string
	// keyArgs protect every party's signing key.
	keyArgs []string
	// clientAddrs is the clients' --coordinator (addr if empty).
	clientAddrs string
}

func newFedProcs(t *testing.T, bin string) *fedProcs {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command(bin, "data", "synth", "--out", filepath.Join(dir, "data"), "--tenants", fmt.Sprint(faultTenants),
		"--records", "1600", "--alpha", "5").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return &fedProcs{t: t, bin: bin, dir: dir, addr: freeAddr(t), ctx: ctx, keyArgs: secretIdentity(t, dir)}
}

// secretIdentity writes an age identity to dir/secrets (apart from every
// party's workdir) and returns the flags that protect signing keys with it.
func secretIdentity(t *testing.T, dir string) []string {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "secrets", "age-identity.txt")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--identity", path}
}

// coordinator starts the coordinator with fault in FEDB2B_FAULT ("" for none).
func (p *fedProcs) coordinator(fault string, out *syncBuffer) *exec.Cmd {
	p.t.Helper()
	return p.coordinatorAt(p.addr, fault, out)
}

// coordinatorAt starts a coordinator listening on addr.
func (p *fedProcs) coordinatorAt(addr, fault string, out *syncBuffer) *exec.Cmd {
	p.t.Helper()
	args := append([]string{"coordinator", "--listen", addr, "--labels-from", filepath.Join(p.dir, "data", "labels.txt"),
		"--tenants", fmt.Sprint(faultTenants), "--min-clients", "3", "--rounds", fmt.Sprint(faultRounds), "--round-timeout", "4s",
		"--local-steps", "10", "--workdir", filepath.Join(p.dir, "coordinator"), "--insecure-no-tls"}, append(p.keyArgs, p.coordArgs...)...)
	c := exec.CommandContext(p.ctx, p.bin, args...)
	c.Env = append(os.Environ(), "FEDB2B_FAULT="+fault)
	c.Stdout, c.Stderr = out, out
	if err := c.Start(); err != nil {
		p.t.Fatal(err)
	}
	return c
}

// client starts tenant-i's client with fault in FEDB2B_FAULT.
func (p *fedProcs) client(i int, fault string, out *syncBuffer) *exec.Cmd {
	p.t.Helper()
	addrs := p.clientAddrs
	if addrs == "" {
		addrs = p.addr
	}
	args := append([]string{"client", "--coordinator", addrs, "--tenant", fmt.Sprintf("tenant-%d", i),
		"--data", filepath.Join(p.dir, "data", fmt.Sprintf("tenant-%d.csv", i)), "--workdir", filepath.Join(p.dir, fmt.Sprintf("tenant-%d", i)),
		"--insecure-no-tls", "--epsilon-cap", "12"}, p.keyArgs...) // room for a round a crash wastes
	c := exec.CommandContext(p.ctx, p.bin, args...)
	c.Env = append(os.Environ(), "FEDB2B_FAULT="+fault)
	c.Stdout, c.Stderr = out, out
	if err := c.Start(); err != nil {
		p.t.Fatal(err)
	}
	return c
}

// waitExit waits for c and fails unless it exited with status code.
func waitExit(t *testing.T, what string, c *exec.Cmd, code int, out *syncBuffer) {
	t.Helper()
	err := c.Wait()
	got := 0
	if ee, ok := err.(*exec.ExitError); ok {
		got = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, out.String())
	}
	if got != code {
		t.Fatalf("%s: exit status %d, want %d\n%s", what, got, code, out.String())
	}
}

// TestStageFaults kills the coordinator at each stage of round 2 (and
// restarts it), and one client at each secure stage of round 2 (not
// restarted), then checks the federation finished and its records agree
// (checkFederation). A last case has a client that never answers (see
// silentClientCase). The cases run in parallel (go test -parallel, default
// GOMAXPROCS), each on its own port and directory.
func TestStageFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	bin := buildBinary(t)
	for _, stage := range []string{"train", "share_keys", "check_shares", "masked_input", "consistency", "unmask", "evaluate"} {
		t.Run("coordinator/"+stage, func(t *testing.T) {
			t.Parallel() // the processes mostly wait for deadlines
			p := newFedProcs(t, bin)
			var first, second syncBuffer
			c1 := p.coordinator(fmt.Sprintf("exit-at:%d:%s", faultRound, stage), &first)
			var outs [faultTenants + 1]syncBuffer
			var clients []*exec.Cmd
			for i := 1; i <= faultTenants; i++ {
				clients = append(clients, p.client(i, "", &outs[i]))
			}
			waitExit(t, "faulty coordinator", c1, 3, &first)
			c2 := p.coordinator("", &second)
			for i, c := range clients {
				waitExit(t, fmt.Sprintf("tenant-%d", i+1), c, 0, &outs[i+1])
			}
			waitExit(t, "restarted coordinator", c2, 0, &second)
			if !strings.Contains(second.String(), fmt.Sprintf("finished: completed %d rounds", faultRounds)) {
				t.Errorf("restarted federation did not finish its rounds:\n%s", second.String())
			}
			rounds := checkFederation(t, p.dir, tenantNames(faultTenants)...)
			checkCoordinatorFault(t, p.dir, stage, rounds)
		})
	}
	for _, stage := range []string{"advertise", "share_keys", "check_shares", "masked_input", "consistency", "unmask"} {
		t.Run("client/"+stage, func(t *testing.T) {
			t.Parallel()
			p := newFedProcs(t, bin)
			var coordOut syncBuffer
			coord := p.coordinator("", &coordOut)
			var outs [faultTenants + 1]syncBuffer
			var clients []*exec.Cmd
			for i := 1; i < faultTenants; i++ {
				clients = append(clients, p.client(i, "", &outs[i]))
			}
			dead := fmt.Sprintf("tenant-%d", faultTenants)
			crash := p.client(faultTenants, fmt.Sprintf("exit-before:%d:%s", faultRound, stage), &outs[faultTenants])
			waitExit(t, "faulty "+dead, crash, 3, &outs[faultTenants])
			for i, c := range clients {
				waitExit(t, fmt.Sprintf("tenant-%d", i+1), c, 0, &outs[i+1])
			}
			waitExit(t, "coordinator", coord, 0, &coordOut)
			if !strings.Contains(coordOut.String(), fmt.Sprintf("finished: completed %d rounds", faultRounds)) {
				t.Errorf("federation did not finish its rounds:\n%s", coordOut.String())
			}
			rounds := checkFederation(t, p.dir, tenantNames(faultTenants)...)
			// Round 2 aggregated without the dead client's help; its
			// masked input is in the sum iff it died after sending it.
			var r2 *store.RoundRecord
			for i := range rounds {
				if rounds[i].Round == faultRound && rounds[i].Outcome == store.Finished {
					r2 = &rounds[i]
				}
			}
			if r2 == nil {
				t.Fatalf("round %d did not finish: %+v", faultRound, rounds)
			}
			if in, want := slices.Contains(r2.Survivors, dead), stage == "unmask" || stage == "consistency"; in != want {
				t.Errorf("round %d survivors %v: %s in the sum = %v, want %v", faultRound, r2.Survivors, dead, in, want)
			}
			// Its round-2 spend is on record (and counted) either way.
			if !slices.Contains(ledgerTenants(t, p.dir, faultRound, ledger.StatusIntent), dead) {
				t.Errorf("%s's ledger has no round-%d intent", dead, faultRound)
			}
		})
	}
	t.Run("silent-client", func(t *testing.T) {
		t.Parallel()
		silentClientCase(t, bin)
	})
}

// checkCoordinatorFault checks round faultRound after the coordinator
// died at stage of it (and a restarted or standby coordinator finished the
// federation): aborted and re-run under a new number, or finished if the
// crash hit at evaluate, and the tenants' spends of it are where the stage
// puts them.
func checkCoordinatorFault(t *testing.T, dir, stage string, rounds []store.RoundRecord) {
	t.Helper()
	// evaluate: round 2 was committed before the crash; any
	// earlier stage: round 2 is aborted and re-run under a new
	// number.
	r2 := roundOutcome(rounds, faultRound)
	if want := map[bool]store.Outcome{true: store.Finished, false: store.Aborted}[stage == "evaluate"]; r2 != want {
		t.Errorf("round %d: outcome %v, want %v (%+v)", faultRound, r2, want, rounds)
	}
	// The crash hit where it should. At train no plan was
	// handed out: no tenant spent anything in round 2. Later,
	// every tenant recorded its spend before advertising. The
	// masked inputs (the releases) go out in the masked_input
	// stage; consistency opens while the coordinator handles
	// the last one, so that tenant never got an answer (nor may
	// others whose answers were still in flight when it
	// exited): their spends stay pending intents, counted but
	// not released — the conservative outcome. By unmask (after
	// the consistency stage) and evaluate every release was
	// acknowledged.
	intents := ledgerTenants(t, dir, faultRound, ledger.StatusIntent)
	released := ledgerTenants(t, dir, faultRound, ledger.StatusReleased)
	wantIntents, wantReleased := faultTenants, 0
	switch stage {
	case "train":
		wantIntents = 0
	case "consistency":
		wantReleased = faultTenants - 1
	case "unmask", "evaluate":
		wantReleased = faultTenants
	}
	inFlight := stage == "consistency" && len(released) >= 1 && len(released) < wantReleased
	if len(intents) != wantIntents || (len(released) != wantReleased && !inFlight) {
		t.Errorf("round %d: tenants with an intent %v, with a release %v; want %d and %d", faultRound, intents, released, wantIntents, wantReleased)
	}
}

// roundOutcome is round n's outcome (Running if it is not recorded).
func roundOutcome(rounds []store.RoundRecord, n int) store.Outcome {
	for _, r := range rounds {
		if r.Round == n {
			return r.Outcome
		}
	}
	return store.Running
}

// checkFederation checks the store and the ledgers of the coordinator and
// tenants under dir after a federation ended (see the comment at the top
// of this file) and returns the stored rounds and the record-level releases
// the tenants' own ledgers hold (round → sorted tenants).
func checkFederation(t *testing.T, dir string, tenants ...string) []store.RoundRecord {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "coordinator", "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return checkFederationIn(t, st, dir, tenants...)
}

// checkFederationIn is checkFederation with the coordinator's store st.
func checkFederationIn(t *testing.T, st store.Backend, dir string, tenants ...string) []store.RoundRecord {
	t.Helper()
	rounds, err := st.Rounds()
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	finished := map[int][]string{} // round → sorted survivors
	for _, r := range rounds {
		if r.Outcome != store.Finished {
			continue
		}
		if _, dup := finished[r.Round]; dup {
			t.Errorf("round %d is recorded as finished twice", r.Round)
		}
		finished[r.Round] = slices.Sorted(slices.Values(r.Survivors))
		versions = append(versions, r.ModelVersion)
	}
	slices.Sort(versions)
	want := make([]int, faultRounds)
	for i := range want {
		want[i] = i + 1
	}
	if v, _, err := st.LatestVersion(); err != nil || v != faultRounds || !slices.Equal(versions, want) {
		t.Errorf("store: finished rounds made versions %v, latest %d (%v); want %v and %d (%+v)", versions, v, err, want, faultRounds, rounds)
	}
	// Releases per round and tenant: from the tenants' own ledgers and
	// from the coordinator's.
	type key struct {
		round  int
		tenant string
	}
	tenantRel := map[key]string{}
	for _, name := range tenants {
		entries, err := ledger.ReadFile(filepath.Join(dir, name, "ledger.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Status == ledger.StatusReleased && e.Unit == ledger.UnitRecord && training(entries, e) {
				tenantRel[key{int(e.Round), e.Tenant}] = e.ArtifactHash
			}
		}
	}
	coordEntries, err := ledger.ReadFile(filepath.Join(dir, "coordinator", "ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	coordRel := map[key]string{}
	for _, e := range coordEntries {
		if e.Status != ledger.StatusReceived {
			t.Errorf("the coordinator's ledger holds a %s entry (it records only what it received): %+v", e.Status, e)
			continue
		}
		if e.Unit == ledger.UnitRecord && (e.Kind == ledger.KindUpdate || e.Kind == ledger.KindMaskedInput) {
			coordRel[key{int(e.Round), e.Tenant}] = e.ArtifactHash
		}
	}
	for k, h := range tenantRel {
		if coordRel[k] != h {
			t.Errorf("round %d, %s: released artefact %s in its ledger, the coordinator's ledger records receiving %q", k.round, k.tenant, h, coordRel[k])
		}
	}
	for round, survivors := range finished {
		var released []string
		for k := range tenantRel {
			if k.round == round {
				released = append(released, k.tenant)
			}
		}
		slices.Sort(released)
		if !slices.Equal(survivors, released) {
			t.Errorf("round %d: survivors %v, tenants' ledgers released %v", round, survivors, released)
		}
		for _, name := range survivors {
			if _, ok := coordRel[key{round, name}]; !ok {
				t.Errorf("round %d: survivor %s's input is not in the coordinator's ledger", round, name)
			}
		}
	}
	verifyPartyLedgers(t, dir, append([]string{"coordinator"}, tenants...)...)
	return rounds
}

// ledgerTenants lists, sorted, the tenants 1…faultTenants whose own
// ledger under dir holds a record-level entry of status for round.
func ledgerTenants(t *testing.T, dir string, round int, status ledger.Status) []string {
	t.Helper()
	var out []string
	for _, name := range tenantNames(faultTenants) {
		entries, err := ledger.ReadFile(filepath.Join(dir, name, "ledger.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(entries, func(e ledger.Entry) bool {
			return int(e.Round) == round && e.Status == status && e.Unit == ledger.UnitRecord && training(entries, e)
		}) {
			out = append(out, name)
		}
	}
	return out
}

// tenantNames lists tenant-1 … tenant-n.
func tenantNames(n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, fmt.Sprintf("tenant-%d", i))
	}
	return out
}

// training reports whether e (an intent, or the release of one) in entries
// is a DP-SGD round rather than a noised evaluation.
func training(entries []ledger.Entry, e ledger.Entry) bool {
	if e.Status == ledger.StatusReleased && e.Ref >= 1 && int(e.Ref) <= len(entries) {
		e = entries[e.Ref-1]
	}
	return e.Mechanism == ledger.MechDPSGD
}
