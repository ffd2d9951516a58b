package ledger

import (
	"crypto/sha256"
	"encoding/json"
	"sync"
)

// Accountants are deterministic: the state after a sequence of events
// depends only on the accountant and the events. Composing a subsampled
// Gaussian costs milliseconds, and the same sequences recur (a tenant's
// ledger and the coordinator's record of it; Peek then Apply on append;
// an auditor re-verifying), so composed states are memoised by a hash of
// their event sequence.

// memoLimit bounds the memo; when full it is emptied.
const memoLimit = 4096

var memo = struct {
	sync.Mutex
	m map[[32]byte]Accountant
}{m: map[[32]byte]Accountant{}}

// stateID returns the id of the state reached from prev by composing
// (mechanism, params) with the named accountant.
func stateID(prev [32]byte, accountant, mechanism string, p Params) [32]byte {
	pb, _ := json.Marshal(p) // Params holds only finite numbers here (validated)
	h := sha256.New()
	h.Write(prev[:])
	h.Write([]byte(accountant))
	h.Write([]byte{0})
	h.Write([]byte(mechanism))
	h.Write([]byte{0})
	h.Write(pb)
	var id [32]byte
	h.Sum(id[:0])
	return id
}

func memoGet(id [32]byte) (Accountant, bool) {
	memo.Lock()
	defer memo.Unlock()
	a, ok := memo.m[id]
	if !ok {
		return nil, false
	}
	return a.Clone(), true
}

func memoPut(id [32]byte, a Accountant) {
	memo.Lock()
	defer memo.Unlock()
	if len(memo.m) >= memoLimit {
		clear(memo.m)
	}
	memo.m[id] = a.Clone()
}
