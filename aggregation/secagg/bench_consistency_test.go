package secagg

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkConsistencyVsMasking compares, at d = 10^6 in one run, a
// client's masking (CheckShares + MaskInput: what it did before the
// consistency round existed, plus share signature checks) with the client
// work the ConsistencyCheck round adds: SignSurvivors (checks and one
// ed25519 signature) and the quorum check in Unmask (ed25519 verification
// of q signatures on the survivor set). The rest of Unmask (revealing
// shares) predates the round; unmask/mask reports the whole Unmask plus
// SignSurvivors as an upper bound. All run interleaved b.N times; the
// ratios are of the fastest runs (noise only adds time), -mean of totals.
func BenchmarkConsistencyVsMasking(b *testing.B) {
	const d = 1_000_000
	for _, nk := range [][2]int{{16, 15}, {16, log2k(16)}, {64, log2k(64)}} {
		n, k := nk[0], nk[1]
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
			tmp := signing
			r0, _ := tmp.SignSurvivors(cons)
			if err := s.srv.OnConsistency(0, r0); err != nil {
				b.Fatal(err)
			}
			req, err := s.srv.UnmaskRequest()
			if err != nil {
				b.Fatal(err)
			}
			mr := &MaskRequest{Session: s.p.Session()}
			var minMask, minCons, minUnmask, sumMask, sumCons time.Duration
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
				if err := cc.checkQuorum(req.Signatures); err != nil {
					b.Fatal(err)
				}
				dc := time.Since(t1)
				t2 := time.Now()
				cu := signing
				if _, err := cu.SignSurvivors(cons); err != nil {
					b.Fatal(err)
				}
				if _, err := cu.Unmask(req); err != nil {
					b.Fatal(err)
				}
				du := time.Since(t2)
				if i == 0 || dm < minMask {
					minMask = dm
				}
				if i == 0 || dc < minCons {
					minCons = dc
				}
				if i == 0 || du < minUnmask {
					minUnmask = du
				}
				sumMask += dm
				sumCons += dc
			}
			b.StopTimer()
			b.ReportMetric(float64(minCons)/float64(minMask), "consistency/mask")
			b.ReportMetric(float64(sumCons)/float64(sumMask), "consistency/mask-mean")
			b.ReportMetric(float64(minUnmask)/float64(minMask), "unmask/mask")
			b.ReportMetric(float64(minMask.Microseconds()), "mask-µs")
			b.ReportMetric(float64(minCons.Microseconds()), "consistency-µs")
			b.ReportMetric(float64(s.p.Quorum()), "quorum")
		})
	}
}
