package forecast

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fedb2b/fedb2b/models/dataset"
)

// Columns maps the fields of a transaction to the header names of a tenant's
// CSV file. Matching ignores case and surrounding white space. Empty optional
// fields are not read.
type Columns struct {
	Date        string // required; default "invoice_date"
	Customer    string // required; default "customer_id"
	Product     string // required; default "stock_code"
	Quantity    string // required; default "quantity"
	UnitPrice   string // required; default "unit_price"
	Description string // optional; default "description"
	Country     string // optional; default "country"
	// DateLayout is the time.Parse layout of Date; default
	// "2006-01-02 15:04:05". A value with only a date ("2006-01-02") is
	// accepted too.
	DateLayout string
}

// OnlineRetailColumns returns the column names of
// ../shared/data/online_retail/transactions.csv.
func OnlineRetailColumns() Columns {
	return Columns{Date: "invoice_date", Customer: "customer_id", Product: "stock_code", Quantity: "quantity",
		UnitPrice: "unit_price", Description: "description", Country: "country", DateLayout: "2006-01-02 15:04:05"}
}

func (c Columns) filled() Columns {
	d := OnlineRetailColumns()
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&c.Date, d.Date)
	set(&c.Customer, d.Customer)
	set(&c.Product, d.Product)
	set(&c.Quantity, d.Quantity)
	set(&c.UnitPrice, d.UnitPrice)
	set(&c.Description, d.Description)
	set(&c.Country, d.Country)
	set(&c.DateLayout, d.DateLayout)
	return c
}

// Transaction is one order line.
type Transaction struct {
	Time        time.Time
	Customer    string
	Product     string
	Description string  // "" if the file has no description column
	Country     string  // "" if the file has no country column
	Quantity    float64 // units; negative for returns and cancellations
	UnitPrice   float64 // price per unit, ≥ 0
	Line        int     // 1-based line of the source file
}

// ErrColumns is wrapped by the error of a header that lacks a required column.
var ErrColumns = errors.New("forecast: missing column")

// LoadTransactionsFile opens path and calls LoadTransactions.
func LoadTransactionsFile(path string, cols Columns) ([]Transaction, dataset.LoadReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, dataset.LoadReport{}, fmt.Errorf("forecast: %w", err)
	}
	defer f.Close()
	return LoadTransactions(f, path, cols)
}

// LoadTransactions reads order lines from a CSV file with a header row.
// Rows that cannot be used (ragged, unparsable date or number, empty
// customer or product, invalid UTF-8, negative or non-finite price) are
// skipped and reported as in dataset.Load's Skip policy: report.Rows ==
// report.Loaded + report.Skipped. A header without a required column is an
// error wrapping ErrColumns that lists the columns the file has.
func LoadTransactions(r io.Reader, name string, cols Columns) ([]Transaction, dataset.LoadReport, error) {
	cols = cols.filled()
	var rep dataset.LoadReport
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, rep, fmt.Errorf("forecast: %s: read header: %w", name, err)
	}
	idx := map[string]int{}
	for i, h := range header {
		h = strings.TrimPrefix(h, "\ufeff")
		idx[strings.ToLower(strings.TrimSpace(h))] = i
	}
	find := func(col string, required bool) (int, error) {
		i, ok := idx[strings.ToLower(strings.TrimSpace(col))]
		if !ok {
			if required {
				return -1, fmt.Errorf("%w: %s has no column %q (columns: %s)", ErrColumns, name, col, strings.Join(header, ", "))
			}
			return -1, nil
		}
		return i, nil
	}
	var ix [7]int
	for k, c := range []struct {
		name string
		req  bool
	}{{cols.Date, true}, {cols.Customer, true}, {cols.Product, true}, {cols.Quantity, true}, {cols.UnitPrice, true}, {cols.Description, false}, {cols.Country, false}} {
		if ix[k], err = find(c.name, c.req); err != nil {
			return nil, rep, err
		}
	}
	var out []Transaction
	bad := func(line int, reason string) {
		rep.Skipped++
		if len(rep.Bad) < dataset.MaxListedBadRows {
			rep.Bad = append(rep.Bad, dataset.BadRow{File: name, Line: line, Reason: reason})
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rep.Rows++
				bad(pe.StartLine, "parse error: "+pe.Err.Error())
				continue
			}
			return nil, rep, fmt.Errorf("forecast: %s: %w", name, err)
		}
		rep.Rows++
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			bad(line, fmt.Sprintf("ragged row: %d fields, header has %d", len(rec), len(header)))
			continue
		}
		t, reason := parseRow(rec, ix, cols.DateLayout)
		if reason != "" {
			bad(line, reason)
			continue
		}
		t.Line = line
		out = append(out, t)
		rep.Loaded++
	}
	return out, rep, nil
}

func parseRow(rec []string, ix [7]int, layout string) (Transaction, string) {
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return Transaction{}, "invalid UTF-8"
		}
	}
	get := func(k int) string {
		if ix[k] < 0 {
			return ""
		}
		return strings.TrimSpace(rec[ix[k]])
	}
	var t Transaction
	ds := get(0)
	tm, err := time.Parse(layout, ds)
	if err != nil {
		tm, err = time.Parse("2006-01-02", ds)
		if err != nil {
			return t, fmt.Sprintf("bad date %q", clip(ds))
		}
	}
	t.Time = tm
	if t.Customer = get(1); t.Customer == "" {
		return t, "empty customer"
	}
	if t.Product = get(2); t.Product == "" {
		return t, "empty product"
	}
	q, err := strconv.ParseFloat(get(3), 64)
	if err != nil || q != q || q > 1e12 || q < -1e12 {
		return t, fmt.Sprintf("bad quantity %q", clip(get(3)))
	}
	p, err := strconv.ParseFloat(get(4), 64)
	if err != nil || !(p >= 0) || p > 1e12 {
		return t, fmt.Sprintf("bad unit price %q", clip(get(4)))
	}
	t.Quantity, t.UnitPrice = q, p
	t.Description, t.Country = get(5), get(6)
	return t, ""
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// IsProduct reports whether a stock code names a product: it starts with
// five digits (online_retail's product codes are five digits and an
// optional letter; POST, M, C2, D, DOT, BANK CHARGES, AMAZONFEE... are
// postage, fees and manual adjustments, not demand).
func IsProduct(code string) bool {
	if len(code) < 5 {
		return false
	}
	for i := 0; i < 5; i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}
