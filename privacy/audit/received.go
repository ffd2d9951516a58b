package audit

import (
	"fmt"
	"slices"

	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/privacy/scalar"
)

// Receipt summarises what one ledger records it received from one tenant.
type Receipt struct {
	File   string         `json:"file"`
	Party  string         `json:"party"` // who received (the coordinator)
	Tenant string         `json:"tenant"`
	Kinds  map[string]int `json:"kinds"` // received kind → entries
	// LastHead is the newest seq of the tenant's ledger whose signed head
	// this ledger holds (0: none).
	LastHead uint64 `json:"last_head,omitempty"`
}

func addReceipt(rs []Receipt, file string, e ledger.Entry) []Receipt {
	i := slices.IndexFunc(rs, func(r Receipt) bool { return r.Tenant == e.Tenant })
	if i < 0 {
		rs = append(rs, Receipt{File: file, Party: e.Party, Tenant: e.Tenant, Kinds: map[string]int{}})
		i = len(rs) - 1
	}
	rs[i].Kinds[e.Kind]++
	if e.Kind == ledger.KindLedgerHead {
		rs[i].LastHead = max(rs[i].LastHead, e.Ref)
	}
	return rs
}

// kindText names a received kind for people.
func kindText(k string) string {
	switch k {
	case ledger.KindUpdate:
		return "update"
	case ledger.KindMaskedInput:
		return "masked input"
	case ledger.KindCount:
		return "noised example count"
	case ledger.KindEvalStats:
		return "noised evaluation statistics"
	case ledger.KindExactEval:
		return "exact evaluation statistics"
	}
	return k
}

// checkReceived holds every tenant's own ledger (when given and intact) to
// what other ledgers record they received from it:
//
//   - a received artefact (update, masked input, noised count, noised
//     evaluation statistics) needs an intent of the tenant for the same
//     task, round and unit — the same mechanism and parameters when the
//     receiver recorded them, a scalar-gaussian one for counts and
//     statistics, an exact one (ledger.MechExact, ε = ∞) for exact
//     evaluation statistics — completed with the same artefact hash or
//     still pending, each intent matching one receipt; otherwise the
//     tenant's ledger lacks that release, and the failure names it (a
//     tenant that left an exact release out of its ledger, and so an ∞
//     out of its ε, fails here);
//   - a received ledger head (seq, hash, the tenant's signature) needs the
//     tenant's entry at that seq to have that hash: a ledger that ends
//     earlier was truncated, one whose entry differs was rewritten. With
//     trusted keys, the head's signature must verify under the tenant
//     ledger's key, so a receiver cannot invent one.
func checkReceived(files []verifiedFile, byID map[string]TrustedKey, checkSig bool) ([]Failure, []string) {
	own := map[string][]verifiedFile{}
	for _, f := range files {
		if f.ok && f.party != "" && len(f.entries) > 0 {
			own[f.party] = append(own[f.party], f)
		}
	}
	var fails []Failure
	var notes []string
	used := map[string]map[uint64]bool{} // tenant file → intents already matched
	unchecked := map[string]int{}
	for _, other := range files {
		// Artefacts with recorded parameters first, so that the
		// parameter-free ones match among the rest.
		order := make([]int, 0, len(other.entries))
		for pass := 0; pass < 2; pass++ {
			for i, e := range other.entries {
				if e.Status == ledger.StatusReceived && (e.Mechanism != "") == (pass == 0) {
					order = append(order, i)
				}
			}
		}
		for _, i := range order {
			e := other.entries[i]
			if e.Tenant == other.party {
				continue
			}
			tfs := own[e.Tenant]
			if len(tfs) == 0 {
				unchecked[e.Tenant]++
				continue
			}
			at := Failure{File: other.path, Line: lineOf(other, i), Seq: e.Seq}
			switch e.Kind {
			case ledger.KindLedgerHead:
				if f, ok := checkHead(tfs[0], other, i, e, byID, checkSig); !ok {
					fails = append(fails, f)
				}
			default:
				f, ok := matchRelease(tfs, e, used)
				if ok {
					continue
				}
				at.Reason = f
				fails = append(fails, at)
			}
		}
	}
	for t, n := range unchecked {
		notes = append(notes, fmt.Sprintf("%d entries received from tenant %s were not checked: its own ledger was not given or did not verify", n, t))
	}
	slices.Sort(notes)
	return fails, notes
}

// matchRelease finds the tenant's intent for received entry e and marks it
// used, or says what is missing.
func matchRelease(tfs []verifiedFile, e ledger.Entry, used map[string]map[uint64]bool) (string, bool) {
	mech := e.Mechanism
	switch {
	case e.Kind == ledger.KindExactEval:
		mech = ledger.MechExact // ε = ∞: the tenant's ledger must say so
	case mech == "":
		mech = ledger.MechScalarGaussian
	}
	var paramsDiffer *ledger.Entry
	for _, pendingOK := range []bool{false, true} {
		for _, tf := range tfs {
			if used[tf.path] == nil {
				used[tf.path] = map[uint64]bool{}
			}
			for _, in := range tf.entries {
				if in.Status != ledger.StatusIntent || used[tf.path][in.Seq] || in.Tenant != e.Tenant || in.Task != e.Task ||
					in.Round != e.Round || in.Unit != e.Unit || in.Mechanism != mech {
					continue
				}
				a := artefactOf(tf, in.Seq)
				if a != e.ArtifactHash && !(pendingOK && a == "") {
					continue
				}
				if e.Params.EvalEpsilon > 0 {
					if !evalCovered(in, e.Params.EvalEpsilon) {
						paramsDiffer = &in
						continue
					}
				} else if e.Mechanism != "" && in.Params != e.Params {
					paramsDiffer = &in
					continue
				}
				used[tf.path][in.Seq] = true
				return "", true
			}
		}
	}
	if paramsDiffer != nil {
		return fmt.Sprintf("%s of task %s round %d from tenant %s was planned with %s %+v, but the tenant's ledger %s seq %d records %+v",
			kindText(e.Kind), e.Task, e.Round, e.Tenant, e.Mechanism, e.Params, tfs[0].path, paramsDiffer.Seq, paramsDiffer.Params), false
	}
	return fmt.Sprintf("received the %s of task %s round %d (%s unit) from tenant %s with artefact %s, but the tenant's ledger %s has no %s spend released with it: that release is missing from the tenant's records, or the coordinator recorded one it never received (a receipt is not signed by the tenant, so the audit cannot tell which; a removed release that a signed head covers fails on the head)",
		kindText(e.Kind), e.Task, e.Round, e.Unit, e.Tenant, shortHash(e.ArtifactHash), tfs[0].path, mech), false
}

// checkHead holds tenant ledger tf to the head that other's entry i records.
func checkHead(tf, other verifiedFile, i int, e ledger.Entry, byID map[string]TrustedKey, checkSig bool) (Failure, bool) {
	if checkSig {
		tk, ok := byID[tf.writer]
		sig, err := ledger.HeadSignatureOf(e)
		if err == nil && ok {
			err = ledger.VerifyHead(tk.Key, e.Tenant, e.Ref, e.ArtifactHash, sig)
		}
		if err != nil || !ok {
			return Failure{File: other.path, Line: lineOf(other, i), Seq: e.Seq,
				Reason: fmt.Sprintf("records a ledger head of tenant %s (seq %d) that the key of its ledger %s did not sign", e.Tenant, e.Ref, tf.path)}, false
		}
	}
	n := uint64(len(tf.entries))
	if n < e.Ref {
		return Failure{File: tf.path, Line: int(n), Seq: n,
			Reason: fmt.Sprintf("ledger ends at seq %d, but %s line %d holds this tenant's signed head at seq %d (task %s round %d): entries %d to %d were removed",
				n, other.path, lineOf(other, i), e.Ref, e.Task, e.Round, n+1, e.Ref)}, false
	}
	got, err := tf.entries[e.Ref-1].Hash()
	if err != nil || got != e.ArtifactHash {
		return Failure{File: tf.path, Line: int(e.Ref), Seq: e.Ref,
			Reason: fmt.Sprintf("entry differs from the signed head %s line %d recorded (task %s round %d): the ledger was rewritten at or before seq %d",
				other.path, lineOf(other, i), e.Task, e.Round, e.Ref)}, false
	}
	return Failure{}, true
}

// evalCovered says whether intent in charges at least a noised
// evaluation at eps: a Gaussian (without subsampling) whose noise
// multiplier is at most the one the client's calibration gives at eps and
// the intent's δ (the Google DP library's σ over the L2 sensitivity, the
// same for every sensitivity up to its search accuracy, 10^-3), so the ε
// the intent charges is at least that release's.
func evalCovered(in ledger.Entry, eps float64) bool {
	p := in.Params
	if !(p.ClipNorm > 0) || p.Steps < 1 || p.SamplingRate != 0 {
		return false
	}
	ok, err := scalar.CoversGaussian(p.NoiseMultiplier, eps, in.Delta)
	return err == nil && ok
}
