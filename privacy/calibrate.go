package privacy

import (
	"fmt"
	"math"
)

// CalibrationRelTol is the relative width at which CalibrateNoiseRDP stops
// bisecting: the returned σ satisfies ε(σ) ≤ target and ε(σ') > target for
// some σ' ≥ σ·(1 − CalibrationRelTol), so σ exceeds the exact smallest noise
// multiplier meeting the target by at most that relative amount.
const CalibrationRelTol = 1e-9

// maxCalibratedSigma bounds the search. The RDP→(ε,δ) conversion has a floor
// that no amount of noise removes (about (log(1/δ) − log α_max)/(α_max − 1)),
// so targets below it are unreachable.
const maxCalibratedSigma = 1 << 20

// CalibrateNoiseRDP returns the smallest noise multiplier σ (to relative
// tolerance CalibrationRelTol, always on the safe side: ε(σ) ≤ targetEps)
// such that steps steps of the Poisson-subsampled Gaussian mechanism with
// sampling probability q are (targetEps, delta)-DP under the RDP accountant
// with DefaultRDPOrders. It bisects on σ; ε(σ) is non-increasing in σ.
// It returns an error wrapping ErrTargetUnreachable if even σ = 2^20 does
// not meet the target.
//
// Unlike Opacus' get_noise_multiplier, which stops once ε is within an
// epsilon tolerance of the target, the stopping rule here is on σ.
func CalibrateNoiseRDP(q float64, steps int, delta, targetEps float64) (sigma float64, err error) {
	return calibrateNoiseRDP(DefaultRDPOrders, q, steps, delta, targetEps)
}

// calibrateNoiseRDP is CalibrateNoiseRDP over an explicit order list.
func calibrateNoiseRDP(orders []float64, q float64, steps int, delta, targetEps float64) (float64, error) {
	if err := validateSGM(q, 1, steps); err != nil {
		return 0, err
	}
	if steps < 1 {
		return 0, fmt.Errorf("privacy: calibration needs steps >= 1, got %d", steps)
	}
	if !(delta > 0 && delta < 1) {
		return 0, fmt.Errorf("privacy: delta=%g is not in (0, 1)", delta)
	}
	if !(targetEps > 0) || math.IsInf(targetEps, 1) {
		return 0, fmt.Errorf("privacy: target epsilon %g is not a positive finite number", targetEps)
	}
	epsAt := func(sigma float64) (float64, error) {
		acc := NewRDPAccountant(orders)
		if err := acc.Compose(q, sigma, steps); err != nil {
			return 0, err
		}
		e, _, err := acc.Epsilon(delta)
		return e, err
	}
	sigma, err := CalibrateSigma(epsAt, targetEps)
	if err != nil {
		return 0, fmt.Errorf("%w (q=%g, steps=%d, delta=%g)", err, q, steps, delta)
	}
	return sigma, nil
}

// CalibrateSigma returns the smallest noise multiplier σ (within relative
// tolerance CalibrationRelTol, on the safe side: epsAt(σ) ≤ targetEps) for
// any mechanism whose ε, epsAt(σ), does not increase with σ — DP-SGD
// composed with other releases, say. It returns an error wrapping
// ErrTargetUnreachable if even σ = 2^20 does not meet the target.
func CalibrateSigma(epsAt func(sigma float64) (float64, error), targetEps float64) (float64, error) {
	// Bracket: eps(lo) > target >= eps(hi).
	lo, hi := 0.0, 1.0
	for {
		e, err := epsAt(hi)
		if err != nil {
			return 0, err
		}
		if e <= targetEps {
			break
		}
		if hi >= maxCalibratedSigma {
			return 0, fmt.Errorf("%w: epsilon %g at sigma=%g still exceeds %g", ErrTargetUnreachable, e, hi, targetEps)
		}
		lo, hi = hi, 2*hi
	}
	// 200 halvings also end the search when the target is so large that
	// any positive σ meets it (then lo stays 0).
	for it := 0; it < 200 && hi-lo > CalibrationRelTol*hi; it++ {
		mid := lo + (hi-lo)/2
		e, err := epsAt(mid)
		if err != nil {
			return 0, err
		}
		if e <= targetEps {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

// NoiseForSteps returns the noise multiplier of steps steps of the
// Poisson-subsampled Gaussian at rate q — sigma itself when positive,
// otherwise the smallest one meeting targetEps (CalibrateNoiseRDP) — and
// the ε it gives at delta with the RDP accountant.
func NoiseForSteps(q float64, steps int, delta, targetEps, sigma float64) (z, eps float64, err error) {
	z = sigma
	if z <= 0 {
		if z, err = CalibrateNoiseRDP(q, steps, delta, targetEps); err != nil {
			return 0, 0, fmt.Errorf("calibrate noise: %w", err)
		}
	}
	eps, err = RDPEpsilon(q, z, steps, delta)
	return z, eps, err
}
