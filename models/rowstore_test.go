package models

import (
	"context"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomRows returns sparse rows with few distinct magnitudes (like hashed
// features) and some with many (like dense embeddings), with negatives.
func randomRows(dim, n int, rng *mrand.Rand) []SparseRow {
	rows := make([]SparseRow, n)
	for i := range rows {
		nnz := rng.IntN(min(dim, 300)) + 1
		idx := rng.Perm(dim)[:nnz]
		slices.Sort(idx)
		r := SparseRow{}
		distinct := i%4 != 0 // every fourth row: all values distinct
		for _, j := range idx {
			v := 1 / math.Sqrt(float64(nnz))
			if !distinct {
				v = rng.NormFloat64()
			} else if rng.IntN(10) == 0 {
				v *= 1 + math.Log(2)
			}
			if rng.IntN(2) == 0 {
				v = -v
			}
			r.Idx, r.Val = append(r.Idx, int32(j)), append(r.Val, v)
		}
		rows[i] = r
	}
	return rows
}

func TestRowStoreRoundTripExact(t *testing.T) {
	defer func(c, v int) { codeChunk, valChunk = c, v }(codeChunk, valChunk)
	for _, chunks := range [][2]int{{codeChunk, valChunk}, {64, 4}} { // the defaults, and rows across many chunks
		codeChunk, valChunk = chunks[0], chunks[1]
		roundTrip(t)
	}
}

func roundTrip(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	for _, dim := range []int{1, 7, 5000, 1 << 24} {
		rows := randomRows(min(dim, 20000), 200, rng)
		s, err := NewRowStore(dim, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := s.AppendSparse(r); err != nil {
				t.Fatal(err)
			}
		}
		if s.Len() != len(rows) {
			t.Fatalf("dim %d: %d rows stored, want %d", dim, s.Len(), len(rows))
		}
		var buf SparseRow
		for i, want := range rows {
			got := s.Row(i, &buf)
			if !slices.Equal(got.Idx, want.Idx) || len(got.Val) != len(want.Val) {
				t.Fatalf("dim %d row %d: indices %v, want %v", dim, i, got.Idx, want.Idx)
			}
			for k := range want.Val {
				if math.Float64bits(got.Val[k]) != math.Float64bits(want.Val[k]) {
					t.Fatalf("dim %d row %d entry %d: %v, want %v (bit-exact)", dim, i, k, got.Val[k], want.Val[k])
				}
			}
		}
	}
}

func TestRowStoreDenseAndLimits(t *testing.T) {
	if _, err := NewRowStore(1<<24+1, 0); err == nil {
		t.Fatal("dimension beyond 24 index bits accepted")
	}
	if _, err := NewRowStore(0, 0); err == nil {
		t.Fatal("dimension 0 accepted")
	}
	s, _ := NewRowStore(4, 0)
	if err := s.AppendDense([]float64{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "length 3") {
		t.Fatalf("short row: %v", err)
	}
	if err := s.AppendDense([]float64{1, math.NaN(), 0, 0}); err == nil {
		t.Fatal("NaN accepted")
	}
	if err := s.AppendSparse(SparseRow{Idx: []int32{2, 1}, Val: []float64{1, 1}}); err == nil {
		t.Fatal("decreasing indices accepted")
	}
	if err := s.AppendDense([]float64{0, -0.5, 0, 0.25}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendDense(make([]float64, 4)); err != nil { // the zero vector: an empty row
		t.Fatal(err)
	}
	var buf SparseRow
	if r := s.Row(0, &buf); !slices.Equal(r.Idx, []int32{1, 3}) || !slices.Equal(r.Val, []float64{-0.5, 0.25}) {
		t.Fatalf("row 0 = %+v", r)
	}
	if r := s.Row(1, &buf); len(r.Idx) != 0 || s.Len() != 2 {
		t.Fatalf("row 1 = %+v, len %d", r, s.Len())
	}
	// A row longer than a chunk gets its own chunk.
	defer func(c, v int) { codeChunk, valChunk = c, v }(codeChunk, valChunk)
	codeChunk, valChunk = 1000, 100
	big, _ := NewRowStore(3000, 0)
	x := make([]float64, 3000)
	for i := range x {
		x[i] = float64(i%200) + 1
	}
	for range 2 {
		if err := big.AppendDense(x); err != nil {
			t.Fatal(err)
		}
	}
	if r := big.Row(1, &buf); len(r.Idx) != len(x) || r.Val[len(x)-1] != x[len(x)-1] {
		t.Fatalf("long row decoded with %d entries", len(r.Idx))
	}
}

func TestConcatRows(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(3, 4))
	a, b := randomRows(50, 7, rng), randomRows(50, 5, rng)
	s, _ := NewRowStore(50, 0)
	for _, r := range b {
		s.AppendSparse(r)
	}
	empty, _ := NewRowStore(50, 0)
	c := Concat(SliceRows(a), empty, nil, s)
	if c.Len() != 12 {
		t.Fatalf("len %d, want 12", c.Len())
	}
	var buf SparseRow
	for i, want := range append(append([]SparseRow(nil), a...), b...) {
		if got := c.Row(i, &buf); !slices.Equal(got.Idx, want.Idx) || !slices.Equal(got.Val, want.Val) {
			t.Fatalf("row %d differs", i)
		}
	}
	if Concat().Len() != 0 {
		t.Fatal("empty concatenation has rows")
	}
}

// hashedRows encodes generated texts with the linear head's hashing
// encoder, as the tenants' learners do.
func hashedRows(t testing.TB, n int) ([]SparseRow, []int) {
	enc, err := NewHashingEncoder(HashingConfig{Dim: DefaultLinearDim})
	if err != nil {
		t.Fatal(err)
	}
	rng := mrand.New(mrand.NewPCG(5, 6))
	words := strings.Fields("invoice payment card transfer refund account balance top up pending declined fee exchange rate cash withdrawal pin blocked verify identity")
	texts := make([]string, n)
	y := make([]int, n)
	for i := range texts {
		var b strings.Builder
		for range 5 + rng.IntN(12) {
			b.WriteString(words[rng.IntN(len(words))] + " ")
		}
		texts[i], y[i] = b.String(), rng.IntN(4)
	}
	x, err := enc.Encode(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := SparsifyAll(x, enc.Dim())
	if err != nil {
		t.Fatal(err)
	}
	return rows, y
}

// TestRowStoreTrainsBitIdentical: DP-Adam training, L-BFGS fitting and
// evaluation over a RowStore give exactly the parameters and counts of the
// same rows as a []SparseRow.
func TestRowStoreTrainsBitIdentical(t *testing.T) {
	rows, y := hashedRows(t, 400)
	s, _ := NewRowStore(DefaultLinearDim, len(rows))
	for _, r := range rows {
		if err := s.AppendSparse(r); err != nil {
			t.Fatal(err)
		}
	}
	newHead := func() *LinearHead {
		h, err := NewLinearHead(LinearConfig{InputDim: DefaultLinearDim, Classes: 4})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	cfg := DefaultLinearPrivateConfig(30, 1.1)
	cfg.ExpectedBatch = 40
	ha, hb := newHead(), newHead()
	if _, err := NewLinearTrainer(ha).Train(rows, y, cfg, mrand.New(mrand.NewPCG(7, 8))); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLinearTrainer(hb).TrainRows(s, y, cfg, mrand.New(mrand.NewPCG(7, 8))); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ha.Params(), hb.Params()) {
		t.Fatal("DP training over the RowStore differs from the []SparseRow")
	}
	fa, fb := newHead(), newHead()
	if err := FitLinear(fa, rows, y, FitOptions{MaxIterations: 20}); err != nil {
		t.Fatal(err)
	}
	if err := FitLinearRows(fb, s, y, FitOptions{MaxIterations: 20}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fa.Params(), fb.Params()) {
		t.Fatal("L-BFGS fit over the RowStore differs from the []SparseRow")
	}
	ma, _ := fa.Evaluate(rows, y)
	mb, err := fa.EvaluateRows(Concat(s), y)
	if err != nil || !slices.Equal(ma.Counts, mb.Counts) {
		t.Fatalf("evaluation differs: %v", err)
	}
}

// TestRowStoreCompact: hashed text rows take at most a quarter of the
// []SparseRow's bytes (about 2 bytes an entry and 28 a row, against 12
// bytes an entry and 48 a row, before allocation rounding).
func TestRowStoreCompact(t *testing.T) {
	rows, _ := hashedRows(t, 2000)
	s, _ := NewRowStore(DefaultLinearDim, len(rows))
	var nnz, sparseBytes int64
	for _, r := range rows {
		s.AppendSparse(r)
		nnz += int64(len(r.Idx))
		sparseBytes += 48 + 12*int64(len(r.Idx))
	}
	// Chunks are allocated whole (4 MiB): compare what the rows use.
	used := int64(s.Len()) * rowLocBytes
	for _, c := range s.codes {
		used += int64(len(c))
	}
	for _, c := range s.vals {
		used += 8 * int64(len(c))
	}
	if used*4 > sparseBytes {
		t.Fatalf("RowStore uses %d bytes for %d entries, []SparseRow %d: more than a quarter", used, nnz, sparseBytes)
	}
	t.Logf("%d rows, %d entries: RowStore %d bytes used (%.2f B/entry), []SparseRow %d", s.Len(), nnz, used, float64(used)/float64(nnz), sparseBytes)
}
