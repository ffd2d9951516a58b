package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/protocol"
)

// TestHostileUploadersCannotExhaustMemory attacks the coordinator over
// real loopback gRPC (with coordinator.ServerOptions) while two honest
// tenants run two rounds of 2^20-parameter plain updates (8 MiB each,
// sent through Upload). The hostile side:
//   - 8 tenants that never joined, each repeatedly opening an upload that
//     announces 40 MiB and pushing 1 MiB chunks (the attack);
//   - a tenant that joined but was never ready (not in any cohort), doing
//     the same;
//   - an invited tenant that keeps 20 uploads open at once, each
//     announcing the task's largest update and then stalling after one
//     chunk.
//
// It checks that the honest rounds finish, that every hostile upload was
// refused or cut (only one of the invited tenant's at a time accepted, and
// cut when idle), and that the coordinator's memory stays within the bound
// stated in coordinator/doc.go: the upload buffers hold at most cohort × L
// bytes (L = the task's largest upload), and the coordinator's live heap
// (the clients run in a child process) grows by less than cohort × 2L
// (buffers plus decoded requests) + connections × ConnWindow (transport)
// + the federation's own new state (versions and running sum, 3 × 8d)
// + 8 MiB (runtime).
func TestHostileUploadersCannotExhaustMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const d = 1 << 20
	fed, err := coordinator.New(coordinator.Config{
		Task:   protocol.TaskSpec{ID: "t", EncoderID: "e", Labels: []string{"a", "b"}, NumParams: d, EvalLen: 8},
		Rounds: 2, Strategy: &aggregation.FedAvg{},
		Train:     protocol.TrainParams{SampleRate: 0.1, ClipNorm: 1, NoiseMultiplier: 1, LocalSteps: 1, LearningRate: 1},
		MinJoined: 3, MinClients: 2, RoundTimeout: 4 * time.Second, MaxFailedRounds: 4, InsecurePlainAggregation: true,
	}, make([]float64, d))
	if err != nil {
		t.Fatal(err)
	}
	limits := coordinator.Limits{RecvIdle: time.Second, MaxUploads: 8}
	svc := coordinator.NewService(fed, protocol.EncodeParams, nil, nil)
	svc.SetLimits(limits)
	L := fed.MaxUploadLimit()
	const cohort = 3 // two honest tenants and the invited hostile one
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(coordinator.ServerOptions(limits)...)
	svc.Register(srv)
	go srv.Serve(lis)
	defer srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	go svc.Run(ctx, 20*time.Millisecond)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peakHeap atomic.Uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(100 * time.Millisecond):
			}
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peakHeap.Load() {
				peakHeap.Store(m.HeapAlloc)
			}
		}
	}()

	// The clients run in a child process (this test binary), so that the
	// heap measured here is the coordinator's alone.
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHostileClientsProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "FEDB2B_HOSTILE_ADDR="+lis.Addr().String(), fmt.Sprintf("FEDB2B_HOSTILE_L=%d", L))
	out, err := cmd.CombinedOutput()
	close(stopSampling)
	<-sampled
	if err != nil {
		t.Fatalf("clients: %v\n%s", err, out)
	}
	line := regexp.MustCompile(`(?m)^HOSTILE (.*)$`).FindSubmatch(out)
	if line == nil {
		t.Fatalf("clients printed no summary:\n%s", out)
	}
	codesSeen := map[string]map[codes.Code]int{}
	if err := json.Unmarshal(line[1], &codesSeen); err != nil {
		t.Fatal(err)
	}
	if v := fed.Latest(); v != 2 {
		t.Errorf("the honest rounds made %d versions, want 2", v)
	}
	if fin, why := fed.Finished(); !fin {
		t.Errorf("federation not finished: %s", why)
	}
	t.Logf("hostile uploads ended with: %v", codesSeen)
	for who, cs := range codesSeen {
		if cs[codes.OK] > 0 {
			t.Errorf("%s: %d hostile uploads were accepted", who, cs[codes.OK])
		}
	}
	for i := range 8 {
		if who := fmt.Sprintf("ghost-%d", i); codesSeen[who][codes.NotFound] == 0 {
			t.Errorf("%s: no upload refused as from an unknown tenant: %v", who, codesSeen[who])
		}
	}
	if codesSeen["lurker"][codes.PermissionDenied] == 0 {
		t.Errorf("lurker: no upload refused as not invited: %v", codesSeen["lurker"])
	}
	if m := codesSeen["mal"]; m[codes.ResourceExhausted] == 0 || m[codes.DeadlineExceeded] == 0 {
		t.Errorf("mal: want concurrent uploads refused (ResourceExhausted) and the stalled one cut (DeadlineExceeded): %v", m)
	}
	bufBound := int64(cohort) * L
	if p := svc.UploadBytesPeak(); p > bufBound || p == 0 {
		t.Errorf("upload buffers peaked at %d bytes, bound cohort×L = %d (and > 0)", p, bufBound)
	}
	// The federation's own state grows too: two new versions and the
	// running sum, 8d bytes each (not attack-driven, stated apart).
	state := int64(3 * 8 * d)
	// Transport: unread data of each connection stays within its
	// flow-control window (12 connections: 8 ghosts, lurker, mal, h1, h2).
	const conns = 12
	// Between uploads the coordinator keeps at most
	// MaxIdleUploadBuffers reassembly buffers of at most L bytes.
	idle := coordinator.MaxIdleUploadBuffers * L
	heapBound := uint64(cohort*2*L + idle + conns*coordinator.ConnWindow + state + 8<<20)
	growth := peakHeap.Load() - min(base, peakHeap.Load())
	t.Logf("L = %d bytes; upload buffers peaked at %d (bound %d); live heap grew by at most %d (bound %d)",
		L, svc.UploadBytesPeak(), bufBound, growth, heapBound)
	if growth > heapBound {
		t.Errorf("live heap grew by %d bytes, bound %d", growth, heapBound)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("the test ran out of time")
	}
}

// TestHostileClientsProcess is the client side of
// TestHostileUploadersCannotExhaustMemory, run in a child process: it
// skips unless FEDB2B_HOSTILE_ADDR names the coordinator.
func TestHostileClientsProcess(t *testing.T) {
	addr := os.Getenv("FEDB2B_HOSTILE_ADDR")
	if addr == "" {
		t.Skip("the client process of TestHostileUploadersCannotExhaustMemory")
	}
	const d = 1 << 20
	L, err := strconv.ParseInt(os.Getenv("FEDB2B_HOSTILE_L"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	dial := func() api.FederationClient {
		cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cc.Close() })
		return api.NewFederationClient(cc)
	}
	// The hostile side, until the honest rounds are done.
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	codesSeen := map[string]map[codes.Code]int{}
	note := func(who string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if codesSeen[who] == nil {
			codesSeen[who] = map[codes.Code]int{}
		}
		codesSeen[who][status.Code(err)]++
	}
	junk := make([]byte, 1<<20)
	push := func(conn api.FederationClient, who string, size int64, chunks int) {
		sctx, scancel := context.WithCancel(ctx)
		defer scancel()
		stream, err := conn.Upload(sctx)
		if err != nil {
			note(who, err)
			return
		}
		err = stream.Send(&api.Chunk{Header: &api.UploadHeader{Tenant: who, Round: 1, Kind: api.UploadKind_UPLOAD_KIND_UPDATE, Size: size}, Data: junk})
		for i := 1; i < chunks && err == nil; i++ {
			err = stream.Send(&api.Chunk{Data: junk})
		}
		// Never close: wait for the coordinator to end the stream.
		var resp api.SubmitResponse
		note(who, stream.RecvMsg(&resp))
	}
	hostile := func(who string, join, ready bool, parallel, chunks int, size int64) {
		conn := dial()
		if join {
			if _, err := conn.Join(ctx, &api.JoinRequest{Tenant: who, EncoderId: "e"}); err != nil {
				t.Errorf("%s: join: %v", who, err)
				return
			}
		}
		if ready {
			if _, err := conn.Poll(ctx, &api.PollRequest{Tenant: who}); err != nil {
				t.Errorf("%s: poll: %v", who, err)
				return
			}
		}
		for attempt := 0; attempt < 40; attempt++ {
			select {
			case <-done:
				return
			default:
			}
			var pw sync.WaitGroup
			for range parallel {
				pw.Add(1)
				go func() { defer pw.Done(); push(conn, who, size, chunks) }()
			}
			pw.Wait()
			if ready { // stay live, so as to stay invited
				conn.Poll(ctx, &api.PollRequest{Tenant: who})
			}
		}
	}
	for i := range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); hostile(fmt.Sprintf("ghost-%d", i), false, false, 1, 24, 40<<20) }()
	}
	wg.Add(2)
	go func() { defer wg.Done(); hostile("lurker", true, false, 1, 24, 40<<20) }()
	go func() { defer wg.Done(); hostile("mal", true, true, 20, 1, L) }()

	// The honest side: two tenants run every round to the end.
	honest := func(name string) error {
		conn := dial()
		if _, err := conn.Join(ctx, &api.JoinRequest{Tenant: name, EncoderId: "e"}); err != nil {
			return err
		}
		for {
			pr, err := conn.Poll(ctx, &api.PollRequest{Tenant: name})
			if err != nil {
				return err
			}
			switch {
			case pr.GetTrain() != nil:
				values := make([]float64, d+1)
				values[0], values[d] = 1, 1
				req := &api.SubmitRequest{Tenant: name, Round: pr.GetTrain().GetRound(), Payload: &api.SubmitRequest_Update{Update: &api.Update{Values: values}}}
				if err := submit(ctx, conn, req); err != nil {
					// As the real client does: a refused or cut step is a
					// lost round (on a loaded machine the upload may miss
					// the deadline); the federation must still finish.
					fmt.Printf("honest %s: round %d lost: %v\n", name, pr.GetTrain().GetRound(), err)
				}
			case pr.GetEvaluate() != nil:
				e := pr.GetEvaluate()
				if _, err := conn.Submit(ctx, &api.SubmitRequest{Tenant: name, Round: e.GetRound(),
					Payload: &api.SubmitRequest_Eval{Eval: &api.EvalResult{ModelVersion: e.GetModelVersion(), Stats: make([]int64, 8)}}}); err != nil {
					return err
				}
			case pr.GetFinished() != nil:
				return nil
			default:
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	errs := make(chan error, 2)
	for _, n := range []string{"h1", "h2"} {
		go func() { errs <- honest(n) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("honest tenant: %v", err)
		}
	}
	close(done)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	b, err := json.Marshal(codesSeen)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("HOSTILE %s\n", b)
}
