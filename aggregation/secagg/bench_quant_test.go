package secagg

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// BenchmarkQuantize: Quantize (norm, clip, scale, stochastic rounding) at
// d coordinates, as ns per coordinate and as a ratio to 4d bytes of
// AES-128-CTR keystream (x-aesctr, same run, interleaved), next to the
// previous one-Float64-per-coordinate rounding (ref).
func BenchmarkQuantize(b *testing.B) {
	for _, d := range benchDims[:3] {
		x := make([]float64, d)
		pr := rand.New(rand.NewPCG(1, 2))
		for i := range x {
			x[i] = pr.NormFloat64() * 1e-3
		}
		q := Quantizer{ClipNorm: 1, Scale: 1 << 16}
		dst := make([]uint32, d)
		r, _ := privacy.NewRand(privacy.SeededReader(1))
		b.Run(fmt.Sprintf("d=%.0e", float64(d)), func(b *testing.B) {
			b.SetBytes(int64(8 * d))
			measureRatio(b, 1, d, func() {
				if _, err := q.Quantize(dst, x, r); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(d), "ns/coord")
		})
		b.Run(fmt.Sprintf("ref/d=%.0e", float64(d)), func(b *testing.B) {
			b.SetBytes(int64(8 * d))
			measureRatio(b, 1, d, func() {
				f := q.Scale
				_ = sumSquares(x)
				quantizeReference(dst, x, r, f, q.MaxAbs())
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(d), "ns/coord")
		})
	}
}
