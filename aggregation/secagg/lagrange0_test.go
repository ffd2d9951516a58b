package secagg

import (
	"io"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// TestLagrangeAtZeroMatchesTextbook: the batched interpolation at 0 equals
// the textbook one on random share sets, including the largest holder
// indices, one share, and thresholds of a 1,000-client SecAgg+ session.
func TestLagrangeAtZeroMatchesTextbook(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 17, 334} {
		for trial := range 3 {
			xs, ys := make([]*big.Int, n), make([]*big.Int, n)
			seen := map[int64]bool{}
			for i := range n {
				var x int64
				for x == 0 || seen[x] {
					x = 1 + r.Int64N(MaxParticipants)
					if trial == 2 && i < 4 {
						x = MaxParticipants - int64(i) // the largest abscissae
					}
				}
				seen[x] = true
				xs[i] = big.NewInt(x)
				b := make([]byte, 32)
				for j := range b {
					b[j] = byte(r.Uint32())
				}
				ys[i] = new(big.Int).SetBytes(b)
			}
			want := lagrangeAt(xs, ys, new(big.Int))
			if got := lagrangeAtZero(xs, ys); got.Cmp(want) != 0 {
				t.Fatalf("t=%d trial %d: batched %x, textbook %x", n, trial, got, want)
			}
		}
	}
}

// BenchmarkLagrangeAtZero compares the two interpolations at t = 334 in
// the same run:
//
//	go test -run XXX -bench BenchmarkLagrangeAtZero -count 3 ./aggregation/secagg
func BenchmarkLagrangeAtZero(b *testing.B) {
	const n = 334
	xs, ys := make([]*big.Int, n), make([]*big.Int, n)
	for i := range n {
		xs[i] = big.NewInt(int64(3*i + 1))
		ys[i] = new(big.Int).Lsh(big.NewInt(int64(i+1)), 200)
	}
	b.Run("textbook", func(b *testing.B) {
		for b.Loop() {
			lagrangeAt(xs, ys, new(big.Int))
		}
	})
	b.Run("batched", func(b *testing.B) {
		for b.Loop() {
			lagrangeAtZero(xs, ys)
		}
	})
}

// splitTextbook is shamirSplit with a reduction at every Horner step (the
// code before #19), for the comparison below.
func splitTextbook(secret [32]byte, holders []uint32, t int, r io.Reader) []share {
	coef := []*big.Int{new(big.Int).SetBytes(secret[:])}
	for range t - 1 {
		c, err := randomElement(r)
		if err != nil {
			panic(err)
		}
		coef = append(coef, c)
	}
	out := make([]share, len(holders))
	for j, h := range holders {
		x, y := big.NewInt(int64(h)+1), new(big.Int)
		for i := t - 1; i >= 0; i-- {
			y.Mul(y, x)
			y.Add(y, coef[i])
			y.Mod(y, fieldP)
		}
		out[j].holder = h
		y.FillBytes(out[j].y[:])
	}
	return out
}

// TestShamirSplitMatchesTextbook: deferring the reductions changes no
// share, up to the largest holder index.
func TestShamirSplitMatchesTextbook(t *testing.T) {
	var secret [32]byte
	for i := range secret {
		secret[i] = 0xff
	}
	for _, th := range []int{1, 2, 9, 334} {
		holders := []uint32{0, 1, 77, MaxParticipants - 1}
		for i := uint32(2); len(holders) < th; i++ {
			holders = append(holders, 100+i)
		}
		got, err := shamirSplit(secret, holders, th, privacy.SeededReader(uint64(th)))
		if err != nil {
			t.Fatal(err)
		}
		want := splitTextbook(secret, holders, th, privacy.SeededReader(uint64(th)))
		if !slices.Equal(got, want) {
			t.Fatalf("t=%d: shares differ from the textbook evaluation", th)
		}
	}
}

// BenchmarkShamirSplit: one secret to k = 374 holders at t = 334 (n =
// 1,000 under the default policy), textbook and deferred reductions:
//
//	go test -run XXX -bench BenchmarkShamirSplit -count 3 ./aggregation/secagg
func BenchmarkShamirSplit(b *testing.B) {
	holders := make([]uint32, 374)
	for i := range holders {
		holders[i] = uint32(2 * i)
	}
	var secret [32]byte
	b.Run("textbook", func(b *testing.B) {
		for b.Loop() {
			splitTextbook(secret, holders, 334, privacy.SeededReader(1))
		}
	})
	b.Run("deferred", func(b *testing.B) {
		for b.Loop() {
			shamirSplit(secret, holders, 334, privacy.SeededReader(1))
		}
	})
}
