package privacy

import (
	"errors"
	"fmt"
	"math"
)

// DefaultRDPOrders is dp_accounting's default list of Rényi orders
// (DEFAULT_RDP_ORDERS, 156 values): 1+x/10 for x = 1..99 (1.1 … 10.9),
// then the integers 11..63, 128, 256, 512 and 1024. Treat it as read-only;
// NewRDPAccountant copies it.
var DefaultRDPOrders = func() []float64 {
	o := fracOrders()
	for a := 11; a <= 63; a++ {
		o = append(o, float64(a))
	}
	return append(o, 128, 256, 512, 1024)
}()

// OpacusRDPOrders is Opacus' default list (RDPAccountant.DEFAULT_ALPHAS,
// 151 values): 1+x/10 for x = 1..99, then the integers 12..63 (11 is not in
// it). Treat it as read-only.
var OpacusRDPOrders = func() []float64 {
	o := fracOrders()
	for a := 12; a <= 63; a++ {
		o = append(o, float64(a))
	}
	return o
}()

// fracOrders returns 1+x/10 for x = 1..99, computed exactly as the Python
// libraries do (1 + x/10.0 in float64), so 2.0, 3.0, … are integer orders.
func fracOrders() []float64 {
	o := make([]float64, 0, 160)
	for x := 1; x <= 99; x++ {
		o = append(o, 1+float64(x)/10.0)
	}
	return o
}

// RDPAccountant accumulates the Rényi DP of a sequence of Poisson-subsampled
// Gaussian steps over a fixed list of orders and converts it to (ε, δ)-DP.
// Composition is additive per order, so steps with different (q, σ) can be
// composed in any order. The zero value is not usable; call
// NewRDPAccountant. An RDPAccountant is not safe for concurrent mutation.
type RDPAccountant struct {
	orders []float64
	rdp    []float64 // composed RDP at each order
	steps  int       // total composed steps (for the zero-steps case)
}

// NewRDPAccountant returns an accountant over the given orders (each must be
// > 1; it is copied). nil or empty selects DefaultRDPOrders. Invalid orders
// are a programmer error and panic.
func NewRDPAccountant(orders []float64) *RDPAccountant {
	if len(orders) == 0 {
		orders = DefaultRDPOrders
	}
	for _, a := range orders {
		if !(a > 1) || math.IsNaN(a) {
			panic(fmt.Sprintf("privacy: RDP order %g is not > 1", a))
		}
	}
	return &RDPAccountant{
		orders: append([]float64(nil), orders...),
		rdp:    make([]float64, len(orders)),
	}
}

// Orders returns a copy of the accountant's orders.
func (a *RDPAccountant) Orders() []float64 { return append([]float64(nil), a.orders...) }

// Steps returns the total number of composed steps.
func (a *RDPAccountant) Steps() int { return a.steps }

// validateSGM checks the parameters of a Poisson-subsampled Gaussian step.
func validateSGM(q, sigma float64, steps int) error {
	if !(q > 0 && q <= 1) {
		return fmt.Errorf("privacy: sampling probability q=%g is not in (0, 1]", q)
	}
	if !(sigma > 0) || math.IsInf(sigma, 1) {
		return fmt.Errorf("privacy: noise multiplier sigma=%g is not a positive finite number", sigma)
	}
	if steps < 0 {
		return fmt.Errorf("privacy: steps=%d is negative", steps)
	}
	return nil
}

// Compose adds steps steps of the Poisson-subsampled Gaussian mechanism
// with sampling probability q ∈ (0, 1] and noise multiplier sigma > 0
// (noise standard deviation divided by the L2 sensitivity, which is the
// clipping norm). On error the accountant is unchanged.
func (a *RDPAccountant) Compose(q, sigma float64, steps int) error {
	if err := validateSGM(q, sigma, steps); err != nil {
		return err
	}
	if steps == 0 {
		return nil
	}
	add := make([]float64, len(a.orders))
	for i, alpha := range a.orders {
		r, err := stepRDP(q, sigma, alpha)
		if err != nil {
			return err
		}
		add[i] = float64(steps) * r
	}
	for i := range a.rdp {
		a.rdp[i] += add[i]
	}
	a.steps += steps
	return nil
}

// ComposeRDP composes times releases of a mechanism given by its RDP
// curve: curve(α) is its Rényi divergence bound at order α (for example
// ddg.Params.RDP for the distributed discrete Gaussian). Every value must
// be non-negative (+Inf for a release without noise, an exact count,
// after which Epsilon is +Inf); otherwise nothing is composed.
func (a *RDPAccountant) ComposeRDP(curve func(alpha float64) float64, times int) error {
	if times < 0 {
		return fmt.Errorf("privacy: %d releases to compose", times)
	}
	add := make([]float64, len(a.orders))
	for i, alpha := range a.orders {
		r := curve(alpha)
		if math.IsNaN(r) || r < 0 {
			return fmt.Errorf("privacy: RDP curve gives %v at order %g", r, alpha)
		}
		add[i] = float64(times) * r
	}
	for i := range a.rdp {
		a.rdp[i] += add[i]
	}
	a.steps += times
	return nil
}

// Epsilon returns the smallest ε over the accountant's orders such that the
// composed mechanism is (ε, delta)-DP, using the conversion of Balle et al.
// 2020 (also Canonne, Kamath, Steinke 2020), as Opacus and dp_accounting do:
//
//	ε = min_α  RDP(α) + log((α−1)/α) − (log δ + log α)/(α−1),
//
// clamped at 0, and the order α attaining it. With nothing composed it
// returns (0, 0, nil). delta must be in (0, 1). If every order has infinite
// RDP it returns +Inf with order NaN.
func (a *RDPAccountant) Epsilon(delta float64) (eps float64, order float64, err error) {
	if !(delta > 0 && delta < 1) {
		return 0, 0, fmt.Errorf("privacy: delta=%g is not in (0, 1)", delta)
	}
	if a.steps == 0 {
		return 0, 0, nil
	}
	return rdpToEpsilon(a.orders, a.rdp, delta)
}

// rdpToEpsilon applies the Balle et al. 2020 conversion; ties keep the first
// order, like numpy's nanargmin.
func rdpToEpsilon(orders, rdp []float64, delta float64) (float64, float64, error) {
	best, bestOrder := math.Inf(1), math.NaN()
	for i, alpha := range orders {
		e := RDPOrderEpsilon(rdp[i], alpha, delta)
		if e < best {
			best, bestOrder = e, alpha
		}
	}
	if math.IsNaN(bestOrder) {
		return math.Inf(1), bestOrder, nil
	}
	return math.Max(best, 0), bestOrder, nil
}

// RDPOrderEpsilon is the Balle et al. 2020 conversion at one order α > 1:
// a mechanism with Rényi divergence rdp at α is (ε, δ)-DP with ε =
// rdp + log((α−1)/α) − (log δ + log α)/(α−1). The accountants minimise it
// over their orders (and clamp at 0).
func RDPOrderEpsilon(rdp, alpha, delta float64) float64 {
	return rdp + math.Log((alpha-1)/alpha) - (math.Log(delta)+math.Log(alpha))/(alpha-1)
}

// Clone returns an independent copy of the accountant.
func (a *RDPAccountant) Clone() *RDPAccountant {
	return &RDPAccountant{
		orders: append([]float64(nil), a.orders...),
		rdp:    append([]float64(nil), a.rdp...),
		steps:  a.steps,
	}
}

// RDPEpsilon returns the RDP epsilon (DefaultRDPOrders) of steps steps of
// the Poisson-subsampled Gaussian mechanism at the given delta.
func RDPEpsilon(q, sigma float64, steps int, delta float64) (float64, error) {
	acc := NewRDPAccountant(nil)
	if err := acc.Compose(q, sigma, steps); err != nil {
		return 0, err
	}
	eps, _, err := acc.Epsilon(delta)
	return eps, err
}

// ErrTargetUnreachable is returned by noise calibration when no noise
// multiplier in the searched range meets the target epsilon.
var ErrTargetUnreachable = errors.New("privacy: target epsilon unreachable")
