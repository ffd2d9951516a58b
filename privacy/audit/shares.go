package audit

import (
	"fmt"
	"sort"

	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// sharesNotes checks the assumption of the record-level distributed mode
// (ledger.MechDDGRecord) that the ledgers can check: every entry's ε
// assumes that each unmasked sum of its round held at least Params.Shares
// honest noise shares, so a round for which a party records fewer masked
// inputs received than Shares cannot have had such a sum. The ledgers do
// not record which rounds were unmasked (an honest coordinator abandons
// such a round before unmasking), so this is a note, naming the round and
// its tenants, not a failure.
func sharesNotes(files []verifiedFile) []string {
	type key struct {
		file, task string
		round      int64
	}
	tenants := map[key]map[string]bool{}
	shares := map[key]int{}
	for _, f := range files {
		for _, e := range f.entries {
			if e.Status != ledger.StatusReceived || e.Kind != ledger.KindMaskedInput || e.Mechanism != ledger.MechDDGRecord {
				continue
			}
			k := key{f.path, e.Task, e.Round}
			if tenants[k] == nil {
				tenants[k] = map[string]bool{}
			}
			tenants[k][e.Tenant] = true
			shares[k] = max(shares[k], e.Params.Shares)
		}
	}
	var notes []string
	for k, ts := range tenants {
		if len(ts) >= shares[k] {
			continue
		}
		names := make([]string, 0, len(ts))
		for t := range ts {
			names = append(names, t)
		}
		sort.Strings(names)
		notes = append(notes, fmt.Sprintf("%s: task %s, round %d: %d masked inputs received (%v) in the record-level distributed mode, whose ε assumes %d honest noise shares in every unmasked sum: if this round was unmasked (the ledgers do not say), those tenants' ε understates their spend",
			k.file, k.task, k.round, len(ts), names, shares[k]))
	}
	sort.Strings(notes)
	return notes
}
