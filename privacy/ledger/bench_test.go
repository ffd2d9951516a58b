package ledger

import (
	"path/filepath"
	"testing"
)

// BenchmarkAppend measures one durable intent append (fsync included) on a
// ledger of 100 entries.
func BenchmarkAppend(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), "l"), testKey(b, 1))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	e := round("acme", 0)
	e.EpsilonCap = 1e9
	for i := 0; i < 100; i++ {
		e.Round = int64(i)
		if _, err := l.Append(e); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Round = int64(100 + i)
		if _, err := l.Append(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplay measures recomputing ε over a 100-entry ledger (what
// verification does per ledger), against BenchmarkDecode100 as baseline.
func BenchmarkReplay100(b *testing.B) {
	entries := benchEntries(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := NewReplay()
		for _, e := range entries {
			if _, err := r.Apply(e); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDecode100 decodes the same 100 entries from their lines.
func BenchmarkDecode100(b *testing.B) {
	entries := benchEntries(b)
	var lines [][]byte
	for _, e := range entries {
		line, _ := e.Encode()
		lines = append(lines, line)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, line := range lines {
			if _, err := DecodeLine(line); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func benchEntries(b *testing.B) []Entry {
	l, err := Open(filepath.Join(b.TempDir(), "l"), testKey(b, 1))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	e := round("acme", 0)
	e.EpsilonCap = 1e9
	for i := 0; i < 100; i++ {
		e.Round = int64(i)
		if _, err := l.Append(e); err != nil {
			b.Fatal(err)
		}
	}
	return l.Entries()
}

// BenchmarkReplay100Cold is BenchmarkReplay100 with the memo of composed
// accountant states emptied first: the cost of composing 100 DP-SGD
// rounds with the RDP accountant.
func BenchmarkReplay100Cold(b *testing.B) {
	entries := benchEntries(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		memo.Lock()
		clear(memo.m)
		memo.Unlock()
		r := NewReplay()
		for _, e := range entries {
			if _, err := r.Apply(e); err != nil {
				b.Fatal(err)
			}
		}
	}
}
