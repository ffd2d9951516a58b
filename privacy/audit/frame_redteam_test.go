package audit

import (
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// TestRedteamCoordinatorFramesHonestTenant attacks claim 3 of #15 from the
// other side: can a coordinator make an honest tenant fail the audit?
// Received entries (update, masked input, count, evaluation statistics)
// are the coordinator's word alone — unlike ledger heads, they carry no
// signature of the tenant. A coordinator that appends, with its own key,
// a receipt of noised evaluation statistics acme never released makes
// the audit of acme's intact ledger fail with "that release is missing
// from the tenant's records": the auditor is told the tenant hid a
// release, when nothing the tenant signed supports the receipt. Where
// receipts are unsigned the audit cannot tell a tenant that dropped a
// release from a coordinator that invented one, and must say so.
func TestRedteamCoordinatorFramesHonestTenant(t *testing.T) {
	f := buildFederation(t, 2)
	if res := Verify(f.files(), f.trusted()); !res.OK {
		t.Fatalf("honest ledgers: %+v", res.Failures)
	}
	c, err := ledger.Open(f.paths["coordinator"], f.keys["coordinator"], ledger.WithClock(clock()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Receive(ledger.Entry{Party: "coordinator", Task: "intent-cls", Round: 2, Tenant: "acme",
		Unit: ledger.UnitRecord, Kind: ledger.KindEvalStats, ArtifactHash: hash("statistics acme never sent")}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	res := Verify(f.files(), f.trusted())
	first, failed := res.First()
	if !failed {
		return
	}
	if strings.Contains(first.Reason, "missing from the tenant's records") && !strings.Contains(first.Reason, "not signed by the tenant") {
		t.Fatalf("a receipt the coordinator invented convicts honest tenant acme: %s: %s", first.File, first.Reason)
	}
}
