package store

import (
	"fmt"
)

// Verify checks the store's invariants end to end: every model version's
// blob exists and matches its hash, versions are contiguous, each round has
// at most one running and at most one finished attempt and nothing after a
// finished one, every finished attempt that names a model version refers to
// a stored one, and every session id belongs to one attempt. It reads every
// blob, so it costs a pass over the models.
func (s *Store) Verify() error { return VerifyBackend(s) }

// VerifyBackend is [Store.Verify] for any backend.
func VerifyBackend(s Backend) error {
	latest, ok, err := s.LatestVersion()
	if err != nil {
		return err
	}
	first := latest + 1
	if ok {
		for v := latest; v >= 0; v-- {
			if _, err := s.ModelHash(v); err != nil {
				break
			}
			first = v
		}
		for v := first; v <= latest; v++ {
			if _, err := s.Model(v); err != nil {
				return fmt.Errorf("store: verify: %w", err)
			}
		}
	}
	rounds, err := s.Rounds()
	if err != nil {
		return err
	}
	sessions := map[string]bool{}
	for i, r := range rounds {
		if r.Session != "" {
			if sessions[r.Session] {
				return fmt.Errorf("store: verify: %w: session of round %d attempt %d used twice", ErrCorrupt, r.Round, r.Attempt)
			}
			sessions[r.Session] = true
		}
		if i > 0 && rounds[i-1].Round == r.Round {
			p := rounds[i-1]
			if p.Outcome != Aborted {
				return fmt.Errorf("store: verify: %w: round %d attempt %d follows a %s attempt", ErrCorrupt, r.Round, r.Attempt, p.Outcome)
			}
		}
		if r.Outcome == Finished && r.ModelVersion >= 0 && (!ok || r.ModelVersion < first || r.ModelVersion > latest) {
			return fmt.Errorf("store: verify: %w: finished round %d names model version %d, not stored", ErrCorrupt, r.Round, r.ModelVersion)
		}
		if used, err := s.SessionUsed(r.Session); r.Session != "" && (err != nil || !used) {
			return fmt.Errorf("store: verify: %w: session of round %d attempt %d not registered", ErrCorrupt, r.Round, r.Attempt)
		}
	}
	return nil
}
