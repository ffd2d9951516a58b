package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/coordinator/store"
)

// silentClientCase (a case of TestStageFaults) has a fourth tenant that
// joins, polls until it is invited to round 1 (it gets the plan), and then
// never answers nor polls again. Round 1 waits for it until the stage
// deadline, aggregates the three real clients without it, and the
// federation finishes all its rounds with records that agree
// (checkFederation; the silent tenant has no ledger and must appear in
// none).
func silentClientCase(t *testing.T, bin string) {
	p := newFedProcs(t, bin)
	var coordOut syncBuffer
	coord := p.coordinator("", &coordOut)
	var outs [faultTenants]syncBuffer
	var clients []*exec.Cmd
	for i := 1; i < faultTenants; i++ {
		clients = append(clients, p.client(i, "", &outs[i]))
	}
	silent := fmt.Sprintf("tenant-%d", faultTenants)
	invited := silentJoin(t, p.ctx, p.addr, silent)
	for i, c := range clients {
		waitExit(t, fmt.Sprintf("tenant-%d", i+1), c, 0, &outs[i+1])
	}
	waitExit(t, "coordinator", coord, 0, &coordOut)
	if !strings.Contains(coordOut.String(), fmt.Sprintf("finished: completed %d rounds", faultRounds)) {
		t.Errorf("federation did not finish its rounds:\n%s", coordOut.String())
	}
	rounds := checkFederation(t, p.dir, tenantNames(faultTenants-1)...)
	var r *store.RoundRecord
	for i := range rounds {
		if rounds[i].Round == invited {
			r = &rounds[i]
		}
	}
	switch {
	case r == nil || r.Outcome != store.Finished:
		t.Errorf("round %d, which invited the silent tenant, did not finish: %+v", invited, rounds)
	case !slices.Contains(r.Cohort, silent) || slices.Contains(r.Survivors, silent) || len(r.Survivors) != faultTenants-1:
		t.Errorf("round %d: cohort %v, survivors %v; want %s invited and the other %d in the sum", invited, r.Cohort, r.Survivors, silent, faultTenants-1)
	}
}

// silentJoin joins as tenant over a raw gRPC connection, polls until the
// coordinator hands it a training plan, and returns that plan's round; the
// tenant then stays silent.
func silentJoin(t *testing.T, ctx context.Context, addr, tenant string) int {
	t.Helper()
	enc, err := (&encoderFlags{spec: "hashing"}).open(ctx) // the processes' default encoder
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fc := api.NewFederationClient(conn)
	join := &api.JoinRequest{Tenant: tenant, EncoderId: enc.ID(), EpsilonCap: 12, Delta: 1e-5, IdentityKey: pub}
	for {
		// The coordinator may not be listening yet.
		if _, err = fc.Join(ctx, join); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("join: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		a, err := fc.Poll(ctx, &api.PollRequest{Tenant: tenant})
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if tr := a.GetTrain(); tr != nil {
			return int(tr.GetRound())
		}
		if a.GetFinished() != nil {
			t.Fatal("the federation finished before inviting the silent tenant")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
