package secagg

import (
	"fmt"
	"math/big"
	"slices"
)

// maxCombineTries bounds the subsets robustCombine tries (each costs one
// O(t²) interpolation in math/big, ≈ 20 µs at t = 15).
const maxCombineTries = 4096

// robustCombine reconstructs a secret from m ≥ t shares, some of which may
// be wrong (a malicious holder), using check (the commitment: a hash for a
// self-mask seed, the advertised public key for a mask key) to recognise
// the true secret. It first combines the first t shares (by holder); if
// that passes, the other shares are not used and not examined. Otherwise
// it tries the subsets obtained by leaving out 1, 2, … shares, up to
// maxCombineTries interpolations; when one passes, every other share is
// evaluated against the polynomial it defines and the holders whose shares
// disagree are returned as bad. With e bad shares
// and m ≥ t+e this always finds the secret if the tries suffice (m = 30,
// t = 16: any e ≤ 2 within 466 tries). If no subset passes, the error names
// the holders whose shares were used (ErrInconsistent).
func robustCombine(shares []share, t int, check func([32]byte) bool) (secret [32]byte, bad []uint32, err error) {
	if len(shares) < t {
		return secret, nil, fmt.Errorf("%w: %d shares, threshold is %d", ErrBelowThreshold, len(shares), t)
	}
	sh := slices.Clone(shares)
	slices.SortFunc(sh, func(a, b share) int { return int(a.holder) - int(b.holder) })
	m := len(sh)
	tries := 0
	// excluded is a combination of j indices, in lexicographic order.
	for j := 0; j <= m-t && tries < maxCombineTries; j++ {
		excl := make([]int, j)
		for i := range excl {
			excl[i] = i
		}
		for {
			sub := make([]share, 0, t)
			for i, e := 0, 0; i < m && len(sub) < t; i++ {
				if e < j && excl[e] == i {
					e++
					continue
				}
				sub = append(sub, sh[i])
			}
			tries++
			if s, err := shamirCombine(sub); err == nil && check(s) {
				if tries == 1 {
					// The first t shares are right: the rest are unused
					// (checking them would cost O(m·t²) per secret).
					return s, nil, nil
				}
				return s, disagreeing(sh, sub), nil
			}
			if tries >= maxCombineTries || !nextCombination(excl, m) {
				break
			}
		}
	}
	holders := make([]uint32, len(sh))
	for i, s := range sh {
		holders[i] = s.holder
	}
	return secret, nil, fmt.Errorf("%w: no subset of the %d shares from holders %v reconstructs the committed secret (%d subsets tried)", ErrInconsistent, m, holders, tries)
}

// nextCombination advances c (indices in 0..m−1, increasing) to the next
// combination in lexicographic order; false after the last one.
func nextCombination(c []int, m int) bool {
	k := len(c)
	for i := k - 1; i >= 0; i-- {
		if c[i] < m-k+i {
			c[i]++
			for j := i + 1; j < k; j++ {
				c[j] = c[j-1] + 1
			}
			return true
		}
	}
	return false
}

// disagreeing returns the holders of shares in all that do not lie on the
// polynomial through sub (sub itself passed the commitment check).
func disagreeing(all, sub []share) []uint32 {
	if len(all) == len(sub) {
		return nil
	}
	xs, ys, err := sharePoints(sub)
	if err != nil {
		return nil
	}
	var bad []uint32
	used := make(map[uint32]bool, len(sub))
	for _, s := range sub {
		used[s.holder] = true
	}
	x := new(big.Int)
	for _, s := range all {
		if used[s.holder] {
			continue
		}
		x.SetUint64(uint64(s.holder) + 1)
		var y [fieldBytes]byte
		lagrangeAt(xs, ys, x).FillBytes(y[:])
		if y != s.y {
			bad = append(bad, s.holder)
		}
	}
	return bad
}
