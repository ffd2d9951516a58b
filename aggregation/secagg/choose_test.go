package secagg

import (
	"crypto/ed25519"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// TestChooseNeighbours: the choice is one a default-policy tenant accepts
// (Policy.Check on the real Params), it is the smallest even k meeting the
// bound, and on the real graph random 5 % drop-outs never leave a client
// with more than k − t dropped neighbours (which would make a dropped
// client's secrets unrecoverable or exclude a survivor).
func TestChooseNeighbours(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{20, 100, 300, 1000} {
		ch, err := ChooseNeighbours(n, 0.05, Policy{}, 20)
		if err != nil {
			t.Fatal(err)
		}
		k, th := ch.Neighbours, ch.Threshold
		if k%2 != 0 || th <= k/2 || th > k || ch.MaxCorrupt >= th || !(ch.FailLog2 <= -20) {
			t.Fatalf("n=%d: %+v is not a valid choice", n, ch)
		}
		ps := make([]Participant, n)
		for i := range ps {
			pub, _, _ := ed25519.GenerateKey(privacy.SeededReader(uint64(i)))
			ps[i] = Participant{ID: fmt.Sprintf("t%04d", i), IdentityKey: pub}
		}
		p, err := NewParams(Config{Round: 1, Participants: ps, Threshold: th, Neighbours: k, Dim: 1, MaxCorrupt: ch.MaxCorrupt})
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if err := (Policy{}).Check(p); err != nil {
			t.Fatalf("n=%d: a default-policy tenant refuses the choice: %v", n, err)
		}
		// Minimal: the next smaller even k fails the bound or the policy.
		if k2 := k - 2; k2 >= 2 {
			t2 := max(k2/2+1, ch.MaxCorrupt+1)
			if t2 <= k2 && log2HyperTail(n-1, (n+19)/20, k2, k2-t2+1)+math.Log2(float64(n)) <= -20 {
				t.Errorf("n=%d: k=%d also meets the bound, %d is not the smallest", n, k2, k)
			}
		}
		drops := (n + 19) / 20
		for trial := range 20 {
			var seed [32]byte
			seed[0], seed[1] = byte(trial), byte(n)
			g := NewGraph(n, k, seed)
			gone := map[uint32]bool{}
			for _, i := range r.Perm(n)[:drops] {
				gone[uint32(i)] = true
			}
			for i := range n {
				lost := 0
				for _, j := range g.Neighbours(uint32(i)) {
					if gone[j] {
						lost++
					}
				}
				if lost > k-th {
					t.Fatalf("n=%d trial %d: client %d lost %d neighbours, tolerance k−t = %d", n, trial, i, lost, k-th)
				}
			}
		}
	}
	if _, err := ChooseNeighbours(2, 0.05, Policy{}, 20); err == nil {
		t.Error("n = 2 accepted")
	}
	if _, err := ChooseNeighbours(10, 1, Policy{}, 20); err == nil {
		t.Error("every client dropping accepted")
	}
}
