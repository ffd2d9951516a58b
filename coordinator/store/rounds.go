package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// roundKey orders attempts by round then attempt.
func roundKey(round, attempt int) []byte {
	k := make([]byte, 12)
	binary.BigEndian.PutUint64(k, uint64(round))
	binary.BigEndian.PutUint32(k[8:], uint32(attempt))
	return k
}

// attempts returns the stored attempts of round, in order.
func attempts(tx *bolt.Tx, round int) ([]RoundRecord, error) {
	prefix := roundKey(round, 0)[:8]
	var out []RoundRecord
	c := tx.Bucket(bucketRounds).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		r, err := DecodeRound(v)
		if err != nil {
			return nil, fmt.Errorf("store: %w: rounds/%d: %w", ErrCorrupt, round, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// admit checks that rec may be written as the next state of its attempt,
// and registers its session when the attempt is new.
func admit(tx *bolt.Tx, rec RoundRecord) error {
	prev, err := attempts(tx, rec.Round)
	if err != nil {
		return err
	}
	newSession, err := Admit(prev, rec)
	if err != nil || !newSession {
		return err
	}
	sb := tx.Bucket(bucketSessions)
	if v := sb.Get([]byte(rec.Session)); v != nil {
		if len(v) != 12 {
			return fmt.Errorf("store: %w: sessions/%s: value of %d bytes", ErrCorrupt, rec.Session, len(v))
		}
		return SessionReused(rec, key64(v), int64(binary.BigEndian.Uint32(v[8:])))
	}
	return sb.Put([]byte(rec.Session), roundKey(rec.Round, rec.Attempt))
}

// RecordRound records the progress of a round attempt: a new attempt
// (Outcome Running; see the package invariants) or a stage change of the
// running one. It refuses to touch a closed attempt or a finished round
// ([ErrRoundClosed]) and to record Outcome Finished (use
// [Store.FinishRound], which commits the model with it) or Aborted (use
// [Store.MarkAborted]).
func (s *Store) RecordRound(rec RoundRecord) error {
	if err := CheckRound(rec); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if rec.Outcome != Running {
		return fmt.Errorf("store: round %d: RecordRound records running attempts only, not %s", rec.Round, rec.Outcome)
	}
	rec.Updated = s.now().UTC()
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := admit(tx, rec); err != nil {
			return err
		}
		return tx.Bucket(bucketRounds).Put(roundKey(rec.Round, rec.Attempt), encode(rec))
	})
}

// FinishRound closes rec's round as finished and, if blob is not nil,
// stores it as model version rec.ModelVersion+1 in the same transaction
// (rec.ModelVersion is then that new version in the stored record). The
// blob is durable on disk before the transaction commits. A round that is
// already finished is refused with [ErrRoundClosed], so a round's result
// is applied at most once; the caller treats that error as "already
// applied" after a restart. It returns the blob's hash ("" without blob).
func (s *Store) FinishRound(rec RoundRecord, blob []byte) (string, error) {
	rec.Outcome = Finished
	if err := CheckRound(rec); err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	var hash string
	if blob != nil {
		if err := checkBlob(rec.ModelVersion+1, blob); err != nil {
			return "", err
		}
		var err error
		if hash, err = writeBlob(s.blobs, blob); err != nil {
			return "", err
		}
		rec.ModelVersion++
	}
	rec.Updated = s.now().UTC()
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := admit(tx, rec); err != nil {
			return err
		}
		if blob != nil {
			if err := s.putModelTx(tx, rec.ModelVersion, hash, int64(len(blob))); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketRounds).Put(roundKey(rec.Round, rec.Attempt), encode(rec))
	})
	if err != nil {
		return "", err
	}
	return hash, nil
}

// MarkAborted closes the running attempt of round as aborted. Aborting an
// aborted attempt again is a no-op; a finished round is [ErrRoundClosed].
func (s *Store) MarkAborted(round, attempt int, reason string) error {
	if len(reason) > MaxReasonLen {
		reason = reason[:MaxReasonLen]
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		k := roundKey(round, attempt)
		v := tx.Bucket(bucketRounds).Get(k)
		if v == nil {
			return fmt.Errorf("store: round %d attempt %d: %w", round, attempt, ErrNotFound)
		}
		r, err := DecodeRound(v)
		if err != nil {
			return fmt.Errorf("store: %w: rounds/%d/%d: %w", ErrCorrupt, round, attempt, err)
		}
		switch r.Outcome {
		case Aborted:
			return nil
		case Finished:
			return fmt.Errorf("store: round %d attempt %d: %w: finished", round, attempt, ErrRoundClosed)
		}
		r.Outcome, r.Reason, r.Updated = Aborted, reason, s.now().UTC()
		return tx.Bucket(bucketRounds).Put(k, encode(r))
	})
}

// AbortInterrupted aborts every running attempt (after a restart, those
// the crash interrupted) and returns them as they were. Their sessions stay
// registered, so a re-run needs a fresh one.
func (s *Store) AbortInterrupted(reason string) ([]RoundRecord, error) {
	var out []RoundRecord
	err := s.db.Update(func(tx *bolt.Tx) error {
		out = out[:0]
		b := tx.Bucket(bucketRounds)
		var keys [][]byte
		var recs []RoundRecord
		err := b.ForEach(func(k, v []byte) error {
			r, err := DecodeRound(v)
			if err != nil {
				return fmt.Errorf("store: %w: rounds/%d: %w", ErrCorrupt, key64(k), err)
			}
			if r.Outcome == Running {
				keys, recs = append(keys, append([]byte(nil), k...)), append(recs, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, r := range recs {
			out = append(out, r)
			r.Outcome, r.Reason, r.Updated = Aborted, reason, s.now().UTC()
			if err := b.Put(keys[i], encode(r)); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Rounds returns every recorded attempt, ordered by round then attempt.
func (s *Store) Rounds() ([]RoundRecord, error) {
	var out []RoundRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRounds).ForEach(func(k, v []byte) error {
			r, err := DecodeRound(v)
			if err != nil {
				return fmt.Errorf("store: %w: rounds/%d: %w", ErrCorrupt, key64(k), err)
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// SessionUsed reports whether a secure-aggregation session id was ever
// recorded.
func (s *Store) SessionUsed(session string) (bool, error) {
	var used bool
	err := s.db.View(func(tx *bolt.Tx) error {
		used = tx.Bucket(bucketSessions).Get([]byte(session)) != nil
		return nil
	})
	return used, err
}
