package client

import (
	"context"
	"crypto/sha256"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/protocol"
)

// sendChunked uploads b in uploadChunk pieces with header h, letting
// tamper change the chunks (after the checksums of the original bytes
// were set on the last one).
func sendChunked(ctx context.Context, conn api.FederationClient, h *api.UploadHeader, b []byte, crc *uint32, sha []byte, tamper func(i int, c *api.Chunk)) error {
	stream, err := conn.Upload(ctx)
	if err != nil {
		return err
	}
	for i, off := 0, 0; off < len(b); i, off = i+1, off+uploadChunk {
		end := min(off+uploadChunk, len(b))
		ch := &api.Chunk{Data: append([]byte(nil), b[off:end]...), Last: end == len(b)}
		if off == 0 {
			ch.Header = h
		}
		if ch.Last {
			ch.Size, ch.Crc32C, ch.Sha256 = int64(len(b)), crc, sha
		}
		if tamper != nil {
			tamper(i, ch)
		}
		if err := stream.Send(ch); err != nil {
			break
		}
	}
	_, err = stream.CloseAndRecv()
	return err
}

// TestUploadTransportChecksum attacks the reassembly check of chunked
// uploads: a byte flipped in a middle chunk (CRC-32C of the original), a
// wrong CRC-32C, a wrong SHA-256 from a client that sends no CRC-32C, all
// refused with DataLoss and nothing aggregated; an upload of an older
// client (SHA-256 only) is still accepted.
func TestUploadTransportChecksum(t *testing.T) {
	const d = 300_000 // 2.4 MB: three chunks
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
	if pr, err := conn.Poll(ctx, &api.PollRequest{Tenant: "a"}); err != nil || pr.GetTrain() == nil {
		t.Fatalf("poll: %v %v", pr, err)
	}
	values := make([]float64, d+1)
	for i := range values {
		values[i] = float64(i%7) / 7
	}
	values[d] = 1 // the example count
	req := &api.SubmitRequest{Tenant: "a", Round: 1, Payload: &api.SubmitRequest_Update{Update: &api.Update{Values: values}}}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	h := uploadHeader(req, int64(len(b)))
	crc := protocol.UpdateCRC32C(0, b)
	sum := sha256.Sum256(b)
	badCRC := crc ^ 1
	flip := func(i int, c *api.Chunk) {
		if i == 1 {
			c.Data[len(c.Data)/2] ^= 0x10
		}
	}
	refused := []struct {
		name   string
		crc    *uint32
		sha    []byte
		tamper func(int, *api.Chunk)
	}{
		{"byte flipped in the second chunk", &crc, nil, flip},
		{"byte flipped, SHA-256 only", nil, sum[:], flip},
		{"wrong CRC-32C", &badCRC, sum[:], nil},
		{"wrong SHA-256, no CRC-32C", nil, make([]byte, 32), nil},
		{"no checksum at all", nil, nil, nil},
	}
	for _, r := range refused {
		if err := sendChunked(ctx, conn, h, b, r.crc, r.sha, r.tamper); status.Code(err) != codes.DataLoss {
			t.Errorf("%s: %v, want DataLoss", r.name, err)
		}
	}
	if fed.Latest() != 0 {
		t.Fatal("a refused upload was aggregated")
	}
	if err := sendChunked(ctx, conn, h, b, nil, sum[:], nil); err != nil {
		t.Fatalf("an older client's upload (SHA-256 only): %v", err)
	}
	m, ok := fed.Model(1)
	if !ok || m[d-2] == 0 {
		t.Fatal("the accepted upload was not aggregated")
	}
}

// flipServer serves Download with one byte of the model flipped in
// transit (its checksums are those of the true bytes).
type flipServer struct {
	api.UnimplementedFederationServer
	blob []byte
	crc  bool
}

func (f *flipServer) Download(_ *api.DownloadRequest, stream grpc.ServerStreamingServer[api.Chunk]) error {
	sum, crc := sha256.Sum256(f.blob), protocol.UpdateCRC32C(0, f.blob)
	bad := append([]byte(nil), f.blob...)
	bad[len(bad)/2] ^= 1
	c := &api.Chunk{Data: bad, Last: true, Size: int64(len(bad)), Sha256: sum[:]}
	if f.crc {
		c.Crc32C = &crc
	}
	return stream.Send(c)
}

// TestDownloadRefusesCorruption: a model whose bytes do not match the
// CRC-32C (or, from an older coordinator, the SHA-256) is refused.
func TestDownloadRefusesCorruption(t *testing.T) {
	blob, err := protocol.EncodeParams([]float64{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, withCRC := range []bool{true, false} {
		lis := serveFake(t, &flipServer{blob: blob, crc: withCRC})
		c := &Client{cfg: Config{Tenant: "a"}}
		if _, err := c.download(context.Background(), lis, 1); err == nil {
			t.Errorf("crc32c sent %v: a corrupted download was accepted", withCRC)
		}
	}
}

// serveFake serves srv in memory.
func serveFake(t *testing.T, srv api.FederationServer) api.FederationClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	g := grpc.NewServer()
	api.RegisterFederationServer(g, srv)
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	cc, err := grpc.NewClient("passthrough:///buf", grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return lis.DialContext(ctx)
	}), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return api.NewFederationClient(cc)
}
