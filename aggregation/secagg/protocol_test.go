package secagg

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// plainSum is the naive reference: Σ inputs[i] mod 2^32 over idx.
func plainSum(inputs [][]uint32, idx []int) []uint32 {
	out := make([]uint32, len(inputs[0]))
	for _, i := range idx {
		for j, v := range inputs[i] {
			out[j] += v
		}
	}
	return out
}

func randomInputs(r *rand.Rand, n, d int) [][]uint32 {
	in := make([][]uint32, n)
	for i := range in {
		in[i] = make([]uint32, d)
		for j := range in[i] {
			in[i][j] = r.Uint32()
		}
	}
	return in
}

func TestSimulateNoDropouts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ n, k, t int }{{3, 0, 2}, {5, 0, 3}, {10, 4, 3}, {12, 5, 4}} {
		in := randomInputs(r, tc.n, 37)
		sum, surv, err := Simulate(SimConfig{Round: 1, Threshold: tc.t, Neighbours: tc.k}, in, nil, privacy.SeededReader(7))
		if err != nil {
			t.Fatalf("n=%d k=%d t=%d: %v", tc.n, tc.k, tc.t, err)
		}
		if len(surv) != tc.n {
			t.Fatalf("survivors %v, want all %d", surv, tc.n)
		}
		if want := plainSum(in, surv); !slices.Equal(sum, want) {
			t.Fatalf("n=%d k=%d t=%d: sum differs from plain sum", tc.n, tc.k, tc.t)
		}
	}
}

// TestPropertyDropouts: for random n, d, k, t and random dropout patterns
// that leave every needed secret with ≥ t surviving holders, the unmasked
// sum equals the plain sum of the survivors' inputs; otherwise the round
// aborts with ErrBelowThreshold and no sum is returned.
func TestPropertyDropouts(t *testing.T) {
	seed := uint64(20261128)
	r := rand.New(rand.NewPCG(seed, 99))
	iters := 120
	if testing.Short() {
		iters = 30
	}
	var ok, aborted int
	for it := range iters {
		n := 3 + r.IntN(10)
		d := 1 + r.IntN(70)
		k := 0
		if n > 4 && r.IntN(2) == 0 {
			k = 2 + r.IntN(n-3)
		}
		kk := k
		if kk <= 0 || kk >= n-1 {
			kk = n - 1
		} else if kk%2 == 1 {
			kk++
		}
		th := kk/2 + 1 + r.IntN(kk-kk/2)
		drops := map[int]Stage{}
		for i := range n {
			if r.IntN(5) == 0 {
				drops[i] = Stage(1 + r.IntN(6)) // advertise … unmask
			}
		}
		in := randomInputs(r, n, d)
		desc := fmt.Sprintf("iter %d (seed %d): n=%d d=%d k=%d t=%d drops=%v", it, seed, n, d, k, th, drops)
		res, err := SimulateSession(SimConfig{Round: uint64(it), Threshold: th, Neighbours: k}, in, drops, privacy.SeededReader(uint64(it)))
		if err != nil {
			t.Fatalf("%s: setup: %v", desc, err)
		}
		if res.Err != nil {
			if !errors.Is(res.Err, ErrBelowThreshold) {
				t.Fatalf("%s: unexpected error %v", desc, res.Err)
			}
			if res.Sum != nil {
				t.Fatalf("%s: aborted round returned a sum", desc)
			}
			for i := range n {
				if _, dropped := drops[i]; !dropped && res.ClientErrs[i] == nil {
					t.Fatalf("%s: connected client %d was not told why the round aborted", desc, i)
				}
			}
			aborted++
			continue
		}
		for _, s := range res.Survivors {
			if st, dropped := drops[s]; dropped && st <= StageMaskedInput {
				t.Fatalf("%s: client %d dropped at %v but is listed as survivor", desc, s, st)
			}
		}
		for i := range n {
			if st, dropped := drops[i]; (!dropped || st >= StageConsistency) && !contains(res.Survivors, i) {
				t.Fatalf("%s: client %d sent its masked input but is not a survivor", desc, i)
			}
		}
		if want := plainSum(in, res.Survivors); !slices.Equal(res.Sum, want) {
			t.Fatalf("%s: unmasked sum differs from plain sum of survivors %v", desc, res.Survivors)
		}
		ok++
	}
	t.Logf("%d rounds completed, %d aborted below threshold", ok, aborted)
	if ok < iters/4 || aborted == 0 {
		t.Fatalf("dropout distribution exercised too little: %d ok, %d aborted", ok, aborted)
	}
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
