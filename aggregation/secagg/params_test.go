package secagg

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

func testParticipants(n int, seed uint64) ([]Participant, []ed25519.PrivateKey) {
	rd := privacy.SeededReader(seed)
	ps := make([]Participant, n)
	keys := make([]ed25519.PrivateKey, n)
	for i := range n {
		var s [32]byte
		rd.Read(s[:])
		keys[i] = ed25519.NewKeyFromSeed(s[:])
		ps[i] = Participant{ID: fmt.Sprintf("t%03d", i), IdentityKey: keys[i].Public().(ed25519.PublicKey)}
	}
	return ps, keys
}

func TestParamsSessionBindsEverything(t *testing.T) {
	ps, _ := testParticipants(6, 1)
	base := Config{Round: 3, Participants: ps, Threshold: 3, Neighbours: 4, Dim: 10}
	p0, err := NewParams(base)
	if err != nil {
		t.Fatal(err)
	}
	rev := append([]Participant(nil), ps...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	same := base
	same.Participants = rev
	if p, _ := NewParams(same); p.Session() != p0.Session() {
		t.Fatal("participant order changed the session ID")
	}
	other, _ := testParticipants(6, 2)
	variants := map[string]func(*Config){
		"round":     func(c *Config) { c.Round++ },
		"threshold": func(c *Config) { c.Threshold++ },
		"degree":    func(c *Config) { c.Neighbours = 0 },
		"dim":       func(c *Config) { c.Dim++ },
		"seed":      func(c *Config) { c.GraphSeed[5] = 1 },
		"members":   func(c *Config) { c.Participants = ps[:5] },
		"keys":      func(c *Config) { c.Participants = append(append([]Participant(nil), ps[:5]...), other[5]) },
	}
	for name, f := range variants {
		c := base
		f(&c)
		p, err := NewParams(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Session() == p0.Session() {
			t.Fatalf("changing %s does not change the session ID", name)
		}
	}
}

func TestParamsValidation(t *testing.T) {
	ps, _ := testParticipants(8, 1)
	bad := []Config{
		{Participants: ps[:2], Threshold: 1, Dim: 1},
		{Participants: ps, Threshold: 2, Neighbours: 4, Dim: 1},       // t ≤ k/2
		{Participants: ps, Threshold: 5, Neighbours: 4, Dim: 1},       // t > k
		{Participants: ps, Threshold: 3, Neighbours: 4, Dim: 0},       // no dim
		{Participants: append(ps[:3:3], ps[0]), Threshold: 3, Dim: 1}, // duplicate ID
		{Participants: []Participant{{ID: "a"}, ps[1], ps[2]}, Threshold: 2, Dim: 1},
	}
	for i, c := range bad {
		if _, err := NewParams(c); !errors.Is(err, ErrParams) {
			t.Fatalf("config %d accepted: %v", i, err)
		}
	}
	p, err := NewParams(Config{Participants: ps, Threshold: 3, Neighbours: 3, Dim: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Degree() != 4 || p.FullGraph() {
		t.Fatalf("odd k=3 should round up to 4, got %d", p.Degree())
	}
	p, _ = NewParams(Config{Participants: ps, Threshold: 5, Neighbours: 0, Dim: 1})
	if !p.FullGraph() || p.Degree() != 7 {
		t.Fatal("k=0 should give the complete graph")
	}
}
