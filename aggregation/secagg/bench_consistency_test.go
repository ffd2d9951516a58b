package secagg

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkConsistencyVsMasking compares, at d = 10^6 in one run, a
// client's masking (CheckShares + MaskInput: what it did before the
// consistency round existed, plus share signature checks) with the client
// work the ConsistencyCheck round adds (SignSurvivors: one ed25519
// signature; Unmask: verifying the quorum's signatures on the survivor
// set, then revealing shares as before). Both run interleaved b.N times;
// consistency/mask is the ratio of the fastest consistency run to the
// fastest masking run (noise only adds time), consistency/mask-mean the
// ratio of the totals.
func BenchmarkConsistencyVsMasking(b *testing.B) {
	const n, d = 16, 1_000_000
	for _, k := range []int{n - 1, log2k(n)} {
		b.Run(fmt.Sprintf("n=%d/k=%d/d=%.0e", n, k, float64(d)), func(b *testing.B) {
			s := setupSession(b, n, k, k/2+1, d)
			sh, _ := s.srv.SharesFor(0)
			fresh := *s.cl[0] // client 0 before its share check
			input := make([]uint32, d)
			s.checkShares(b)
			for i := range n {
				mr, _ := s.srv.MaskRequestFor(uint32(i))
				m, err := s.cl[i].MaskInput(mr, input)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.srv.OnMaskedInput(uint32(i), m); err != nil {
					b.Fatal(err)
				}
			}
			cons, err := s.srv.ConsistencyRequest()
			if err != nil {
				b.Fatal(err)
			}
			signing := *s.cl[0] // client 0 in StageConsistency
			for i := 1; i < n; i++ {
				r, _ := s.cl[i].SignSurvivors(cons)
				if err := s.srv.OnConsistency(uint32(i), r); err != nil {
					b.Fatal(err)
				}
			}
			r0, _ := signing.SignSurvivors(cons)
			if err := s.srv.OnConsistency(0, r0); err != nil {
				b.Fatal(err)
			}
			req, err := s.srv.UnmaskRequest()
			if err != nil {
				b.Fatal(err)
			}
			mr := &MaskRequest{Session: s.p.Session()}
			var minMask, minCons, sumMask, sumCons time.Duration
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				c := fresh
				if _, err := c.CheckShares(sh); err != nil {
					b.Fatal(err)
				}
				if _, err := c.MaskInput(mr, input); err != nil {
					b.Fatal(err)
				}
				dm := time.Since(t0)
				t1 := time.Now()
				cc := signing
				if _, err := cc.SignSurvivors(cons); err != nil {
					b.Fatal(err)
				}
				if _, err := cc.Unmask(req); err != nil {
					b.Fatal(err)
				}
				dc := time.Since(t1)
				if i == 0 || dm < minMask {
					minMask = dm
				}
				if i == 0 || dc < minCons {
					minCons = dc
				}
				sumMask += dm
				sumCons += dc
			}
			b.StopTimer()
			b.ReportMetric(float64(minCons)/float64(minMask), "consistency/mask")
			b.ReportMetric(float64(sumCons)/float64(sumMask), "consistency/mask-mean")
			b.ReportMetric(float64(minMask.Microseconds()), "mask-µs")
			b.ReportMetric(float64(minCons.Microseconds()), "consistency-µs")
			b.ReportMetric(float64(len(req.Signatures)), "signatures")
		})
	}
}
