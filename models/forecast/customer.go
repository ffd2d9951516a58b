package forecast

import (
	"context"
	"fmt"
	"sort"
)

// Customer is one customer's own weekly series at a tenant: one Series per
// product it ordered, built from its order lines alone (WeeklySeries of
// those lines), so nothing in it depends on another customer.
type Customer struct {
	ID     string
	Series []Series
}

// ByCustomer groups a tenant's transactions by customer and builds each
// customer's own weekly series (product codes only, unless allCodes),
// sorted by customer ID.
func ByCustomer(tx []Transaction, cal Calendar, allCodes bool) []Customer {
	lines := map[string][]Transaction{}
	for _, t := range tx {
		lines[t.Customer] = append(lines[t.Customer], t)
	}
	out := make([]Customer, 0, len(lines))
	for id, l := range lines {
		if ss := WeeklySeries(l, cal, allCodes); len(ss) > 0 {
			out = append(out, Customer{ID: id, Series: ss})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Units is rows grouped into privacy units: unit u owns rows
// Start[u] … Start[u+1]−1 of X and Y. Y is the target in the caller's
// scale (Target's z for training, units for evaluation).
type Units struct {
	IDs   []string // the unit's identity (a customer ID)
	X     [][]float64
	Y     []float64
	Start []int // len(IDs)+1 offsets, Start[0] = 0
}

// Len is the number of units.
func (u *Units) Len() int { return len(u.IDs) }

// Rows is the number of rows of all units.
func (u *Units) Rows() int { return len(u.X) }

// Unit returns unit i's rows.
func (u *Units) Unit(i int) (x [][]float64, y []float64) {
	lo, hi := u.Start[i], u.Start[i+1]
	return u.X[lo:hi], u.Y[lo:hi]
}

// add appends a unit with the given rows (none is allowed).
func (u *Units) add(id string, x [][]float64, y []float64) {
	if len(u.Start) == 0 {
		u.Start = []int{0}
	}
	u.IDs = append(u.IDs, id)
	u.X = append(u.X, x...)
	u.Y = append(u.Y, y...)
	u.Start = append(u.Start, len(u.X))
}

// RowUnits makes every row its own unit (row-level DP-SGD).
func RowUnits(x [][]float64, y []float64) *Units {
	u := &Units{X: x, Y: y, Start: make([]int, len(x)+1), IDs: make([]string, len(x))}
	for i := range x {
		u.Start[i+1] = i + 1
	}
	return u
}

// CustomerData is one tenant's forecasting examples with the customer as
// the privacy unit. Each row is a (customer, product, week t) of the
// customer's own series, active for that customer (Active: it ordered the
// product in the ActiveWeeks weeks before t), with features from the
// customer's own weeks < t and its own quantity in week t as target. Train
// holds the rows of target weeks before the hold-out (Y = Target(q)), Test
// those of the held-back last weeks (Y in units). A customer appears in
// Train (Test) only if it has such rows. A customer's rows depend on its
// own order lines, the public calendar, hold-out, featurizer and
// description encoder only: adding or removing a customer adds or removes
// exactly its unit, in Train and in Test, and changes no other row.
type CustomerData struct {
	Name        string
	Customers   int
	Train, Test Units
}

// PrepareCustomers builds a tenant's customer-level examples from its
// customers' own series (ByCustomer) on f's calendar with the last holdout
// weeks held back.
func PrepareCustomers(ctx context.Context, f *Featurizer, name string, cs []Customer, holdout int) (*CustomerData, error) {
	weeks := f.Cal.Weeks
	if holdout < 1 || holdout >= weeks-1 {
		return nil, fmt.Errorf("forecast: hold-out of %d weeks does not fit a calendar of %d weeks", holdout, weeks)
	}
	text, err := f.textByDescription(ctx, cs)
	if err != nil {
		return nil, err
	}
	cd := &CustomerData{Name: name, Customers: len(cs)}
	first := weeks - holdout
	for _, c := range cs {
		var trX, teX [][]float64
		var trY, teY []float64
		for i := range c.Series {
			s := &c.Series[i]
			for t := 1; t < weeks; t++ {
				if !Active(s, t) {
					continue
				}
				row := make([]float64, f.Dim())
				f.Row(row, s, text[s.Description], t)
				if t < first {
					trX, trY = append(trX, row), append(trY, Target(s.Qty[t]))
				} else {
					teX, teY = append(teX, row), append(teY, s.Qty[t])
				}
			}
		}
		if len(trX) > 0 {
			cd.Train.add(c.ID, trX, trY)
		}
		if len(teX) > 0 {
			cd.Test.add(c.ID, teX, teY)
		}
	}
	return cd, nil
}

// textByDescription encodes every distinct description of the customers'
// series once.
func (f *Featurizer) textByDescription(ctx context.Context, cs []Customer) (map[string][]float64, error) {
	out := map[string][]float64{}
	var uniq []Series
	for _, c := range cs {
		for _, s := range c.Series {
			if _, ok := out[s.Description]; !ok {
				out[s.Description] = nil
				uniq = append(uniq, Series{Description: s.Description})
			}
		}
	}
	x, err := f.TextFeatures(ctx, uniq)
	if err != nil {
		return nil, err
	}
	for i, s := range uniq {
		out[s.Description] = x[i]
	}
	return out, nil
}
