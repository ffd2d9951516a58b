package secagg

import (
	"fmt"
	"slices"
)

// Server is the coordinator side of one session, a pure state machine. The
// driver feeds it messages (On*), closes each stage when all expected
// messages arrived or its deadline passed (Adverts/AdvertsFor, SharesFor,
// MaskRequestFor, ConsistencyRequest, UnmaskRequest, Result close the
// advertise, share-keys, check-shares, masked-input, consistency and
// unmask stages), and relays what they return. A message
// for a closed stage returns ErrWrongStage (late); nothing is changed by a
// rejected message. The server keeps one running O(d) sum of masked
// inputs, never the individual vectors. Not safe for concurrent use.
type Server struct {
	p     *Params
	stage Stage
	abort *AbortNotice

	adverts  []*AdvertiseMsg     // by sender; nil: not in U1
	inbox    [][]*EncryptedShare // by recipient
	u2       []bool              // sent shares
	receipt  []bool              // sent a valid share receipt
	cut      map[[2]uint32]bool  // pairs separated by a complaint (lo, hi)
	in2      []bool              // U2': shared, receipted, not excluded
	u3       []bool              // masked input added to sum
	sum      []uint32
	cons     *ConsistencyRequest
	signedBy []bool
	sigs     []SurvivorSignature
	req      *UnmaskRequest
	replied  []bool
	selfSh   [][]share // by owner
	keySh    [][]share // by owner
	result   []uint32
	blamed   []Blame
}

// NewServer starts the coordinator side of the session in StageAdvertise.
func NewServer(p *Params) (*Server, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: nil Params", ErrParams)
	}
	n := p.N()
	return &Server{
		p: p, stage: StageAdvertise,
		adverts:  make([]*AdvertiseMsg, n),
		inbox:    make([][]*EncryptedShare, n),
		u2:       make([]bool, n),
		receipt:  make([]bool, n),
		cut:      make(map[[2]uint32]bool),
		in2:      make([]bool, n),
		u3:       make([]bool, n),
		signedBy: make([]bool, n),
		replied:  make([]bool, n),
		selfSh:   make([][]share, n),
		keySh:    make([][]share, n),
	}, nil
}

// Params returns the session parameters.
func (s *Server) Params() *Params { return s.p }

// Stage returns the current stage.
func (s *Server) Stage() Stage { return s.stage }

// AbortNotice returns the notice to send to every client once the session
// aborted, or nil.
func (s *Server) AbortNotice() *AbortNotice { return s.abort }

// Abort ends the session without a result (for example when the driver
// gives up) and returns the notice to send to every client. Nothing is
// unmasked after an abort. Aborting twice keeps the first reason.
func (s *Server) Abort(reason string) *AbortNotice {
	if s.abort == nil {
		s.abort = &AbortNotice{Session: s.p.session, Stage: s.stage, Reason: reason}
		s.stage = StageAborted
		s.sum, s.selfSh, s.keySh, s.inbox = nil, nil, nil, nil
	}
	return s.abort
}

func (s *Server) abortErr(err error) error {
	s.Abort(err.Error())
	return err
}

func (s *Server) expect(st Stage, what string) error {
	if s.stage == StageAborted {
		return fmt.Errorf("%w: %s: %s", ErrAborted, what, s.abort.Reason)
	}
	if s.stage != st {
		return fmt.Errorf("%w: %s in stage %s (late or out of order)", ErrWrongStage, what, s.stage)
	}
	return nil
}

func (s *Server) checkSender(from uint32, session SessionID, claimed uint32, what string) error {
	if err := s.p.checkIndex(from); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if session != s.p.session {
		return fmt.Errorf("%w: %s from %d for session %s, this is %s", ErrWrongSession, what, from, session, s.p.session)
	}
	if claimed != from {
		return fmt.Errorf("%w: %s from %d claims to be from %d", ErrInconsistent, what, from, claimed)
	}
	return nil
}

// OnAdvertise accepts the advert of participant from (the authenticated
// transport identity, as an index). The signature is checked here too, so
// the server relays only adverts that clients will accept.
func (s *Server) OnAdvertise(from uint32, m *AdvertiseMsg) error {
	if err := s.expect(StageAdvertise, "advert"); err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("%w: nil advert", ErrMalformed)
	}
	if err := s.checkSender(from, m.Session, m.From, "advert"); err != nil {
		return err
	}
	if s.adverts[from] != nil {
		return fmt.Errorf("%w: second advert from %d", ErrDuplicate, from)
	}
	if !verifyAdvert(s.p.Participant(from).IdentityKey, m) {
		return fmt.Errorf("%w: advert from %d", ErrBadSignature, from)
	}
	if !usableAdvert(m) {
		// The sender's own fault (it signed the keys): it counts as not
		// advertised, so no neighbour shares with it or masks with it.
		return fmt.Errorf("%w: advert from %d has a low-order X25519 key", ErrMalformed, from)
	}
	c := *m
	s.adverts[from] = &c
	return nil
}

func (s *Server) closeAdvertise() error {
	if n := count(s.adverts, func(a *AdvertiseMsg) bool { return a != nil }); n < s.p.Threshold()+1 {
		return s.abortErr(fmt.Errorf("%w: %d participants advertised keys, need at least t+1 = %d", ErrBelowThreshold, n, s.p.Threshold()+1))
	}
	s.stage = StageShareKeys
	return nil
}

// Adverts closes the advertise stage and returns every accepted advert (to
// broadcast; clients ignore non-neighbours). It aborts with
// ErrBelowThreshold if fewer than t+1 participants advertised.
func (s *Server) Adverts() ([]*AdvertiseMsg, error) {
	if err := s.CloseStage(StageAdvertise); err != nil {
		return nil, err
	}
	if err := s.expect(StageShareKeys, "adverts"); err != nil {
		return nil, err
	}
	var out []*AdvertiseMsg
	for _, a := range s.adverts {
		if a != nil {
			c := *a
			out = append(out, &c)
		}
	}
	return out, nil
}

// AdvertsFor closes the advertise stage like Adverts and returns only the
// adverts of to's neighbours (SecAgg+: O(k) per client instead of O(n)).
func (s *Server) AdvertsFor(to uint32) ([]*AdvertiseMsg, error) {
	if err := s.p.checkIndex(to); err != nil {
		return nil, err
	}
	if err := s.CloseStage(StageAdvertise); err != nil {
		return nil, err
	}
	if err := s.expect(StageShareKeys, "adverts"); err != nil {
		return nil, err
	}
	var out []*AdvertiseMsg
	for _, v := range s.p.Neighbours(to) {
		if a := s.adverts[v]; a != nil {
			c := *a
			out = append(out, &c)
		}
	}
	return out, nil
}

// OnShares accepts the encrypted shares of participant from: exactly one
// for each of its neighbours that advertised keys, each signed by from's
// identity key (so the server relays only shares their recipients will
// accept as authentic, and holds each sender's signature as evidence for
// complaints).
func (s *Server) OnShares(from uint32, shares []*EncryptedShare) error {
	if err := s.expect(StageShareKeys, "shares"); err != nil {
		return err
	}
	if err := s.p.checkIndex(from); err != nil {
		return fmt.Errorf("shares: %w", err)
	}
	if s.adverts[from] == nil {
		return fmt.Errorf("%w: shares from %d, which did not advertise keys", ErrUnknownParticipant, from)
	}
	if s.u2[from] {
		return fmt.Errorf("%w: second set of shares from %d", ErrDuplicate, from)
	}
	want := make(map[uint32]bool)
	for _, v := range s.p.Neighbours(from) {
		if s.adverts[v] != nil {
			want[v] = true
		}
	}
	seen := make(map[uint32]bool, len(shares))
	for _, sh := range shares {
		if sh == nil {
			return fmt.Errorf("%w: nil share from %d", ErrMalformed, from)
		}
		if err := s.checkSender(from, sh.Session, sh.From, "share"); err != nil {
			return err
		}
		if !want[sh.To] {
			return fmt.Errorf("%w: share from %d to %d, which is not an advertised neighbour", ErrUnknownParticipant, from, sh.To)
		}
		if seen[sh.To] {
			return fmt.Errorf("%w: two shares from %d to %d", ErrDuplicate, from, sh.To)
		}
		if len(sh.Ciphertext) > maxShareCiphertext {
			return fmt.Errorf("%w: share from %d to %d is too long", ErrMalformed, from, sh.To)
		}
		if !verifyShare(s.p.Participant(from).IdentityKey, sh) {
			return fmt.Errorf("%w: share from %d to %d is not signed by its identity key", ErrBadSignature, from, sh.To)
		}
		seen[sh.To] = true
	}
	if len(seen) != len(want) {
		return fmt.Errorf("%w: %d shares from %d, expected one for each of its %d advertised neighbours", ErrInconsistent, len(seen), from, len(want))
	}
	for _, sh := range shares {
		c := *sh
		c.Ciphertext = slices.Clone(sh.Ciphertext)
		s.inbox[sh.To] = append(s.inbox[sh.To], &c)
	}
	s.u2[from] = true
	return nil
}

// SharesFor closes the share-keys stage (on first call) and returns the
// shares addressed to participant to, from every client that sent shares,
// for StageCheckShares. It aborts with ErrBelowThreshold if fewer than
// t+1 clients sent shares.
func (s *Server) SharesFor(to uint32) ([]*EncryptedShare, error) {
	if err := s.p.checkIndex(to); err != nil {
		return nil, err
	}
	if err := s.CloseStage(StageShareKeys); err != nil {
		return nil, err
	}
	if err := s.expect(StageCheckShares, "shares for"); err != nil {
		return nil, err
	}
	if !s.u2[to] {
		return nil, nil // a client that sent no shares gets none: it is out
	}
	return slices.Clone(s.inbox[to]), nil // the messages are shared: do not modify
}

func (s *Server) closeShareKeys() error {
	if n := count(s.u2, func(b bool) bool { return b }); n < s.p.Threshold()+1 {
		return s.abortErr(fmt.Errorf("%w: %d participants sent shares, need at least t+1 = %d", ErrBelowThreshold, n, s.p.Threshold()+1))
	}
	s.stage = StageCheckShares
	return nil
}

// CloseStage ends stage st if it is the current stage (the driver calls it
// when all expected messages arrived or the stage's deadline passed; later
// messages for st are rejected as late with ErrWrongStage). It applies the
// threshold checks of the stage and may abort with ErrBelowThreshold. It
// does nothing if st is already closed, and returns ErrWrongStage if st
// has not started yet, ErrAborted if the session aborted.
func (s *Server) CloseStage(st Stage) error {
	if s.stage == StageAborted {
		return s.expect(st, "close stage")
	}
	if s.stage > st {
		return nil
	}
	if s.stage < st {
		return fmt.Errorf("%w: cannot close stage %s from stage %s", ErrWrongStage, st, s.stage)
	}
	switch st {
	case StageAdvertise:
		return s.closeAdvertise()
	case StageShareKeys:
		return s.closeShareKeys()
	case StageCheckShares:
		return s.closeCheckShares()
	case StageMaskedInput:
		return s.closeMaskedInput()
	case StageConsistency:
		return s.closeConsistency()
	case StageUnmask:
		if err := s.unmask(); err != nil {
			return s.abortErr(err)
		}
		s.stage = StageDone
		return nil
	}
	return fmt.Errorf("%w: stage %s cannot be closed", ErrWrongStage, st)
}

// OnMaskedInput adds the masked input of from to the running sum.
func (s *Server) OnMaskedInput(from uint32, m *MaskedInput) error {
	if err := s.expect(StageMaskedInput, "masked input"); err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("%w: nil masked input", ErrMalformed)
	}
	if err := s.checkMaskedInput(from, m.Session, m.From, len(m.Vector)); err != nil {
		return err
	}
	addVector(s.sum, m.Vector)
	s.u3[from] = true
	return nil
}

// OnMaskedInputWire is OnMaskedInput for the wire encoding of a
// MaskedInput (MaskedInput.MarshalBinary): it checks the message exactly as
// UnmarshalBinary and OnMaskedInput would (same errors) and then decodes
// the words straight into the running sum, without an intermediate vector.
// Nothing is changed by a rejected message.
func (s *Server) OnMaskedInputWire(from uint32, data []byte) error {
	r, session := newReader(data, tagMaskedInput, "masked input")
	claimed := r.u32()
	n := r.count(MaxDim, 4, "vector")
	if r.err == nil && len(r.b) != 4*n {
		r.fail(fmt.Sprintf("%d trailing bytes", len(r.b)-4*n))
	}
	if r.err != nil {
		return r.err
	}
	if err := s.expect(StageMaskedInput, "masked input"); err != nil {
		return err
	}
	if err := s.checkMaskedInput(from, session, claimed, n); err != nil {
		return err
	}
	addBigEndian(s.sum, r.b)
	s.u3[from] = true
	return nil
}

// checkMaskedInput checks a masked input's sender and length before it is
// added.
func (s *Server) checkMaskedInput(from uint32, session SessionID, claimed uint32, words int) error {
	if err := s.checkSender(from, session, claimed, "masked input"); err != nil {
		return err
	}
	if !s.in2[from] {
		return fmt.Errorf("%w: masked input from %d, which is not in the session after the share check (no shares, no receipt, or excluded)", ErrUnknownParticipant, from)
	}
	if s.u3[from] {
		return fmt.Errorf("%w: second masked input from %d", ErrDuplicate, from)
	}
	if words != len(s.sum) {
		return fmt.Errorf("%w: masked input from %d has %d words, session dimension is %d", ErrMalformed, from, words, len(s.sum))
	}
	return nil
}

func count[T any](xs []T, f func(T) bool) int {
	n := 0
	for _, x := range xs {
		if f(x) {
			n++
		}
	}
	return n
}
