package task

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/protocol"
)

// Summed statistics come from other parties: whatever they hold, every
// kind's metrics are finite and non-negative, or an error, never a panic.
func FuzzMetrics(f *testing.F) {
	f.Add(uint8(0), []byte{1, 2, 3})
	f.Add(uint8(3), make([]byte, 8*64))
	specs := []protocol.TaskSpec{
		{ID: "c", Kind: KindClassify, Labels: []string{"a", "b", "c"}},
		{ID: "i", Kind: KindIntent, Labels: []string{"a", "b"}},
		{ID: "f", Kind: KindForecast, Options: map[string]string{"epoch": "2011-01-03", "weeks": "40"}},
		{ID: "r", Kind: KindRecommend, Rank: 8, Options: RecommendOptions{CatalogHash: strings.Repeat("ab", 32),
			Cut: time.Date(2011, 8, 8, 0, 0, 0, 0, time.UTC), FeatureDim: 16, K: 10, PairsPerCust: 4, CustomerRate: 0.5}.Options()},
	}
	for _, s := range specs {
		k, _ := Lookup(s.Kind)
		if _, err := Metrics(s, make([]int64, k.EvalLen(s))); err != nil {
			f.Fatalf("the fuzz spec of kind %s is refused: %v", s.Kind, err)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, raw []byte) {
		spec := specs[int(which)%len(specs)]
		k, err := Lookup(spec.Kind)
		if err != nil {
			t.Fatal(err)
		}
		n := k.EvalLen(spec)
		stats := make([]int64, n)
		for i := range stats {
			if len(raw) >= 8*(i+1) {
				stats[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		}
		m, err := Metrics(spec, stats)
		if err != nil {
			return
		}
		for name, v := range m {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("kind %s: %s = %v from %v", spec.Kind, name, v, stats)
			}
		}
	})
}
