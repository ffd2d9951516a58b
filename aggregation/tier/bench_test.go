package tier

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/privacy"
)

// Per-party costs of one group's round at d = 1e5 (docs/scale-out.md fits
// its cost model to these):
//
//   - client: one tenant's whole session in a group of g with k
//     neighbours (Advertise … Unmask, masked input encoded for the wire);
//   - aggregator: the group's server fed every recorded message of the
//     session (adverts, shares and their signatures, receipts, the
//     encoded masked inputs, survivor signatures, unmask shares) and
//     Result, with 0 % or 5 % of the members dropped before their masked
//     input;
//   - combine: the coordinator's Combiner.Add of m group reports (quorum
//     signature check and the O(d) add) and Result.
//
// Every iteration is interleaved with a machine-speed unit measured in
// the same process: the AES-128-CTR keystream of one d-word vector
// (aesctr-ms), so figures from different runs can be compared as ratios.
// Reported: the fastest iteration (ms-min; noise on a shared machine only
// adds time). Regimes: "sparse" (k = 16, c = 7: tenants whose policy
// assumes at most 7 corrupt members per group) and "dense" (c = ⌈g/3⌉−1,
// the default policy, with k = t + ⌈g/20⌉ so that 5 % drop-outs keep every
// member above the threshold).
//
//	nice -n 10 go test -run XXX -bench BenchmarkTier -benchtime 3x ./aggregation/tier
//
// FEDB2B_BENCH_TIER_BIG=1 adds g = 1000 (sparse) and g = 300 (dense):
// minutes of setup and ≈ 0.5 GB of heap.

const benchDim = 100_000

type benchCase struct {
	regime string
	g, k   int
	gamma  float64 // policy corrupt fraction (gives c)
}

func benchCases() []benchCase {
	cs := []benchCase{
		{"sparse", 100, 16, 7.5 / 100},
		{"sparse", 300, 16, 7.5 / 300},
		{"dense", 100, 40, 0},
	}
	if os.Getenv("FEDB2B_BENCH_TIER_BIG") != "" {
		cs = append(cs, benchCase{"sparse", 1000, 16, 7.5 / 1000}, benchCase{"dense", 300, 116, 0})
	}
	return cs
}

var zeroBuf = make([]byte, 64<<10)

// aesUnit is the machine-speed unit: AES-128-CTR keystream of d words.
func aesUnit() time.Duration {
	var key, iv [16]byte
	block, _ := aes.NewCipher(key[:])
	ctr := cipher.NewCTR(block, iv[:])
	buf := make([]byte, len(zeroBuf))
	t0 := time.Now()
	for left := 4 * benchDim; left > 0; left -= len(buf) {
		n := min(left, len(buf))
		ctr.XORKeyStream(buf[:n], zeroBuf[:n])
	}
	return time.Since(t0)
}

// cpuTime is the process's user+system CPU time: on a machine shared with
// other jobs it counts the work done, not the time spent waiting for a
// core (the benchmarks run one party at a time).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type minDur struct{ d time.Duration }

func (m *minDur) add(d time.Duration) {
	if m.d == 0 || d < m.d {
		m.d = d
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

func BenchmarkTier(b *testing.B) {
	b.Run("units", func(b *testing.B) {
		// Machine-speed units for the cost model, in CPU time: one
		// ed25519 verification, one d-word AES-CTR keystream.
		pub, priv, _ := ed25519.GenerateKey(privacy.SeededReader(5))
		msg := make([]byte, 100)
		sig := ed25519.Sign(priv, msg)
		var ver, aesc minDur
		for range b.N {
			c0 := cpuTime()
			for range 200 {
				if !ed25519.Verify(pub, msg, sig) {
					b.Fatal("verify")
				}
			}
			ver.add((cpuTime() - c0) / 200)
			c0 = cpuTime()
			for range 20 {
				aesUnit()
			}
			aesc.add((cpuTime() - c0) / 20)
		}
		b.ReportMetric(float64(ver.d.Nanoseconds())/1e3, "verify-us")
		b.ReportMetric(ms(aesc.d), "aesctr-cpu-ms")
	})
	for _, bc := range benchCases() {
		name := fmt.Sprintf("%s/g=%d/k=%d", bc.regime, bc.g, bc.k)
		var rc0 *recorded
		b.Run("client/"+name, func(b *testing.B) {
			rc0 = record(b, bc, 0)
			p := rc0.g.Params
			wire := make([]byte, 0, 42+4*benchDim)
			var op, cpu, unit minDur
			b.ResetTimer()
			for range b.N {
				t0, c0 := time.Now(), cpuTime()
				rc0.client(b, wire)
				op.add(time.Since(t0))
				cpu.add(cpuTime() - c0)
				b.StopTimer()
				unit.add(aesUnit())
				b.StartTimer()
			}
			b.ReportMetric(ms(op.d), "ms-min")
			b.ReportMetric(ms(cpu.d), "cpu-ms-min")
			b.ReportMetric(ms(unit.d), "aesctr-ms")
			b.ReportMetric(float64(p.Threshold()), "t")
			b.ReportMetric(float64(p.MaxCorrupt()), "c")
			b.ReportMetric(float64(p.Quorum()), "q")
			up, down := rc0.clientBytes(b)
			b.ReportMetric(float64(up), "up-B")
			b.ReportMetric(float64(down), "down-B")
		})
		for _, pct := range []int{0, 5} {
			b.Run(fmt.Sprintf("aggregator/%s/drop=%d%%", name, pct), func(b *testing.B) {
				rc := rc0
				if pct != 0 || rc == nil {
					rc = record(b, bc, pct)
				}
				var op, cpu, keys, sum, unit minDur
				b.ResetTimer()
				for range b.N {
					t0, c0 := time.Now(), cpuTime()
					k, s := rc.aggregator(b)
					op.add(time.Since(t0))
					cpu.add(cpuTime() - c0)
					keys.add(k)
					sum.add(s)
					b.StopTimer()
					unit.add(aesUnit())
					b.StartTimer()
				}
				b.ReportMetric(ms(op.d), "ms-min")
				b.ReportMetric(ms(cpu.d), "cpu-ms-min")
				b.ReportMetric(ms(keys.d), "keys-ms-min")
				b.ReportMetric(ms(sum.d), "sum-ms-min")
				b.ReportMetric(ms(unit.d), "aesctr-ms")
				b.ReportMetric(float64(len(rc.ureq.Dropped)), "dropped")
			})
		}
		if bc.regime == "sparse" && bc.g == 100 || bc.regime == "dense" {
			for _, m := range []int{10, 34, 100} {
				b.Run(fmt.Sprintf("combine/%s/m=%d", name, m), func(b *testing.B) {
					rc := rc0
					if rc == nil {
						rc = record(b, bc, 0)
					}
					benchCombine(b, rc, m)
				})
			}
		}
		rc0 = nil
	}
}

// benchCombine adds m reports of group sums (each the recorded group's
// real report: its survivor set and signatures) into a Combiner.
func benchCombine(b *testing.B, rc *recorded, m int) {
	sum := make([]uint32, benchDim)
	for i := range sum {
		sum[i] = uint32(i)
	}
	groups := make([]*Group, m)
	reps := make([]*Report, m)
	for j := range m {
		g := *rc.g
		g.Index = j
		groups[j] = &g
		reps[j] = &Report{Group: j, Sum: sum, Survivors: rc.ureq.Survivors, Signatures: rc.ureq.Signatures}
	}
	var op, cpu, unit minDur
	b.ResetTimer()
	for range b.N {
		t0, c0 := time.Now(), cpuTime()
		c, err := NewCombiner(groups)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range reps {
			if err := c.Add(r); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := c.Result(m); err != nil {
			b.Fatal(err)
		}
		op.add(time.Since(t0))
		cpu.add(cpuTime() - c0)
		b.StopTimer()
		unit.add(aesUnit())
		b.StartTimer()
	}
	b.ReportMetric(ms(op.d), "ms-min")
	b.ReportMetric(ms(cpu.d), "cpu-ms-min")
	b.ReportMetric(ms(unit.d), "aesctr-ms")
	b.ReportMetric(float64(rc.g.Params.Quorum()), "q")
}
