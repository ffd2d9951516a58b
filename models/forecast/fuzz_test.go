package forecast

import (
	"strings"
	"testing"
)

// FuzzLoadTransactions checks that no input makes the loader panic and that
// every data row is either loaded or reported.
func FuzzLoadTransactions(f *testing.F) {
	f.Add("invoice_date,customer_id,stock_code,quantity,unit_price\n2011-01-03 10:00:00,c,10001,5,1.5\n")
	f.Add("invoice_date,customer_id,stock_code,quantity,unit_price\n\"x,1\n2011-01-03,c,1,1,1\n")
	f.Add("invoice_date,customer_id,stock_code,quantity,unit_price\n2011-01-03,c,1,NaN,1\n2011-01-03,c,1,1,Inf\n,,,,\n")
	f.Fuzz(func(t *testing.T, in string) {
		tx, rep, err := LoadTransactions(strings.NewReader(in), "f.csv", Columns{})
		if err != nil {
			return
		}
		if rep.Rows != rep.Loaded+rep.Skipped || len(tx) != rep.Loaded {
			t.Fatalf("report %+v with %d transactions", rep, len(tx))
		}
		for _, x := range tx {
			if x.Customer == "" || x.Product == "" || !(x.UnitPrice >= 0) || x.Quantity != x.Quantity {
				t.Fatalf("invalid transaction loaded: %+v", x)
			}
		}
	})
}
