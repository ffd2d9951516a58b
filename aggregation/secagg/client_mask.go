package secagg

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
	"slices"
)

// CheckShares verifies and opens the shares relayed to this client and
// returns its receipt (StageCheckShares). A share must carry its sender's
// signature (only the true sender can produce a share that is accepted):
// a share the relay altered or forged is refused with ErrBadSignature, and
// a share that is not addressed to this client, comes from a non-neighbour
// or repeats a sender is refused too; all of these can only come from the
// relay, which the server checks, and nothing is changed by a refusal.
// A correctly signed share that does not decrypt, or opens to a share
// bound to another session or pair or that is not a field element, is the
// sender's fault: the client files a signed Complaint about it in the
// receipt and leaves that sender out of its masks. A peer therefore
// cannot make this method fail.
func (c *Client) CheckShares(shares []*EncryptedShare) (*ShareReceipt, error) {
	if err := c.expect(StageCheckShares, "check shares"); err != nil {
		return nil, err
	}
	// The signature checks run first, on all cores: one per sender, up to
	// the first share the loop below refuses before any signature check;
	// the loop applies every check in order, as before (verifying inline
	// any share not covered here).
	var todo []int
	first := make(map[uint32]bool, len(shares))
	for i, s := range shares {
		if s == nil || c.checkSession(s.Session, "share") != nil || s.To != c.me || c.peers[s.From] == nil || first[s.From] {
			break
		}
		first[s.From] = true
		todo = append(todo, i)
	}
	sigOK, sigDone := make([]bool, len(shares)), make([]bool, len(shares))
	parallelFor(len(todo), func(j int) {
		s := shares[todo[j]]
		sigOK[todo[j]], sigDone[todo[j]] = verifyShare(c.p.Participant(s.From).IdentityKey, s), true
	})
	seen := make(map[uint32]bool, len(shares))
	for i, s := range shares {
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
		if seen[s.From] {
			return nil, fmt.Errorf("%w: two shares from %d", ErrDuplicate, s.From)
		}
		seen[s.From] = true
		if !sigDone[i] {
			sigOK[i] = verifyShare(c.p.Participant(s.From).IdentityKey, s)
		}
		if !sigOK[i] {
			return nil, fmt.Errorf("%w: share from %d is not signed by its identity key (altered or forged by the relay)", ErrBadSignature, s.From)
		}
	}
	receipt := &ShareReceipt{Session: c.p.session, From: c.me}
	got := make(map[uint32]sharePlain, len(shares))
	opened := make([]sharePlain, len(shares))
	openOK := make([]bool, len(shares))
	parallelFor(len(shares), func(i int) { opened[i], openOK[i] = c.openShare(shares[i]) })
	for i, s := range shares {
		sp, ok := opened[i], openOK[i]
		if !ok {
			h := sha256.Sum256(s.Ciphertext)
			receipt.Complaints = append(receipt.Complaints, Complaint{Accused: s.From, CipherHash: h,
				Signature: sign(c.ident, complaintSigMessage(c.p.session, c.me, s.From, h))})
			continue
		}
		got[s.From] = sp
	}
	slices.SortFunc(receipt.Complaints, func(a, b Complaint) int { return int(a.Accused) - int(b.Accused) })
	for v, sp := range got {
		pe := c.peers[v]
		pe.gotShares, pe.self, pe.key = true, sp.self, sp.key
	}
	c.stage = StageMaskedInput
	return receipt, nil
}

// openShare decrypts one signed share and checks its binding; false means
// the sender sent a share that is useless to this client.
func (c *Client) openShare(s *EncryptedShare) (sharePlain, bool) {
	var sp sharePlain
	pt, err := openShareWith(c.encID, s.Ciphertext)
	if err != nil {
		return sp, false
	}
	if sp.unmarshal(pt) != nil {
		return sp, false
	}
	if sp.session != c.p.session || sp.from != s.From || sp.to != c.me {
		return sp, false
	}
	if !isFieldElement(sp.self) || !isFieldElement(sp.key) {
		return sp, false
	}
	return sp, true
}

// MaskInput returns the masked input y_u = x_u + PRG(b_u) + Σ_{v∈P, u<v}
// PRG(s_{u,v}) − Σ_{v∈P, u>v} PRG(s_{u,v}) mod 2^32 (Fig. 4, round 2;
// Bell et al. 2020 restrict the sum to graph neighbours), where P is the
// set of neighbours whose shares this client accepted and that req does
// not exclude. If req excludes this client (a neighbour complained about
// its share), it returns ErrBlamed and the session ends. input must have
// Params.Dim words (already quantised, see Quantizer) and is not modified.
func (c *Client) MaskInput(req *MaskRequest, input []uint32) (*MaskedInput, error) {
	seeds, subs, err := c.maskSeeds(req, input)
	if err != nil {
		return nil, err
	}
	y := make([]uint32, len(input))
	maskChunksParallel(input, seeds, subs, func(off int, w []uint32) { copy(y[off:], w) })
	return &MaskedInput{Session: c.p.session, From: c.me, Vector: y}, nil
}

// AppendMaskedInput is MaskInput followed by MarshalBinary, fused: it
// appends the wire encoding of the masked input to dst (reusing its
// capacity, so a caller can keep one buffer across rounds) and returns the
// extended slice. The input is read once and the encoding written once,
// a cache-sized chunk at a time, with no intermediate vector. The bytes
// are exactly MaskInput(req, input).MarshalBinary() (tested).
func (c *Client) AppendMaskedInput(dst []byte, req *MaskRequest, input []uint32) ([]byte, error) {
	seeds, subs, err := c.maskSeeds(req, input)
	if err != nil {
		return nil, err
	}
	dst = slices.Grow(dst, 42+4*len(input))
	dst = appendHeader(dst, tagMaskedInput, c.p.session)
	dst = binary.BigEndian.AppendUint32(dst, c.me)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(input)))
	body := dst[len(dst) : len(dst)+4*len(input)]
	maskChunksParallel(input, seeds, subs, func(off int, w []uint32) { storeBigEndian(body[4*off:], w) })
	return dst[:len(dst)+4*len(input)], nil
}

// maskSeeds checks req and input, agrees every pairwise secret and commits
// the client to its partner set (StageConsistency): the seeds and signs of
// the k+1 masks to apply.
func (c *Client) maskSeeds(req *MaskRequest, input []uint32) ([]maskSeed, []bool, error) {
	if err := c.expect(StageMaskedInput, "mask input"); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, fmt.Errorf("%w: nil mask request", ErrMalformed)
	}
	if err := c.checkSession(req.Session, "mask request"); err != nil {
		return nil, nil, err
	}
	if len(input) != c.p.Dim() {
		return nil, nil, fmt.Errorf("%w: input has %d words, session dimension is %d", ErrParams, len(input), c.p.Dim())
	}
	excluded, err := indexSet(c.p, req.Excluded, "excluded")
	if err != nil {
		return nil, nil, err
	}
	if excluded[c.me] {
		return nil, nil, c.abort(fmt.Errorf("%w: the server excluded this client (%d): complaints about its shares left it fewer than t partners, or its shares or receipt did not arrive in time", ErrBlamed, c.me))
	}
	var partners []uint32
	for _, v := range c.p.Neighbours(c.me) {
		if pe := c.peers[v]; pe != nil && pe.gotShares && !excluded[v] {
			partners = append(partners, v)
		}
	}
	if len(partners) < c.p.Threshold() {
		return nil, nil, c.abort(fmt.Errorf("%w: usable shares arrived from %d neighbours, threshold is %d", ErrBelowThreshold, len(partners), c.p.Threshold()))
	}
	// Agree all pairwise secrets before committing any state.
	seeds := make([]maskSeed, 0, len(partners)+1)
	subs := make([]bool, 0, len(partners)+1)
	shared := make([][]byte, len(partners))
	errs := make([]error, len(partners))
	parallelFor(len(partners), func(i int) { shared[i], errs[i] = c.mask.agree(c.peers[partners[i]].maskKey) })
	for i, v := range partners {
		if errs[i] != nil {
			return nil, nil, fmt.Errorf("neighbour %d: %w", v, errs[i])
		}
		seeds = append(seeds, pairwiseSeed(shared[i], c.p.session, c.me, v))
		subs = append(subs, c.me > v)
	}
	for _, v := range partners {
		c.peers[v].inMask = true
	}
	c.excluded = excluded
	seeds = append(seeds, selfSeed(c.selfSeed[:], c.p.session, c.me))
	subs = append(subs, false)
	c.selfSeed = [32]byte{}
	c.stage = StageConsistency
	return seeds, subs, nil
}

// isFieldElement reports whether an encoded share value is below p.
func isFieldElement(y [fieldBytes]byte) bool {
	return new(big.Int).SetBytes(y[:]).Cmp(fieldP) < 0
}
