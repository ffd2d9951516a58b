package audit

import (
	"fmt"
	"strings"

	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// roundKey identifies a spend across ledgers.
type roundKey struct {
	tenant, task string
	round        int64
	unit         ledger.Unit
}

type located struct {
	file string
	line int
	e    ledger.Entry
}

// crossCheck compares, for every tenant whose own ledger is given (a
// ledger whose party is the tenant) and passed its own checks, the intents
// other parties recorded about it with the tenant's own intents: same task,
// round and unit, same mechanism and parameters, and the same artefact
// hash where both record one. A spend another party
// recorded that the tenant did not is a failure (a release the tenant's
// records do not show); a spend only the tenant recorded is a note (e.g.
// it dropped out after its intent, which still counts as spent).
func crossCheck(files []verifiedFile) ([]Failure, []string) {
	own := map[string][]verifiedFile{} // tenant → its own ledgers (several after a key rotation)
	for _, f := range files {
		if f.ok && f.party != "" && len(f.entries) > 0 {
			own[f.party] = append(own[f.party], f)
		}
	}
	var fails []Failure
	var notes []string
	seenByOthers := map[string]map[roundKey]bool{} // tenant → keys other ledgers recorded
	for _, other := range files {
		for i, e := range other.entries {
			if e.Status != ledger.StatusIntent || e.Tenant == other.party || len(own[e.Tenant]) == 0 {
				continue
			}
			k := roundKey{e.Tenant, e.Task, e.Round, e.Unit}
			if seenByOthers[e.Tenant] == nil {
				seenByOthers[e.Tenant] = map[roundKey]bool{}
			}
			seenByOthers[e.Tenant][k] = true
			var tf verifiedFile
			var match located
			found := false
			for _, f := range own[e.Tenant] {
				if match, found = findIntent(f, k); found {
					tf = f
					break
				}
			}
			if !found {
				var paths []string
				for _, f := range own[e.Tenant] {
					paths = append(paths, f.path)
				}
				fails = append(fails, Failure{File: other.path, Line: lineOf(other, i), Seq: e.Seq,
					Reason: fmt.Sprintf("records task %s round %d (%s unit) for tenant %s, but the tenant's ledger %s has no such intent",
						e.Task, e.Round, e.Unit, e.Tenant, strings.Join(paths, ", "))})
				continue
			}
			if match.e.Mechanism != e.Mechanism || match.e.Params != e.Params {
				fails = append(fails, Failure{File: tf.path, Line: match.line, Seq: match.e.Seq,
					Reason: fmt.Sprintf("mechanism or parameters of task %s round %d differ from %s seq %d (%s %+v here, %s %+v there)",
						e.Task, e.Round, other.path, e.Seq, match.e.Mechanism, match.e.Params, e.Mechanism, e.Params)})
				continue
			}
			mine, theirs := artefactOf(tf, match.e.Seq), artefactOf(other, e.Seq)
			if mine != "" && theirs != "" && mine != theirs {
				fails = append(fails, Failure{File: other.path, Line: lineOf(other, i), Seq: e.Seq,
					Reason: fmt.Sprintf("artefact hash of task %s round %d for tenant %s differs from the one the tenant's ledger %s records (seq %d)",
						e.Task, e.Round, e.Tenant, tf.path, match.e.Seq)})
			}
		}
	}
	for _, tf := range files {
		seen, ok := seenByOthers[tf.party]
		if !ok || !tf.ok {
			continue // no other ledger speaks of this tenant
		}
		for i, e := range tf.entries {
			k := roundKey{e.Tenant, e.Task, e.Round, e.Unit}
			if e.Status == ledger.StatusIntent && e.Tenant == tf.party && !seen[k] {
				notes = append(notes, fmt.Sprintf("%s: line %d (seq %d): task %s round %d is recorded only by the tenant (not by another given ledger); counted as spent",
					tf.path, lineOf(tf, i), e.Seq, e.Task, e.Round))
			}
		}
	}
	return fails, notes
}

// lineOf returns the file line of the i-th verified entry: verified
// entries are a prefix of the file, so it is i+1.
func lineOf(_ verifiedFile, i int) int { return i + 1 }

func findIntent(f verifiedFile, k roundKey) (located, bool) {
	for i, e := range f.entries {
		if e.Status == ledger.StatusIntent && e.Tenant == k.tenant && e.Task == k.task && e.Round == k.round && e.Unit == k.unit {
			return located{file: f.path, line: i + 1, e: e}, true
		}
	}
	return located{}, false
}

// artefactOf returns the artefact hash of intent seq in f: the intent's
// own, else that of the released entry completing it, else "".
func artefactOf(f verifiedFile, seq uint64) string {
	for _, e := range f.entries {
		if e.Seq == seq && e.ArtifactHash != "" {
			return e.ArtifactHash
		}
		if e.Status == ledger.StatusReleased && e.Ref == seq {
			return e.ArtifactHash
		}
	}
	return ""
}
