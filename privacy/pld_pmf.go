package privacy

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/dsp/fourier"
)

// ErrPLDTooLarge is returned when a privacy loss distribution would need
// more grid points than the accountant's limit (see PLDAccountant).
var ErrPLDTooLarge = errors.New("privacy: privacy loss distribution too large")

// pldTailTruncation is the probability mass that composition may drop from
// the tails of a PLD (dp_accounting's default, 1e-15). Pessimistically, the
// dropped upper tail is moved to +∞; the dropped lower tail is lost, which
// only lowers losses that are already below the truncation point.
const pldTailTruncation = 1e-15

// pmf is a discrete privacy loss distribution on the grid of multiples of
// the discretisation interval: probs[i] is the probability of loss
// (lower+i)·interval and inf the probability of an infinite loss.
type pmf struct {
	lower int
	probs []float64
	inf   float64
}

// selfConvolveBounds returns index bounds [lo, hi] (relative to T·lower)
// outside which the T-fold self-convolution of probs has at most tail/2
// mass on each side, from Chernoff bounds on the moment generating function
// at the orders ±k/len(probs), k = 1..20 (as dp_accounting does).
func selfConvolveBounds(probs []float64, T int, tail float64) (lo, hi int) {
	n := len(probs)
	hiF, loF := float64(n-1)*float64(T), 0.0
	logTail := math.Log(2 / tail)
	for k := -20; k <= 20; k++ {
		if k == 0 {
			continue
		}
		t := float64(k) / float64(n)
		// log Σ_i probs[i]·e^{i t}, stably.
		m := math.Inf(-1)
		for i, p := range probs {
			if p > 0 {
				m = math.Max(m, float64(i)*t)
			}
		}
		var s float64
		for i, p := range probs {
			if p > 0 {
				s += p * math.Exp(float64(i)*t-m)
			}
		}
		bound := (float64(T)*(m+math.Log(s)) + logTail) / t
		if math.IsInf(bound, 0) || math.IsNaN(bound) {
			continue
		}
		if k > 0 {
			hiF = math.Min(hiF, math.Ceil(bound))
		} else {
			loF = math.Max(loF, math.Floor(bound))
		}
	}
	return int(loF), int(hiF)
}

// fastLen returns the smallest 2^a·3^b·5^c ≥ n whose FFTPACK factorisation
// (radices 4, 2, 3, 5) has at most 13 factors: gonum's port transforms
// such sizes efficiently and stores at most 13 factors.
func fastLen(n int) int {
	best := math.MaxInt
	for p5, c := 1, 0; p5/2 <= n; p5, c = p5*5, c+1 {
		for p35, b := p5, 0; p35/2 <= n; p35, b = p35*3, b+1 {
			p, a := p35, 0
			for p < n {
				p, a = p*2, a+1
			}
			if a/2+a%2+b+c <= 13 && p < best {
				best = p
			}
		}
	}
	return best
}

// selfCompose returns the T-fold composition of p (T ≥ 1): the FFT of the
// zero-padded PMF is raised to the power T, and the result is kept only
// within Chernoff bounds holding all but pldTailTruncation of the mass;
// that tail mass is added to the infinity mass.
func (p pmf) selfCompose(T, maxSize int) (pmf, error) {
	if T == 1 {
		return p, nil
	}
	lo, hi := selfConvolveBounds(p.probs, T, pldTailTruncation)
	outLen := hi - lo + 1
	if outLen > maxSize {
		return pmf{}, fmt.Errorf("%w: %d steps need %d points (limit %d)", ErrPLDTooLarge, T, outLen, maxSize)
	}
	n := fastLen(max(outLen, len(p.probs)))
	seq := make([]float64, n)
	copy(seq, p.probs)
	fft := fourier.NewFFT(n)
	coef := fft.Coefficients(nil, seq)
	for i, c := range coef {
		coef[i] = cmplx.Pow(c, complex(float64(T), 0))
	}
	out := fft.Sequence(seq, coef)
	probs := make([]float64, outLen)
	inv := 1 / float64(n)
	for i := range probs {
		probs[i] = out[(i+lo)%n] * inv // circular: index lo is the first kept
	}
	// 1 − (1 − inf)^T, stably, plus the truncated tail.
	inf := pldTailTruncation - math.Expm1(float64(T)*math.Log1p(-p.inf))
	return pmf{lower: p.lower*T + lo, probs: probs, inf: math.Min(inf, 1)}, nil
}

// compose returns the composition (convolution) of p and o, computed by FFT,
// with at most pldTailTruncation/2 of mass truncated from each tail: the
// lower tail is added to the first kept point and the upper tail to +∞.
func (p pmf) compose(o pmf, maxSize int) (pmf, error) {
	outLen := len(p.probs) + len(o.probs) - 1
	if outLen > maxSize {
		return pmf{}, fmt.Errorf("%w: composition needs %d points (limit %d)", ErrPLDTooLarge, outLen, maxSize)
	}
	var full []float64
	if min(len(p.probs), len(o.probs)) <= 64 {
		full = make([]float64, outLen)
		for i, a := range p.probs {
			for j, b := range o.probs {
				full[i+j] += a * b
			}
		}
	} else {
		n := fastLen(outLen)
		fft := fourier.NewFFT(n)
		a := make([]float64, n)
		copy(a, p.probs)
		ca := fft.Coefficients(nil, a)
		clear(a)
		copy(a, o.probs)
		cb := fft.Coefficients(nil, a)
		for i := range ca {
			ca[i] *= cb[i]
		}
		full = fft.Sequence(a, ca)[:outLen]
		inv := 1 / float64(n)
		for i := range full {
			full[i] *= inv
		}
	}
	inf := p.inf + o.inf - p.inf*o.inf
	// Truncate the longest prefix and suffix each holding ≤ tail/2.
	half := pldTailTruncation / 2
	left, s := 0, 0.0
	for left < len(full) && s+full[left] <= half {
		s += full[left]
		left++
	}
	right, r := len(full), 0.0
	for right > left+1 && r+full[right-1] <= half {
		r += full[right-1]
		right--
	}
	if left >= right {
		left = right - 1
	}
	var leftMass float64
	for _, v := range full[:left] {
		leftMass += v
	}
	probs := append([]float64(nil), full[left:right]...)
	probs[0] += leftMass
	return pmf{lower: p.lower + o.lower + left, probs: probs, inf: math.Min(inf+r, 1)}, nil
}

// epsilonForDelta returns the smallest ε ≥ 0 with δ(ε) ≤ delta for this
// PLD, +Inf if the infinity mass exceeds delta. It scans losses from the
// top, keeping Σ p·e^{−loss} as m·e^{−s} so that it neither underflows
// (dp_accounting's float64 sum does above loss ≈ 745) nor overflows.
func (p pmf) epsilonForDelta(delta, interval float64) float64 {
	if p.inf > delta {
		return math.Inf(1)
	}
	massUpper := p.inf
	m, s := 0.0, 0.0 // mass_lower = m·e^{−s}
	for i := len(p.probs) - 1; i >= 0; i-- {
		loss := float64(p.lower+i) * interval
		if massUpper > delta && m > 0 && math.Log(massUpper-delta)-math.Log(m)+s >= loss {
			break // ε ≥ loss: no lower loss contributes
		}
		pr := p.probs[i]
		massUpper += pr
		if m == 0 {
			if pr > 0 {
				m, s = pr, loss
			}
		} else {
			m = m*math.Exp(loss-s) + pr
			s = loss
		}
	}
	if massUpper <= delta {
		return 0
	}
	e := math.Log(massUpper-delta) - math.Log(m) + s
	if m == 0 || math.IsNaN(e) {
		return math.Inf(1)
	}
	return math.Max(e, 0)
}
