package task

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
)

// Memory of the tenant's data path (issue #18, item 5): load a CSV and
// encode it for the linear head, as a tenant's learner does. The figures
// are live heap bytes after a full GC (runtime.MemStats.HeapAlloc), which
// do not depend on timing or on the GC's pacing.

// synthCSV returns a CSV of synthetic labelled records of at least size
// bytes.
func synthCSV(t testing.TB, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	for seed := uint64(1); buf.Len() < size; seed++ {
		ex := dataset.Synthesize(dataset.SynthConfig{Seed: seed, Records: 2000})
		var part bytes.Buffer
		if err := dataset.WriteCSV(&part, ex); err != nil {
			t.Fatal(err)
		}
		b := part.Bytes()
		if buf.Len() > 0 {
			b = b[bytes.IndexByte(b, '\n')+1:] // one header only
		}
		buf.Write(b)
	}
	return buf.Bytes()
}

// encoded is what a learner keeps: the examples and their encoded rows.
type encoded struct {
	ex   []dataset.Example
	rows models.Rows
	y    []int
}

// loadEncode loads the CSV and encodes it with encode, as the learners do.
func loadEncode(t testing.TB, csv []byte, encode func(models.Encoder, []string, []dataset.Example) (models.Rows, []int, error)) encoded {
	t.Helper()
	ex, _, err := dataset.Load(bytes.NewReader(csv), "data.csv", dataset.LoadOptions{LabelCol: "label"})
	if err != nil {
		t.Fatal(err)
	}
	labels, _ := dataset.LabelIndex(ex)
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: models.DefaultLinearDim})
	if err != nil {
		t.Fatal(err)
	}
	rows, y, err := encode(enc, labels, ex)
	if err != nil {
		t.Fatal(err)
	}
	return encoded{ex: ex, rows: rows, y: y}
}

func newEncode(enc models.Encoder, labels []string, ex []dataset.Example) (models.Rows, []int, error) {
	return EncodeSparse(context.Background(), enc, labels, ex, "train", slog.New(slog.DiscardHandler))
}

// oldEncode is EncodeSparse as it was before the RowStore (dense chunks
// of 512, then one SparseRow per example): the baseline.
func oldEncode(enc models.Encoder, labels []string, ex []dataset.Example) (models.Rows, []int, error) {
	texts, ys, _ := dataset.WithLabels(ex, labels)
	rows := make([]models.SparseRow, 0, len(texts))
	for i := 0; i < len(texts); i += 512 {
		x, err := enc.Encode(context.Background(), texts[i:min(i+512, len(texts))])
		if err != nil {
			return nil, nil, err
		}
		r, err := models.SparsifyAll(x, enc.Dim())
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, r...)
	}
	return models.SliceRows(rows), ys, nil
}

// liveHeap returns the growth of the live heap that f's result holds.
func liveHeap(f func() encoded) (int64, encoded) {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	keep := f()
	runtime.GC()
	runtime.ReadMemStats(&b)
	runtime.KeepAlive(keep)
	return int64(b.HeapAlloc) - int64(a.HeapAlloc), keep
}

// TestLoadEncodeMemory: the loaded and encoded data take at most a third
// of what the old []SparseRow path kept (17 bytes of live heap per byte of
// this CSV), at most 8 bytes per byte of CSV (the RowStore's 4 MiB chunks
// included), and the rows are the same.
func TestLoadEncodeMemory(t *testing.T) {
	csv := synthCSV(t, 3<<19)
	oldLive, old := liveHeap(func() encoded { return loadEncode(t, csv, oldEncode) })
	newLive, cur := liveHeap(func() encoded { return loadEncode(t, csv, newEncode) })
	t.Logf("%d bytes of CSV, %d rows: live heap old %d B (%.1f per CSV byte), new %d B (%.1f per CSV byte)",
		len(csv), len(cur.ex), oldLive, float64(oldLive)/float64(len(csv)), newLive, float64(newLive)/float64(len(csv)))
	if newLive*3 > oldLive {
		t.Errorf("new path keeps %d bytes, more than a third of the old path's %d", newLive, oldLive)
	}
	if newLive > 8*int64(len(csv)) {
		t.Errorf("new path keeps %d bytes for %d bytes of CSV: more than 8 per byte", newLive, len(csv))
	}
	var a, b models.SparseRow
	for i := range cur.rows.Len() {
		ra, rb := old.rows.Row(i, &a), cur.rows.Row(i, &b)
		if fmt.Sprint(ra) != fmt.Sprint(rb) {
			t.Fatalf("row %d differs between the old and the new path", i)
		}
	}
}

// TestLoadEncodeMemoryLarge is the check at the sizes: set
// FEDB2B_MEMTEST_CSV to a labelled CSV (text, label), or FEDB2B_MEMTEST_MB
// to a size for a synthetic one, to load and encode it and require the
// live heap to stay under 6 bytes per CSV byte plus 32 MiB (for 50 MB:
// 332 MB; the whole demo's peak RSS is measured in the README). Slow and
// memory-hungry: off by default.
func TestLoadEncodeMemoryLarge(t *testing.T) {
	path := os.Getenv("FEDB2B_MEMTEST_CSV")
	if mb, _ := strconv.Atoi(os.Getenv("FEDB2B_MEMTEST_MB")); path == "" && mb > 0 {
		path = filepath.Join(t.TempDir(), "big.csv")
		if err := os.WriteFile(path, synthCSV(t, mb*1000*1000), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if path == "" {
		t.Skip("set FEDB2B_MEMTEST_CSV=FILE or FEDB2B_MEMTEST_MB=50 to load and encode a large CSV")
	}
	live, keep := liveHeap(func() encoded {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return loadEncode(t, b, newEncode)
	})
	runtime.KeepAlive(keep)
	st, _ := os.Stat(path)
	limit := 6*st.Size() + 32<<20
	t.Logf("%d bytes of CSV, %d rows: live heap %d B (%.2f per CSV byte), limit %d", st.Size(), len(keep.ex), live, float64(live)/float64(st.Size()), limit)
	if live > limit {
		t.Errorf("live heap %d B for a %d-byte CSV, over %d", live, st.Size(), limit)
	}
}

// BenchmarkLoadEncode loads and encodes a 1 MB synthetic CSV for the
// linear head, the old way ([]SparseRow from dense chunks) and the new one
// (RowStore straight from the hashing features). Read the two as ratios:
// B/op and allocs/op from -benchmem, MB/s, and live-B/MB, the live heap
// the result keeps per MB of CSV.
//
//	go test -run XXX -bench BenchmarkLoadEncode -benchmem ./models/task
func BenchmarkLoadEncode(b *testing.B) {
	csv := synthCSV(b, 1<<20)
	for _, c := range []struct {
		name   string
		encode func(models.Encoder, []string, []dataset.Example) (models.Rows, []int, error)
	}{{"old", oldEncode}, {"new", newEncode}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(csv)))
			for b.Loop() {
				loadEncode(b, csv, c.encode)
			}
			live, _ := liveHeap(func() encoded { return loadEncode(b, csv, c.encode) })
			b.ReportMetric(float64(live)/(float64(len(csv))/1e6), "live-B/MB")
		})
	}
}
