package aggregation

import (
	"fmt"
	"math"
)

// FedAdam is the adaptive server optimiser of Reddi et al., "Adaptive
// Federated Optimization" (ICLR 2021), Algorithm 2: with the mean update Δ,
//
//	m = β1·m + (1−β1)·Δ
//	v = β2·v + (1−β2)·Δ²
//	x = x + η·m / (√v + τ)
//
// Zero fields take the paper's defaults η = 1e-2, β1 = 0.9, β2 = 0.99,
// τ = 1e-3.
type FedAdam struct {
	Fit                    FitConfig
	Eta, Beta1, Beta2, Tau float64

	m, v []float64
}

var _ Strategy = (*FedAdam)(nil)

func (f *FedAdam) defaults() (eta, b1, b2, tau float64) {
	eta, b1, b2, tau = f.Eta, f.Beta1, f.Beta2, f.Tau
	if eta == 0 {
		eta = 1e-2
	}
	if b1 == 0 {
		b1 = 0.9
	}
	if b2 == 0 {
		b2 = 0.99
	}
	if tau == 0 {
		tau = 1e-3
	}
	return
}

// Name implements Strategy.
func (f *FedAdam) Name() string {
	eta, b1, b2, tau := f.defaults()
	return fmt.Sprintf("fedadam(eta=%g,beta1=%g,beta2=%g,tau=%g)", eta, b1, b2, tau)
}

// ConfigureFit implements Strategy.
func (f *FedAdam) ConfigureFit(int) FitConfig { return f.Fit }

// AggregateFit implements Strategy.
func (f *FedAdam) AggregateFit(_ int, global []float64, agg Aggregate, _ []Failure) ([]float64, error) {
	delta, err := MeanUpdate(global, agg)
	if err != nil {
		return nil, err
	}
	if f.m == nil || len(f.m) != len(global) {
		f.m = make([]float64, len(global))
		f.v = make([]float64, len(global))
	}
	eta, b1, b2, tau := f.defaults()
	next := make([]float64, len(global))
	for i, d := range delta {
		f.m[i] = b1*f.m[i] + (1-b1)*d
		f.v[i] = b2*f.v[i] + (1-b2)*d*d
		next[i] = global[i] + eta*f.m[i]/(math.Sqrt(f.v[i])+tau)
	}
	return next, nil
}
