package client

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/protocol"
)

// UploadThreshold is the serialised size above which a submit goes as a
// chunked Upload stream instead of one message; every message stays below
// protocol.MaxMessage, which the coordinator accepts.
const UploadThreshold = 1 << 20

// uploadChunk is the size of each chunk of an Upload.
const uploadChunk = 1 << 20

// send submits req with this tenant's signed ledger head, when its spend
// log keeps one, so the coordinator's ledger records how far the tenant's
// own ledger had got (an auditor then notices it truncated or rewritten).
func (c *Client) send(ctx context.Context, conn api.FederationClient, req *api.SubmitRequest) error {
	if hs, ok := c.cfg.Spends.(HeadSource); ok {
		h, err := hs.Head()
		if err != nil {
			return fmt.Errorf("client: ledger head: %w", err)
		}
		req.LedgerHead = h
	}
	// A submit that failed with Unavailable may or may not have reached
	// the coordinator (a connection cut after the request went out): it
	// is retried like a poll, and AlreadyExists on a retry means the
	// earlier attempt arrived. Giving up at once would lose the tenant's
	// part in the round over one transport hiccup.
	lost := false
	_, err := retry(ctx, c, func() (struct{}, error) {
		err := submit(ctx, conn, req)
		if lost && status.Code(err) == codes.AlreadyExists {
			return struct{}{}, nil
		}
		lost = lost || status.Code(err) == codes.Unavailable
		return struct{}{}, err
	})
	return err
}

// uploadHeader announces req, of size serialised bytes: the coordinator
// checks tenant, round, stage and size before it accepts any byte.
func uploadHeader(req *api.SubmitRequest, size int64) *api.UploadHeader {
	h := &api.UploadHeader{Tenant: req.GetTenant(), Round: req.GetRound(), Size: size}
	switch p := req.GetPayload().(type) {
	case *api.SubmitRequest_Update:
		h.Kind = api.UploadKind_UPLOAD_KIND_UPDATE
	case *api.SubmitRequest_Eval:
		h.Kind = api.UploadKind_UPLOAD_KIND_EVAL
	case *api.SubmitRequest_Secagg:
		h.Kind, h.SecaggStage = api.UploadKind_UPLOAD_KIND_SECAGG, p.Secagg.GetStage()
	}
	return h
}

// submit sends req as one Submit, or as a chunked Upload when it is large.
func submit(ctx context.Context, conn api.FederationClient, req *api.SubmitRequest) error {
	if proto.Size(req) <= UploadThreshold {
		_, err := conn.Submit(ctx, req)
		return err
	}
	b, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	stream, err := conn.Upload(ctx)
	if err != nil {
		return err
	}
	var crc uint32
	for off := 0; off < len(b); off += uploadChunk {
		end := min(off+uploadChunk, len(b))
		ch := &api.Chunk{Data: b[off:end], Last: end == len(b)}
		if off == 0 {
			ch.Header = uploadHeader(req, int64(len(b)))
		}
		crc = protocol.UpdateCRC32C(crc, ch.Data)
		if ch.Last {
			ch.Crc32C, ch.Size = &crc, int64(len(b))
		}
		if err := stream.Send(ch); err != nil {
			if errors.Is(err, io.EOF) {
				break // the server ended the stream; CloseAndRecv says why
			}
			return fmt.Errorf("upload: %w", err)
		}
	}
	_, err = stream.CloseAndRecv()
	return err
}
