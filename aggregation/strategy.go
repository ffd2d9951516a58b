package aggregation

import (
	"errors"
	"fmt"
	"math"
)

// FitConfig is what a strategy asks of the clients in one round; the
// coordinator copies it into the round plan.
type FitConfig struct {
	LocalSteps   int
	LearningRate float64
}

// Aggregate is everything a strategy learns of a round: the sum over the
// surviving clients of w·Δ, the sum of the weights, and how many clients
// contributed.
type Aggregate struct {
	WeightedSum []float64
	TotalWeight float64
	Clients     int
}

// Failure records a client that was invited but contributed nothing.
type Failure struct {
	Tenant string
	Reason string
}

// Strategy turns the aggregate of a round into the next global parameters.
// Implementations keep their own state (optimiser moments) between rounds
// and must not do I/O.
type Strategy interface {
	// Name identifies the strategy and its settings in logs and records.
	Name() string
	// ConfigureFit returns the local training configuration of a round.
	ConfigureFit(round int) FitConfig
	// AggregateFit returns the next global parameters. It must not modify
	// global or agg.
	AggregateFit(round int, global []float64, agg Aggregate, failures []Failure) ([]float64, error)
}

// ErrEmptyRound is returned when no client contributed to a round.
var ErrEmptyRound = errors.New("aggregation: no client contributed to the round")

// MeanUpdate checks agg against the global vector and returns the weighted
// mean update ΣwΔ / Σw.
func MeanUpdate(global []float64, agg Aggregate) ([]float64, error) {
	if agg.Clients == 0 || agg.TotalWeight == 0 {
		return nil, ErrEmptyRound
	}
	if len(agg.WeightedSum) != len(global) {
		return nil, fmt.Errorf("aggregation: sum has %d values, global model has %d", len(agg.WeightedSum), len(global))
	}
	if math.IsNaN(agg.TotalWeight) || math.IsInf(agg.TotalWeight, 0) || agg.TotalWeight < 0 {
		return nil, fmt.Errorf("aggregation: invalid total weight %v", agg.TotalWeight)
	}
	mean := make([]float64, len(global))
	for i, s := range agg.WeightedSum {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("aggregation: sum has a non-finite value at index %d", i)
		}
		mean[i] = s / agg.TotalWeight
	}
	return mean, nil
}
