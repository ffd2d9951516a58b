package ledger

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// headLabel separates ledger-head signatures from entry signatures and any
// other use of the key.
const headLabel = "fedb2b/ledger/v1 head\n"

// Head is a ledger's newest entry as its writer signs it for another
// party to keep: the entry's Seq and Hash (which, through the hash chain,
// commit to every earlier entry) and an ed25519 signature over
// headLabel, Party, Seq and Hash.
type Head struct {
	Party     string
	Seq       uint64
	Hash      string
	Signature []byte
}

func headMessage(party string, seq uint64, hash string) []byte {
	return []byte(headLabel + party + "\n" + strconv.FormatUint(seq, 10) + "\n" + hash)
}

// Head returns the ledger's signed head, or ok false when it is empty.
func (l *Ledger) Head() (h Head, ok bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.signer == nil {
		return Head{}, false, ErrReadOnly
	}
	n := len(l.entries)
	if n == 0 {
		return Head{}, false, nil
	}
	last := l.entries[n-1]
	hash, err := last.Hash()
	if err != nil {
		return Head{}, false, err
	}
	sig := ed25519.Sign(l.signer, headMessage(last.Party, last.Seq, hash))
	return Head{Party: last.Party, Seq: last.Seq, Hash: hash, Signature: sig}, true, nil
}

// ErrBadHead is returned when a ledger head's signature does not verify.
var ErrBadHead = errors.New("ledger: bad ledger-head signature")

// VerifyHead checks that pub signed the head (party, seq, hash) with sig.
func VerifyHead(pub ed25519.PublicKey, party string, seq uint64, hash string, sig []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("ledger: public key has %d bytes", len(pub))
	}
	if !ed25519.Verify(pub, headMessage(party, seq, hash), sig) {
		return ErrBadHead
	}
	return nil
}

// CheckHead checks the form of a head received from another party (seq at
// least 1, a 64-hex-digit hash, a 64-byte signature) before it is recorded.
func CheckHead(seq uint64, hash string, sig []byte) error {
	if seq == 0 || !isHex(hash, 64) || len(sig) != ed25519.SignatureSize {
		return errors.New("ledger: malformed ledger head (want seq ≥ 1, 64 hex digits, a 64-byte signature)")
	}
	return nil
}

// Receive records that the writer received e from e.Tenant (see
// [StatusReceived]): the caller fills Party, Task, Round, Tenant, Unit,
// Kind, ArtifactHash and, as the kind needs, Mechanism and Params, or Ref
// and HeadSignature. It spends nothing; the entry is signed, chained and
// synced like any other.
func (l *Ledger) Receive(e Entry) (Entry, error) {
	if e.Status != "" && e.Status != StatusReceived {
		return Entry{}, fmt.Errorf("ledger: Receive writes received entries, not %q", e.Status)
	}
	e.Status = StatusReceived
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.prepare(&e); err != nil {
		return Entry{}, err
	}
	return l.write(e)
}

// HeadSignatureOf decodes a received head entry's signature.
func HeadSignatureOf(e Entry) ([]byte, error) {
	sig, err := base64.StdEncoding.DecodeString(e.HeadSignature)
	if err != nil {
		return nil, fmt.Errorf("ledger: head_signature is not base64: %w", err)
	}
	return sig, nil
}
