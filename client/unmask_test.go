package client

import (
	"context"
	"log/slog"
	"testing"

	"google.golang.org/grpc"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/api"
)

// TestClientRefusesUnmaskingTooFewNoiseShares: issue #13 finding 4 on the
// client. A coordinator that asks to unmask a tenant-level sum of fewer
// survivors than the noise shares the tenant's accounting assumes gets no
// answer: the only thing the client sends is its leave notice, which
// carries no message.
func TestClientRefusesUnmaskingTooFewNoiseShares(t *testing.T) {
	req := secagg.UnmaskRequest{Survivors: []uint32{0, 1, 2, 3, 4}, Dropped: []uint32{5, 6}}
	b, err := req.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{log: slog.New(slog.DiscardHandler), sec: &secSession{round: 3, shares: 6}}
	conn := &recordingConn{}
	if err := c.secureStep(context.Background(), conn, &api.SecAggStep{Round: 3, Stage: secagg.StageUnmask.String(), Messages: [][]byte{b}}); err != nil {
		t.Fatal(err)
	}
	if c.sec != nil {
		t.Fatal("the session survived a refused unmask request")
	}
	for _, r := range conn.sent {
		if st := r.GetSecagg(); st == nil || st.GetStage() != stageLeave || len(st.GetMessages()) != 0 {
			t.Fatalf("the client sent %v, want only a leave notice without messages", r)
		}
	}
	if len(conn.sent) != 1 {
		t.Fatalf("%d submits, want the one leave notice", len(conn.sent))
	}
}

// recordingConn records Submits and answers them; every other call
// panics (the embedded interface is nil).
type recordingConn struct {
	api.FederationClient
	sent []*api.SubmitRequest
}

func (r *recordingConn) Submit(_ context.Context, in *api.SubmitRequest, _ ...grpc.CallOption) (*api.SubmitResponse, error) {
	r.sent = append(r.sent, in)
	return &api.SubmitResponse{}, nil
}
