package secagg

import (
	"crypto/ed25519"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// harness drives one session by hand (no dropouts unless a test skips a
// client) so that tests can inject hostile, late and replayed messages.
type harness struct {
	t      testing.TB
	p      *Params
	srv    *Server
	cl     []*Client
	keys   []ed25519.PrivateKey
	inputs [][]uint32
}

func newHarness(t testing.TB, n, k, th, d int, round uint64) *harness {
	return newHarnessC(t, n, k, th, 0, d, round)
}

// newHarnessC is newHarness with MaxCorrupt c.
func newHarnessC(t testing.TB, n, k, th, c, d int, round uint64) *harness {
	t.Helper()
	ps, keys := testParticipants(n, 11) // same identities every round
	var seed [32]byte
	seed[0] = byte(round)
	p, err := NewParams(Config{Round: round, Participants: ps, Threshold: th, Neighbours: k, Dim: d, GraphSeed: seed, MaxCorrupt: c})
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := NewServer(p)
	h := &harness{t: t, p: p, srv: srv, keys: keys, inputs: randomInputs(rand.New(rand.NewPCG(round, 5)), n, d)}
	rd := privacy.SeededReader(round*1000 + 1)
	for i := range n {
		c, err := NewClient(ClientConfig{Params: p, ID: ps[i].ID, Identity: keys[i], Rand: rd})
		if err != nil {
			t.Fatal(err)
		}
		h.cl = append(h.cl, c)
	}
	return h
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) advertise(skip map[int]bool) []*AdvertiseMsg {
	h.t.Helper()
	for i, c := range h.cl {
		if skip[i] {
			continue
		}
		m, err := c.Advertise()
		h.must(err)
		h.must(h.srv.OnAdvertise(uint32(i), m))
	}
	ads, err := h.srv.Adverts()
	h.must(err)
	return ads
}

func (h *harness) shareKeys(ads []*AdvertiseMsg, skip map[int]bool) {
	h.t.Helper()
	for i, c := range h.cl {
		if skip[i] || c.Stage() != StageShareKeys {
			continue
		}
		out, err := c.ShareKeys(ads)
		h.must(err)
		h.must(h.srv.OnShares(uint32(i), out))
	}
	h.must(h.srv.CloseStage(StageShareKeys))
}

// checkShares runs the share check for every client still in it.
func (h *harness) checkShares(skip map[int]bool) {
	h.t.Helper()
	for i, c := range h.cl {
		if skip[i] || c.Stage() != StageCheckShares {
			continue
		}
		sh, err := h.srv.SharesFor(uint32(i))
		h.must(err)
		r, err := c.CheckShares(sh)
		h.must(err)
		h.must(h.srv.OnReceipt(uint32(i), r))
	}
	h.must(h.srv.CloseStage(StageCheckShares))
}

// maskInputs runs the share check (if still open, no skips) and the
// masked-input stage.
func (h *harness) maskInputs(skip map[int]bool) {
	h.t.Helper()
	if h.srv.Stage() == StageCheckShares {
		h.checkShares(nil)
	}
	for i, c := range h.cl {
		if skip[i] || c.Stage() != StageMaskedInput {
			continue
		}
		req, err := h.srv.MaskRequestFor(uint32(i))
		h.must(err)
		m, err := c.MaskInput(req, h.inputs[i])
		h.must(err)
		h.must(h.srv.OnMaskedInput(uint32(i), m))
	}
}

// requestUnmask runs the consistency stage (every survivor not skipped
// signs) and returns the unmask request.
func (h *harness) requestUnmask(skip map[int]bool) (*UnmaskRequest, error) {
	h.t.Helper()
	cons, err := h.srv.ConsistencyRequest()
	if err != nil {
		return nil, err
	}
	for _, u := range cons.Survivors {
		if skip[int(u)] {
			continue
		}
		resp, err := h.cl[u].SignSurvivors(cons)
		h.must(err)
		h.must(h.srv.OnConsistency(u, resp))
	}
	return h.srv.UnmaskRequest()
}

func (h *harness) unmask(req *UnmaskRequest, skip map[int]bool) {
	h.t.Helper()
	for _, u := range req.Survivors {
		if skip[int(u)] || h.cl[u].Stage() != StageUnmask {
			continue
		}
		resp, err := h.cl[u].Unmask(req)
		h.must(err)
		h.must(h.srv.OnUnmask(u, resp))
	}
}

func (h *harness) checkSum(sum []uint32, surv []uint32) {
	h.t.Helper()
	idx := make([]int, len(surv))
	for i, u := range surv {
		idx[i] = int(u)
	}
	if !slices.Equal(sum, plainSum(h.inputs, idx)) {
		h.t.Fatal("sum differs from the plain sum of the survivors")
	}
}

func wantErr(t *testing.T, err, sentinel error, what string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: got %v, want %v", what, err, sentinel)
	}
}

func TestScenarioDropAtEachStage(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	in := randomInputs(r, 8, 50)
	for _, st := range []Stage{StageAdvertise, StageShareKeys, StageCheckShares, StageMaskedInput, StageConsistency, StageUnmask} {
		for _, k := range []int{0, 4} {
			drops, th := map[int]Stage{2: st, 5: st}, 5
			if k == 4 {
				drops, th = map[int]Stage{2: st}, 3
			}
			res, err := SimulateSession(SimConfig{Round: 1, Threshold: th, Neighbours: k}, in, drops, privacy.SeededReader(uint64(st)))
			if err != nil {
				t.Fatal(err)
			}
			if res.Err != nil {
				t.Fatalf("drop at %s (k=%d): %v", st, k, res.Err)
			}
			wantSurv := 8 - len(drops)
			if st >= StageConsistency {
				wantSurv = 8
			}
			if len(res.Survivors) != wantSurv {
				t.Fatalf("drop at %s: %d survivors, want %d", st, len(res.Survivors), wantSurv)
			}
			if !slices.Equal(res.Sum, plainSum(in, res.Survivors)) {
				t.Fatalf("drop at %s (k=%d): wrong sum", st, k)
			}
			for i, s := range drops {
				if res.Dropouts[uint32(i)] != s {
					t.Fatalf("drop at %s: server reports %v for client %d", st, res.Dropouts[uint32(i)], i)
				}
			}
		}
	}
}

func TestScenarioBelowThresholdAbortsAndTellsClients(t *testing.T) {
	in := randomInputs(rand.New(rand.NewPCG(1, 1)), 6, 10)
	for _, st := range []Stage{StageAdvertise, StageShareKeys, StageCheckShares, StageMaskedInput, StageConsistency, StageUnmask} {
		drops := map[int]Stage{0: st, 1: st, 2: st} // 3 of 6 left, t = 4
		res, err := SimulateSession(SimConfig{Round: 2, Threshold: 4}, in, drops, privacy.SeededReader(3))
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, res.Err, ErrBelowThreshold, "abort at "+st.String())
		if res.Sum != nil {
			t.Fatalf("drop at %s: a sum was returned", st)
		}
		for i := 3; i < 6; i++ {
			if res.ClientErrs[i] == nil {
				t.Fatalf("drop at %s: client %d not told why", st, i)
			}
		}
	}
}

func TestScenarioOutOfOrderDuplicateLate(t *testing.T) {
	h := newHarness(t, 5, 0, 3, 8, 1)
	// Client: methods out of order.
	_, err := h.cl[0].MaskInput(&MaskRequest{Session: h.p.Session()}, h.inputs[0])
	wantErr(t, err, ErrWrongStage, "mask before advertise")
	_, err = h.cl[0].Unmask(&UnmaskRequest{Session: h.p.Session()})
	wantErr(t, err, ErrWrongStage, "unmask before advertise")
	// Server: shares before the advertise stage closed.
	wantErr(t, h.srv.OnShares(0, nil), ErrWrongStage, "shares during advertise")

	m0, _ := h.cl[0].Advertise()
	h.must(h.srv.OnAdvertise(0, m0))
	wantErr(t, h.srv.OnAdvertise(0, m0), ErrDuplicate, "second advert")
	wantErr(t, h.srv.OnAdvertise(1, m0), ErrInconsistent, "advert relabelled as from 1")
	_, err = h.cl[0].Advertise()
	wantErr(t, err, ErrWrongStage, "advertise twice")
	for i := 1; i < 5; i++ {
		m, _ := h.cl[i].Advertise()
		h.must(h.srv.OnAdvertise(uint32(i), m))
	}
	ads, _ := h.srv.Adverts()
	wantErr(t, h.srv.OnAdvertise(0, m0), ErrWrongStage, "late advert")
	h.shareKeys(ads, nil)
	h.checkShares(nil)
	mr4, err := h.srv.MaskRequestFor(4) // client 4 fetched its request in time...
	h.must(err)
	h.maskInputs(map[int]bool{4: true})
	cons, err := h.srv.ConsistencyRequest() // ...but the deadline passed before its input
	h.must(err)
	_, err = h.srv.SharesFor(4)
	wantErr(t, err, ErrWrongStage, "shares fetched after the stage closed")
	late, err := h.cl[4].MaskInput(mr4, h.inputs[4])
	h.must(err)
	wantErr(t, h.srv.OnMaskedInput(4, late), ErrWrongStage, "late masked input")
	_, err = h.cl[4].SignSurvivors(cons)
	wantErr(t, err, ErrInconsistent, "survivor set naming client 4 as dropped")
	req, err := h.requestUnmask(map[int]bool{4: true})
	h.must(err)
	h.unmask(req, nil)
	_, err = h.cl[0].Unmask(req)
	wantErr(t, err, ErrWrongStage, "second unmask")
	wantErr(t, h.cl[0].OnAbort(&AbortNotice{Reason: "forged"}), ErrWrongSession, "abort notice of another session")
	if h.cl[0].Stage() != StageDone {
		t.Fatal("a foreign abort notice changed the client's stage")
	}
	wantErr(t, h.srv.OnUnmask(0, &UnmaskResponse{Session: h.p.Session(), From: 0}), ErrDuplicate, "second unmask response")
	sum, surv, err := h.srv.Result()
	h.must(err)
	h.checkSum(sum, surv)
	if len(surv) != 4 {
		t.Fatalf("survivors %v", surv)
	}
}
