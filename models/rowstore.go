package models

import (
	"fmt"
	"math"
	"sort"
)

// Rows is a read-only sequence of sparse rows. Row may decode row i into
// buf's slices and return a view of them, valid until the next call with
// the same buf; callers that keep a row must copy it.
type Rows interface {
	Len() int
	Row(i int, buf *SparseRow) SparseRow
}

// SliceRows adapts a []SparseRow to Rows.
type SliceRows []SparseRow

func (s SliceRows) Len() int                          { return len(s) }
func (s SliceRows) Row(i int, _ *SparseRow) SparseRow { return s[i] }

// RowStore holds sparse rows in a compact, lossless form: every entry is
// one uint32 (bits 0-23 the index, bits 24-30 a class, bit 31 the sign)
// and each row keeps a small table of its distinct magnitudes as float64.
// Hashed text features have a few distinct magnitudes per row (mostly
// ±1/‖v‖), so a row of n entries takes about 4n bytes instead of
// SparseRow's 12n plus two slice headers. A row with more than
// maxRowClasses distinct magnitudes (a dense embedding) stores its values
// as they are (class rawClass, 12 bytes an entry). Decoding gives back the
// exact float64 values appended: training on a RowStore gives the same
// bits as on the []SparseRow it replaces.
//
// Entries live in fixed-size chunks, so appending never copies what is
// stored (no transient doubling as a growing slice has). RowStore is not
// safe for concurrent appends; Row may be called concurrently with
// distinct bufs once appending is done.
type RowStore struct {
	dim  int
	rows []rowLoc
	idx  [][]uint32
	vals [][]float64
}

// rowLoc locates one row: its entries idx[ic][is:is+n] and its values
// vals[vc][vs:vs+nv] (the magnitude table, or all n values when raw).
type rowLoc struct {
	ic, is, n  uint32
	vc, vs, nv uint32
	raw        bool
}

const (
	// maxRowStoreDim is the largest input dimension a RowStore holds (24
	// index bits; the hashing encoder's maximum).
	maxRowStoreDim = 1 << 24
	indexMask      = 1<<24 - 1
	signBit        = 1 << 31
	classShift     = 24
	rawClass       = 127
	maxRowClasses  = rawClass // classes 0..126 index the table
	idxChunk       = 1 << 20  // entries per chunk (4 MiB)
	valChunk       = 1 << 16  // values per chunk (512 KiB)
)

// NewRowStore returns an empty store of rows of dimension dim; capHint
// rows are reserved (0 if unknown).
func NewRowStore(dim, capHint int) (*RowStore, error) {
	if dim < 1 || dim > maxRowStoreDim {
		return nil, fmt.Errorf("models: row store dimension %d out of range [1, %d]", dim, maxRowStoreDim)
	}
	return &RowStore{dim: dim, rows: make([]rowLoc, 0, max(capHint, 0))}, nil
}

// Dim is the dimension of the rows.
func (s *RowStore) Dim() int { return s.dim }

// Len is the number of rows.
func (s *RowStore) Len() int { return len(s.rows) }

// Bytes is the memory the store holds (chunk capacities and row table).
func (s *RowStore) Bytes() int64 {
	b := int64(cap(s.rows)) * 28
	for _, c := range s.idx {
		b += int64(cap(c)) * 4
	}
	for _, c := range s.vals {
		b += int64(cap(c)) * 8
	}
	return b
}

// AppendDense appends the non-zero entries of x, which must have length
// Dim and finite entries.
func (s *RowStore) AppendDense(x []float64) error {
	if len(x) != s.dim {
		return fmt.Errorf("models: input row %d has length %d, want %d", len(s.rows), len(x), s.dim)
	}
	if j := firstNonFinite(x); j >= 0 {
		return fmt.Errorf("models: input row %d entry %d is not finite", len(s.rows), j)
	}
	n := 0
	for _, v := range x {
		if v != 0 {
			n++
		}
	}
	s.appendEntries(n, func(yield func(j int32, v float64)) {
		for j, v := range x {
			if v != 0 {
				yield(int32(j), v)
			}
		}
	})
	return nil
}

// AppendSparse appends r, which must have strictly increasing indices in
// [0, Dim) and finite values; zero values are dropped.
func (s *RowStore) AppendSparse(r SparseRow) error {
	if err := r.check(s.dim); err != nil {
		return fmt.Errorf("models: input row %d: %w", len(s.rows), err)
	}
	n := 0
	for _, v := range r.Val {
		if v != 0 {
			n++
		}
	}
	s.appendEntries(n, func(yield func(j int32, v float64)) {
		for k, j := range r.Idx {
			if v := r.Val[k]; v != 0 {
				yield(j, v)
			}
		}
	})
	return nil
}

// appendEntries stores one row of n non-zero entries given in index order.
func (s *RowStore) appendEntries(n int, entries func(func(int32, float64))) {
	loc := rowLoc{n: uint32(n)}
	ic := s.reserveIdx(n)
	loc.ic, loc.is = uint32(len(s.idx)-1), uint32(len(ic))
	// The magnitude table, first in a small local array.
	var tbl [maxRowClasses]float64
	nt := 0
	raw := false
	entries(func(_ int32, v float64) {
		if raw {
			return
		}
		a := math.Abs(v)
		for c := 0; c < nt; c++ {
			if tbl[c] == a {
				return
			}
		}
		if nt == maxRowClasses {
			raw = true
			return
		}
		tbl[nt] = a
		nt++
	})
	nv := nt
	if raw {
		nv = n
	}
	vc := s.reserveVals(nv)
	loc.vc, loc.vs, loc.nv, loc.raw = uint32(len(s.vals)-1), uint32(len(vc)), uint32(nv), raw
	if !raw {
		vc = append(vc, tbl[:nt]...)
	}
	entries(func(j int32, v float64) {
		e := uint32(j)
		if raw {
			e |= rawClass << classShift
			vc = append(vc, v)
		} else {
			a := math.Abs(v)
			c := 0
			for tbl[c] != a {
				c++
			}
			e |= uint32(c) << classShift
			if math.Signbit(v) {
				e |= signBit
			}
		}
		ic = append(ic, e)
	})
	s.idx[len(s.idx)-1] = ic
	s.vals[len(s.vals)-1] = vc
	s.rows = append(s.rows, loc)
}

// reserveIdx returns the last index chunk with room for n more entries,
// starting a new chunk if needed.
func (s *RowStore) reserveIdx(n int) []uint32 {
	if k := len(s.idx); k > 0 && cap(s.idx[k-1])-len(s.idx[k-1]) >= n {
		return s.idx[k-1]
	}
	s.idx = append(s.idx, make([]uint32, 0, max(idxChunk, n)))
	return s.idx[len(s.idx)-1]
}

func (s *RowStore) reserveVals(n int) []float64 {
	if k := len(s.vals); k > 0 && cap(s.vals[k-1])-len(s.vals[k-1]) >= n {
		return s.vals[k-1]
	}
	s.vals = append(s.vals, make([]float64, 0, max(valChunk, n)))
	return s.vals[len(s.vals)-1]
}

// Row decodes row i into buf and returns it.
func (s *RowStore) Row(i int, buf *SparseRow) SparseRow {
	loc := s.rows[i]
	ent := s.idx[loc.ic][loc.is : loc.is+loc.n]
	vals := s.vals[loc.vc][loc.vs : loc.vs+loc.nv]
	idx, val := buf.Idx[:0], buf.Val[:0]
	for k, e := range ent {
		idx = append(idx, int32(e&indexMask))
		if loc.raw {
			val = append(val, vals[k])
			continue
		}
		v := vals[(e>>classShift)&rawClass]
		if e&signBit != 0 {
			v = -v
		}
		val = append(val, v)
	}
	buf.Idx, buf.Val = idx, val
	return *buf
}

// ConcatRows is the rows of several Rows one after the other, without
// copying them.
type ConcatRows struct {
	parts []Rows
	start []int // start[i] is the first row of parts[i]; start[len] the total
}

// Concat returns the concatenation of parts.
func Concat(parts ...Rows) *ConcatRows {
	c := &ConcatRows{start: make([]int, 1, len(parts)+1)}
	for _, p := range parts {
		if p == nil || p.Len() == 0 {
			continue
		}
		c.parts = append(c.parts, p)
		c.start = append(c.start, c.start[len(c.start)-1]+p.Len())
	}
	return c
}

func (c *ConcatRows) Len() int { return c.start[len(c.start)-1] }

func (c *ConcatRows) Row(i int, buf *SparseRow) SparseRow {
	p := sort.SearchInts(c.start, i+1) - 1
	return c.parts[p].Row(i-c.start[p], buf)
}
