package models

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
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

// RowStore holds sparse rows in a compact, lossless form. Each row keeps
// a small table of its distinct magnitudes as float64 and codes every
// entry as one unsigned varint of (gap to the previous index, sign, class
// in the table). Hashed text features have a few distinct magnitudes per
// row (mostly ±1/‖v‖) and gaps of tens of buckets, so an entry takes
// about 2 bytes instead of SparseRow's 12 plus two slice headers a row. A
// row with more than maxRowClasses distinct magnitudes (a dense
// embedding) stores its values as they are (8 bytes an entry more).
// Decoding gives back the exact float64 values appended: training on a
// RowStore gives the same bits as on the []SparseRow it replaces.
//
// Codes and values live in fixed-size chunks, so appending never copies
// what is stored (no transient doubling as a growing slice has). RowStore
// is not safe for concurrent appends; Row may be called concurrently with
// distinct bufs once appending is done.
type RowStore struct {
	dim    int
	rows   []rowLoc
	codes  [][]byte
	vals   [][]float64
	tmp    []byte                 // one row's codes while they are built
	tmpRow SparseRow              // one row's non-zero entries (AppendDense)
	tbl    [maxRowClasses]float64 // one row's magnitude table
}

// rowLoc locates one row: its entries coded from codes[cc][cs:] and its
// values vals[vc][vs:] (the magnitude table, or all entries' values when
// the row is raw). meta packs the number of entries n (25 bits: a row has
// at most 1<<24) and the table size nv (7 bits; 0 for a raw or empty row).
type rowLoc struct {
	cc, cs, vc, vs uint32
	meta           uint32
}

func (l rowLoc) entries() int   { return int(l.meta & (1<<25 - 1)) }
func (l rowLoc) tableSize() int { return int(l.meta >> 25) }
func (l rowLoc) raw() bool      { return l.tableSize() == 0 && l.entries() > 0 }

// rowLocBytes is the size of a rowLoc, for Bytes.
const rowLocBytes = 20

const (
	// maxRowStoreDim is the largest input dimension a RowStore holds.
	maxRowStoreDim = 1 << 24
	maxRowClasses  = 127 // distinct magnitudes a row's table holds
)

// Chunk sizes (variables so that tests can make rows span chunks).
var (
	codeChunk = 4 << 20 // bytes per code chunk
	valChunk  = 1 << 16 // values per chunk (512 KiB)
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
	b := int64(cap(s.rows)) * rowLocBytes
	for _, c := range s.codes {
		b += int64(cap(c))
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
	r := SparseRow{Idx: s.tmpRow.Idx[:0], Val: s.tmpRow.Val[:0]}
	for j, v := range x {
		if v != 0 {
			r.Idx, r.Val = append(r.Idx, int32(j)), append(r.Val, v)
		}
	}
	s.tmpRow = r
	s.appendRow(r)
	return nil
}

// AppendSparse appends r, which must have strictly increasing indices in
// [0, Dim) and finite values; zero values are dropped.
func (s *RowStore) AppendSparse(r SparseRow) error {
	if err := r.check(s.dim); err != nil {
		return fmt.Errorf("models: input row %d: %w", len(s.rows), err)
	}
	if slices.Contains(r.Val, 0) {
		nz := SparseRow{Idx: s.tmpRow.Idx[:0], Val: s.tmpRow.Val[:0]}
		for k, v := range r.Val {
			if v != 0 {
				nz.Idx, nz.Val = append(nz.Idx, r.Idx[k]), append(nz.Val, v)
			}
		}
		s.tmpRow, r = nz, nz
	}
	s.appendRow(r)
	return nil
}

// classBits is the number of bits that number the classes of a table of
// nt magnitudes.
func classBits(nt int) uint {
	b := uint(0)
	for 1<<b < nt {
		b++
	}
	return b
}

// appendRow stores one checked row without zero values.
func (s *RowStore) appendRow(r SparseRow) {
	tbl := &s.tbl
	nt, n := 0, len(r.Idx)
	raw := false
	for _, v := range r.Val {
		a := math.Abs(v)
		c := 0
		for c < nt && tbl[c] != a {
			c++
		}
		if c < nt {
			continue
		}
		if nt == maxRowClasses {
			raw = true
			break
		}
		tbl[nt] = a
		nt++
	}
	nv := nt
	if raw {
		nv = n
	}
	vc := s.reserveVals(nv)
	loc := rowLoc{vc: uint32(len(s.vals) - 1), vs: uint32(len(vc)), meta: uint32(n)}
	if raw {
		vc = append(vc, r.Val...)
	} else {
		loc.meta |= uint32(nt) << 25
		vc = append(vc, tbl[:nt]...)
	}
	s.vals[len(s.vals)-1] = vc
	cb := classBits(nt)
	code := s.tmp[:0]
	prev := int32(-1)
	for k, j := range r.Idx {
		c := uint64(j - prev - 1) // the gap
		prev = j
		if !raw {
			v := r.Val[k]
			a := math.Abs(v)
			cl := 0
			for tbl[cl] != a {
				cl++
			}
			sign := uint64(0)
			if math.Signbit(v) {
				sign = 1
			}
			c = c<<(cb+1) | sign<<cb | uint64(cl)
		}
		code = binary.AppendUvarint(code, c)
	}
	cc := s.reserveCodes(len(code))
	loc.cc, loc.cs = uint32(len(s.codes)-1), uint32(len(cc))
	s.codes[len(s.codes)-1] = append(cc, code...)
	s.tmp = code
	s.rows = append(s.rows, loc)
}

// reserveCodes returns the last code chunk with room for n more bytes,
// starting a new chunk if needed.
func (s *RowStore) reserveCodes(n int) []byte {
	if k := len(s.codes); k > 0 && cap(s.codes[k-1])-len(s.codes[k-1]) >= n {
		return s.codes[k-1]
	}
	s.codes = append(s.codes, make([]byte, 0, max(codeChunk, n)))
	return s.codes[len(s.codes)-1]
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
	code := s.codes[loc.cc][loc.cs:]
	n, nt, raw := loc.entries(), loc.tableSize(), loc.raw()
	vals := s.vals[loc.vc][loc.vs:]
	cb := classBits(nt)
	mask := uint64(1)<<cb - 1
	idx, val := buf.Idx[:0], buf.Val[:0]
	prev := int64(-1)
	for k := range n {
		c, w := binary.Uvarint(code)
		code = code[w:]
		if raw {
			prev += int64(c) + 1
			idx, val = append(idx, int32(prev)), append(val, vals[k])
			continue
		}
		v := vals[c&mask]
		if c>>cb&1 != 0 {
			v = -v
		}
		prev += int64(c>>(cb+1)) + 1
		idx, val = append(idx, int32(prev)), append(val, v)
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
