package ddg

import (
	"fmt"
	"math"

	"github.com/fedb2b/fedb2b/privacy"
)

// Record is the record-level distributed mode (issue #16 item 3): one
// DP-SGD step per round (FedSGD). Each tenant Poisson-samples its records
// at the public rate SampleRate q, clips every per-example gradient to
// RecordClip C, sums them (no division by a private count), clips the sum
// to ClipNorm S (a projection: one record still moves it by at most C) and
// encodes it with the Params' distributed discrete Gaussian. The sum of at
// least Threshold honest tenants' shares carries the noise of one pooled
// DP-SGD step.
//
// Sensitivity. Neighbouring data sets differ in one record of one tenant
// (add or remove). The tenant's clipped sum moves by at most C in L2; the
// rotation is orthonormal, so the scaled vector moves by at most C/γ; each
// side rounds every coordinate to a neighbouring integer, which moves it
// by less than one, so a coordinate of the two integer vectors can differ
// by up to (not less than) 2 more than the scaled difference (y = k + ε,
// y' = k − ε round to k + 1 and k − 1), and the integer vectors differ by
// at most Δ = C/γ + 2√D (Sensitivity) whatever rounding draws both sides
// took. (Shared uniforms would couple unconditional rounding within one
// more per coordinate, but conditional rounding redraws each side on its
// own, so the worst pair counts.)
// Rényi divergence is jointly quasi-convex, so the mixture over rounding
// draws is bounded by the worst pair: the base mechanism (one round,
// no sampling) has the DDG bound of Kairouz, Liu and Steinke 2021
// (Params.RDP's formula) with Δ₂ replaced by Δ.
//
// Sampling. Poisson sampling of records is amplified with the general
// upper bound of Zhu and Wang 2019 ("Poisson Subsampled Rényi
// Differential Privacy", ICML, Theorem 6: no assumption on the base
// mechanism beyond its RDP curve ε(·)), at integer orders α ≥ 2:
//
//	RDP'(α) ≤ 1/(α−1)·log{ (1−q)^{α−1}(1+(α−1)q) + C(α,2)q²(1−q)^{α−2}e^{ε(2)}
//	          + Σ_{l=3..α} C(α,l)q^l(1−q)^{α−l}e^{l·ε(l+1)} }
//
// (as implemented by its authors in autodp's general Poisson bound). For
// the continuous Gaussian the exact value has e^{(l−1)ε(l)} in place of
// e^{l·ε(l+1)}, so a record-level ε here is at least the pooled DP-SGD ε
// of the same noise (tested).
//
// Trust model: the bound holds against the coordinator only while secure
// aggregation holds (the coordinator learns nothing but the sum) and at
// least Threshold of the survivors added their share honestly and do not
// collude with it. Units: ε and δ are record-level, per tenant, for the
// whole run of the given number of rounds.
type Record struct {
	Params
	// RecordClip C bounds each per-example gradient (L2).
	RecordClip float64
	// SampleRate q is the public Poisson sampling rate of records.
	SampleRate float64
}

// Validate checks r (Params.Validate, C ≤ S, q in (0, 1]).
func (r Record) Validate() error {
	if err := r.Params.Validate(); err != nil {
		return err
	}
	return r.validateRecord()
}

func (r Record) validateRecord() error {
	switch {
	case !(r.RecordClip > 0) || math.IsInf(r.RecordClip, 0):
		return bad("Record.RecordClip = %v must be positive and finite", r.RecordClip)
	case r.RecordClip > r.ClipNorm:
		return bad("Record.RecordClip = %v exceeds the sum clip Params.ClipNorm = %v", r.RecordClip, r.ClipNorm)
	case !(r.SampleRate > 0 && r.SampleRate <= 1):
		return bad("Record.SampleRate = %v must be in (0, 1]", r.SampleRate)
	}
	return nil
}

// Sensitivity returns Δ = C/γ + 2√D, the largest L2 distance (integer
// units) between rounded vectors of neighbouring data sets
// (TestRedteamRecordSensitivityCoversEveryRoundingPair).
func (r Record) Sensitivity() float64 {
	return r.RecordClip/r.Gamma + 2*math.Sqrt(float64(r.PaddedDim()))
}

// BaseRDP is the Rényi DP at order α of one round without sampling: the
// DDG bound min{α·s²/2 + τD, (α/2)(s + √D·τ)²}, s = Δ/(√n·σ/γ).
func (r Record) BaseRDP(alpha float64) float64 {
	s := r.Sensitivity() / (math.Sqrt(float64(r.Threshold)) * r.IntSigma())
	tau := r.Tau()
	d := float64(r.PaddedDim())
	t1 := alpha*s*s/2 + tau*d
	t2 := alpha / 2 * (s + math.Sqrt(d)*tau) * (s + math.Sqrt(d)*tau)
	return math.Min(t1, t2)
}

// RDP is the Rényi DP at integer order α ≥ 2 of one round with Poisson
// sampling (Zhu and Wang 2019, Theorem 6, over BaseRDP).
func (r Record) RDP(alpha int) float64 {
	q := r.SampleRate
	if q == 1 {
		return r.BaseRDP(float64(alpha))
	}
	a := float64(alpha)
	lq, l1q := math.Log(q), math.Log1p(-q)
	terms := []float64{(a-1)*l1q + math.Log1p((a-1)*q)}
	lgA, _ := math.Lgamma(a + 1)
	for l := 2; l <= alpha; l++ {
		fl := float64(l)
		lgL, _ := math.Lgamma(fl + 1)
		lgR, _ := math.Lgamma(a - fl + 1)
		t := lgA - lgL - lgR + fl*lq + (a-fl)*l1q
		if l == 2 {
			t += r.BaseRDP(2)
		} else {
			t += fl * r.BaseRDP(fl+1)
		}
		terms = append(terms, t)
	}
	return logSumExp(terms) / (a - 1)
}

func logSumExp(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

// RecordEpsilon returns the record-level ε at delta after rounds rounds of
// r (RDP composed over rounds, converted as Epsilon converts).
func RecordEpsilon(r Record, rounds int, delta float64) (float64, error) {
	if err := r.Validate(); err != nil {
		return 0, err
	}
	return recordEpsilon(r, rounds, delta)
}

func recordEpsilon(r Record, rounds int, delta float64) (float64, error) {
	return recordEpsilonWith(r, rounds, delta, nil)
}

// recordEpsilonWith is recordEpsilon with extra(α), the RDP of the
// tenant's other releases, added at every order of the accountant (nil:
// none).
func recordEpsilonWith(r Record, rounds int, delta float64, extra func(alpha float64) float64) (float64, error) {
	if err := checkDelta(delta); err != nil {
		return 0, err
	}
	if rounds < 0 {
		return 0, bad("rounds = %d must be non-negative", rounds)
	}
	if rounds == 0 {
		return 0, nil
	}
	// The orders and conversion of privacy.RDPAccountant (fractional
	// orders bounded by the next integer, RDPAt), so a tenant's ledger,
	// which composes these rounds in that accountant, finds the ε that
	// calibration found.
	best := math.Inf(1)
	memo := map[int]float64{}
	for _, a := range privacy.DefaultRDPOrders {
		ai := int(math.Ceil(math.Max(a, 2)))
		v, ok := memo[ai]
		if !ok {
			v = r.RDP(ai)
			memo[ai] = v
		}
		v *= float64(rounds)
		if extra != nil {
			v += extra(a)
		}
		best = math.Min(best, privacy.RDPOrderEpsilon(v, a, delta))
	}
	return math.Max(best, 0), nil
}

// RecordGoal states what a record-level distributed deployment wants.
type RecordGoal struct {
	// Epsilon and Delta: record-level target per tenant after Rounds
	// rounds (one DP-SGD step each).
	Epsilon, Delta float64
	Rounds         int
	// SampleRate q and RecordClip C: DP-SGD's Poisson rate and
	// per-example clip.
	SampleRate, RecordClip float64
	// SumClip S bounds a tenant's clipped-gradient sum (Params.ClipNorm):
	// it sizes the ring; a larger sum is projected onto ‖·‖ ≤ S, which
	// keeps the sensitivity at C.
	SumClip float64
	// Dim, Shares (Params.Threshold: the honest tenants assumed), Cohort,
	// Bits, Beta, MaxWrapProb: as in Goal.
	Dim, Shares, Cohort, Bits int
	Beta, MaxWrapProb         float64
	// IntSigma: as in Goal; 0 means 0.95·MaxTableSigma here (the rounding
	// term 2√D of the sensitivity is then under 4 % of C/γ for the
	// noise DP-SGD needs).
	IntSigma float64
	// Extra, if set, is the RDP at order α of every other release each
	// tenant makes in the same run (for example noised evaluations:
	// GaussianRDP), composed with the rounds at every order of
	// privacy.RDPAccountant as a tenant's ledger composes them: σ is
	// calibrated so that the rounds and these releases together stay
	// within Epsilon. It must be non-negative and non-decreasing in α.
	Extra func(alpha float64) float64
}

// GaussianRDP is the RDP curve α ↦ Σ α/(2z²) of Gaussian releases
// without sampling at noise multipliers z (noise standard deviation over
// L2 sensitivity): RecordGoal.Extra for noised evaluations, as
// privacy.RDPAccountant composes them at sampling rate 1.
func GaussianRDP(z ...float64) func(alpha float64) float64 {
	var s float64
	for _, v := range z {
		s += 1 / (2 * v * v)
	}
	return func(alpha float64) float64 { return alpha * s }
}

// PlanRecord chooses γ and the per-tenant σ for g as Plan does, σ
// calibrated by CalibrateRecord.
func PlanRecord(g RecordGoal) (Record, error) {
	if g.IntSigma == 0 {
		// Below the table's limit with room for the final calibration's
		// small change of σ at fixed γ (above it, sampling falls back to
		// the exact, slow sampler).
		g.IntSigma = 0.95 * MaxTableSigma
	}
	base := Goal{Epsilon: g.Epsilon, Delta: g.Delta, Rounds: g.Rounds, Dim: g.Dim, ClipNorm: g.SumClip,
		Threshold: g.Shares, Cohort: g.Cohort, Bits: g.Bits, Beta: g.Beta, MaxWrapProb: g.MaxWrapProb, IntSigma: g.IntSigma}
	r := Record{Params: Params{ClipNorm: g.SumClip}, RecordClip: g.RecordClip, SampleRate: g.SampleRate}
	if err := r.validateRecord(); err != nil {
		return r, err
	}
	cal := func(p Params, loose bool) (Params, error) {
		rr := r
		rr.Params = p
		if loose {
			rr.Bits, rr.MaxWrapProb = 62, 0.999
		}
		out, err := calibrateRecord(g.Epsilon, g.Delta, g.Rounds, rr, g.Extra)
		if err != nil {
			return p, err
		}
		p.Sigma = out.Sigma
		return p, nil
	}
	p, err := plan(base, cal)
	r.Params = p
	if err != nil {
		return r, err
	}
	return r, r.Validate()
}

// CalibrateRecord returns r with Sigma set to the smallest per-tenant
// noise (within a relative 10^-4) for which RecordEpsilon(r, rounds,
// delta) ≤ targetEps, keeping Gamma. The result is validated.
func CalibrateRecord(targetEps, delta float64, rounds int, r Record) (Record, error) {
	return calibrateRecord(targetEps, delta, rounds, r, nil)
}

// calibrateRecord is CalibrateRecord with the RDP extra(α) of the
// tenant's other releases composed with the rounds (nil: none).
func calibrateRecord(targetEps, delta float64, rounds int, r Record, extra func(alpha float64) float64) (Record, error) {
	if !(targetEps > 0) || math.IsInf(targetEps, 0) {
		return r, bad("target epsilon %v must be positive and finite", targetEps)
	}
	if err := checkDelta(delta); err != nil {
		return r, err
	}
	if rounds < 1 {
		return r, bad("rounds = %d must be at least 1", rounds)
	}
	r.Sigma = r.Gamma
	if err := r.validateBasic(); err != nil {
		return r, err
	}
	if err := r.validateRecord(); err != nil {
		return r, err
	}
	ok := func(sigma float64) bool {
		q := r
		q.Sigma = sigma
		e, err := recordEpsilonWith(q, rounds, delta, extra)
		// A hair below the target: an accountant that adds the rounds
		// one by one may differ in the last bits.
		return err == nil && e <= targetEps*(1-1e-9)
	}
	if extra != nil {
		best := math.Inf(1)
		for _, a := range privacy.DefaultRDPOrders {
			best = math.Min(best, privacy.RDPOrderEpsilon(extra(a), a, delta))
		}
		if !(best < targetEps) {
			return r, bad("the other releases alone take record-level epsilon to %.4g, not below the target %v", best, targetEps)
		}
	}
	lo, hi := r.Gamma*math.Sqrt(MinSigma2), r.Gamma
	for !ok(hi) {
		lo, hi = hi, hi*2
		if hi/r.Gamma > 1<<40 {
			return r, bad("record-level target epsilon %v at delta %v over %d rounds needs integer noise above 2^40", targetEps, delta, rounds)
		}
	}
	if ok(lo) {
		hi = lo
	}
	for hi/lo > 1+1e-4 && !ok(lo) {
		mid := math.Sqrt(lo * hi)
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	r.Sigma = hi
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("ddg: calibrated per-tenant sigma %.4g: %w", hi, err)
	}
	return r, nil
}

// NoiseMultiplier returns √Threshold·σ/C: the noise guaranteed on the sum
// relative to one record's clip (DP-SGD's z of the pooled step).
func (r Record) NoiseMultiplier() float64 {
	return math.Sqrt(float64(r.Threshold)) * r.Sigma / r.RecordClip
}

// RDPAt is RDP at any order α > 1, bounded by the next integer order at
// least 2 (Rényi divergence does not decrease with the order), for
// accountants whose order grid is fractional (privacy.RDPAccountant).
func (r Record) RDPAt(alpha float64) float64 {
	return r.RDP(int(math.Ceil(math.Max(alpha, 2))))
}
