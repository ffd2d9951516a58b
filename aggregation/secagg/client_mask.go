package secagg

import (
	"fmt"
	"slices"
)

// MaskInput decrypts and checks the shares relayed to this client, then
// returns the masked input y_u = x_u + PRG(b_u) + Σ_{v∈U2∩N(u), u<v}
// PRG(s_{u,v}) − Σ_{v∈U2∩N(u), u>v} PRG(s_{u,v}) mod 2^32 (Fig. 4, round 2;
// Bell et al. 2020 restrict the sum to graph neighbours). U2 is the set of
// neighbours whose shares arrived. input must have Params.Dim words
// (already quantised, see Quantizer) and is not modified.
func (c *Client) MaskInput(shares []*EncryptedShare, input []uint32) (*MaskedInput, error) {
	if err := c.expect(StageMaskedInput, "mask input"); err != nil {
		return nil, err
	}
	if len(input) != c.p.Dim() {
		return nil, fmt.Errorf("%w: input has %d words, session dimension is %d", ErrParams, len(input), c.p.Dim())
	}
	got := make(map[uint32]sharePlain, len(shares))
	for _, s := range shares {
		if s == nil {
			return nil, fmt.Errorf("%w: nil share", ErrMalformed)
		}
		if err := c.checkSession(s.Session, "share"); err != nil {
			return nil, err
		}
		if s.To != c.me {
			return nil, fmt.Errorf("%w: share from %d is addressed to %d, not to %d", ErrInconsistent, s.From, s.To, c.me)
		}
		if c.peers[s.From] == nil {
			return nil, fmt.Errorf("%w: share from %d, which is not an advertised neighbour", ErrUnknownParticipant, s.From)
		}
		if _, dup := got[s.From]; dup {
			return nil, fmt.Errorf("%w: two shares from %d", ErrDuplicate, s.From)
		}
		pt, err := openShareWith(c.encID, s.Ciphertext)
		if err != nil {
			return nil, fmt.Errorf("share from %d: %w", s.From, err)
		}
		var sp sharePlain
		if err := sp.unmarshal(pt); err != nil {
			return nil, fmt.Errorf("share from %d: %w", s.From, err)
		}
		if sp.session != c.p.session || sp.from != s.From || sp.to != c.me {
			return nil, fmt.Errorf("%w: share from %d is bound to another session or pair", ErrInconsistent, s.From)
		}
		got[s.From] = sp
	}
	if len(got) < c.p.Threshold() {
		return nil, c.abort(fmt.Errorf("%w: shares arrived from %d neighbours, threshold is %d", ErrBelowThreshold, len(got), c.p.Threshold()))
	}
	// Agree all pairwise secrets before committing any state.
	seeds := make([]maskSeed, 0, len(got))
	subs := make([]bool, 0, len(got))
	for _, v := range c.p.Neighbours(c.me) {
		if _, ok := got[v]; !ok {
			continue
		}
		shared, err := c.mask.agree(c.peers[v].maskKey)
		if err != nil {
			return nil, fmt.Errorf("neighbour %d: %w", v, err)
		}
		seeds = append(seeds, pairwiseSeed(shared, c.p.session, c.me, v))
		subs = append(subs, c.me > v)
	}
	for v, sp := range got {
		pe := c.peers[v]
		pe.gotShares, pe.self, pe.key = true, sp.self, sp.key
	}
	y := slices.Clone(input)
	seeds = append(seeds, selfSeed(c.selfSeed[:], c.p.session, c.me))
	subs = append(subs, false)
	newExpander().applyAll(y, seeds, subs)
	c.selfSeed = [32]byte{}
	c.stage = StageUnmask
	return &MaskedInput{Session: c.p.session, From: c.me, Vector: y}, nil
}

// Unmask answers the server's unmask request (Fig. 4, round 4). The client
// derives the outcome for each neighbour itself: a neighbour in U2 (its
// shares arrived) that the request lists as a survivor gets its self-mask
// share revealed; any other neighbour in U2 is dropped and gets its
// mask-key share revealed; never both, and the client answers only once.
// It refuses (ErrInconsistent) a request that names a participant both
// alive and dropped, names this client as dropped, or names as survivor a
// neighbour whose shares never arrived; it aborts (ErrBelowThreshold) when
// fewer than t of its neighbours survived.
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
	if !alive[c.me] {
		return nil, fmt.Errorf("%w: unmask request does not list this client (%d) as a survivor", ErrInconsistent, c.me)
	}
	if len(alive) < c.p.Threshold() {
		return nil, c.abort(fmt.Errorf("%w: %d survivors in the request, threshold is %d", ErrBelowThreshold, len(alive), c.p.Threshold()))
	}
	resp := &UnmaskResponse{Session: c.p.session, From: c.me}
	nAlive := 0
	for _, v := range c.p.Neighbours(c.me) {
		pe := c.peers[v]
		if pe == nil || !pe.gotShares {
			if alive[v] {
				return nil, fmt.Errorf("%w: unmask request lists neighbour %d as a survivor but its shares never arrived", ErrInconsistent, v)
			}
			continue
		}
		if alive[v] {
			nAlive++
			resp.SelfShares = append(resp.SelfShares, RevealedShare{Owner: v, Value: pe.self})
		} else {
			resp.KeyShares = append(resp.KeyShares, RevealedShare{Owner: v, Value: pe.key})
		}
	}
	if nAlive < c.p.Threshold() {
		return nil, c.abort(fmt.Errorf("%w: %d of this client's neighbours survived, threshold is %d", ErrBelowThreshold, nAlive, c.p.Threshold()))
	}
	c.stage = StageDone
	c.peers = nil
	return resp, nil
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
