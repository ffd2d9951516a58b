package secagg

import (
	"fmt"
	"slices"
)

// UnmaskRequest closes the consistency stage (on first call) and returns
// the request to send to every survivor: U3, the dropped set and the
// survivors' signatures on U3. It aborts with ErrBelowThreshold when fewer
// than Params.Quorum survivors signed.
func (s *Server) UnmaskRequest() (*UnmaskRequest, error) {
	if err := s.CloseStage(StageConsistency); err != nil {
		return nil, err
	}
	if err := s.expect(StageUnmask, "unmask request"); err != nil {
		return nil, err
	}
	return s.req, nil
}

// closeMaskedInput fixes U3 (clients whose masked input is in the sum) and
// the dropped set (U2' without U3). Before anything is revealed it checks
// that every secret that must be reconstructed has at least t surviving
// holders among its owner's partners and that U3 can reach the signature
// quorum; if not, the session aborts with ErrBelowThreshold and nothing is
// unmasked.
func (s *Server) closeMaskedInput() error {
	t := s.p.Threshold()
	req := &UnmaskRequest{Session: s.p.session}
	for u := range s.in2 {
		switch {
		case s.u3[u]:
			req.Survivors = append(req.Survivors, uint32(u))
		case s.in2[u]:
			req.Dropped = append(req.Dropped, uint32(u))
		}
	}
	if need := max(t+1, s.p.Quorum()); len(req.Survivors) < need {
		return s.abortErr(fmt.Errorf("%w: %d masked inputs arrived, need at least max(t+1, quorum) = %d", ErrBelowThreshold, len(req.Survivors), need))
	}
	for _, list := range [][]uint32{req.Survivors, req.Dropped} {
		for _, u := range list {
			if a := s.aliveNeighbours(u); a < t {
				return s.abortErr(fmt.Errorf("%w: participant %d has %d surviving partners, threshold is %d", ErrBelowThreshold, u, a, t))
			}
		}
	}
	s.req = req
	s.cons = &ConsistencyRequest{Session: s.p.session, Survivors: req.Survivors}
	s.stage = StageConsistency
	return nil
}

func (s *Server) aliveNeighbours(u uint32) int {
	n := 0
	for _, v := range s.partners(u) {
		if s.u3[v] {
			n++
		}
	}
	return n
}

// OnUnmask accepts the unmask response of survivor from, which must have
// signed U3. It must hold exactly one share per partner: a self-mask share
// for each surviving partner and a key share for each dropped one.
func (s *Server) OnUnmask(from uint32, r *UnmaskResponse) error {
	if err := s.expect(StageUnmask, "unmask response"); err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("%w: nil unmask response", ErrMalformed)
	}
	if err := s.checkSender(from, r.Session, r.From, "unmask response"); err != nil {
		return err
	}
	if !s.signedBy[from] {
		return fmt.Errorf("%w: unmask response from %d, which did not sign the survivor set", ErrUnknownParticipant, from)
	}
	if s.replied[from] {
		return fmt.Errorf("%w: second unmask response from %d", ErrDuplicate, from)
	}
	var wantSelf, wantKey []uint32
	for _, v := range s.partners(from) {
		if s.u3[v] {
			wantSelf = append(wantSelf, v)
		} else {
			wantKey = append(wantKey, v)
		}
	}
	if !sameOwners(r.SelfShares, wantSelf) || !sameOwners(r.KeyShares, wantKey) {
		return fmt.Errorf("%w: unmask response from %d does not hold one share per surviving and dropped neighbour", ErrInconsistent, from)
	}
	for _, sh := range r.SelfShares {
		s.selfSh[sh.Owner] = append(s.selfSh[sh.Owner], share{holder: from, y: sh.Value})
	}
	for _, sh := range r.KeyShares {
		s.keySh[sh.Owner] = append(s.keySh[sh.Owner], share{holder: from, y: sh.Value})
	}
	s.replied[from] = true
	return nil
}

// sameOwners reports whether the shares' owners are exactly want (sorted).
func sameOwners(got []RevealedShare, want []uint32) bool {
	if len(got) != len(want) {
		return false
	}
	owners := make([]uint32, len(got))
	for i, g := range got {
		owners[i] = g.Owner
	}
	slices.Sort(owners)
	return slices.Equal(owners, want)
}

// Result closes the unmask stage (on first call), removes the masks and
// returns the sum of the survivors' inputs mod 2^32 with the survivors'
// indices. With fewer than t shares for any needed secret the session
// aborts with ErrBelowThreshold. Later calls return the same result.
func (s *Server) Result() ([]uint32, []uint32, error) {
	if err := s.CloseStage(StageUnmask); err != nil {
		return nil, nil, err
	}
	if err := s.expect(StageDone, "result"); err != nil {
		return nil, nil, err
	}
	return s.result, slices.Clone(s.req.Survivors), nil
}

func (s *Server) unmask() error {
	t := s.p.Threshold()
	for _, u := range s.req.Survivors {
		if len(s.selfSh[u]) < t {
			return fmt.Errorf("%w: %d shares of survivor %d's self-mask seed arrived, threshold is %d", ErrBelowThreshold, len(s.selfSh[u]), u, t)
		}
	}
	for _, v := range s.req.Dropped {
		if len(s.keySh[v]) < t {
			return fmt.Errorf("%w: %d shares of dropped participant %d's mask key arrived, threshold is %d", ErrBelowThreshold, len(s.keySh[v]), v, t)
		}
	}
	// Reconstruct every secret, checked against its commitment, before
	// touching the sum; shares that disagree are excluded and blamed.
	selfSecrets := make([][32]byte, len(s.req.Survivors))
	for i, u := range s.req.Survivors {
		commit := s.adverts[u].SelfCommit
		b, bad, err := robustCombine(s.selfSh[u], t, func(b [32]byte) bool { return selfCommitment(s.p.session, u, b) == commit })
		if err != nil {
			return fmt.Errorf("self-mask seed of %d: %w", u, err)
		}
		s.blameShares(bad, u, "self-mask seed")
		selfSecrets[i] = b
	}
	keys := make([]keyPair, len(s.req.Dropped))
	for i, v := range s.req.Dropped {
		pub := s.adverts[v].MaskKey
		sk, bad, err := robustCombine(s.keySh[v], t, func(b [32]byte) bool {
			kp, err := privateKeyFromBytes(b[:])
			return err == nil && kp.public() == pub
		})
		if err != nil {
			return fmt.Errorf("mask key of %d: %w", v, err)
		}
		s.blameShares(bad, v, "mask key")
		keys[i], _ = privateKeyFromBytes(sk[:])
	}
	var seeds []maskSeed
	var subs []bool
	for i, u := range s.req.Survivors {
		seeds = append(seeds, selfSeed(selfSecrets[i][:], s.p.session, u))
		subs = append(subs, true)
	}
	for i, v := range s.req.Dropped {
		for _, u := range s.partners(v) {
			if !s.u3[u] {
				continue
			}
			shared, err := keys[i].agree(s.adverts[u].MaskKey)
			if err != nil {
				return fmt.Errorf("pairwise mask of %d and %d: %w", u, v, err)
			}
			// u added the mask if u < v and subtracted it otherwise.
			seeds = append(seeds, pairwiseSeed(shared, s.p.session, u, v))
			subs = append(subs, u < v)
		}
	}
	sum := s.sum
	applyAllParallel(sum, seeds, subs) // on every core: the streams seek to each part
	s.result = sum
	s.sum, s.selfSh, s.keySh, s.inbox = nil, nil, nil, nil
	return nil
}

// blameShares records holders whose revealed shares of owner's secret
// disagree with the commitment-checked reconstruction.
func (s *Server) blameShares(bad []uint32, owner uint32, what string) {
	for _, h := range bad {
		s.blamed = append(s.blamed, Blame{Accused: h, Complainer: -1, Stage: StageUnmask,
			Reason: fmt.Sprintf("revealed a share of %d's %s that disagrees with its commitment; the share was excluded", owner, what)})
	}
}

// Dropouts reports, for each participant that did not complete, the stage
// whose message it failed to deliver (for the round summary); a client
// excluded after the share check (no receipt, or too few partners left
// after complaints) is listed with StageCheckShares. A survivor that did
// not sign the survivor set or answer the unmask request is listed with
// StageConsistency or StageUnmask although its input is in the sum.
func (s *Server) Dropouts() map[uint32]Stage {
	out := make(map[uint32]Stage)
	st := s.stage
	if st == StageAborted {
		st = s.abort.Stage
	}
	for u := range s.u2 {
		switch {
		case s.adverts[u] == nil:
			out[uint32(u)] = StageAdvertise
		case !s.u2[u]:
			out[uint32(u)] = StageShareKeys
		case st > StageCheckShares && !s.in2[u] || st == StageCheckShares && !s.receipt[u]:
			out[uint32(u)] = StageCheckShares
		case st > StageMaskedInput && !s.u3[u]:
			out[uint32(u)] = StageMaskedInput
		case st > StageConsistency && !s.signedBy[u]:
			out[uint32(u)] = StageConsistency
		case st >= StageUnmask && !s.replied[u]:
			out[uint32(u)] = StageUnmask
		}
	}
	return out
}
