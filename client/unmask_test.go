package client

import (
	"context"
	"log/slog"
	"testing"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/api"
)

// TestClientRefusesUnmaskingTooFewNoiseShares: issue #13 finding 4 on the
// client. A coordinator that asks to unmask a tenant-level sum of fewer
// survivors than the noise shares the tenant's accounting assumes gets no
// answer (a nil connection would panic if the client sent anything).
func TestClientRefusesUnmaskingTooFewNoiseShares(t *testing.T) {
	req := secagg.UnmaskRequest{Survivors: []uint32{0, 1, 2, 3, 4}, Dropped: []uint32{5, 6}}
	b, err := req.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{log: slog.New(slog.DiscardHandler), sec: &secSession{round: 3, shares: 6}}
	var conn api.FederationClient // nil: any send would panic
	if err := c.secureStep(context.Background(), conn, &api.SecAggStep{Round: 3, Stage: secagg.StageUnmask.String(), Messages: [][]byte{b}}); err != nil {
		t.Fatal(err)
	}
	if c.sec != nil {
		t.Fatal("the session survived a refused unmask request")
	}
}
