package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/market"
)

func init() {
	register("market", "cross-tenant market statistics with per-tenant DP (dpagg)", runMarket)
}

// Public partition lists used by default: a product taxonomy of keywords
// and a list of customer segments (countries, standing in for industries in
// online_retail). They are platform-wide public lists, not read from data.
const (
	defaultCategories = "BAG,BOX,CANDLE,CARD,CASES,HOLDER,LIGHTS,MUG,SIGN,BOTTLE,BOWL,DECORATION,CLOCK,CUSHION,BUNTING"
	defaultSegments   = "United Kingdom,Germany,France,EIRE,Spain,Netherlands,Belgium,Switzerland,Portugal,Australia"
)

type marketOutput struct {
	Tenants             int                        `json:"tenants"`
	CustomersPerSegment map[string]float64         `json:"customers_per_segment,omitempty"`
	Ranks               []float64                  `json:"ranks,omitempty"`
	OrderValueQuantiles map[string][]float64       `json:"order_value_quantiles,omitempty"`
	Weeks               []string                   `json:"weeks,omitempty"`
	WeeklyDemand        map[string][]float64       `json:"weekly_demand,omitempty"`
	Privacy             map[string]marketTenantEps `json:"privacy"`
	Load                string                     `json:"load"`
}

type marketTenantEps struct {
	Unit    string         `json:"unit"`
	Epsilon float64        `json:"epsilon"`
	Delta   float64        `json:"delta"`
	Spends  []market.Spend `json:"spends"`
}

func runMarket(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("market", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "transactions CSV (required)")
	tenants := fs.Int("tenants", 5, "simulated tenants: customers are assigned by a hash of their ID")
	cols := forecast.OnlineRetailColumns()
	fs.StringVar(&cols.Date, "date-col", cols.Date, "date column")
	fs.StringVar(&cols.Customer, "customer-col", cols.Customer, "customer column")
	fs.StringVar(&cols.Product, "product-col", cols.Product, "product column")
	fs.StringVar(&cols.Quantity, "quantity-col", cols.Quantity, "quantity column")
	fs.StringVar(&cols.UnitPrice, "price-col", cols.UnitPrice, "unit price column")
	fs.StringVar(&cols.Description, "description-col", cols.Description, "product description column (categories are keywords found in it)")
	fs.StringVar(&cols.Country, "segment-col", cols.Country, "customer segment column (industry; online_retail has country)")
	fs.StringVar(&cols.DateLayout, "date-layout", cols.DateLayout, "Go time layout of the date column")
	segments := fs.String("segments", defaultSegments, "public segment list (comma-separated); others count as OTHER")
	categories := fs.String("categories", defaultCategories, "public category keywords (comma-separated); the first found in a description is its category")
	weeks := fs.Int("weeks", 8, "weekly demand for the last N weeks of the data's calendar")
	epsSeg := fs.Float64("eps-segments", 0.5, "ε of customers per segment")
	epsQ := fs.Float64("eps-quantiles", 0.5, "ε of order-value quantiles per category")
	epsD := fs.Float64("eps-demand", 1, "ε of weekly demand per category")
	budget := fs.Float64("budget", 4, "each tenant's ε cap for market statistics")
	maxValue := fs.Float64("max-order-value", 500, "order values are clamped to [0, this]")
	maxQty := fs.Float64("max-weekly-quantity", 500, "a customer's weekly quantity per category is clamped to [0, this]")
	asJSON := fs.Bool("json", false, "write JSON")
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	if *data == "" || *tenants < 1 || *weeks < 1 {
		fmt.Fprintln(stderr, "fedb2b market: --data is required; --tenants and --weeks must be ≥ 1")
		return 2
	}
	tx, rep, err := forecast.LoadTransactionsFile(*data, cols)
	if err != nil {
		fmt.Fprintf(stderr, "fedb2b market: %v\n", err)
		return 1
	}
	cal, err := forecast.CalendarOf(tx)
	if err != nil {
		fmt.Fprintf(stderr, "fedb2b market: %v\n", err)
		return 1
	}
	q := market.Query{Segments: splitList(*segments), Categories: splitList(*categories),
		EpsSegments: *epsSeg, EpsQuantiles: *epsQ, EpsDemand: *epsD, ValueUpper: *maxValue, MaxWeeklyQuantity: *maxQty}
	for w := max(0, cal.Weeks-*weeks); w < cal.Weeks; w++ {
		q.Weeks = append(q.Weeks, w)
	}
	parts := make([][]market.Record, *tenants)
	for _, t := range tx {
		h := fnv.New64a()
		h.Write([]byte(t.Customer))
		i := int(h.Sum64() % uint64(*tenants))
		parts[i] = append(parts[i], market.Record{Customer: t.Customer, Segment: t.Country, Category: categoryOf(t.Description, q.Categories),
			Order: t.Customer + "|" + t.Time.Format("2006-01-02T15:04"), Week: cal.Index(t.Time), Value: t.Quantity * t.UnitPrice, Quantity: t.Quantity})
	}
	out := marketOutput{Tenants: *tenants, Privacy: map[string]marketTenantEps{}, Load: rep.String()}
	var rels []*market.TenantRelease
	for i, rs := range parts {
		name := fmt.Sprintf("tenant-%d", i+1)
		b, err := market.NewBudget(*budget, 0)
		if err != nil {
			fmt.Fprintf(stderr, "fedb2b market: %v\n", err)
			return 2
		}
		rng, err := privacy.NewRand(nil)
		if err != nil {
			fmt.Fprintf(stderr, "fedb2b market: %v\n", err)
			return 1
		}
		rel, err := market.Release(name, rs, q, b, rng)
		if err != nil {
			fmt.Fprintf(stderr, "fedb2b market: %v\n", err)
			return 1
		}
		eps, delta := b.Spent()
		out.Privacy[name] = marketTenantEps{Unit: "customer", Epsilon: eps, Delta: delta, Spends: b.Spends()}
		rels = append(rels, rel)
	}
	res, err := market.Combine(q, rels)
	if err != nil {
		fmt.Fprintf(stderr, "fedb2b market: %v\n", err)
		return 1
	}
	out.CustomersPerSegment, out.Ranks, out.OrderValueQuantiles, out.WeeklyDemand = res.CustomersPerSegment, res.Ranks, res.OrderValueQuantiles, res.WeeklyDemand
	for _, w := range q.Weeks {
		out.Weeks = append(out.Weeks, cal.Start(w).Format("2006-01-02"))
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "fedb2b market: %v\n", err)
			return 1
		}
		return 0
	}
	printMarket(stdout, out)
	return 0
}

func printMarket(w io.Writer, o marketOutput) {
	fmt.Fprintf(w, "load: %s\n", o.Load)
	fmt.Fprintf(w, "\ncustomers per segment (noisy, %d tenants):\n", o.Tenants)
	for _, k := range slices.Sorted(maps.Keys(o.CustomersPerSegment)) {
		fmt.Fprintf(w, "  %-20s %8.0f\n", k, o.CustomersPerSegment[k])
	}
	fmt.Fprintf(w, "\norder value quantiles per category at ranks %v:\n", o.Ranks)
	for _, k := range slices.Sorted(maps.Keys(o.OrderValueQuantiles)) {
		fmt.Fprintf(w, "  %-20s", k)
		for _, v := range o.OrderValueQuantiles[k] {
			fmt.Fprintf(w, " %8.2f", v)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nweekly demand per category (weeks starting %s … %s):\n", first(o.Weeks), last(o.Weeks))
	for _, k := range slices.Sorted(maps.Keys(o.WeeklyDemand)) {
		fmt.Fprintf(w, "  %-20s", k)
		for _, v := range o.WeeklyDemand[k] {
			fmt.Fprintf(w, " %7.0f", v)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "\nprivacy spent per tenant (customer-level, basic composition):")
	for _, k := range slices.Sorted(maps.Keys(o.Privacy)) {
		p := o.Privacy[k]
		fmt.Fprintf(w, "  %-10s ε=%g δ=%g (%d releases)\n", k, p.Epsilon, p.Delta, len(p.Spends))
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// categoryOf returns the first category keyword that occurs as a word of
// the description (case-insensitive), or market.Other.
func categoryOf(desc string, cats []string) string {
	words := map[string]bool{}
	for _, w := range strings.Fields(strings.ToUpper(desc)) {
		words[strings.Trim(w, ".,;:()'\"")] = true
	}
	for _, c := range cats {
		if words[strings.ToUpper(c)] {
			return c
		}
	}
	return market.Other
}
