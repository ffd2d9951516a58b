package secagg

import "math/big"

// lagrangeAtZero is lagrangeAt(xs, ys, 0) for the small abscissae of
// Shamir shares (holder index + 1 ≤ MaxParticipants < 2^15): f(0) =
// Σ_i y_i · Π_{j≠i} x_j / (x_j − x_i) mod p. The textbook loop costs
// O(t²) big-number products and t inversions, ≈ 70 ms at t = 334 (the
// threshold SecAgg+ needs for n = 1,000 under the default policy), and
// the server reconstructs one secret per client per round. Here each
// denominator is accumulated exactly in machine words (four factors of
// < 2^15 per big-number product) and reduced once, the numerators come
// from prefix and suffix
// products, and one inversion serves every denominator (Montgomery's
// batch inversion). xs must be distinct positive integers < 2^15.
func lagrangeAtZero(xs, ys []*big.Int) *big.Int {
	t := len(xs)
	x := make([]int64, t)
	for i, v := range xs {
		x[i] = v.Int64()
	}
	// num[i] = Π_{j≠i} x_j, from prefix and suffix products.
	pre := make([]*big.Int, t+1)
	pre[0] = big.NewInt(1)
	for i := range t {
		pre[i+1] = mulSmall(pre[i], x[i])
	}
	num := make([]*big.Int, t)
	suf := big.NewInt(1)
	for i := t - 1; i >= 0; i-- {
		num[i] = new(big.Int).Mul(pre[i], suf)
		num[i].Mod(num[i], fieldP)
		suf = mulSmall(suf, x[i])
	}
	// den[i] = Π_{j≠i} (x_j − x_i), in word-sized batches.
	den := make([]*big.Int, t)
	w := new(big.Int)
	for i := range t {
		// The exact product (≈ 15 bits per factor), reduced once: a word
		// times a growing number is cheaper than a reduction per word.
		d, acc, k := big.NewInt(1), int64(1), 0
		for j := range t {
			if j == i {
				continue
			}
			acc *= x[j] - x[i] // |factor| < 2^15: four fit in 60 bits
			if k++; k == 4 {
				d.Mul(d, w.SetInt64(acc))
				acc, k = 1, 0
			}
		}
		den[i] = mulSmall(d, acc)
	}
	inv := batchInverse(den)
	acc, tmp := new(big.Int), new(big.Int)
	for i := range t {
		tmp.Mul(num[i], inv[i])
		tmp.Mod(tmp, fieldP)
		tmp.Mul(tmp, ys[i])
		acc.Add(acc, tmp)
	}
	return acc.Mod(acc, fieldP)
}

// mulSmall returns a·s mod p (s may be negative; the result is in [0, p)).
func mulSmall(a *big.Int, s int64) *big.Int {
	r := new(big.Int).Mul(a, big.NewInt(s))
	return r.Mod(r, fieldP)
}

// batchInverse returns the inverses mod p of the non-zero elements vs with
// one modular inversion and 3(len−1) products.
func batchInverse(vs []*big.Int) []*big.Int {
	n := len(vs)
	out := make([]*big.Int, n)
	if n == 0 {
		return out
	}
	pre := make([]*big.Int, n)
	pre[0] = new(big.Int).Set(vs[0])
	for i := 1; i < n; i++ {
		pre[i] = new(big.Int).Mul(pre[i-1], vs[i])
		pre[i].Mod(pre[i], fieldP)
	}
	inv := new(big.Int).ModInverse(pre[n-1], fieldP)
	for i := n - 1; i > 0; i-- {
		out[i] = new(big.Int).Mul(inv, pre[i-1])
		out[i].Mod(out[i], fieldP)
		inv.Mul(inv, vs[i])
		inv.Mod(inv, fieldP)
	}
	out[0] = inv
	return out
}
