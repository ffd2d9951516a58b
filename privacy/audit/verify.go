package audit

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// LedgerFile is one ledger as read from disk.
type LedgerFile struct {
	Path      string
	Entries   []ledger.Entry // the entries before any undecodable line
	TornBytes int            // bytes of a torn last line, ignored
	ReadErr   error          // a line that did not decode (*ledger.LineError) or an I/O error
}

// Load reads the ledgers at paths. Errors are kept in each LedgerFile for
// [Verify] to report, so Load itself never fails.
func Load(paths ...string) []LedgerFile {
	out := make([]LedgerFile, 0, len(paths))
	for _, p := range paths {
		lf := LedgerFile{Path: p}
		b, err := os.ReadFile(p)
		if err != nil {
			lf.ReadErr = err
			out = append(out, lf)
			continue
		}
		entries, torn, err := ledger.Decode(b)
		lf.Entries, lf.TornBytes = entries, torn
		if err != nil && !errors.Is(err, ledger.ErrTornTail) {
			lf.ReadErr = err
		}
		out = append(out, lf)
	}
	return out
}

// Failure names an entry that failed verification and why.
type Failure struct {
	File   string `json:"file"`
	Line   int    `json:"line"`          // 1-based line in File; 0 when the file could not be read
	Seq    uint64 `json:"seq,omitempty"` // the seq the entry records (0 if it did not decode)
	Reason string `json:"reason"`
}

func (f Failure) String() string {
	if f.Line == 0 {
		return fmt.Sprintf("%s: %s", f.File, f.Reason)
	}
	if f.Seq == 0 {
		return fmt.Sprintf("%s: line %d: %s", f.File, f.Line, f.Reason)
	}
	return fmt.Sprintf("%s: line %d (seq %d): %s", f.File, f.Line, f.Seq, f.Reason)
}

// Point is one verified intent or release of a budget.
type Point struct {
	Seq          uint64         `json:"seq"`
	Line         int            `json:"line"`
	Time         string         `json:"time"`
	Task         string         `json:"task"`
	Round        int64          `json:"round"`
	Status       ledger.Status  `json:"status"`
	Released     bool           `json:"released"` // intent: a released entry completes it
	Mechanism    string         `json:"mechanism,omitempty"`
	Params       ledger.Params  `json:"params"`
	Delta        float64        `json:"delta"`
	Recorded     ledger.Epsilon `json:"epsilon_recorded"`   // null: ∞ (an exact release)
	Recomputed   ledger.Epsilon `json:"epsilon_recomputed"` // null: ∞
	Cap          float64        `json:"epsilon_cap"`
	ArtifactHash string         `json:"artifact_hash,omitempty"`
}

// Budget is the spending of one tenant in one unit as one ledger records
// it. Points holds its intents (the spends) in order.
type Budget struct {
	File    string         `json:"file"`
	Party   string         `json:"party"`
	Tenant  string         `json:"tenant"`
	Unit    ledger.Unit    `json:"unit"`
	Epsilon ledger.Epsilon `json:"epsilon"` // recomputed cumulative ε after the last verified intent (null: ∞)
	// EpsilonInfinite is set when Epsilon is ∞: the tenant made an exact
	// release (ledger.MechExact), in this unit or another.
	EpsilonInfinite bool    `json:"epsilon_infinite,omitempty"`
	Delta           float64 `json:"delta"` // δ of that entry
	Cap             float64 `json:"epsilon_cap"`
	Pending         int     `json:"pending"` // intents without a released entry (counted as spent)
	Points          []Point `json:"points"`
}

// FileSummary describes one ledger file.
type FileSummary struct {
	Path      string `json:"path"`
	Party     string `json:"party,omitempty"`
	Writer    string `json:"writer,omitempty"`
	Entries   int    `json:"entries"`
	TornBytes int    `json:"torn_bytes,omitempty"`
	Verified  bool   `json:"verified"` // every entry passed the per-file checks
}

// Result is the outcome of [Verify].
type Result struct {
	OK bool `json:"ok"`
	// SignaturesChecked is false when Verify was given no trusted key:
	// then chains and ε were checked but not who wrote them.
	SignaturesChecked bool          `json:"signatures_checked"`
	Failures          []Failure     `json:"failures"` // Failures[0] is the first failing entry
	Notes             []string      `json:"notes"`
	Files             []FileSummary `json:"files"`
	Budgets           []Budget      `json:"budgets"` // by tenant, unit, then the tenant's own ledger first
	// Received summarises, per ledger and tenant, what a party records it
	// received from the tenant (the coordinator's ledger): evidence the
	// tenant's own ledger was held to, never a budget.
	Received []Receipt `json:"received"`
}

// First returns the first failure, if any.
func (r Result) First() (Failure, bool) {
	if len(r.Failures) == 0 {
		return Failure{}, false
	}
	return r.Failures[0], true
}

// TrustedKey is a public key the auditor trusts, optionally bound to the
// party whose ledger it signs (then it signs for no other party).
type TrustedKey struct {
	Party string // "" trusts the key for any party
	Key   ed25519.PublicKey
}

// Trust returns keys trusted for any party.
func Trust(pubs ...ed25519.PublicKey) []TrustedKey {
	out := make([]TrustedKey, len(pubs))
	for i, p := range pubs {
		out[i] = TrustedKey{Key: p}
	}
	return out
}

// Verify checks ledgers against the trusted public keys (see the package
// documentation for the checks). With no trusted key, signatures are not
// checked and Result.SignaturesChecked is false. Files are checked in the
// given order, entries in file order; the first failure of a file stops
// that file's checks (what follows a broken entry cannot be trusted), and
// cross-ledger checks run over the entries that passed.
func Verify(files []LedgerFile, trusted []TrustedKey) Result {
	res := Result{SignaturesChecked: len(trusted) > 0, Failures: []Failure{}, Notes: []string{}}
	byID := map[string]TrustedKey{}
	for _, k := range trusted {
		if len(k.Key) == ed25519.PublicKeySize {
			byID[keys.ID(k.Key)] = k
		}
	}
	if !res.SignaturesChecked {
		res.Notes = append(res.Notes, "no trusted public keys given: signatures were NOT checked")
	}
	var verified []verifiedFile
	for _, lf := range files {
		vf, sum, fails, notes := verifyFile(lf, byID, res.SignaturesChecked)
		res.Files = append(res.Files, sum)
		res.Failures = append(res.Failures, fails...)
		res.Notes = append(res.Notes, notes...)
		res.Budgets = append(res.Budgets, vf.budgets...)
		res.Received = append(res.Received, vf.receipts...)
		verified = append(verified, vf)
	}
	// Group budgets by tenant and unit, the tenant's own ledger first.
	sort.SliceStable(res.Budgets, func(i, j int) bool {
		a, b := res.Budgets[i], res.Budgets[j]
		if a.Tenant != b.Tenant {
			return a.Tenant < b.Tenant
		}
		if a.Unit != b.Unit {
			return a.Unit < b.Unit
		}
		return a.Party == a.Tenant && b.Party != b.Tenant
	})
	fails, notes := checkReceived(verified, byID, res.SignaturesChecked)
	res.Failures = append(res.Failures, fails...)
	res.Notes = append(res.Notes, notes...)
	fails, notes = crossCheck(verified)
	res.Failures = append(res.Failures, fails...)
	res.Notes = append(res.Notes, notes...)
	res.Notes = append(res.Notes, sharesNotes(verified)...)
	res.OK = len(res.Failures) == 0
	return res
}

// verifiedFile is what survived the per-file checks.
type verifiedFile struct {
	path    string
	party   string
	writer  string
	entries []ledger.Entry // verified entries
	ok      bool           // every entry verified
	budgets []Budget
	// receipts summarises the received entries
	receipts []Receipt
}

func verifyFile(lf LedgerFile, byID map[string]TrustedKey, checkSig bool) (verifiedFile, FileSummary, []Failure, []string) {
	vf := verifiedFile{path: lf.Path}
	sum := FileSummary{Path: lf.Path, Entries: len(lf.Entries), TornBytes: lf.TornBytes}
	var notes []string
	if lf.TornBytes > 0 {
		notes = append(notes, fmt.Sprintf("%s: ignored %d bytes of a torn last line (an append interrupted by a crash, never acknowledged)", lf.Path, lf.TornBytes))
	}
	fail := func(line int, seq uint64, format string, a ...any) (verifiedFile, FileSummary, []Failure, []string) {
		vf.budgets = finishBudgets(vf.budgets)
		return vf, sum, []Failure{{File: lf.Path, Line: line, Seq: seq, Reason: fmt.Sprintf(format, a...)}}, notes
	}
	replay := ledger.NewReplay()
	budgets := map[[2]string]int{} // (tenant, unit) → index in vf.budgets
	for i, e := range lf.Entries {
		line := i + 1
		var prev *ledger.Entry
		if i > 0 {
			prev = &lf.Entries[i-1]
		}
		if err := ledger.Link(prev, e); err != nil {
			return fail(line, e.Seq, "%v", err)
		}
		if i == 0 {
			vf.party, vf.writer, sum.Party, sum.Writer = e.Party, e.Writer, e.Party, e.Writer
		} else if e.Writer != sum.Writer {
			return fail(line, e.Seq, "written by key %s, but this ledger's writer is %s", e.Writer, sum.Writer)
		} else if e.Party != vf.party {
			return fail(line, e.Seq, "party %q differs from this ledger's party %q", e.Party, vf.party)
		}
		if checkSig {
			tk, ok := byID[e.Writer]
			if !ok {
				return fail(line, e.Seq, "writer key %s is not among the trusted public keys", e.Writer)
			}
			if tk.Party != "" && tk.Party != e.Party {
				return fail(line, e.Seq, "signed with the key of party %q, but the entry's party is %q", tk.Party, e.Party)
			}
			if err := e.VerifySignature(tk.Key); err != nil {
				return fail(line, e.Seq, "%v", err)
			}
		}
		eps, err := replay.Apply(e)
		if err != nil {
			return fail(line, e.Seq, "cannot recompute ε: %v", err)
		}
		if !ledger.EpsilonEqual(e.EpsilonCumulative, eps) {
			return fail(line, e.Seq, "recorded epsilon_cumulative %v, recomputed %v from the recorded parameters", e.EpsilonCumulative, eps)
		}
		governed := eps
		if e.EpsilonCumulative.Inf() {
			// After an exact release the cap bounds the noised releases.
			if governed, err = replay.NoisedEpsilon(e.Tenant, e.Unit, e.Delta); err != nil {
				return fail(line, e.Seq, "cannot recompute ε: %v", err)
			}
		}
		if e.OverCap(governed) {
			return fail(line, e.Seq, "cumulative ε %v exceeds the cap %v", governed, e.EpsilonCap)
		}
		vf.entries = append(vf.entries, e)
		if e.Status == ledger.StatusReceived {
			vf.receipts = addReceipt(vf.receipts, lf.Path, e)
			continue
		}
		k := [2]string{e.Tenant, string(e.Unit)}
		bi, ok := budgets[k]
		if !ok {
			bi = len(vf.budgets)
			budgets[k] = bi
			vf.budgets = append(vf.budgets, Budget{File: lf.Path, Party: e.Party, Tenant: e.Tenant, Unit: e.Unit})
		}
		b := &vf.budgets[bi]
		b.Epsilon, b.Delta, b.Cap = ledger.Epsilon(eps), e.Delta, e.EpsilonCap
		b.EpsilonInfinite = b.Epsilon.Inf()
		if e.Status == ledger.StatusIntent {
			b.Points = append(b.Points, Point{Seq: e.Seq, Line: line, Time: e.Time, Task: e.Task, Round: e.Round,
				Status: e.Status, Mechanism: e.Mechanism, Params: e.Params, Delta: e.Delta,
				Recorded: e.EpsilonCumulative, Recomputed: ledger.Epsilon(eps), Cap: e.EpsilonCap, ArtifactHash: e.ArtifactHash})
		} else {
			for j := range b.Points {
				if b.Points[j].Seq == e.Ref {
					b.Points[j].Released = true
					if b.Points[j].ArtifactHash == "" {
						b.Points[j].ArtifactHash = e.ArtifactHash
					}
				}
			}
		}
	}
	if lf.ReadErr != nil {
		var le *ledger.LineError
		if errors.As(lf.ReadErr, &le) {
			return fail(le.Line, 0, "%v", le.Err)
		}
		return fail(0, 0, "cannot read ledger: %v", lf.ReadErr)
	}
	if len(lf.Entries) == 0 {
		notes = append(notes, lf.Path+": ledger is empty")
	}
	sum.Verified = true
	vf.ok = true
	vf.budgets = finishBudgets(vf.budgets)
	for _, b := range vf.budgets {
		if b.EpsilonInfinite {
			s, _ := replay.Exact(b.Tenant)
			noised, _ := replay.NoisedEpsilon(b.Tenant, b.Unit, b.Delta)
			notes = append(notes, fmt.Sprintf("%s: tenant %s made an exact release (seq %d, no noise): its %s-level ε is ∞; the cap %g bounds its noised releases alone (ε %.6g)",
				lf.Path, b.Tenant, s, b.Unit, b.Cap, noised))
		}
	}
	return vf, sum, nil, notes
}

func finishBudgets(bs []Budget) []Budget {
	for i := range bs {
		n := 0
		for _, p := range bs[i].Points {
			if !p.Released {
				n++
			}
		}
		bs[i].Pending = n
	}
	return bs
}
