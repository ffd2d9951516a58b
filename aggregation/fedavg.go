package aggregation

import "fmt"

// FedAvg is federated averaging (McMahan et al., AISTATS 2017) on updates:
// x_{t+1} = x_t + η·ΣwΔ/Σw with server learning rate η (1 is plain FedAvg).
type FedAvg struct {
	Fit            FitConfig
	ServerLearning float64 // η; 0 means 1
}

var _ Strategy = (*FedAvg)(nil)

// Name implements Strategy.
func (f *FedAvg) Name() string { return fmt.Sprintf("fedavg(eta=%g)", f.eta()) }

func (f *FedAvg) eta() float64 {
	if f.ServerLearning == 0 {
		return 1
	}
	return f.ServerLearning
}

// ConfigureFit implements Strategy.
func (f *FedAvg) ConfigureFit(int) FitConfig { return f.Fit }

// AggregateFit implements Strategy.
func (f *FedAvg) AggregateFit(_ int, global []float64, agg Aggregate, _ []Failure) ([]float64, error) {
	mean, err := MeanUpdate(global, agg)
	if err != nil {
		return nil, err
	}
	eta := f.eta()
	for i := range mean {
		mean[i] = global[i] + eta*mean[i]
	}
	return mean, nil
}
