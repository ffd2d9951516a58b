package store

import (
	"fmt"
	"io"
)

// Backend is the coordinator's durable state, whichever engine holds it:
// [*Store] (bbolt, one process, the default) or the PostgreSQL store of
// package pgstore (any number of coordinators, one of them leader). Both
// keep the invariants of this package's documentation, each state change
// in one transaction, and return this package's errors (test with
// errors.Is).
type Backend interface {
	io.Closer
	PutModel(version int, blob []byte) (string, error)
	Model(version int) ([]byte, error)
	ModelHash(version int) (string, error)
	LatestVersion() (version int, ok bool, err error)
	RecordRound(rec RoundRecord) error
	FinishRound(rec RoundRecord, blob []byte) (string, error)
	MarkAborted(round, attempt int, reason string) error
	AbortInterrupted(reason string) ([]RoundRecord, error)
	Rounds() ([]RoundRecord, error)
	SessionUsed(session string) (bool, error)
	PutTenant(t TenantRecord) error
	Tenants() ([]TenantRecord, error)
	PutTask(t TaskRecord) error
	Tasks() ([]TaskRecord, error)
	Verify() error
}

var _ Backend = (*Store)(nil)

// CheckBlob validates a model version number and blob size before either
// is stored.
func CheckBlob(version int, blob []byte) error { return checkBlob(version, blob) }

// CheckNextVersion decides whether version (with the blob of hash) may be
// stored: stored reports whether the version exists already (with
// storedHash), latest and any describe the newest version stored. It
// returns noop for the same bytes stored again, and an
// [ErrVersionConflict] error for other bytes or a version that is not
// the latest plus one.
func CheckNextVersion(version int, hash string, stored bool, storedHash string, latest int, any bool) (noop bool, err error) {
	if stored {
		if storedHash != hash {
			return false, fmt.Errorf("store: %w: version %d is stored with hash %s, not %s", ErrVersionConflict, version, short(storedHash), short(hash))
		}
		return true, nil
	}
	if any && latest != version-1 {
		return false, fmt.Errorf("store: %w: version %d after latest %d", ErrVersionConflict, version, latest)
	}
	return false, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Admit checks that rec may be written as the next state of its attempt
// given the round's stored attempts prev (in attempt order). newSession
// reports that rec opens a new attempt with a session id, which the
// caller must then register (refusing it with [SessionReused] if it was
// used before) in the same transaction.
func Admit(prev []RoundRecord, rec RoundRecord) (newSession bool, err error) {
	var cur *RoundRecord
	for i := range prev {
		p := &prev[i]
		if p.Outcome == Finished {
			return false, fmt.Errorf("store: round %d: %w: finished in attempt %d (model version %d)", rec.Round, ErrRoundClosed, p.Attempt, p.ModelVersion)
		}
		if p.Attempt == rec.Attempt {
			cur = p
		}
	}
	if cur != nil {
		if cur.Outcome != Running {
			return false, fmt.Errorf("store: round %d attempt %d: %w: %s", rec.Round, rec.Attempt, ErrRoundClosed, cur.Outcome)
		}
		if cur.Session != rec.Session {
			return false, fmt.Errorf("store: round %d attempt %d: session id changed within an attempt", rec.Round, rec.Attempt)
		}
		return false, nil
	}
	for _, p := range prev {
		if p.Attempt > rec.Attempt {
			return false, fmt.Errorf("store: round %d: %w: attempt %d after %d", rec.Round, ErrStaleAttempt, rec.Attempt, p.Attempt)
		}
		if p.Outcome == Running {
			return false, fmt.Errorf("store: round %d: %w: attempt %d (abort it first)", rec.Round, ErrRoundRunning, p.Attempt)
		}
	}
	return rec.Session != "", nil
}

// SessionReused is the error for rec's session, first used by round
// firstRound attempt firstAttempt.
func SessionReused(rec RoundRecord, firstRound, firstAttempt int64) error {
	return fmt.Errorf("store: round %d attempt %d: %w (first used by round %d attempt %d)", rec.Round, rec.Attempt, ErrSessionReused, firstRound, firstAttempt)
}

// EncodeRound, EncodeTenant and EncodeTask give a record's stored form
// (JSON with the format version), which the Decode functions read back.
func EncodeRound(r RoundRecord) []byte { return encode(r) }

// EncodeTenant: see [EncodeRound].
func EncodeTenant(t TenantRecord) []byte { return encode(t) }

// EncodeTask: see [EncodeRound].
func EncodeTask(t TaskRecord) []byte { return encode(t) }
