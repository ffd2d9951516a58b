package tier

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/privacy"
)

// testTenants makes n tenants with seeded identity keys and small signed
// inputs of d words (as quantised updates are: |word| ≤ 1000).
func testTenants(n, d int, seed uint64) []Tenant {
	rd := privacy.SeededReader(seed)
	r := rand.New(rand.NewPCG(seed, 99))
	out := make([]Tenant, n)
	for i := range n {
		var s [32]byte
		rd.Read(s[:])
		in := make([]uint32, d)
		for k := range in {
			in[k] = uint32(int32(r.IntN(2001) - 1000))
		}
		out[i] = Tenant{ID: fmt.Sprintf("tenant-%05d", i), Identity: ed25519.NewKeyFromSeed(s[:]), Input: in}
	}
	return out
}

func cohortOf(ts []Tenant) []secagg.Participant {
	out := make([]secagg.Participant, len(ts))
	for i, t := range ts {
		out[i] = secagg.Participant{ID: t.ID, IdentityKey: t.Identity.Public().(ed25519.PublicKey)}
	}
	return out
}

func idsOf(ts []Tenant) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

// plainSums is the reference: the modular and the signed integer sums of
// the named tenants' inputs, computed directly.
func plainSums(t *testing.T, ts []Tenant, ids []string) ([]uint32, []int64) {
	t.Helper()
	byID := make(map[string]Tenant)
	for _, x := range ts {
		byID[x.ID] = x
	}
	d := len(ts[0].Input)
	sum, wide := make([]uint32, d), make([]int64, d)
	for _, id := range ids {
		x, ok := byID[id]
		if !ok {
			t.Fatalf("unknown tenant %q", id)
		}
		for i, w := range x.Input {
			sum[i] += w
			wide[i] += int64(int32(w))
		}
	}
	return sum, wide
}
