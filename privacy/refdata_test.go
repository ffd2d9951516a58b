package privacy

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"
)

// refRow is one row of testdata/reference.csv (see testdata/README.md).
// Empty cells parse as NaN.
type refRow struct {
	line  int
	kind  string
	steps int
	f     map[string]float64
}

func (r refRow) get(col string) float64 {
	v, ok := r.f[col]
	if !ok {
		panic("privacy test: unknown column " + col)
	}
	return v
}

func loadReference(t testing.TB) []refRow {
	t.Helper()
	fh, err := os.Open("testdata/reference.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := recs[0]
	var rows []refRow
	for li, rec := range recs[1:] {
		r := refRow{line: li + 2, kind: rec[0], f: map[string]float64{}}
		for c := 1; c < len(rec); c++ {
			if header[c] == "steps" {
				if r.steps, err = strconv.Atoi(rec[c]); err != nil {
					t.Fatalf("line %d: steps: %v", r.line, err)
				}
				continue
			}
			v := math.NaN()
			if rec[c] != "" {
				if v, err = strconv.ParseFloat(rec[c], 64); err != nil {
					t.Fatalf("line %d col %s: %v", r.line, header[c], err)
				}
			}
			r.f[header[c]] = v
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		t.Fatal("no reference rows")
	}
	return rows
}

func relErr(got, want float64) float64 {
	return math.Abs(got-want) / math.Abs(want)
}
