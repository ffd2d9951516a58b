package secagg

import (
	"errors"
	"testing"
)

// TestRedQuorumSignatureFlood: a hostile relay answers a client's
// consistency signature with an UnmaskRequest carrying MaxParticipants
// signatures (the wire limit) for a cohort of 6, all invalid. An honest
// server sends at most one per participant, so more is malformed and must
// be refused before any of the 16,384 ed25519 verifications (~1 s of CPU
// per client here), as aggregation/tier already does for reports.
func TestRedQuorumSignatureFlood(t *testing.T) {
	ps, keys := testParticipants(6, 51)
	p, err := NewParams(Config{Round: 1, Participants: ps, Threshold: 3, Neighbours: 4, Dim: 8})
	if err != nil {
		t.Fatal(err)
	}
	survivors := []uint32{0, 1, 2, 3, 4, 5}
	flood := make([]SurvivorSignature, MaxParticipants)
	for i := range flood {
		flood[i].Signer = uint32(i % 6)
		flood[i].Signature[0] = byte(i)
	}
	if err := VerifySurvivorQuorum(p, survivors, flood); !errors.Is(err, ErrMalformed) {
		t.Fatalf("%d signatures for %d participants: %v, want ErrMalformed before verifying", len(flood), p.N(), err)
	}
	// A genuine quorum of distinct signers still passes.
	var good []SurvivorSignature
	for i := range uint32(6) {
		var s SurvivorSignature
		s.Signer = i
		if p.Participant(i).ID != ps[i].ID {
			t.Fatal("test participants are not in index order")
		}
		s.Signature = sign(keys[i], survivorSigMessage(p.Session(), i, survivors))
		good = append(good, s)
	}
	if err := VerifySurvivorQuorum(p, survivors, good); err != nil {
		t.Fatalf("genuine quorum: %v", err)
	}
}
