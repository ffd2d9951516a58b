package client

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/protocol"
)

// TestLargeUpdateIsStreamed submits a plain update of 10⁶ parameters (8 MB,
// twice gRPC's default message limit) through the chunked Upload stream,
// and checks that a corrupted or oversized upload is refused.
func TestLargeUpdateIsStreamed(t *testing.T) {
	const d = 1_000_000
	fed, err := coordinator.New(coordinator.Config{
		Task:   protocol.TaskSpec{ID: "t", EncoderID: "e", Labels: []string{"a", "b"}, NumParams: d, EvalLen: 8},
		Rounds: 1, Strategy: &aggregation.FedAvg{},
		Train:     protocol.TrainParams{SampleRate: 0.1, ClipNorm: 1, NoiseMultiplier: 1, LocalSteps: 1, LearningRate: 1},
		MinJoined: 1, MinClients: 1, RoundTimeout: time.Minute, InsecurePlainAggregation: true,
	}, make([]float64, d))
	if err != nil {
		t.Fatal(err)
	}
	svc := coordinator.NewService(fed, protocol.EncodeParams, nil, nil)
	conn := serveInMemory(t, svc)
	ctx := context.Background()
	if _, err := conn.Join(ctx, &api.JoinRequest{Tenant: "a", EncoderId: "e"}); err != nil {
		t.Fatal(err)
	}
	pr, err := conn.Poll(ctx, &api.PollRequest{Tenant: "a"})
	if err != nil || pr.GetTrain() == nil {
		t.Fatalf("poll: %v %v", pr, err)
	}
	values := make([]float64, d+1)
	values[d] = 1
	big := &api.SubmitRequest{Tenant: "a", Round: 1, Payload: &api.SubmitRequest_Update{Update: &api.Update{Values: values}}}
	// One message would exceed the 4 MiB default limit.
	if _, err := conn.Submit(ctx, big); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("plain Submit of 8 MB: %v, want ResourceExhausted", err)
	}
	// A chunk without a header, a header naming a tenant that has not
	// joined, the wrong round, or more bytes than the task allows (d+1
	// float64 values plus framing): refused before any byte is kept.
	refused := []struct {
		name string
		ch   *api.Chunk
		code codes.Code
	}{
		{"no header", &api.Chunk{Data: []byte{1}}, codes.InvalidArgument},
		{"not joined", &api.Chunk{Header: &api.UploadHeader{Tenant: "mallory", Round: 1, Kind: api.UploadKind_UPLOAD_KIND_UPDATE, Size: 40 << 20}}, codes.NotFound},
		{"wrong round", &api.Chunk{Header: &api.UploadHeader{Tenant: "a", Round: 7, Kind: api.UploadKind_UPLOAD_KIND_UPDATE, Size: 1 << 20}}, codes.FailedPrecondition},
		{"wrong stage", &api.Chunk{Header: &api.UploadHeader{Tenant: "a", Round: 1, Kind: api.UploadKind_UPLOAD_KIND_EVAL, Size: 100}}, codes.FailedPrecondition},
		{"too large", &api.Chunk{Header: &api.UploadHeader{Tenant: "a", Round: 1, Kind: api.UploadKind_UPLOAD_KIND_UPDATE, Size: 8*(d+1) + coordinator.UploadFraming + 1}}, codes.ResourceExhausted},
	}
	for _, r := range refused {
		stream, _ := conn.Upload(ctx)
		stream.Send(r.ch)
		if _, err := stream.CloseAndRecv(); status.Code(err) != r.code {
			t.Errorf("%s: %v, want %v", r.name, err, r.code)
		}
	}
	if peak := svc.UploadBytesPeak(); peak != 0 {
		t.Errorf("refused uploads made the coordinator buffer %d bytes", peak)
	}
	// A corrupted checksum is refused.
	stream, _ := conn.Upload(ctx)
	stream.Send(&api.Chunk{Header: &api.UploadHeader{Tenant: "a", Round: 1, Kind: api.UploadKind_UPLOAD_KIND_UPDATE, Size: 3}, Data: []byte{1, 2, 3}, Last: true, Size: 3, Sha256: make([]byte, 32)})
	if _, err := stream.CloseAndRecv(); status.Code(err) != codes.DataLoss {
		t.Fatalf("bad checksum: %v", err)
	}
	// More values than the task has: refused on the announced size.
	tooBig := &api.SubmitRequest{Tenant: "a", Round: 1, Payload: &api.SubmitRequest_Update{Update: &api.Update{Values: make([]float64, d+1000)}}}
	if err := submit(ctx, conn, tooBig); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("oversized upload: %v", err)
	}
	if err := submit(ctx, conn, big); err != nil {
		t.Fatalf("chunked upload: %v", err)
	}
	if m, ok := fed.Model(1); !ok || len(m) != d {
		t.Fatal("the streamed update was not aggregated")
	}
}

// Every message the client sends fits the coordinator's limit: a submit
// up to UploadThreshold as one message, a full upload chunk with its
// header otherwise.
func TestMessagesFitTheCoordinatorsLimit(t *testing.T) {
	crc := ^uint32(0)
	full := &api.Chunk{Data: make([]byte, uploadChunk), Last: true, Sha256: make([]byte, 32), Crc32C: &crc, Size: 1 << 40,
		Header: &api.UploadHeader{Tenant: strings.Repeat("t", 63), Round: 1 << 40, Size: 1 << 40, SecaggStage: "masked_input"}}
	if n := proto.Size(full); n >= protocol.MaxMessage {
		t.Fatalf("a full upload chunk is %d bytes, the coordinator accepts < %d", n, protocol.MaxMessage)
	}
	if UploadThreshold+1024 >= protocol.MaxMessage {
		t.Fatalf("UploadThreshold %d leaves no room below %d", UploadThreshold, protocol.MaxMessage)
	}
}
