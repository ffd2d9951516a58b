package secagg

import (
	"crypto/sha256"
	"fmt"
	"slices"
)

// Blame records why the server holds a participant responsible for a
// fault. Complainer is the participant whose signed complaint raised it,
// or −1 when the server detected the fault itself (a revealed share that
// disagrees with its owner's commitment).
type Blame struct {
	Accused    uint32
	Complainer int
	Stage      Stage
	Reason     string
}

// Blamed returns every blame recorded so far, in the order raised.
func (s *Server) Blamed() []Blame { return slices.Clone(s.blamed) }

func pair(u, v uint32) [2]uint32 { return [2]uint32{min(u, v), max(u, v)} }

// OnReceipt accepts participant from's share receipt. Each complaint must
// name a neighbour that sent from a share, carry the SHA-256 of the exact
// ciphertext the server relayed (which the accused signed), and be signed
// by from; otherwise the whole receipt is refused (from is then dropped at
// the end of the stage). A valid complaint separates the pair: neither
// masks with the other, neither's share held by the other is used, and
// the server records the blame. The accused is not excluded on one
// complaint alone — the server cannot tell which side lies — but any
// client left with fewer than t partners is excluded when the stage
// closes (see doc.go, "Blame").
func (s *Server) OnReceipt(from uint32, r *ShareReceipt) error {
	if err := s.expect(StageCheckShares, "share receipt"); err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("%w: nil share receipt", ErrMalformed)
	}
	if err := s.checkSender(from, r.Session, r.From, "share receipt"); err != nil {
		return err
	}
	if !s.u2[from] {
		return fmt.Errorf("%w: share receipt from %d, which sent no shares", ErrUnknownParticipant, from)
	}
	if s.receipt[from] {
		return fmt.Errorf("%w: second share receipt from %d", ErrDuplicate, from)
	}
	seen := make(map[uint32]bool, len(r.Complaints))
	for _, c := range r.Complaints {
		if seen[c.Accused] {
			return fmt.Errorf("%w: two complaints from %d about %d", ErrDuplicate, from, c.Accused)
		}
		seen[c.Accused] = true
		sh := s.relayed(c.Accused, from)
		if sh == nil {
			return fmt.Errorf("%w: complaint from %d about %d, which relayed it no share", ErrInconsistent, from, c.Accused)
		}
		if sha256.Sum256(sh.Ciphertext) != c.CipherHash {
			return fmt.Errorf("%w: complaint from %d about %d names a ciphertext the server did not relay", ErrInconsistent, from, c.Accused)
		}
		if !verifySig(s.p.Participant(from).IdentityKey, complaintSigMessage(s.p.session, from, c.Accused, c.CipherHash), c.Signature) {
			return fmt.Errorf("%w: complaint from %d about %d", ErrBadSignature, from, c.Accused)
		}
	}
	for _, c := range r.Complaints {
		s.cut[pair(from, c.Accused)] = true
		s.blamed = append(s.blamed, Blame{Accused: c.Accused, Complainer: int(from), Stage: StageCheckShares,
			Reason: fmt.Sprintf("participant %d signed a complaint that the share %d signed for it does not open", from, c.Accused)})
	}
	s.receipt[from] = true
	return nil
}

// relayed returns the share from → to the server relayed, or nil.
func (s *Server) relayed(from, to uint32) *EncryptedShare {
	if s.p.checkIndex(from) != nil || !s.u2[from] {
		return nil
	}
	for _, sh := range s.inbox[to] {
		if sh.From == from {
			return sh
		}
	}
	return nil
}

// closeCheckShares fixes U2': clients that shared keys and sent a receipt,
// minus, repeatedly, any client with fewer than t partners (neighbours in
// U2' not separated from it by a complaint): its secrets could not be
// reconstructed, so it is excluded before anyone masks.
func (s *Server) closeCheckShares() error {
	t := s.p.Threshold()
	for u := range s.in2 {
		s.in2[u] = s.u2[u] && s.receipt[u]
	}
	for changed := true; changed; {
		changed = false
		for u := range s.in2 {
			if s.in2[u] && len(s.partners(uint32(u))) < t {
				s.in2[u], changed = false, true
			}
		}
	}
	if n := count(s.in2, func(b bool) bool { return b }); n < t+1 {
		return s.abortErr(fmt.Errorf("%w: %d participants are left after the share check, need at least t+1 = %d", ErrBelowThreshold, n, t+1))
	}
	s.stage = StageMaskedInput
	s.sum = make([]uint32, s.p.Dim())
	return nil
}

// partners returns u's neighbours in U2' that no complaint separated
// from u: the pairwise masks in u's masked input, and the holders of u's
// usable shares.
func (s *Server) partners(u uint32) []uint32 {
	var out []uint32
	for _, v := range s.p.Neighbours(u) {
		if s.in2[v] && !s.cut[pair(u, v)] {
			out = append(out, v)
		}
	}
	return out
}

// MaskRequestFor closes the check-shares stage (on first call) and returns
// participant to's mask request: its neighbours it must leave out of its
// masks (excluded, or separated from it by a complaint), and to itself if
// it is excluded.
func (s *Server) MaskRequestFor(to uint32) (*MaskRequest, error) {
	if err := s.p.checkIndex(to); err != nil {
		return nil, err
	}
	if err := s.CloseStage(StageCheckShares); err != nil {
		return nil, err
	}
	if err := s.expect(StageMaskedInput, "mask request"); err != nil {
		return nil, err
	}
	req := &MaskRequest{Session: s.p.session}
	if !s.in2[to] {
		req.Excluded = append(req.Excluded, to)
	}
	for _, v := range s.p.Neighbours(to) {
		if s.u2[v] && (!s.in2[v] || s.cut[pair(to, v)]) {
			req.Excluded = append(req.Excluded, v)
		}
	}
	slices.Sort(req.Excluded)
	return req, nil
}

// ConsistencyRequest closes the masked-input stage (on first call) and
// returns the survivor set U3 for every survivor to sign.
func (s *Server) ConsistencyRequest() (*ConsistencyRequest, error) {
	if err := s.CloseStage(StageMaskedInput); err != nil {
		return nil, err
	}
	if err := s.expect(StageConsistency, "consistency request"); err != nil {
		return nil, err
	}
	return &ConsistencyRequest{Session: s.p.session, Survivors: slices.Clone(s.cons.Survivors)}, nil
}

// OnConsistency accepts survivor from's signature on U3.
func (s *Server) OnConsistency(from uint32, m *ConsistencyResponse) error {
	if err := s.expect(StageConsistency, "consistency response"); err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("%w: nil consistency response", ErrMalformed)
	}
	if err := s.checkSender(from, m.Session, m.From, "consistency response"); err != nil {
		return err
	}
	if !s.u3[from] {
		return fmt.Errorf("%w: consistency response from %d, which is not a survivor", ErrUnknownParticipant, from)
	}
	if s.signedBy[from] {
		return fmt.Errorf("%w: second consistency response from %d", ErrDuplicate, from)
	}
	if !verifySig(s.p.Participant(from).IdentityKey, survivorSigMessage(s.p.session, from, s.cons.Survivors), m.Signature) {
		return fmt.Errorf("%w: survivor-set signature from %d", ErrBadSignature, from)
	}
	s.signedBy[from] = true
	s.sigs = append(s.sigs, SurvivorSignature{Signer: from, Signature: m.Signature})
	return nil
}

func (s *Server) closeConsistency() error {
	if len(s.sigs) < s.p.Quorum() {
		return s.abortErr(fmt.Errorf("%w: %d survivors signed the survivor set, quorum is %d", ErrBelowThreshold, len(s.sigs), s.p.Quorum()))
	}
	s.req.Signatures = slices.Clone(s.sigs)
	s.stage = StageUnmask
	return nil
}
