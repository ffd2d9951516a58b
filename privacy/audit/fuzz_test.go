package audit

import (
	"bytes"
	"os"
	"testing"

	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// FuzzVerify feeds arbitrary bytes as a tenant ledger next to a valid
// coordinator ledger: Verify and both renderers must not panic, and a
// result is OK only if the bytes decode fully.
func FuzzVerify(f *testing.F) {
	fed := buildFederation(f, 1)
	coord, _ := os.ReadFile(fed.paths["coordinator"])
	acme, _ := os.ReadFile(fed.paths["acme"])
	f.Add(acme)
	f.Add(acme[:len(acme)/2])
	f.Add([]byte("{}\n"))
	coordEntries, _, err := ledger.Decode(coord)
	if err != nil {
		f.Fatal(err)
	}
	trusted := fed.trusted()
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, torn, err := ledger.Decode(b)
		lf := LedgerFile{Path: "fuzz", Entries: entries, TornBytes: torn}
		if err != nil && torn == 0 {
			lf.ReadErr = err
		}
		res := Verify([]LedgerFile{{Path: "coordinator", Entries: coordEntries}, lf}, trusted)
		if res.OK && lf.ReadErr != nil {
			t.Fatal("verification passed over an undecodable line")
		}
		var buf bytes.Buffer
		if err := RenderHTML(&buf, res, ReportOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := RenderJSON(&buf, res); err != nil {
			t.Fatal(err)
		}
	})
}
