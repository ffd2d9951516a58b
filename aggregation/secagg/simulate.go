package secagg

import (
	"crypto/ed25519"
	"fmt"
	"io"
)

// SimConfig holds the session parameters of Simulate; n and d come from
// the inputs.
type SimConfig struct {
	Round      uint64
	Threshold  int
	Neighbours int
}

// Simulate runs one complete session in memory: n clients (one per input
// vector, all of length d) and a server, relaying every message through
// MarshalBinary/UnmarshalBinary as a real transport would. dropAt[i] = s
// makes client i vanish before it sends its stage-s message (StageAdvertise:
// it never advertises; StageConsistency or StageUnmask: its masked input is
// in the sum but it never signs the survivor set / answers the unmask
// request). Identity keys, the graph seed and all
// client randomness come from rand.
//
// It returns the unmasked sum mod 2^32 and the survivors (the clients whose
// inputs are in the sum). If the session aborts, the error wraps the
// server's reason (ErrBelowThreshold when too many dropped) and every
// remaining client has been told why (see SimulateSessions for the
// clients' own errors).
func Simulate(cfg SimConfig, inputs [][]uint32, dropAt map[int]Stage, rand io.Reader) (sum []uint32, survivors []int, err error) {
	r, err := SimulateSession(cfg, inputs, dropAt, rand)
	if err != nil {
		return nil, nil, err
	}
	return r.Sum, r.Survivors, r.Err
}

// SimResult is the full outcome of SimulateSession.
type SimResult struct {
	Sum       []uint32
	Survivors []int
	// Err is the server's error when the session aborted.
	Err error
	// ClientErrs holds, for each client that did not drop, why its
	// session ended without success (nil on success).
	ClientErrs map[int]error
	// Signatures are the survivors' signatures on the survivor set that
	// the unmask request carried (VerifySurvivorQuorum checks them).
	Signatures []SurvivorSignature
	// Dropouts is the server's view (Server.Dropouts).
	Dropouts map[uint32]Stage
	// Params of the simulated session.
	Params *Params
}

// SimulateSession is Simulate returning every party's outcome. The
// returned error reports a setup problem (bad parameters, inputs of
// different lengths); protocol outcomes are in SimResult.
func SimulateSession(cfg SimConfig, inputs [][]uint32, dropAt map[int]Stage, rand io.Reader) (*SimResult, error) {
	n := len(inputs)
	if n == 0 {
		return nil, fmt.Errorf("%w: no inputs", ErrParams)
	}
	idents := make([]ed25519.PrivateKey, n)
	parts := make([]Participant, n)
	for i := range n {
		var seed [ed25519.SeedSize]byte
		if _, err := io.ReadFull(rand, seed[:]); err != nil {
			return nil, fmt.Errorf("secagg: simulate: %w", err)
		}
		idents[i] = ed25519.NewKeyFromSeed(seed[:])
		// Zero-padded IDs sort in input order, so index i is client i.
		parts[i] = Participant{ID: fmt.Sprintf("tenant-%05d", i), IdentityKey: idents[i].Public().(ed25519.PublicKey)}
	}
	var graphSeed [32]byte
	if _, err := io.ReadFull(rand, graphSeed[:]); err != nil {
		return nil, fmt.Errorf("secagg: simulate: %w", err)
	}
	p, err := NewParams(Config{Round: cfg.Round, Participants: parts, Threshold: cfg.Threshold,
		Neighbours: cfg.Neighbours, Dim: len(inputs[0]), GraphSeed: graphSeed})
	if err != nil {
		return nil, err
	}
	return SimulateWith(p, idents, inputs, dropAt, rand)
}

// SimulateWith is SimulateSession for a session whose Params the caller
// built: idents[i] and inputs[i] belong to participant i of p (in p's
// sorted order). Client randomness comes from rand.
func SimulateWith(p *Params, idents []ed25519.PrivateKey, inputs [][]uint32, dropAt map[int]Stage, rand io.Reader) (*SimResult, error) {
	n := p.N()
	if len(idents) != n || len(inputs) != n {
		return nil, fmt.Errorf("%w: %d identities and %d inputs for %d participants", ErrParams, len(idents), len(inputs), n)
	}
	for i, in := range inputs {
		if len(in) != p.Dim() {
			return nil, fmt.Errorf("%w: input %d has %d words, the session has %d", ErrParams, i, len(in), p.Dim())
		}
	}
	srv, _ := NewServer(p)
	clients := make([]*Client, n)
	for i := range n {
		var err error
		if clients[i], err = NewClient(ClientConfig{Params: p, ID: p.Participant(uint32(i)).ID, Identity: idents[i], Rand: rand}); err != nil {
			return nil, err
		}
	}
	sim := &simRun{p: p, srv: srv, clients: clients, dropAt: dropAt, errs: make(map[int]error)}
	res := &SimResult{Params: p, ClientErrs: sim.errs}
	res.Err = sim.run(inputs)
	res.Signatures = sim.sigs
	res.Dropouts = srv.Dropouts()
	if res.Err == nil {
		sum, surv, err := srv.Result()
		if err != nil {
			res.Err = err
		} else {
			res.Sum = sum
			for _, u := range surv {
				res.Survivors = append(res.Survivors, int(u))
			}
		}
	}
	if res.Err != nil {
		sim.notifyAbort()
	}
	return res, nil
}

type simRun struct {
	p       *Params
	srv     *Server
	clients []*Client
	dropAt  map[int]Stage
	errs    map[int]error
	sigs    []SurvivorSignature
}

// live reports whether client i still takes part at stage st.
func (s *simRun) live(i int, st Stage) bool {
	d, dropped := s.dropAt[i]
	if dropped && d <= st {
		return false
	}
	return s.errs[i] == nil
}

// relay round-trips m through its binary encoding, as a transport would.
func relay[T any, P interface {
	*T
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}](m P) (P, error) {
	b, err := m.MarshalBinary()
	if err != nil {
		return nil, err
	}
	out := P(new(T))
	return out, out.UnmarshalBinary(b)
}

func relayAll[T any, P interface {
	*T
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}](ms []P) ([]P, error) {
	out := make([]P, len(ms))
	for i, m := range ms {
		var err error
		if out[i], err = relay[T, P](m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *simRun) run(inputs [][]uint32) error {
	n := len(s.clients)
	for i := range n {
		if !s.live(i, StageAdvertise) {
			continue
		}
		m, err := s.clients[i].Advertise()
		if err == nil {
			m, err = relay(m)
		}
		if err == nil {
			err = s.srv.OnAdvertise(uint32(i), m)
		}
		s.fail(i, err)
	}
	adverts, err := s.srv.Adverts()
	if err != nil {
		return err
	}
	for i := range n {
		if !s.live(i, StageShareKeys) {
			continue
		}
		in, err := relayAll(adverts)
		var out []*EncryptedShare
		if err == nil {
			out, err = s.clients[i].ShareKeys(in)
		}
		if err == nil {
			out, err = relayAll(out)
		}
		if err == nil {
			err = s.srv.OnShares(uint32(i), out)
		}
		s.fail(i, err)
	}
	if err := s.srv.CloseStage(StageShareKeys); err != nil {
		return err
	}
	for i := range n {
		if !s.live(i, StageCheckShares) {
			continue
		}
		sh, err := s.srv.SharesFor(uint32(i))
		if err == nil {
			sh, err = relayAll(sh)
		}
		var r *ShareReceipt
		if err == nil {
			r, err = s.clients[i].CheckShares(sh)
		}
		if err == nil {
			r, err = relay(r)
		}
		if err == nil {
			err = s.srv.OnReceipt(uint32(i), r)
		}
		s.fail(i, err)
	}
	if err := s.srv.CloseStage(StageCheckShares); err != nil {
		return err
	}
	for i := range n {
		if !s.live(i, StageMaskedInput) {
			continue
		}
		req, err := s.srv.MaskRequestFor(uint32(i))
		if err == nil {
			req, err = relay(req)
		}
		var m *MaskedInput
		if err == nil {
			m, err = s.clients[i].MaskInput(req, inputs[i])
		}
		if err == nil {
			m, err = relay(m)
		}
		if err == nil {
			err = s.srv.OnMaskedInput(uint32(i), m)
		}
		s.fail(i, err)
	}
	cons, err := s.srv.ConsistencyRequest()
	if err != nil {
		return err
	}
	for _, u := range cons.Survivors {
		i := int(u)
		if !s.live(i, StageConsistency) {
			continue
		}
		in, err := relay(cons)
		var resp *ConsistencyResponse
		if err == nil {
			resp, err = s.clients[i].SignSurvivors(in)
		}
		if err == nil {
			resp, err = relay(resp)
		}
		if err == nil {
			err = s.srv.OnConsistency(u, resp)
		}
		s.fail(i, err)
	}
	req, err := s.srv.UnmaskRequest()
	if err != nil {
		return err
	}
	s.sigs = req.Signatures
	for _, u := range req.Survivors {
		i := int(u)
		if !s.live(i, StageUnmask) || s.clients[i].Stage() != StageUnmask {
			continue
		}
		in, err := relay(req)
		var resp *UnmaskResponse
		if err == nil {
			resp, err = s.clients[i].Unmask(in)
		}
		if err == nil {
			resp, err = relay(resp)
		}
		if err == nil {
			err = s.srv.OnUnmask(u, resp)
		}
		s.fail(i, err)
	}
	return nil
}

func (s *simRun) fail(i int, err error) {
	if err != nil {
		s.errs[i] = err
	}
}

// notifyAbort delivers the server's abort notice to every client still
// connected, and records each client's resulting error.
func (s *simRun) notifyAbort() {
	notice := s.srv.AbortNotice()
	if notice == nil {
		return
	}
	for i, c := range s.clients {
		if d, dropped := s.dropAt[i]; dropped && d <= c.Stage() {
			continue
		}
		if n, err := relay(notice); err == nil {
			_ = c.OnAbort(n)
		}
		if c.Err() != nil {
			s.errs[i] = c.Err()
		}
	}
}
