package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// The coordinator started with --http serves Prometheus metrics that
// follow the rounds while they run, and the gRPC health service answers
// SERVING on its federation port; with --model-out it writes the final
// model, which predict applies.
func TestCoordinatorMetricsDuringRun(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := buildBinary(t)
	p := newFedProcs(t, bin)
	httpAddr := freeAddr(t)
	model := filepath.Join(p.dir, "final.safetensors")
	p.coordArgs = []string{"--http", httpAddr, "--model-out", model, "--log-format", "json"}
	var coordOut syncBuffer
	coord := p.coordinator("", &coordOut)
	var outs [faultTenants + 1]syncBuffer
	var clients []*exec.Cmd
	for i := 1; i <= faultTenants; i++ {
		clients = append(clients, p.client(i, "", &outs[i]))
	}
	aggregated := regexp.MustCompile(`(?m)^fedb2b_rounds_total\{outcome="aggregated",task="classify-industry"\} (\d+)$`)
	var seen []int
	deadline := time.Now().Add(2 * time.Minute)
	for len(seen) == 0 || seen[len(seen)-1] < faultRounds {
		if time.Now().After(deadline) {
			t.Fatalf("metrics never reached %d aggregated rounds (saw %v); coordinator:\n%s", faultRounds, seen, coordOut.String())
		}
		time.Sleep(200 * time.Millisecond)
		resp, err := http.Get("http://" + httpAddr + "/metrics")
		if err != nil {
			continue // not listening yet
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := aggregated.FindSubmatch(body); m != nil {
			n, _ := strconv.Atoi(string(m[1]))
			if len(seen) == 0 || n != seen[len(seen)-1] {
				seen = append(seen, n)
			}
		}
	}
	if len(seen) < 2 {
		t.Errorf("scrapes saw only %v aggregated rounds: the metrics did not move during the run", seen)
	}
	conn, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("gRPC health: %v %v", r, err)
	}
	for i, c := range clients {
		waitExit(t, fmt.Sprintf("tenant-%d", i+1), c, 0, &outs[i+1])
	}
	waitExit(t, "coordinator", coord, 0, &coordOut)

	// --log-format json: every log record is one JSON object.
	started := 0
	for _, line := range strings.Split(coordOut.String(), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		if rec["msg"] == "round started" {
			started++
		}
	}
	if started != faultRounds {
		t.Errorf("%d JSON 'round started' records, want %d:\n%s", started, faultRounds, coordOut.String())
	}

	// The operator's --model-out is the file predict applies.
	preds := filepath.Join(p.dir, "preds.csv")
	data := filepath.Join(p.dir, "data", "tenant-1.csv")
	if _, e, code := runCLI(t, "predict", "--model", model, "--data", data, "--out", preds); code != 0 {
		t.Fatalf("predict with the coordinator's final model: %d %q\n%s", code, e, coordOut.String())
	}
	in, _ := os.ReadFile(data)
	out, _ := os.ReadFile(preds)
	if a, b := strings.Count(string(out), "\n"), strings.Count(string(in), "\n"); a != b {
		t.Errorf("%d prediction lines for %d input lines", a, b)
	}
}
