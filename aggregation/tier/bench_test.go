package tier

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
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

// recorded is one group session with every message recorded, so any
// party can be replayed.
type recorded struct {
	g        *Group
	idents   []ed25519.PrivateKey
	ads      []*secagg.AdvertiseMsg
	shares   [][]*secagg.EncryptedShare // sent, by sender
	inbox    [][]*secagg.EncryptedShare // received, by recipient
	receipts []*secagg.ShareReceipt
	mreq     []*secagg.MaskRequest
	wire     [][]byte // nil: dropped before its masked input
	cons     *secagg.ConsistencyRequest
	consResp []*secagg.ConsistencyResponse
	ureq     *secagg.UnmaskRequest
	uresp    []*secagg.UnmaskResponse
	input    []uint32
}

func record(tb testing.TB, bc benchCase, dropPct int) *recorded {
	ts := testTenants(bc.g, 1, 77)
	rp := RoundPlan{Round: 1, Context: []byte("bench"), Dim: benchDim, GroupSize: bc.g, Neighbours: bc.k,
		Policy: secagg.Policy{CorruptFraction: bc.gamma}}
	groups, err := Plan(rp, cohortOf(ts), privacy.SeededReader(1))
	if err != nil {
		tb.Fatal(err)
	}
	rc := &recorded{g: groups[0]}
	p := rc.g.Params
	n := p.N()
	byID := map[string]Tenant{}
	for _, x := range ts {
		byID[x.ID] = x
	}
	srv, _ := secagg.NewServer(p)
	cl := make([]*secagg.Client, n)
	rc.idents = make([]ed25519.PrivateKey, n)
	rc.ads = make([]*secagg.AdvertiseMsg, n)
	for i := range n {
		rc.idents[i] = byID[p.Participant(uint32(i)).ID].Identity
		cl[i], _ = secagg.NewClient(secagg.ClientConfig{Params: p, ID: p.Participant(uint32(i)).ID, Identity: rc.idents[i], Rand: privacy.SeededReader(uint64(1000 + i))})
		rc.ads[i], _ = cl[i].Advertise()
		if err := srv.OnAdvertise(uint32(i), rc.ads[i]); err != nil {
			tb.Fatal(err)
		}
	}
	ads, _ := srv.Adverts()
	rc.shares = make([][]*secagg.EncryptedShare, n)
	for i, c := range cl {
		if rc.shares[i], err = c.ShareKeys(ads); err == nil {
			err = srv.OnShares(uint32(i), rc.shares[i])
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	rc.inbox = make([][]*secagg.EncryptedShare, n)
	rc.receipts = make([]*secagg.ShareReceipt, n)
	for i, c := range cl {
		rc.inbox[i], _ = srv.SharesFor(uint32(i))
		if rc.receipts[i], err = c.CheckShares(rc.inbox[i]); err == nil {
			err = srv.OnReceipt(uint32(i), rc.receipts[i])
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	drop := dropSet(tb, p, n*dropPct/100)
	rc.input = make([]uint32, benchDim)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range rc.input {
		rc.input[i] = uint32(int32(r.IntN(2001) - 1000))
	}
	rc.mreq = make([]*secagg.MaskRequest, n)
	rc.wire = make([][]byte, n)
	for i, c := range cl {
		rc.mreq[i], _ = srv.MaskRequestFor(uint32(i))
		if drop[i] {
			continue
		}
		if rc.wire[i], err = c.AppendMaskedInput(nil, rc.mreq[i], rc.input); err == nil {
			err = srv.OnMaskedInputWire(uint32(i), rc.wire[i])
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if rc.cons, err = srv.ConsistencyRequest(); err != nil {
		tb.Fatal(err)
	}
	rc.consResp = make([]*secagg.ConsistencyResponse, n)
	for _, u := range rc.cons.Survivors {
		if rc.consResp[u], err = cl[u].SignSurvivors(rc.cons); err == nil {
			err = srv.OnConsistency(u, rc.consResp[u])
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if rc.ureq, err = srv.UnmaskRequest(); err != nil {
		tb.Fatal(err)
	}
	rc.uresp = make([]*secagg.UnmaskResponse, n)
	for _, u := range rc.ureq.Survivors {
		if rc.uresp[u], err = cl[u].Unmask(rc.ureq); err != nil {
			tb.Fatal(err)
		}
	}
	return rc
}

// dropSet picks m members (never member 0, the benchmarked client) such
// that every member keeps at least t surviving neighbours.
func dropSet(tb testing.TB, p *secagg.Params, m int) map[int]bool {
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		drop := map[int]bool{}
		for _, i := range r.Perm(p.N() - 1)[:m] {
			drop[i+1] = true
		}
		ok := true
		for u := range p.N() {
			alive := 0
			for _, v := range p.Neighbours(uint32(u)) {
				if !drop[int(v)] {
					alive++
				}
			}
			ok = ok && alive >= p.Threshold()
		}
		if ok {
			return drop
		}
	}
	tb.Fatalf("no drop-out pattern of %d members within the threshold", m)
	return nil
}

// client replays member 0's whole session into wire (reused buffer).
func (rc *recorded) client(tb testing.TB, wire []byte) {
	p := rc.g.Params
	c, err := secagg.NewClient(secagg.ClientConfig{Params: p, ID: p.Participant(0).ID, Identity: rc.idents[0], Rand: privacy.SeededReader(1000)})
	if err != nil {
		tb.Fatal(err)
	}
	c.Advertise()
	if _, err := c.ShareKeys(rc.ads); err != nil {
		tb.Fatal(err)
	}
	if _, err := c.CheckShares(rc.inbox[0]); err != nil {
		tb.Fatal(err)
	}
	if _, err := c.AppendMaskedInput(wire[:0], rc.mreq[0], rc.input); err != nil {
		tb.Fatal(err)
	}
	if _, err := c.SignSurvivors(rc.cons); err != nil {
		tb.Fatal(err)
	}
	if _, err := c.Unmask(rc.ureq); err != nil {
		tb.Fatal(err)
	}
}

// clientBytes is member 0's traffic in the session's wire encodings:
// what it sends (advert, k shares, receipt, masked input, survivor
// signature, unmask response) and receives (its neighbours' adverts and
// shares, mask request, survivor set, unmask request with its
// signatures).
func (rc *recorded) clientBytes(tb testing.TB) (up, down int) {
	size := func(m interface{ MarshalBinary() ([]byte, error) }) int {
		b, err := m.MarshalBinary()
		if err != nil {
			tb.Fatal(err)
		}
		return len(b)
	}
	p := rc.g.Params
	up = size(rc.ads[0]) + size(rc.receipts[0]) + len(rc.wire[0]) + size(rc.consResp[0]) + size(rc.uresp[0])
	for _, s := range rc.shares[0] {
		up += size(s)
	}
	for _, v := range p.Neighbours(0) {
		down += size(rc.ads[v])
	}
	for _, s := range rc.inbox[0] {
		down += size(s)
	}
	down += size(rc.mreq[0]) + size(rc.cons) + size(rc.ureq)
	return up, down
}

// aggregator replays every message into a fresh server and returns the
// time of the key stages (advertise to check-shares: signature checks
// and relaying) and of the sum of masked inputs.
func (rc *recorded) aggregator(tb testing.TB) (keys, sum time.Duration) {
	p := rc.g.Params
	srv, _ := secagg.NewServer(p)
	t0 := time.Now()
	for i, a := range rc.ads {
		if err := srv.OnAdvertise(uint32(i), a); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := srv.Adverts(); err != nil {
		tb.Fatal(err)
	}
	for i, s := range rc.shares {
		if err := srv.OnShares(uint32(i), s); err != nil {
			tb.Fatal(err)
		}
	}
	for i, r := range rc.receipts {
		if _, err := srv.SharesFor(uint32(i)); err != nil {
			tb.Fatal(err)
		}
		if err := srv.OnReceipt(uint32(i), r); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range rc.receipts {
		if _, err := srv.MaskRequestFor(uint32(i)); err != nil {
			tb.Fatal(err)
		}
	}
	keys = time.Since(t0)
	t1 := time.Now()
	for i, w := range rc.wire {
		if w == nil {
			continue
		}
		if err := srv.OnMaskedInputWire(uint32(i), w); err != nil {
			tb.Fatal(err)
		}
	}
	sum = time.Since(t1)
	if _, err := srv.ConsistencyRequest(); err != nil {
		tb.Fatal(err)
	}
	for _, u := range rc.cons.Survivors {
		if err := srv.OnConsistency(u, rc.consResp[u]); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := srv.UnmaskRequest(); err != nil {
		tb.Fatal(err)
	}
	for _, u := range rc.ureq.Survivors {
		if err := srv.OnUnmask(u, rc.uresp[u]); err != nil {
			tb.Fatal(err)
		}
	}
	if _, _, err := srv.Result(); err != nil {
		tb.Fatal(err)
	}
	return keys, sum
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
