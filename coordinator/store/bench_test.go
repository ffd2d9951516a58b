package store

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkFinishRound measures committing a round with a 1 MiB model
// (blob write + fsync + rename + bbolt transaction with its fsyncs) against
// a baseline that only writes the same bytes to a file and fsyncs it.
func BenchmarkFinishRound(b *testing.B) {
	blob := make([]byte, 1<<20)
	copy(blob, blobFor(1))
	b.Run("baseline-write-fsync", func(b *testing.B) {
		dir := b.TempDir()
		b.SetBytes(int64(len(blob)))
		i := 0
		for b.Loop() {
			f, err := os.Create(filepath.Join(dir, fmt.Sprint(i)))
			if err != nil {
				b.Fatal(err)
			}
			blob[0] = byte(i)
			f.Write(blob)
			f.Sync()
			f.Close()
			i++
		}
	})
	b.Run("finish-round", func(b *testing.B) {
		s, err := Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		if _, err := s.PutModel(0, []byte("m0")); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(blob)))
		r := 1
		for b.Loop() {
			blob[0], blob[1] = byte(r), byte(r>>8)
			rec := RoundRecord{Round: r, Stage: "unmask", ModelVersion: r - 1, Cohort: []string{"a", "b"}}
			if _, err := s.FinishRound(rec, blob); err != nil {
				b.Fatal(err)
			}
			r++
		}
	})
}
