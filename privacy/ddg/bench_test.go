package ddg

import (
	"testing"
	"time"
)

// Noise sampling cost per coordinate. Compare BenchmarkNoise/* with
// BenchmarkNoise/normfloat64 of the same run; BenchmarkNoiseRatio reports
// the ratio directly (table sampler time / NormFloat64 time, interleaved).

var sinkF float64
var sinkI int64

func BenchmarkNoise(b *testing.B) {
	b.Run("normfloat64", func(b *testing.B) {
		r := testRand(b, 1)
		var s float64
		for range b.N {
			s += r.NormFloat64()
		}
		sinkF = s
	})
	for _, sigma := range []float64{4, 4096, 65536} {
		s, err := NewSampler(sigma * sigma)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("table/sigma="+itoa(int(sigma)), func(b *testing.B) {
			r := testRand(b, 2)
			buf := make([]int64, 4096)
			for i := 0; i < b.N; i += len(buf) {
				s.Add(buf[:min(len(buf), b.N-i)], r)
			}
			sinkI = buf[0]
		})
	}
	ex, _ := NewExactSampler(4096 * 4096)
	b.Run("exact/sigma=4096", func(b *testing.B) {
		r := testRand(b, 3)
		var s int64
		for range b.N {
			s += ex.Sample(r)
		}
		sinkI = s
	})
}

// BenchmarkNoiseRatio times, in alternation, 2^16 NormFloat64 calls and
// 2^16 table samples (σ = 4096) and reports ns per coordinate of each and
// their ratio.
func BenchmarkNoiseRatio(b *testing.B) {
	s, err := NewSampler(4096 * 4096)
	if err != nil {
		b.Fatal(err)
	}
	r := testRand(b, 4)
	buf := make([]int64, 1<<16)
	var tn, ts time.Duration
	for range b.N {
		t0 := time.Now()
		var f float64
		for range len(buf) {
			f += r.NormFloat64()
		}
		sinkF = f
		t1 := time.Now()
		s.Add(buf, r)
		tn += t1.Sub(t0)
		ts += time.Since(t1)
	}
	n := float64(b.N * len(buf))
	b.ReportMetric(float64(tn.Nanoseconds())/n, "ns/normfloat64")
	b.ReportMetric(float64(ts.Nanoseconds())/n, "ns/dg")
	b.ReportMetric(float64(ts)/float64(tn), "ratio")
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var d []byte
	for v > 0 {
		d = append([]byte{byte('0' + v%10)}, d...)
		v /= 10
	}
	return string(d)
}

// BenchmarkEncode: one client's Encode at d = 5140 (D = 8192), the NAICS
// classifier at rank 256; ns/op is per client, see ns/coord.
func BenchmarkEncode(b *testing.B) {
	p, err := Plan(Goal{Epsilon: 8, Delta: 1e-5, Rounds: 10, Dim: 5140, ClipNorm: 3, Threshold: 16, Cohort: 20})
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewCodec(p)
	if err != nil {
		b.Fatal(err)
	}
	r := testRand(b, 5)
	x := make([]float64, p.Dim)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	dst := make([]uint32, p.PaddedDim())
	b.ResetTimer()
	for range b.N {
		if _, err := c.Encode(dst, x, RoundSeed{1}, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*p.PaddedDim()), "ns/coord")
}
