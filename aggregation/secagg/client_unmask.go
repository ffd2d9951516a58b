package secagg

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
)

// SignSurvivors answers the consistency request (Fig. 4, round 3): it
// checks the survivor set against this client's own view and signs it
// with the identity key. A client signs at most one survivor set per
// session, and later answers only an unmask request for that same set
// carrying Params.Quorum signatures on it, so a coordinator cannot tell
// different clients different stories about who survived. It refuses
// (ErrInconsistent) a set that does not list this client or that lists a
// neighbour whose shares this client did not use, and aborts
// (ErrBelowThreshold) when fewer than t of its neighbours survived.
func (c *Client) SignSurvivors(req *ConsistencyRequest) (*ConsistencyResponse, error) {
	if err := c.expect(StageConsistency, "sign survivors"); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, fmt.Errorf("%w: nil consistency request", ErrMalformed)
	}
	if err := c.checkSession(req.Session, "consistency request"); err != nil {
		return nil, err
	}
	alive, err := indexSet(c.p, req.Survivors, "survivors")
	if err != nil {
		return nil, err
	}
	if err := c.checkSurvivors(alive); err != nil {
		return nil, err
	}
	sorted := slices.Sorted(func(yield func(uint32) bool) {
		for v := range alive {
			if !yield(v) {
				return
			}
		}
	})
	c.signed = sorted
	c.stage = StageUnmask
	return &ConsistencyResponse{Session: c.p.session, From: c.me,
		Signature: sign(c.ident, survivorSigMessage(c.p.session, c.me, sorted))}, nil
}

// checkSurvivors applies the client's own-view checks to a survivor set.
func (c *Client) checkSurvivors(alive map[uint32]bool) error {
	if !alive[c.me] {
		return fmt.Errorf("%w: survivor set does not list this client (%d)", ErrInconsistent, c.me)
	}
	if len(alive) < c.p.Threshold()+1 {
		return c.abort(fmt.Errorf("%w: %d survivors, need at least t+1 = %d", ErrBelowThreshold, len(alive), c.p.Threshold()+1))
	}
	nAlive := 0
	for _, v := range c.p.Neighbours(c.me) {
		if !alive[v] {
			continue
		}
		if pe := c.peers[v]; pe == nil || !pe.inMask {
			// A neighbour separated from this client (excluded by the
			// server after a complaint) may survive: it gets nothing.
			// One whose shares simply never arrived may not.
			if !c.excluded[v] {
				return fmt.Errorf("%w: survivor set lists neighbour %d, whose shares never reached this client", ErrInconsistent, v)
			}
			continue
		}
		nAlive++
	}
	if nAlive < c.p.Threshold() {
		return c.abort(fmt.Errorf("%w: %d of this client's neighbours survived, threshold is %d", ErrBelowThreshold, nAlive, c.p.Threshold()))
	}
	return nil
}

// Unmask answers the server's unmask request (Fig. 4, round 4). It first
// checks the request's survivor set is exactly the one this client signed
// and that it carries valid signatures on that set from at least
// Params.Quorum distinct participants. The client then derives the
// outcome for each neighbour itself: a neighbour in its masks that
// survived gets its self-mask share revealed; one that dropped gets its
// mask-key share revealed; a neighbour that was never in its masks
// (excluded, blamed, or its shares never arrived) gets nothing; never
// both, and the client answers only once. It refuses (ErrInconsistent) a
// request for another set or naming a participant both alive and dropped,
// and (ErrBadSignature) one without a quorum of valid signatures.
func (c *Client) Unmask(req *UnmaskRequest) (*UnmaskResponse, error) {
	if err := c.expect(StageUnmask, "unmask"); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, fmt.Errorf("%w: nil unmask request", ErrMalformed)
	}
	if err := c.checkSession(req.Session, "unmask request"); err != nil {
		return nil, err
	}
	alive, err := indexSet(c.p, req.Survivors, "survivors")
	if err != nil {
		return nil, err
	}
	dropped, err := indexSet(c.p, req.Dropped, "dropped")
	if err != nil {
		return nil, err
	}
	for v := range dropped {
		if alive[v] {
			return nil, fmt.Errorf("%w: unmask request names participant %d both alive and dropped", ErrInconsistent, v)
		}
	}
	if len(alive) != len(c.signed) {
		return nil, fmt.Errorf("%w: unmask request names %d survivors, this client signed a set of %d", ErrInconsistent, len(alive), len(c.signed))
	}
	for _, v := range c.signed {
		if !alive[v] {
			return nil, fmt.Errorf("%w: unmask request's survivor set differs from the one this client signed (participant %d missing)", ErrInconsistent, v)
		}
	}
	if err := c.checkQuorum(req.Signatures); err != nil {
		return nil, err
	}
	if err := c.checkSurvivors(alive); err != nil {
		return nil, err
	}
	resp := &UnmaskResponse{Session: c.p.session, From: c.me}
	for _, v := range c.p.Neighbours(c.me) {
		pe := c.peers[v]
		if pe == nil || !pe.inMask {
			continue
		}
		// Exactly one of the two shares of v, chosen by the signed set.
		if alive[v] {
			resp.SelfShares = append(resp.SelfShares, RevealedShare{Owner: v, Value: pe.self})
		} else {
			resp.KeyShares = append(resp.KeyShares, RevealedShare{Owner: v, Value: pe.key})
		}
	}
	c.stage = StageDone
	c.peers = nil
	return resp, nil
}

// checkQuorum verifies that sigs hold valid signatures on c.signed from at
// least Quorum distinct participants.
func (c *Client) checkQuorum(sigs []SurvivorSignature) error {
	return VerifySurvivorQuorum(c.p, c.signed, sigs)
}

// VerifySurvivorQuorum checks that sigs hold valid signatures on the
// survivor set survivors (sorted indices, as the server sends it) from at
// least p.Quorum() distinct participants, each verified against the
// participant's identity key in p. A client runs it before it unmasks; a
// party that is handed a session's result by the server that ran it (in
// fedb2b's aggregator tier, the coordinator receiving a group's sum) runs
// it to check the claimed survivor set is the one the quorum signed.
func VerifySurvivorQuorum(p *Params, survivors []uint32, sigs []SurvivorSignature) error {
	if len(sigs) > p.N() {
		// An honest server sends at most one per participant; more would
		// only make the verifier spend an ed25519 check on each.
		return fmt.Errorf("%w: %d survivor-set signatures for %d participants", ErrMalformed, len(sigs), p.N())
	}
	msgFor := func(signer uint32) []byte { return survivorSigMessage(p.session, signer, survivors) }
	// Verified on all cores, in order, until the quorum is reached
	// (verifying the rest adds nothing); a signer already counted is
	// skipped.
	var mu sync.Mutex
	valid := make(map[uint32]bool, len(sigs))
	next := 0
	parallelFor(min(runtime.GOMAXPROCS(0), len(sigs)), func(int) {
		for {
			mu.Lock()
			if len(valid) >= p.Quorum() || next == len(sigs) {
				mu.Unlock()
				return
			}
			s := sigs[next]
			next++
			skip := p.checkIndex(s.Signer) != nil || valid[s.Signer]
			mu.Unlock()
			if skip || !verifySig(p.Participant(s.Signer).IdentityKey, msgFor(s.Signer), s.Signature) {
				continue
			}
			mu.Lock()
			valid[s.Signer] = true
			mu.Unlock()
		}
	})
	if len(valid) < p.Quorum() {
		return fmt.Errorf("%w: valid survivor-set signatures from %d distinct participants, quorum is %d", ErrBadSignature, len(valid), p.Quorum())
	}
	return nil
}

// indexSet checks a list of participant indices (in range, no repeats).
func indexSet(p *Params, list []uint32, field string) (map[uint32]bool, error) {
	set := make(map[uint32]bool, len(list))
	for _, v := range list {
		if err := p.checkIndex(v); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		if set[v] {
			return nil, fmt.Errorf("%w: %s lists participant %d twice", ErrDuplicate, field, v)
		}
		set[v] = true
	}
	return set, nil
}
