package secagg

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
)

// ClientConfig configures one client session (one round).
type ClientConfig struct {
	// Params is the session, built from the round plan with NewParams.
	Params *Params
	// ID is this client's participant ID (must be in Params).
	ID string
	// Identity is the client's long-term ed25519 key; its public half must
	// equal the participant's IdentityKey in Params.
	Identity ed25519.PrivateKey
	// Rand is the source of key material and Shamir coefficients;
	// nil means crypto/rand. Tests pass a seeded reader.
	Rand io.Reader
}

// Client is the client side of one secure-aggregation session, a pure
// state machine: each method takes the messages the server relayed and
// returns the message to send back. Methods must be called in stage order;
// a method called in the wrong stage returns ErrWrongStage and changes
// nothing. An input that fails validation returns an error and changes
// nothing, except a bad advert signature and a below-threshold condition,
// which abort the session. Not safe for concurrent use.
type Client struct {
	p     *Params
	me    uint32
	ident ed25519.PrivateKey
	rand  io.Reader
	stage Stage
	err   error // why the session aborted

	enc, mask keyPair
	encID     *ageX25519Identity // enc as an age identity
	selfSeed  [32]byte           // b_u
	peers     map[uint32]*peer   // neighbours with a verified advert (U1 ∩ N(u))
	signed    []uint32           // the one survivor set this client signed
	excluded  map[uint32]bool    // the server's MaskRequest.Excluded
}

// peer is what the client knows about one neighbour.
type peer struct {
	encKey, maskKey [32]byte
	gotShares       bool // its share reached us and opened (not a complaint)
	inMask          bool // its pairwise mask is in our masked input (U2 ∩ not excluded)
	self, key       [fieldBytes]byte
}

// NewClient starts a client session in StageAdvertise.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Params == nil {
		return nil, fmt.Errorf("%w: ClientConfig.Params is nil", ErrParams)
	}
	me, ok := cfg.Params.Index(cfg.ID)
	if !ok {
		return nil, fmt.Errorf("%w: client %q is not a participant of session %s", ErrUnknownParticipant, cfg.ID, cfg.Params.Session())
	}
	if len(cfg.Identity) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: ClientConfig.Identity must be an ed25519 private key", ErrParams)
	}
	pub := cfg.Identity.Public().(ed25519.PublicKey)
	if !bytes.Equal(pub, cfg.Params.Participant(me).IdentityKey) {
		return nil, fmt.Errorf("%w: identity key of %q does not match the session's participant list", ErrParams, cfg.ID)
	}
	r := cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	return &Client{p: cfg.Params, me: me, ident: cfg.Identity, rand: r, stage: StageAdvertise}, nil
}

// Index returns the client's participant index.
func (c *Client) Index() uint32 { return c.me }

// Stage returns the current stage.
func (c *Client) Stage() Stage { return c.stage }

// Err returns why the session aborted (nil unless Stage is StageAborted).
func (c *Client) Err() error { return c.err }

func (c *Client) expect(s Stage, what string) error {
	if c.stage == StageAborted {
		return fmt.Errorf("%w: %s: %w", ErrAborted, what, c.err)
	}
	if c.stage != s {
		return fmt.Errorf("%w: %s in stage %s", ErrWrongStage, what, c.stage)
	}
	return nil
}

func (c *Client) abort(err error) error {
	c.stage = StageAborted
	c.err = err
	c.peers = nil
	c.enc, c.mask, c.encID, c.selfSeed = keyPair{}, keyPair{}, nil, [32]byte{}
	return err
}

func (c *Client) checkSession(s SessionID, what string) error {
	if s != c.p.session {
		return fmt.Errorf("%w: %s for session %s, this is %s", ErrWrongSession, what, s, c.p.session)
	}
	return nil
}

// OnAbort records the server's abort notice and ends the session (also
// after Unmask: the round can still fail if too few survivors answered).
func (c *Client) OnAbort(n *AbortNotice) error {
	if err := c.checkSession(n.Session, "abort notice"); err != nil {
		return err
	}
	if c.stage == StageAborted {
		return nil
	}
	c.abort(fmt.Errorf("%w by the server in stage %s: %s", ErrAborted, n.Stage, n.Reason))
	return nil
}

// Advertise generates the round's two fresh X25519 key pairs and the
// self-mask seed b_u, and returns the public keys and a commitment to b_u
// signed (Bonawitz et al. 2017 Fig. 4, round 0).
func (c *Client) Advertise() (*AdvertiseMsg, error) {
	if err := c.expect(StageAdvertise, "advertise"); err != nil {
		return nil, err
	}
	enc, err := newKeyPair(c.rand)
	if err != nil {
		return nil, err
	}
	mask, err := newKeyPair(c.rand)
	if err != nil {
		return nil, err
	}
	encID := newAgeX25519Identity(enc)
	var b [32]byte
	if _, err := io.ReadFull(c.rand, b[:]); err != nil {
		return nil, fmt.Errorf("secagg: failed to read self-mask seed: %w", err)
	}
	c.enc, c.mask, c.encID, c.selfSeed = enc, mask, encID, b
	m := &AdvertiseMsg{Session: c.p.session, From: c.me, EncKey: enc.public(), MaskKey: mask.public(),
		SelfCommit: selfCommitment(c.p.session, c.me, b)}
	signAdvert(c.ident, m)
	c.stage = StageShareKeys
	return m, nil
}

// ShareKeys verifies the neighbours' adverts (adverts of non-neighbours and
// the client's own are ignored, so the server may broadcast all of them;
// a neighbour whose signed advert has a low-order key counts as not
// advertised),
// then Shamir-shares the self-mask seed and the mask secret key among the
// advertised neighbours and returns one age-encrypted share per neighbour,
// signed with the identity key (Fig. 4, round 1). A signature that does not verify against the
// participant's identity key aborts the session with ErrBadSignature.
func (c *Client) ShareKeys(adverts []*AdvertiseMsg) ([]*EncryptedShare, error) {
	if err := c.expect(StageShareKeys, "share keys"); err != nil {
		return nil, err
	}
	// The signature checks of the neighbours' adverts run first, on all
	// cores: one per sender, up to the first advert the loop below refuses
	// before any signature check; the loop applies every check in order,
	// as before (verifying inline any advert not covered here).
	var todo []int
	first := make(map[uint32]bool)
	for i, a := range adverts {
		if a == nil || c.checkSession(a.Session, "advert") != nil || c.p.checkIndex(a.From) != nil {
			break
		}
		if a.From != c.me && c.p.graph.IsNeighbour(c.me, a.From) && !first[a.From] {
			first[a.From] = true
			todo = append(todo, i)
		}
	}
	sigOK, sigDone := make([]bool, len(adverts)), make([]bool, len(adverts))
	parallelFor(len(todo), func(j int) {
		a := adverts[todo[j]]
		sigOK[todo[j]], sigDone[todo[j]] = verifyAdvert(c.p.Participant(a.From).IdentityKey, a), true
	})
	peers := make(map[uint32]*peer)
	for i, a := range adverts {
		if a == nil {
			return nil, fmt.Errorf("%w: nil advert", ErrMalformed)
		}
		if err := c.checkSession(a.Session, "advert"); err != nil {
			return nil, err
		}
		if err := c.p.checkIndex(a.From); err != nil {
			return nil, fmt.Errorf("advert: %w", err)
		}
		if a.From == c.me || !c.p.graph.IsNeighbour(c.me, a.From) {
			continue
		}
		if _, dup := peers[a.From]; dup {
			return nil, fmt.Errorf("%w: two adverts from participant %d", ErrDuplicate, a.From)
		}
		if !sigDone[i] {
			sigOK[i] = verifyAdvert(c.p.Participant(a.From).IdentityKey, a)
		}
		if !sigOK[i] {
			return nil, c.abort(fmt.Errorf("%w: advert of participant %d (%q) is not signed by its identity key", ErrBadSignature, a.From, c.p.Participant(a.From).ID))
		}
		if !usableAdvert(a) {
			// Signed by the neighbour with a low-order key (the server
			// refuses such adverts): it is as if it had not advertised.
			continue
		}
		peers[a.From] = &peer{encKey: a.EncKey, maskKey: a.MaskKey}
	}
	if len(peers) < c.p.Threshold() {
		return nil, c.abort(fmt.Errorf("%w: %d neighbours advertised keys, threshold is %d", ErrBelowThreshold, len(peers), c.p.Threshold()))
	}
	holders := make([]uint32, 0, len(peers))
	for _, v := range c.p.Neighbours(c.me) {
		if peers[v] != nil {
			holders = append(holders, v)
		}
	}
	selfShares, err := shamirSplit(c.selfSeed, holders, c.p.Threshold(), c.rand)
	if err != nil {
		return nil, err
	}
	keyShares, err := shamirSplit(c.mask.secret(), holders, c.p.Threshold(), c.rand)
	if err != nil {
		return nil, err
	}
	out := make([]*EncryptedShare, len(holders))
	errs := make([]error, len(holders))
	parallelFor(len(holders), func(i int) {
		v := holders[i]
		pt := sharePlain{session: c.p.session, from: c.me, to: v, self: selfShares[i].y, key: keyShares[i].y}
		ct, err := sealShare(peers[v].encKey, pt.marshal())
		if err != nil {
			errs[i] = err
			return
		}
		out[i] = &EncryptedShare{Session: c.p.session, From: c.me, To: v, Ciphertext: ct}
		out[i].Sign(c.ident)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	c.peers = peers
	c.stage = StageCheckShares
	return out, nil
}
