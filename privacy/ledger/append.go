package ledger

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Append records the intent to release e's artefact and returns the entry
// as written. The caller fills Party, Task, Round, Tenant, Unit,
// Mechanism, Params, Delta, EpsilonCap and optionally Time, Accountant
// (default [DefaultAccountant]) and ArtifactHash; Append fills Seq,
// Status (intent), EpsilonCumulative (recomputed by the accountant over
// this ledger's entries for (Tenant, Unit) plus e), PrevHash, Writer and
// Signature, writes the line and syncs the file. Only when Append returns
// without error may the artefact be released; then call [Ledger.Release].
//
// Append refuses an entry whose cumulative ε would exceed EpsilonCap
// ([ErrBudgetExceeded]); nothing is written then. An exact release
// ([MechExact]) is written whatever the cap (the tenant's explicit
// waiver); after it the recorded ε is ∞ and the cap bounds the noised
// releases alone.
func (l *Ledger) Append(e Entry) (Entry, error) {
	if e.Status != "" && e.Status != StatusIntent {
		return Entry{}, fmt.Errorf("ledger: Append writes intents; use Release for status %q", e.Status)
	}
	e.Status = StatusIntent
	if e.Accountant == "" {
		e.Accountant = DefaultAccountant
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.prepare(&e); err != nil {
		return Entry{}, err
	}
	eps, acc, err := l.replay.step(e)
	if err != nil {
		return Entry{}, fmt.Errorf("ledger: %w", err)
	}
	e.setEpsilon(eps)
	governed, err := governedEpsilon(eps, acc, e.Delta)
	if err != nil {
		return Entry{}, fmt.Errorf("ledger: %w", err)
	}
	if e.OverCap(governed) {
		what := "ε"
		if math.IsInf(eps, 1) {
			what = "ε of the noised releases (ε is ∞ since an exact release)"
		}
		return Entry{}, fmt.Errorf("%w: tenant %s, unit %s: %s would reach %.6g, cap %.6g", ErrBudgetExceeded, e.Tenant, e.Unit, what, governed, e.EpsilonCap)
	}
	return l.write(e)
}

// Release records that the artefact of intent intentSeq, whose SHA-256 is
// artifactHash (hex), was released. If the intent recorded a hash, it must
// be the same.
func (l *Ledger) Release(intentSeq uint64, artifactHash string) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if intentSeq == 0 || intentSeq > uint64(len(l.entries)) {
		return Entry{}, fmt.Errorf("ledger: no entry %d to release", intentSeq)
	}
	in := l.entries[intentSeq-1]
	if in.Status != StatusIntent {
		return Entry{}, fmt.Errorf("ledger: entry %d is not an intent", intentSeq)
	}
	e := Entry{Party: in.Party, Task: in.Task, Round: in.Round, Tenant: in.Tenant, Unit: in.Unit,
		Status: StatusReleased, Ref: intentSeq, Delta: in.Delta, EpsilonCap: in.EpsilonCap,
		ArtifactHash: artifactHash}
	if err := l.fill(&e); err != nil {
		return Entry{}, err
	}
	if err := e.Validate(); err != nil {
		return Entry{}, fmt.Errorf("ledger: invalid entry: %w", err)
	}
	eps, err := l.replay.Peek(e)
	if err != nil {
		return Entry{}, fmt.Errorf("ledger: %w", err)
	}
	e.setEpsilon(eps)
	return l.write(e)
}

// fill sets the writer-owned fields except the signature and ε.
func (l *Ledger) fill(e *Entry) error {
	if l.f == nil {
		if l.broken != nil {
			return l.broken
		}
		return ErrReadOnly
	}
	if l.broken != nil {
		return l.broken
	}
	if e.Time == "" {
		e.Time = l.now().UTC().Format(time.RFC3339)
	}
	e.Seq = uint64(len(l.entries)) + 1
	e.PrevHash = GenesisHash
	if n := len(l.entries); n > 0 {
		h, err := l.entries[n-1].Hash()
		if err != nil {
			return err
		}
		e.PrevHash = h
	}
	e.Writer = l.keyID
	return nil
}

// write signs, validates, appends and syncs e, then admits it.
func (l *Ledger) write(e Entry) (Entry, error) {
	if err := e.sign(l.signer); err != nil {
		return Entry{}, err
	}
	if err := e.Validate(); err != nil {
		return Entry{}, fmt.Errorf("ledger: invalid entry: %w", err)
	}
	line, err := e.Encode()
	if err != nil {
		return Entry{}, err
	}
	if len(line) > MaxLineBytes {
		return Entry{}, fmt.Errorf("ledger: entry is longer than %d bytes", MaxLineBytes)
	}
	st, err := l.f.Stat()
	if err != nil {
		return Entry{}, fmt.Errorf("ledger: %w", err)
	}
	size := st.Size()
	_, werr := l.f.Write(append(line, '\n'))
	if werr == nil {
		werr = l.f.Sync()
	}
	if werr != nil {
		// Undo a partial line so the file stays a valid ledger; if that
		// fails too, refuse further appends (Open will recover the tail).
		if terr := l.f.Truncate(size); terr != nil {
			l.broken = fmt.Errorf("ledger: unusable after failed append: %w", errors.Join(werr, terr))
		}
		return Entry{}, fmt.Errorf("ledger: failed to append to %s: %w", l.path, werr)
	}
	if _, err := l.replay.Apply(e); err != nil {
		// Cannot happen: Peek accepted the same entry.
		l.broken = fmt.Errorf("ledger: internal replay error: %w", err)
		return Entry{}, l.broken
	}
	l.entries = append(l.entries, e)
	return e, nil
}

// Entries returns a copy of the ledger's entries, in order.
func (l *Ledger) Entries() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Entry(nil), l.entries...)
}

// Pending returns the intents that no released entry completes: spends
// whose release may or may not have happened (a crash after the intent).
// They count as spent. A restarted client looks here to avoid releasing a
// round's artefact twice.
func (l *Ledger) Pending() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Entry
	for _, s := range l.replay.Pending() {
		out = append(out, l.entries[s-1])
	}
	return out
}

// Spent returns the cumulative ε recorded by the last entry of (tenant,
// unit), pending intents included, and 0 when there is none. It is at that
// entry's δ; +Inf after an exact release.
func (l *Ledger) Spent(unit Unit, tenant string) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.entries) - 1; i >= 0; i-- {
		if e := l.entries[i]; e.Tenant == tenant && e.Unit == unit {
			return float64(e.EpsilonCumulative)
		}
	}
	return 0
}

// Check returns the cumulative ε of (tenant, unit) at delta if plan were
// appended now, and whether it stays within capEps (see [CheckBudget]).
func (l *Ledger) Check(tenant string, unit Unit, plan Plan, capEps, delta float64) (float64, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.replay.check(tenant, unit, plan, capEps, delta)
}

// Accountant returns a copy of the composed accountant state of (tenant,
// unit) and its name, or nil when the pair has no entry.
func (l *Ledger) Accountant(tenant string, unit Unit) (Accountant, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.replay.Accountant(tenant, unit)
}

// prepare fills e's sequence, chain and signature fields, validates it and
// checks it belongs to this ledger's party. l.mu is held.
func (l *Ledger) prepare(e *Entry) error {
	if err := l.fill(e); err != nil {
		return err
	}
	if err := e.Validate(); err != nil {
		return fmt.Errorf("ledger: invalid entry: %w", err)
	}
	if len(l.entries) > 0 && e.Party != l.entries[0].Party {
		return fmt.Errorf("ledger: party %q differs from this ledger's party %q (one ledger per party)", e.Party, l.entries[0].Party)
	}
	return nil
}
