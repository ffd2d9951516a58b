package coordinator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/protocol"
)

// chunkStream replays chunks as an Upload stream.
type chunkStream struct {
	grpc.ServerStream
	chunks []*api.Chunk
	next   int
}

func (c *chunkStream) Recv() (*api.Chunk, error) {
	ch := c.chunks[c.next]
	c.next++
	return ch, nil
}
func (c *chunkStream) SendAndClose(*api.SubmitResponse) error { return nil }
func (c *chunkStream) Context() context.Context               { return context.Background() }

// uploadChunks cuts b into the client's 1 MiB chunks, the last with its
// size and, as sha says, the SHA-256 (older clients) or the CRC-32C.
func uploadChunks(b []byte, sha bool) []*api.Chunk {
	var out []*api.Chunk
	for off := 0; off < len(b); off += ChunkSize {
		end := min(off+ChunkSize, len(b))
		out = append(out, &api.Chunk{Data: b[off:end], Last: end == len(b)})
	}
	last := out[len(out)-1]
	last.Size = int64(len(b))
	if sha {
		s := sha256.Sum256(b)
		last.Sha256 = s[:]
	} else {
		crc := protocol.UpdateCRC32C(0, b)
		last.Crc32C = &crc
	}
	return out
}

// reassembleBefore is the reassembly loop before #19 (a fresh buffer and
// every step of its growth allocated per upload, then a SHA-256 pass),
// kept as the benchmark's baseline.
func (s *Service) reassembleBefore(ctx context.Context, stream grpc.ClientStreamingServer[api.Chunk, api.SubmitResponse], first *api.Chunk, size int64, end <-chan time.Time, held *int64) ([]byte, error) {
	var buf []byte
	for ch := first; ; {
		need := int64(len(buf)) + int64(len(ch.GetData()))
		if need > size {
			return nil, status.Errorf(codes.ResourceExhausted, "upload: more than the announced %d bytes", size)
		}
		if need > int64(cap(buf)) {
			nc := min(max(2*int64(cap(buf)), need), size)
			nb := make([]byte, len(buf), nc)
			copy(nb, buf)
			s.uploads.grow(nc - int64(cap(buf)))
			*held += nc - int64(cap(buf))
			buf = nb
		}
		buf = append(buf, ch.GetData()...)
		if ch.GetLast() {
			sum := sha256.Sum256(buf)
			if ch.GetSize() != int64(len(buf)) || size != int64(len(buf)) || !bytes.Equal(sum[:], ch.GetSha256()) {
				return nil, status.Errorf(codes.DataLoss, "checksum")
			}
			return buf, nil
		}
		var err error
		if ch, err = s.recvWithin(ctx, stream, end); err != nil {
			return nil, err
		}
	}
}

// BenchmarkUploadReassembly receives one masked input of d words (4d
// bytes plus framing) as an Upload stream, before (fresh buffers, SHA-256
// pass) and after (recycled buffers, CRC-32C per chunk) in the same run:
//
//	go test -run XXX -bench BenchmarkUploadReassembly -benchmem -count 3 ./coordinator
//
// FEDB2B_BENCH_1E7=1 adds d = 10⁷.
func BenchmarkUploadReassembly(b *testing.B) {
	dims := []int{1_000_000}
	if os.Getenv("FEDB2B_BENCH_1E7") == "1" {
		dims = append(dims, 10_000_000)
	}
	s := &Service{}
	s.SetLimits(Limits{})
	for _, d := range dims {
		msg := make([]byte, 4*d+UploadFraming/2)
		for i := range msg {
			msg[i] = byte(i * 31)
		}
		size := int64(len(msg))
		for _, v := range []struct {
			name string
			sha  bool
			run  func(*chunkStream, *int64) ([]byte, error)
		}{
			{"before", true, func(st *chunkStream, held *int64) ([]byte, error) {
				return s.reassembleBefore(context.Background(), st, st.chunks[0], size, nil, held)
			}},
			{"after", false, func(st *chunkStream, held *int64) ([]byte, error) {
				buf, err := s.reassemble(context.Background(), st, st.chunks[0], size, size, nil, held)
				putUploadBuf(buf)
				return buf, err
			}},
		} {
			chunks := uploadChunks(msg, v.sha)
			b.Run(fmt.Sprintf("d=%d/%s", d, v.name), func(b *testing.B) {
				b.SetBytes(size)
				for b.Loop() {
					st := &chunkStream{chunks: chunks, next: 1}
					var held int64
					if _, err := v.run(st, &held); err != nil {
						b.Fatal(err)
					}
					s.uploads.release("", held)
				}
			})
		}
	}
}
