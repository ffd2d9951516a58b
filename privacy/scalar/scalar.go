package scalar

import (
	"errors"
	"fmt"
	"math"

	"github.com/google/differential-privacy/go/v3/noise"
)

// Mechanism names the noise distribution of a release.
type Mechanism string

// The mechanisms Release supports.
const (
	// Gaussian: ε > 0 and δ ∈ (0, 1); noise std from the library's
	// SigmaForGaussian (tight analytic calibration).
	Gaussian Mechanism = "gaussian"
	// Laplace: ε > 0 and δ = 0; noise scale Sensitivity/ε.
	Laplace Mechanism = "laplace"
)

// ErrParams is wrapped by every error about invalid release parameters.
var ErrParams = errors.New("scalar: invalid release parameters")

// Record describes one release for the ledger.
type Record struct {
	Mechanism   Mechanism `json:"mechanism"`
	Epsilon     float64   `json:"epsilon"`
	Delta       float64   `json:"delta"`
	Sensitivity float64   `json:"sensitivity"`
	// NoiseStd is the standard deviation of the added noise (Laplace:
	// √2·Sensitivity/ε; Gaussian: SigmaForGaussian). It follows from the
	// fields above and helps readers judge the released value.
	NoiseStd float64 `json:"noise_std"`
}

func (m Mechanism) noise() (noise.Noise, error) {
	switch m {
	case Gaussian:
		return noise.Gaussian(), nil
	case Laplace:
		return noise.Laplace(), nil
	}
	return nil, fmt.Errorf("%w: unknown mechanism %q (want %q or %q)", ErrParams, m, Gaussian, Laplace)
}

func check(sensitivity, eps, delta float64, mech Mechanism) error {
	switch {
	case !(sensitivity > 0) || math.IsInf(sensitivity, 0):
		return fmt.Errorf("%w: sensitivity %v must be positive and finite", ErrParams, sensitivity)
	case !(eps > 0) || math.IsInf(eps, 0):
		return fmt.Errorf("%w: epsilon %v must be positive and finite", ErrParams, eps)
	case mech == Laplace && delta != 0:
		return fmt.Errorf("%w: the Laplace mechanism takes delta = 0, got %v", ErrParams, delta)
	case mech == Gaussian && !(delta > 0 && delta < 1):
		return fmt.Errorf("%w: the Gaussian mechanism needs delta in (0, 1), got %v", ErrParams, delta)
	}
	return nil
}

func record(sensitivity, eps, delta float64, mech Mechanism) Record {
	r := Record{Mechanism: mech, Epsilon: eps, Delta: delta, Sensitivity: sensitivity}
	if mech == Laplace {
		r.NoiseStd = math.Sqrt2 * sensitivity / eps
	} else {
		r.NoiseStd = noise.SigmaForGaussian(1, sensitivity, eps, delta)
	}
	return r
}

// Release returns value plus noise calibrated to (eps, delta) for the given
// sensitivity, and the Record to write to the ledger before the value is
// shown to anyone. value must be finite.
func Release(value, sensitivity, eps, delta float64, mech Mechanism) (float64, Record, error) {
	n, err := mech.noise()
	if err != nil {
		return 0, Record{}, err
	}
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return 0, Record{}, fmt.Errorf("%w: value %v is not finite", ErrParams, value)
	}
	if err := check(sensitivity, eps, delta, mech); err != nil {
		return 0, Record{}, err
	}
	out, err := n.AddNoiseFloat64(value, 1, sensitivity, eps, delta)
	if err != nil {
		return 0, Record{}, fmt.Errorf("scalar: %s noise: %w", mech, err)
	}
	return out, record(sensitivity, eps, delta, mech), nil
}

// ReleaseInt is Release for counts: integer value and sensitivity, integer
// noise (the library's discretized Laplace or binomial Gaussian).
func ReleaseInt(value, sensitivity int64, eps, delta float64, mech Mechanism) (int64, Record, error) {
	n, err := mech.noise()
	if err != nil {
		return 0, Record{}, err
	}
	if err := check(float64(sensitivity), eps, delta, mech); err != nil {
		return 0, Record{}, err
	}
	out, err := n.AddNoiseInt64(value, 1, sensitivity, eps, delta)
	if err != nil {
		return 0, Record{}, fmt.Errorf("scalar: %s noise: %w", mech, err)
	}
	return out, record(float64(sensitivity), eps, delta, mech), nil
}

// Interval returns a confidence interval that contains the true value with
// probability at least 1 − alpha, given a noised value released under r
// (from the library's ComputeConfidenceIntervalFloat64).
func (r Record) Interval(noised, alpha float64) (lo, hi float64, err error) {
	n, err := r.Mechanism.noise()
	if err != nil {
		return 0, 0, err
	}
	ci, err := n.ComputeConfidenceIntervalFloat64(noised, 1, r.Sensitivity, r.Epsilon, r.Delta, alpha)
	if err != nil {
		return 0, 0, fmt.Errorf("scalar: confidence interval: %w", err)
	}
	return ci.LowerBound, ci.UpperBound, nil
}

// VectorRecord is the Record of releasing a vector of counts of which one
// privacy unit changes at most l0 entries, each by at most lInf, under
// mech at (eps, delta): Sensitivity is the vector's L2 bound √l0·lInf for
// Gaussian (the library calibrates its noise to exactly that) and its L1
// bound l0·lInf for Laplace.
func VectorRecord(l0, lInf int64, eps, delta float64, mech Mechanism) (Record, error) {
	if _, err := mech.noise(); err != nil {
		return Record{}, err
	}
	if l0 < 1 || lInf < 1 {
		return Record{}, fmt.Errorf("%w: contribution bounds l0 = %d and lInf = %d must be at least 1", ErrParams, l0, lInf)
	}
	l1, l2 := float64(l0*lInf), math.Sqrt(float64(l0))*float64(lInf)
	sens := l2
	if mech == Laplace {
		sens = l1
	}
	if err := check(sens, eps, delta, mech); err != nil {
		return Record{}, err
	}
	r := Record{Mechanism: mech, Epsilon: eps, Delta: delta, Sensitivity: sens}
	if mech == Laplace {
		r.NoiseStd = math.Sqrt2 * l1 / eps
	} else {
		r.NoiseStd = noise.SigmaForGaussian(l0, float64(lInf), eps, delta)
	}
	return r, nil
}

// CoversGaussian says whether a Gaussian release at noise multiplier z
// (σ over the L2 sensitivity, no subsampling) is at least as noisy as the
// library's Gaussian at (eps, delta), whose multiplier is the same for
// every sensitivity up to the library's search accuracy (10^-3; allowed
// here as 2·10^-3). It answers "does a reservation or a recorded charge
// at z cover what a tenant releases at eps?".
func CoversGaussian(z, eps, delta float64) (bool, error) {
	r, err := VectorRecord(1, 1, eps, delta, Gaussian)
	if err != nil {
		return false, err
	}
	return z <= r.NoiseStd/r.Sensitivity*(1+2e-3), nil
}

// ReleaseInts noises every count of values in place as one release (see
// VectorRecord) with the library's integer noise and returns its Record.
// On error values may be partly noised: discard them.
func ReleaseInts(values []int64, l0, lInf int64, eps, delta float64, mech Mechanism) (Record, error) {
	r, err := VectorRecord(l0, lInf, eps, delta, mech)
	if err != nil {
		return Record{}, err
	}
	n, _ := mech.noise()
	for i, v := range values {
		out, err := n.AddNoiseInt64(v, l0, lInf, eps, delta)
		if err != nil {
			return Record{}, fmt.Errorf("scalar: %s noise, entry %d: %w", mech, i, err)
		}
		values[i] = out
	}
	return r, nil
}
