package recommend

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
)

// Catalog is the platform's product list: codes and descriptions, which are
// public (every buyer sees them), indexed 0..N-1 in code order.
type Catalog struct {
	Codes        []string
	Descriptions []string
	index        map[string]int
}

// BuildCatalog lists the products (forecast.IsProduct codes) ordered before
// cut, with their latest description.
func BuildCatalog(tx []forecast.Transaction, cut time.Time) *Catalog {
	desc := map[string]string{}
	for _, t := range tx {
		if t.Time.Before(cut) && forecast.IsProduct(t.Product) && t.Quantity > 0 {
			desc[t.Product] = t.Description
		}
	}
	c := &Catalog{index: map[string]int{}}
	for code := range desc {
		c.Codes = append(c.Codes, code)
	}
	sort.Strings(c.Codes)
	for i, code := range c.Codes {
		c.index[code] = i
		c.Descriptions = append(c.Descriptions, desc[code])
	}
	return c
}

// Index returns the catalog index of a product code.
func (c *Catalog) Index(code string) (int, bool) {
	i, ok := c.index[code]
	return i, ok
}

// Features encodes the descriptions and reduces them with a fixed
// seed-derived Rademacher projection to dim values (the frozen part of the
// product tower).
func (c *Catalog) Features(ctx context.Context, enc models.Encoder, dim int, seed uint64) ([][]float64, error) {
	if dim < 1 || dim > 4096 {
		return nil, fmt.Errorf("recommend: feature dimension %d outside [1, 4096]", dim)
	}
	x, err := enc.Encode(ctx, c.Descriptions)
	if err != nil {
		return nil, fmt.Errorf("recommend: encode descriptions: %w", err)
	}
	d := enc.Dim()
	proj := forecast.RademacherProjection("fedb2b/recommend/text-projection/v1", seed, dim, d)
	out := make([][]float64, len(x))
	for i, xi := range x {
		if len(xi) != d {
			return nil, fmt.Errorf("recommend: encoder returned %d values, want %d", len(xi), d)
		}
		out[i] = make([]float64, dim)
		for j, v := range xi {
			if v == 0 {
				continue
			}
			for k := 0; k < dim; k++ {
				out[i][k] += proj[k*d+j] * v
			}
		}
	}
	return out, nil
}

// TenantData is one tenant's purchases, split by time. Customer i bought
// Train[i] (distinct catalog indexes, sorted) before the cut and Test[i]
// in the held-back period; Test is nil for customers without purchases in
// both periods (they train but are not evaluated). Products first sold in
// the held-back period are not in the catalog and are dropped from Test.
// Orders[i][j] is the number of days before the cut on which customer i
// ordered product Train[i][j] (at least 1), and Ages[i][j] lists those
// days' distances from the cut in days (each > 0).
type TenantData struct {
	Name      string
	Customers []string
	Train     [][]int
	Orders    [][]int
	Ages      [][][]float64
	Test      []map[int]bool
}

// Split builds a tenant's data from its transactions.
func Split(name string, tx []forecast.Transaction, cat *Catalog, cut time.Time) *TenantData {
	train := map[string]map[int]bool{}
	test := map[string]map[int]bool{}
	type day struct {
		customer string
		product  int
		date     string
	}
	days := map[day]bool{}
	orders := map[string]map[int]int{}
	ages := map[string]map[int][]float64{}
	cutDay := time.Date(cut.Year(), cut.Month(), cut.Day(), 0, 0, 0, 0, time.UTC)
	for _, t := range tx {
		if t.Quantity <= 0 {
			continue
		}
		p, ok := cat.Index(t.Product)
		if !ok {
			continue
		}
		m := train
		if !t.Time.Before(cut) {
			m = test
		}
		if m[t.Customer] == nil {
			m[t.Customer] = map[int]bool{}
		}
		m[t.Customer][p] = true
		if d := (day{t.Customer, p, t.Time.Format(time.DateOnly)}); t.Time.Before(cut) && !days[d] {
			days[d] = true
			if orders[t.Customer] == nil {
				orders[t.Customer] = map[int]int{}
				ages[t.Customer] = map[int][]float64{}
			}
			orders[t.Customer][p]++
			od := time.Date(t.Time.Year(), t.Time.Month(), t.Time.Day(), 0, 0, 0, 0, time.UTC)
			ages[t.Customer][p] = append(ages[t.Customer][p], max(cutDay.Sub(od).Hours()/24, 1))
		}
	}
	td := &TenantData{Name: name}
	for c := range train {
		td.Customers = append(td.Customers, c)
	}
	sort.Strings(td.Customers)
	for _, c := range td.Customers {
		var items []int
		for p := range train[c] {
			items = append(items, p)
		}
		sort.Ints(items)
		n := make([]int, len(items))
		a := make([][]float64, len(items))
		for j, p := range items {
			n[j] = orders[c][p]
			a[j] = ages[c][p]
		}
		td.Train = append(td.Train, items)
		td.Orders = append(td.Orders, n)
		td.Ages = append(td.Ages, a)
		td.Test = append(td.Test, test[c])
	}
	return td
}

// Popularity counts, for each catalog product, the tenant's customers who
// bought it before the cut.
func (td *TenantData) Popularity(n int) []float64 {
	pop := make([]float64, n)
	for _, items := range td.Train {
		for _, p := range items {
			pop[p]++
		}
	}
	return pop
}

// Evaluated is the number of customers with purchases in both periods
// (those the metrics average over).
func (td *TenantData) Evaluated() int {
	n := 0
	for _, rel := range td.Test {
		if len(rel) > 0 {
			n++
		}
	}
	return n
}

// OrderScores scores the catalog (n products) for customer c by its own
// order history only: the number of days it ordered each product before
// the cut, 0 for the others. Ranked with TopK (lower index first on ties) it
// is the "buy again by own frequency" list. Without Orders (a TenantData
// built by hand) every earlier purchase counts once.
func (td *TenantData) OrderScores(c, n int) []float64 {
	s := make([]float64, n)
	for j, p := range td.Train[c] {
		s[p] = 1
		if c < len(td.Orders) && j < len(td.Orders[c]) {
			s[p] = float64(td.Orders[c][j])
		}
	}
	return s
}

// HistoryScores scores the catalog (n products) for customer c by its own
// order history only, each order day weighted by recency: Σ over the days
// it ordered product p before the cut of 2^(−age/halfLife), age in days
// (0 for products it never ordered). A halfLife ≤ 0 weighs every day 1,
// which is OrderScores. Nothing from other customers enters, so one
// customer's data move only its own scores. Without Ages (a TenantData
// built by hand) it is OrderScores.
func (td *TenantData) HistoryScores(c, n int, halfLife float64) []float64 {
	if halfLife <= 0 || c >= len(td.Ages) {
		return td.OrderScores(c, n)
	}
	s := make([]float64, n)
	for j, p := range td.Train[c] {
		if j >= len(td.Ages[c]) {
			s[p] = 1
			continue
		}
		for _, a := range td.Ages[c][j] {
			s[p] += math.Exp2(-a / halfLife)
		}
	}
	return s
}
