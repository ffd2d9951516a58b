package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/fedb2b/fedb2b/coordinator/store"
	"github.com/jackc/pgx/v5"
)

// attempts returns the stored attempts of round in order, locked for the
// transaction.
func attempts(ctx context.Context, tx pgx.Tx, round int) ([]store.RoundRecord, error) {
	rows, err := tx.Query(ctx, "SELECT rec FROM rounds WHERE round = $1 ORDER BY attempt FOR UPDATE", round)
	if err != nil {
		return nil, fmt.Errorf("pgstore: rounds/%d: %w", round, err)
	}
	return collectRounds(rows)
}

func collectRounds(rows pgx.Rows) ([]store.RoundRecord, error) {
	var out []store.RoundRecord
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("pgstore: rounds: %w", err)
		}
		r, err := store.DecodeRound(b)
		if err != nil {
			return nil, fmt.Errorf("store: %w: rounds/%d: %w", store.ErrCorrupt, r.Round, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: rounds: %w", err)
	}
	return out, nil
}

// admit checks rec against its round's attempts and registers its session
// when it opens a new attempt.
func admit(ctx context.Context, tx pgx.Tx, rec store.RoundRecord) error {
	prev, err := attempts(ctx, tx, rec.Round)
	if err != nil {
		return err
	}
	newSession, err := store.Admit(prev, rec)
	if err != nil || !newSession {
		return err
	}
	var round, attempt int64
	err = tx.QueryRow(ctx, "SELECT round, attempt FROM sessions WHERE id = $1", rec.Session).Scan(&round, &attempt)
	if err == nil {
		return store.SessionReused(rec, round, attempt)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("pgstore: sessions: %w", err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO sessions (id, round, attempt) VALUES ($1, $2, $3)", rec.Session, rec.Round, rec.Attempt); err != nil {
		return fmt.Errorf("pgstore: sessions: %w", err)
	}
	return nil
}

func putRound(ctx context.Context, tx pgx.Tx, r store.RoundRecord) error {
	_, err := tx.Exec(ctx, `INSERT INTO rounds (round, attempt, outcome, rec) VALUES ($1, $2, $3, $4)
		ON CONFLICT (round, attempt) DO UPDATE SET outcome = EXCLUDED.outcome, rec = EXCLUDED.rec`,
		r.Round, r.Attempt, int16(r.Outcome), string(store.EncodeRound(r)))
	if err != nil {
		return fmt.Errorf("pgstore: rounds/%d/%d: %w", r.Round, r.Attempt, err)
	}
	return nil
}

// RecordRound records the progress of a round attempt (see
// [store.Store.RecordRound]).
func (s *Store) RecordRound(rec store.RoundRecord) error {
	if err := store.CheckRound(rec); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if rec.Outcome != store.Running {
		return fmt.Errorf("store: round %d: RecordRound records running attempts only, not %s", rec.Round, rec.Outcome)
	}
	rec.Updated = s.now().UTC()
	return s.write(func(ctx context.Context, tx pgx.Tx) error {
		if err := admit(ctx, tx, rec); err != nil {
			return err
		}
		return putRound(ctx, tx, rec)
	})
}

// FinishRound closes rec's round as finished and stores blob (if not nil)
// as model version rec.ModelVersion+1 in the same transaction (see
// [store.Store.FinishRound]).
func (s *Store) FinishRound(rec store.RoundRecord, blob []byte) (string, error) {
	rec.Outcome = store.Finished
	if err := store.CheckRound(rec); err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	var hash string
	if blob != nil {
		if err := store.CheckBlob(rec.ModelVersion+1, blob); err != nil {
			return "", err
		}
		hash = hashOf(blob)
		rec.ModelVersion++
	}
	rec.Updated = s.now().UTC()
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		if err := admit(ctx, tx, rec); err != nil {
			return err
		}
		if blob != nil {
			if err := s.putModelTx(ctx, tx, rec.ModelVersion, hash, blob); err != nil {
				return err
			}
		}
		return putRound(ctx, tx, rec)
	})
	if err != nil {
		return "", err
	}
	return hash, nil
}

// MarkAborted closes the running attempt of round as aborted (see
// [store.Store.MarkAborted]).
func (s *Store) MarkAborted(round, attempt int, reason string) error {
	if len(reason) > store.MaxReasonLen {
		reason = reason[:store.MaxReasonLen]
	}
	return s.write(func(ctx context.Context, tx pgx.Tx) error {
		var b []byte
		err := tx.QueryRow(ctx, "SELECT rec FROM rounds WHERE round = $1 AND attempt = $2 FOR UPDATE", round, attempt).Scan(&b)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("store: round %d attempt %d: %w", round, attempt, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("pgstore: rounds/%d/%d: %w", round, attempt, err)
		}
		r, err := store.DecodeRound(b)
		if err != nil {
			return fmt.Errorf("store: %w: rounds/%d/%d: %w", store.ErrCorrupt, round, attempt, err)
		}
		switch r.Outcome {
		case store.Aborted:
			return nil
		case store.Finished:
			return fmt.Errorf("store: round %d attempt %d: %w: finished", round, attempt, store.ErrRoundClosed)
		}
		r.Outcome, r.Reason, r.Updated = store.Aborted, reason, s.now().UTC()
		return putRound(ctx, tx, r)
	})
}

// AbortInterrupted aborts every running attempt and returns them as they
// were (see [store.Store.AbortInterrupted]). A standby that takes over
// calls it, exactly as a restarted coordinator does.
func (s *Store) AbortInterrupted(reason string) ([]store.RoundRecord, error) {
	var out []store.RoundRecord
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT rec FROM rounds WHERE outcome = $1 ORDER BY round, attempt FOR UPDATE", int16(store.Running))
		if err != nil {
			return fmt.Errorf("pgstore: rounds: %w", err)
		}
		recs, err := collectRounds(rows)
		if err != nil {
			return err
		}
		out = recs[:len(recs):len(recs)]
		for _, r := range recs {
			if r.Outcome != store.Running {
				return fmt.Errorf("store: %w: rounds/%d/%d: outcome column says running, record %s", store.ErrCorrupt, r.Round, r.Attempt, r.Outcome)
			}
			r.Outcome, r.Reason, r.Updated = store.Aborted, reason, s.now().UTC()
			if err := putRound(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Rounds returns every recorded attempt, ordered by round then attempt.
func (s *Store) Rounds() ([]store.RoundRecord, error) {
	var out []store.RoundRecord
	err := s.read(func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT rec FROM rounds ORDER BY round, attempt")
		if err != nil {
			return fmt.Errorf("pgstore: rounds: %w", err)
		}
		out, err = collectRounds(rows)
		return err
	})
	return out, err
}

// SessionUsed reports whether a secure-aggregation session id was ever
// recorded.
func (s *Store) SessionUsed(session string) (bool, error) {
	var used bool
	err := s.read(func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1)", session).Scan(&used)
	})
	return used, err
}

// Verify checks the store's invariants end to end (see
// [store.Store.Verify]).
func (s *Store) Verify() error { return store.VerifyBackend(s) }
