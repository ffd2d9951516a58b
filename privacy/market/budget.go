package market

import (
	"fmt"
	"math"
)

// Spend is one release charged to a tenant's budget: pure ε-DP releases
// (Laplace noise) have Delta 0.
type Spend struct {
	Release string  // e.g. "customers_per_segment"
	Unit    string  // privacy unit, always "customer" here
	Epsilon float64 // ε of the release
	Delta   float64 // δ of the release
}

// Budget is a tenant's own cap on what market statistics may spend, under
// basic composition (ε and δ add up).
type Budget struct {
	Epsilon, Delta float64
	spent          []Spend
}

// NewBudget returns a budget with the given caps.
func NewBudget(epsilon, delta float64) (*Budget, error) {
	if !(epsilon > 0) || math.IsInf(epsilon, 0) || !(delta >= 0 && delta < 1) {
		return nil, fmt.Errorf("market: invalid budget ε=%v δ=%v", epsilon, delta)
	}
	return &Budget{Epsilon: epsilon, Delta: delta}, nil
}

// Spent returns the total ε and δ charged so far.
func (b *Budget) Spent() (eps, delta float64) {
	for _, s := range b.spent {
		eps += s.Epsilon
		delta += s.Delta
	}
	return eps, delta
}

// Spends returns a copy of the charges, in order.
func (b *Budget) Spends() []Spend { return append([]Spend(nil), b.spent...) }

// Charge records all of ss, or none if together they would exceed the cap
// (the error says by how much). Charge before computing a release: a
// release must never happen unrecorded.
func (b *Budget) Charge(ss ...Spend) error {
	eps, delta := b.Spent()
	for _, s := range ss {
		if !(s.Epsilon > 0) || math.IsInf(s.Epsilon, 0) || !(s.Delta >= 0) {
			return fmt.Errorf("market: invalid charge %+v", s)
		}
		eps += s.Epsilon
		delta += s.Delta
	}
	const slack = 1e-12
	if eps > b.Epsilon+slack || delta > b.Delta+slack {
		return fmt.Errorf("market: budget exceeded: would spend ε=%g δ=%g of ε=%g δ=%g", eps, delta, b.Epsilon, b.Delta)
	}
	b.spent = append(b.spent, ss...)
	return nil
}
