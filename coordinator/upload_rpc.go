package coordinator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/protocol"
)

// payloadOf maps the wire's upload kind.
func payloadOf(k api.UploadKind) Payload {
	switch k {
	case api.UploadKind_UPLOAD_KIND_UPDATE:
		return PayloadUpdate
	case api.UploadKind_UPLOAD_KIND_SECAGG:
		return PayloadSecAgg
	case api.UploadKind_UPLOAD_KIND_EVAL:
		return PayloadEval
	}
	return 0
}

// Upload implements api.FederationServer. Before it accepts any byte it
// checks the first chunk's header: the caller is the tenant it names, the
// round and stage await that tenant's payload (Federation.CheckUpload),
// the announced size is within the task's limit, the tenant has no other
// upload open and fewer than Limits.MaxUploads are open. It then
// reassembles at most the announced size, cutting the stream when a chunk
// does not arrive within Limits.RecvIdle or the stage's deadline (or
// Limits.MaxStream) passes, checks size and transport checksum (see
// reassemble), checks that the request is what the header announced, and
// handles it as Submit.
func (s *Service) Upload(stream grpc.ClientStreamingServer[api.Chunk, api.SubmitResponse]) error {
	ctx := stream.Context()
	start := time.Now()
	first, err := s.recvWithin(ctx, stream, nil)
	if err != nil {
		return err
	}
	h := first.GetHeader()
	if h == nil {
		return status.Error(codes.InvalidArgument, "upload: the first chunk carries no header")
	}
	tenant := h.GetTenant()
	if err := s.authenticate(ctx, tenant); err != nil {
		return err
	}
	kind := payloadOf(h.GetKind())
	s.mu.Lock()
	now := s.now()
	grant, err := s.fed.CheckUpload(tenant, int(h.GetRound()), kind, h.GetSecaggStage(), h.GetSize(), now)
	s.mu.Unlock()
	if err != nil {
		return toStatus(err)
	}
	if err := s.uploads.acquire(tenant); err != nil {
		return toStatus(err)
	}
	var held int64
	defer func() { s.uploads.release(tenant, held) }()
	life := min(grant.Deadline.Sub(now), s.limits.MaxStream-time.Since(start))
	end := time.NewTimer(life)
	defer end.Stop()
	buf, err := s.reassemble(ctx, stream, first, h.GetSize(), grant.Limit, end.C, &held)
	if err != nil {
		return err
	}
	var req api.SubmitRequest
	err = proto.Unmarshal(buf, &req) // copies the bytes fields: buf is free after
	putUploadBuf(buf)
	buf = nil
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "upload is not a submit request: %v", err)
	}
	if err := checkAnnounced(h, &req); err != nil {
		return err
	}
	resp, err := s.Submit(ctx, &req)
	if err != nil {
		return err
	}
	return stream.SendAndClose(resp)
}

// reassemble receives the chunks of an upload announced as size bytes
// (first is already received) into one buffer and checks its size and
// transport checksum: the CRC-32C, updated as each chunk arrives, or, from
// a client that sends none, the SHA-256 of the whole. The buffer grows
// geometrically as bytes arrive, never beyond the announced size, from
// buffers recycled between uploads (at most limit bytes each); *held
// counts its capacity. The caller returns it with putUploadBuf.
func (s *Service) reassemble(ctx context.Context, stream grpc.ClientStreamingServer[api.Chunk, api.SubmitResponse], first *api.Chunk, size, limit int64, end <-chan time.Time, held *int64) (buf []byte, err error) {
	defer func() {
		if err != nil {
			putUploadBuf(buf)
		}
	}()
	var crc uint32
	for ch := first; ; {
		if ch != first && ch.GetHeader() != nil {
			return buf, status.Error(codes.InvalidArgument, "upload: a header after the first chunk")
		}
		need := int64(len(buf)) + int64(len(ch.GetData()))
		if need > size {
			return buf, status.Errorf(codes.ResourceExhausted, "upload: more than the announced %d bytes", size)
		}
		if need > int64(cap(buf)) {
			// Grow geometrically, never beyond the announced size.
			nc := min(max(2*int64(cap(buf)), need), size)
			nb := getUploadBuf(int(nc), int(max(limit, size)))
			nb = append(nb, buf...)
			s.uploads.grow(int64(cap(nb) - cap(buf)))
			*held += int64(cap(nb) - cap(buf))
			putUploadBuf(buf)
			buf = nb
		}
		buf = append(buf, ch.GetData()...)
		crc = protocol.UpdateCRC32C(crc, ch.GetData())
		if ch.GetLast() {
			ok := ch.GetSize() == int64(len(buf)) && size == int64(len(buf))
			if ch.Crc32C != nil {
				ok = ok && ch.GetCrc32C() == crc
			} else {
				sum := sha256.Sum256(buf)
				ok = ok && bytes.Equal(sum[:], ch.GetSha256())
			}
			if !ok {
				return buf, status.Errorf(codes.DataLoss, "upload of %d bytes does not match its announced size %d or checksum", len(buf), size)
			}
			return buf, nil
		}
		if ch, err = s.recvWithin(ctx, stream, end); err != nil {
			return buf, err
		}
	}
}

// checkAnnounced checks that req is what header h announced.
func checkAnnounced(h *api.UploadHeader, req *api.SubmitRequest) error {
	ok := req.GetTenant() == h.GetTenant() && req.GetRound() == h.GetRound()
	switch p := req.GetPayload().(type) {
	case *api.SubmitRequest_Update:
		ok = ok && h.GetKind() == api.UploadKind_UPLOAD_KIND_UPDATE
	case *api.SubmitRequest_Eval:
		ok = ok && h.GetKind() == api.UploadKind_UPLOAD_KIND_EVAL
	case *api.SubmitRequest_Secagg:
		ok = ok && h.GetKind() == api.UploadKind_UPLOAD_KIND_SECAGG && p.Secagg.GetStage() == h.GetSecaggStage()
	default:
		ok = false
	}
	if !ok {
		return status.Errorf(codes.InvalidArgument, "upload: the request is not the %v of tenant %q, round %d its header announced", h.GetKind(), h.GetTenant(), h.GetRound())
	}
	return nil
}

// recvWithin receives the next chunk, giving up (and so ending the
// stream) when it takes longer than Limits.RecvIdle, end fires, or ctx
// ends. A Recv left running returns once the handler has returned and
// gRPC has torn the stream down.
func (s *Service) recvWithin(ctx context.Context, stream grpc.ClientStreamingServer[api.Chunk, api.SubmitResponse], end <-chan time.Time) (*api.Chunk, error) {
	type result struct {
		ch  *api.Chunk
		err error
	}
	got := make(chan result, 1)
	go func() {
		ch, err := stream.Recv()
		got <- result{ch, err}
	}()
	idle := time.NewTimer(s.limits.RecvIdle)
	defer idle.Stop()
	select {
	case r := <-got:
		if r.err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "upload ended before its last chunk: %v", r.err)
		}
		return r.ch, nil
	case <-idle.C:
		return nil, status.Errorf(codes.DeadlineExceeded, "upload: no chunk for %v", s.limits.RecvIdle)
	case <-end:
		return nil, status.Error(codes.DeadlineExceeded, "upload: the stage's deadline (or the stream's time limit) passed")
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}
