package coordinator

import (
	"errors"
	"fmt"

	"github.com/fedb2b/fedb2b/coordinator/store"
	"github.com/fedb2b/fedb2b/protocol"
)

// ResumeState is where a restarted coordinator picks up: the newest global
// version it had durably stored, how many rounds finished, and the number
// of the next round. Rounds interrupted by the crash are not re-used: the
// next round gets a new number, so its secure-aggregation session (and
// every key in it) is fresh and the tenants' write-ahead records, keyed by
// round, stay unambiguous.
type ResumeState struct {
	Version    int
	Params     []float64
	RoundsDone int
	NextRound  int
	// Interrupted lists the rounds the crash cut short (now aborted).
	Interrupted []int
}

// Durable keeps the coordinator's state in a store.Backend (bbolt or
// PostgreSQL): every round's
// start, its abandonment or its result together with the new global
// version (one transaction, so a finished round is never lost or applied
// twice).
type Durable struct {
	Store store.Backend
	Task  string
}

// Record is a Service recorder (see Service.SetRecorder).
func (d *Durable) Record(f *Federation, e Event) error {
	switch e.Kind {
	case EvRoundStarted:
		return d.Store.RecordRound(store.RoundRecord{Task: d.Task, Round: e.Round, Attempt: 1, Stage: "train",
			Cohort: e.Cohort, Outcome: store.Running, ModelVersion: e.Version})
	case EvRoundAbandoned:
		err := d.Store.MarkAborted(e.Round, 1, e.Reason)
		if errors.Is(err, store.ErrNotFound) {
			return nil // abandoned before it was recorded as started
		}
		return err
	case EvRoundAggregated:
		params, ok := f.Model(e.Version)
		if !ok {
			return fmt.Errorf("coordinator: version %d missing", e.Version)
		}
		blob, err := protocol.EncodeParams(params)
		if err != nil {
			return err
		}
		_, err = d.Store.FinishRound(store.RoundRecord{Task: d.Task, Round: e.Round, Attempt: 1, Stage: "aggregated",
			Cohort: e.Cohort, Survivors: e.Participants, Outcome: store.Finished, ModelVersion: e.Version - 1}, blob)
		return err
	}
	return nil
}

// Resume prepares the store for a (re)start: it aborts the rounds a crash
// interrupted and returns the state to resume from. On a fresh store it
// stores initial as version 0.
func (d *Durable) Resume(initial []float64) (ResumeState, error) {
	interrupted, err := d.Store.AbortInterrupted("coordinator restarted")
	if err != nil {
		return ResumeState{}, err
	}
	v, ok, err := d.Store.LatestVersion()
	if err != nil {
		return ResumeState{}, err
	}
	if !ok {
		blob, err := protocol.EncodeParams(initial)
		if err != nil {
			return ResumeState{}, err
		}
		if _, err := d.Store.PutModel(0, blob); err != nil {
			return ResumeState{}, err
		}
		return ResumeState{Params: initial, NextRound: 1}, nil
	}
	blob, err := d.Store.Model(v)
	if err != nil {
		return ResumeState{}, err
	}
	params, err := protocol.DecodeParams(blob, len(initial))
	if err != nil {
		return ResumeState{}, fmt.Errorf("coordinator: stored version %d: %w", v, err)
	}
	rounds, err := d.Store.Rounds()
	if err != nil {
		return ResumeState{}, err
	}
	rs := ResumeState{Version: v, Params: params, NextRound: 1}
	for _, r := range rounds {
		if r.Outcome == store.Finished {
			rs.RoundsDone++
		}
		rs.NextRound = max(rs.NextRound, r.Round+1)
	}
	for _, r := range interrupted {
		rs.Interrupted = append(rs.Interrupted, r.Round)
	}
	return rs, nil
}
