package forecast

import (
	"context"
	"fmt"
)

// TenantData is one tenant's forecasting examples: training rows for target
// weeks before the hold-out, test rows for the held-back last weeks.
type TenantData struct {
	Name          string
	Series        int
	TrainX        [][]float64
	TrainZ        []float64
	TestX         [][]float64
	TestY         []float64 // units
	firstTestWeek int
}

// Prepare builds a tenant's examples from its weekly series: every
// active (series, week t) with t ≥ 1 is an example; weeks in
// the last holdout weeks of the calendar are test examples.
func Prepare(ctx context.Context, f *Featurizer, name string, ss []Series, holdout int) (*TenantData, error) {
	weeks := f.Cal.Weeks
	if holdout < 1 || holdout >= weeks-1 {
		return nil, fmt.Errorf("forecast: hold-out of %d weeks does not fit a calendar of %d weeks", holdout, weeks)
	}
	text, err := f.TextFeatures(ctx, ss)
	if err != nil {
		return nil, err
	}
	td := &TenantData{Name: name, Series: len(ss), firstTestWeek: weeks - holdout}
	for i := range ss {
		s := &ss[i]
		for t := 1; t < weeks; t++ {
			if !Active(s, t) {
				continue
			}
			row := make([]float64, f.Dim())
			f.Row(row, s, text[i], t)
			if t < td.firstTestWeek {
				td.TrainX = append(td.TrainX, row)
				td.TrainZ = append(td.TrainZ, Target(s.Qty[t]))
				continue
			}
			td.TestX = append(td.TestX, row)
			td.TestY = append(td.TestY, s.Qty[t])
		}
	}
	return td, nil
}

// Evaluate returns the head's errors on the tenant's test rows.
func (td *TenantData) Evaluate(h *Head) Errors {
	var e Errors
	for i, x := range td.TestX {
		e.Add(h.Predict(x), td.TestY[i])
	}
	return e
}
