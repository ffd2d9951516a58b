package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
)

// Benchmarks come in pairs: the package function and a baseline doing the
// bare minimum on the same input (encoding/csv ReadAll, json.Unmarshal per
// line, an IID shuffle-and-deal), so results are read as ratios.

func benchExamples(n int) []Example { return Synthesize(SynthConfig{Seed: 1, Records: n}) }

func benchCSV(b *testing.B, n int) []byte {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, benchExamples(n)); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func benchJSONL(n int) []byte {
	var buf bytes.Buffer
	for _, e := range benchExamples(n) {
		line, _ := json.Marshal(map[string]string{"text": e.Text, "label": e.Label})
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func BenchmarkLoadCSV(b *testing.B) {
	data := benchCSV(b, 10000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := Load(bytes.NewReader(data), "b.csv", LoadOptions{LabelCol: "label"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadCSVBaselineReadAll(b *testing.B) {
	data := benchCSV(b, 10000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := csv.NewReader(bytes.NewReader(data)).ReadAll(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadJSONL(b *testing.B) {
	data := benchJSONL(10000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := Load(bytes.NewReader(data), "b.jsonl", LoadOptions{LabelCol: "label"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadJSONLBaselineUnmarshal(b *testing.B) {
	data := benchJSONL(10000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var v struct{ Text, Label string }
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkSynthesize1000(b *testing.B) {
	for b.Loop() {
		Synthesize(SynthConfig{Seed: 1, Records: 1000})
	}
}

func BenchmarkSplitDirichlet(b *testing.B) {
	for _, tenants := range []int{10, 100} {
		ex := benchExamples(10000)
		b.Run(fmt.Sprintf("tenants=%d", tenants), func(b *testing.B) {
			for b.Loop() {
				if _, err := SplitDirichlet(ex, tenants, 0.5, 1, SplitOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("tenants=%d/baselineIID", tenants), func(b *testing.B) {
			for b.Loop() {
				iidSplit(ex, tenants, 1)
			}
		})
	}
}

// iidSplit is the baseline: shuffle and deal round-robin.
func iidSplit(ex []Example, tenants int, seed uint64) [][]Example {
	r := rand.New(rand.NewPCG(seed, 0))
	perm := r.Perm(len(ex))
	parts := make([][]Example, tenants)
	for i, j := range perm {
		parts[i%tenants] = append(parts[i%tenants], ex[j])
	}
	return parts
}
