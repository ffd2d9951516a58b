package secagg

import (
	"fmt"
	"io"
	"math/big"
)

// Shamir t-out-of-k secret sharing (Shamir 1979; Bonawitz et al. 2017
// §3.1, SS.share / SS.recon) over the prime field F_p with
// p = 2^256 + 297, the smallest prime above 2^256, so that every 32-byte
// secret (self-mask seed b_u or X25519 scalar s_u^SK) is a field element
// without reduction. A prime field rather than byte-wise GF(2^8) sharing
// keeps one polynomial per secret (one 33-byte share instead of 32
// byte-polynomials) with textbook Lagrange interpolation in math/big.
// Shamir sharing does not detect tampered shares; the server checks a
// reconstructed mask key against its signed advert (self-mask seeds have
// no such check: a wrong share yields a wrong sum, not a leak).
//
// Share of holder h is f(h+1) for the random polynomial f of degree t−1
// with f(0) = secret: index+1 so that no holder evaluates at 0.

// fieldBytes is the encoded size of a field element (p > 2^256).
const fieldBytes = 33

var (
	fieldP   = new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(297))
	two256   = new(big.Int).Lsh(big.NewInt(1), 256)
	fieldTop = byte(1) // largest allowed first byte of an encoded element
)

// share is one Shamir share: the holder's participant index and f(index+1).
type share struct {
	holder uint32
	y      [fieldBytes]byte
}

// shamirSplit shares secret among holders with threshold t (1 ≤ t ≤
// len(holders)), drawing the t−1 random coefficients from r.
func shamirSplit(secret [32]byte, holders []uint32, t int, r io.Reader) ([]share, error) {
	if t < 1 || t > len(holders) {
		panic("secagg: shamirSplit: threshold out of range")
	}
	coef := make([]*big.Int, t)
	coef[0] = new(big.Int).SetBytes(secret[:])
	for i := 1; i < t; i++ {
		c, err := randomElement(r)
		if err != nil {
			return nil, err
		}
		coef[i] = c
	}
	out := make([]share, len(holders))
	x, y := new(big.Int), new(big.Int)
	for j, h := range holders {
		x.SetUint64(uint64(h) + 1)
		y.SetInt64(0)
		for i := t - 1; i >= 0; i-- { // Horner
			y.Mul(y, x)
			y.Add(y, coef[i])
			if i%8 == 0 {
				// x < 2^15: reducing every 8th step keeps y below 2^380
				// at an eighth of the reductions.
				y.Mod(y, fieldP)
			}
		}
		out[j].holder = h
		y.FillBytes(out[j].y[:])
	}
	for _, c := range coef {
		c.SetInt64(0) // best-effort wipe
	}
	return out, nil
}

// randomElement draws a uniform element of F_p by rejection sampling on
// 257-bit strings (acceptance probability ≈ 1/2).
func randomElement(r io.Reader) (*big.Int, error) {
	var b [fieldBytes]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("secagg: failed to read randomness: %w", err)
		}
		b[0] &= fieldTop
		v := new(big.Int).SetBytes(b[:])
		if v.Cmp(fieldP) < 0 {
			return v, nil
		}
	}
}

// shamirCombine reconstructs f(0) from shares with distinct holders by
// Lagrange interpolation. The caller passes exactly t shares. It fails if
// a share is not a field element or if the result is not a 32-byte value
// (possible only with inconsistent shares; most such go unnoticed here,
// which is why the server checks every result against a commitment, see
// robustCombine).
func shamirCombine(shares []share) ([32]byte, error) {
	var out [32]byte
	xs, ys, err := sharePoints(shares)
	if err != nil {
		return out, err
	}
	acc := lagrangeAtZero(xs, ys)
	if acc.Cmp(two256) >= 0 {
		return out, fmt.Errorf("%w: shares do not reconstruct a 32-byte secret", ErrInconsistent)
	}
	acc.FillBytes(out[:])
	return out, nil
}

// sharePoints checks shares (non-empty, distinct holders, field elements)
// and returns their points (holder+1, y).
func sharePoints(shares []share) (xs, ys []*big.Int, err error) {
	if len(shares) == 0 {
		return nil, nil, fmt.Errorf("%w: no shares to combine", ErrBelowThreshold)
	}
	xs = make([]*big.Int, len(shares))
	ys = make([]*big.Int, len(shares))
	seen := make(map[uint32]bool, len(shares))
	for i, s := range shares {
		if seen[s.holder] {
			return nil, nil, fmt.Errorf("%w: two shares from holder %d", ErrInconsistent, s.holder)
		}
		seen[s.holder] = true
		xs[i] = new(big.Int).SetUint64(uint64(s.holder) + 1)
		ys[i] = new(big.Int).SetBytes(s.y[:])
		if ys[i].Cmp(fieldP) >= 0 {
			return nil, nil, fmt.Errorf("%w: share from holder %d is not a field element", ErrMalformed, s.holder)
		}
	}
	return xs, ys, nil
}

// lagrangeAt evaluates at x the polynomial of degree len(xs)−1 through the
// points (xs[i], ys[i]): Σ_i y_i · Π_{j≠i} (x − x_j) / (x_i − x_j) mod p.
func lagrangeAt(xs, ys []*big.Int, x *big.Int) *big.Int {
	acc := new(big.Int)
	num, den, tmp := new(big.Int), new(big.Int), new(big.Int)
	for i := range xs {
		num.SetInt64(1)
		den.SetInt64(1)
		for j := range xs {
			if i == j {
				continue
			}
			tmp.Sub(x, xs[j])
			num.Mul(num, tmp)
			num.Mod(num, fieldP)
			tmp.Sub(xs[i], xs[j])
			den.Mul(den, tmp)
			den.Mod(den, fieldP)
		}
		den.ModInverse(den, fieldP)
		tmp.Mul(num, den)
		tmp.Mul(tmp, ys[i])
		acc.Add(acc, tmp)
		acc.Mod(acc, fieldP)
	}
	return acc
}
