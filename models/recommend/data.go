package recommend

import (
	"context"
	"fmt"
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
type TenantData struct {
	Name      string
	Customers []string
	Train     [][]int
	Test      []map[int]bool
}

// Split builds a tenant's data from its transactions.
func Split(name string, tx []forecast.Transaction, cat *Catalog, cut time.Time) *TenantData {
	train := map[string]map[int]bool{}
	test := map[string]map[int]bool{}
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
		td.Train = append(td.Train, items)
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
