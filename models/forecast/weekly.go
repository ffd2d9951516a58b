package forecast

import (
	"fmt"
	"sort"
	"time"
)

// Week returns the Monday 00:00 UTC that starts the week of t (weeks run
// Monday to Sunday, in the wall-clock time the file gives).
func Week(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	off := (int(d.Weekday()) + 6) % 7 // Monday = 0
	return d.AddDate(0, 0, -off)
}

// Calendar fixes the weeks all tenants share: week 0 starts at Epoch (a
// Monday) and there are Weeks weeks. Tenants derive it from public facts
// (the period of the study), not from each other's data.
type Calendar struct {
	Epoch time.Time
	Weeks int
}

// CalendarOf returns the calendar spanning the transactions' dates.
func CalendarOf(tx []Transaction) (Calendar, error) {
	if len(tx) == 0 {
		return Calendar{}, fmt.Errorf("forecast: no transactions")
	}
	lo, hi := tx[0].Time, tx[0].Time
	for _, t := range tx {
		if t.Time.Before(lo) {
			lo = t.Time
		}
		if t.Time.After(hi) {
			hi = t.Time
		}
	}
	c := Calendar{Epoch: Week(lo)}
	c.Weeks = c.Index(hi) + 1
	return c, nil
}

// Index is the week number of t (negative before Epoch).
func (c Calendar) Index(t time.Time) int {
	days := int(Week(t).Sub(c.Epoch).Hours()/24 + 0.5)
	if days < 0 {
		return -((-days + 6) / 7)
	}
	return days / 7
}

// Start is the Monday that starts week i.
func (c Calendar) Start(i int) time.Time { return c.Epoch.AddDate(0, 0, 7*i) }

// Series is the weekly demand of one product at one tenant.
type Series struct {
	Product     string
	Description string
	// Qty[i] is the sum of the positive quantities ordered in week i
	// (returns and cancellations are not demand and are left out).
	Qty []float64
	// Price is the mean unit price of the product's order lines (GBP in
	// online_retail), 0 if unknown.
	Price float64
}

// WeeklySeries aggregates one tenant's transactions into one series per
// product (only codes for which IsProduct holds, unless allCodes), sorted by
// product code. Lines outside the calendar are ignored.
func WeeklySeries(tx []Transaction, cal Calendar, allCodes bool) []Series {
	type acc struct {
		s              *Series
		priceSum       float64
		priceN         int
		descFromLatest time.Time
	}
	m := map[string]*acc{}
	for _, t := range tx {
		if !allCodes && !IsProduct(t.Product) {
			continue
		}
		w := cal.Index(t.Time)
		if w < 0 || w >= cal.Weeks {
			continue
		}
		a := m[t.Product]
		if a == nil {
			a = &acc{s: &Series{Product: t.Product, Qty: make([]float64, cal.Weeks)}}
			m[t.Product] = a
		}
		if t.Description != "" && (a.s.Description == "" || t.Time.After(a.descFromLatest)) {
			a.s.Description, a.descFromLatest = t.Description, t.Time
		}
		if t.Quantity > 0 {
			a.s.Qty[w] += t.Quantity
			if t.UnitPrice > 0 {
				a.priceSum += t.UnitPrice
				a.priceN++
			}
		}
	}
	out := make([]Series, 0, len(m))
	for _, a := range m {
		if a.priceN > 0 {
			a.s.Price = a.priceSum / float64(a.priceN)
		}
		out = append(out, *a.s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Product < out[j].Product })
	return out
}

// SplitByCountry groups transactions into tenants by country. Countries with
// fewer than minCustomers distinct customers are pooled into the tenant
// "Other" (a tenant of a few customers has too little data to train on).
// Tenant names are returned sorted.
func SplitByCountry(tx []Transaction, minCustomers int) (names []string, parts map[string][]Transaction) {
	cust := map[string]map[string]bool{}
	for _, t := range tx {
		if cust[t.Country] == nil {
			cust[t.Country] = map[string]bool{}
		}
		cust[t.Country][t.Customer] = true
	}
	parts = map[string][]Transaction{}
	for _, t := range tx {
		name := t.Country
		if name == "" {
			name = "Unspecified"
		}
		if len(cust[t.Country]) < minCustomers {
			name = "Other"
		}
		parts[name] = append(parts[name], t)
	}
	for n := range parts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, parts
}
