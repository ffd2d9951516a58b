package dataset

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

// SplitKey keys TrainTestSplit. A tenant's client derives it from a secret
// of its own (SplitKeyFrom); simulations derive one per simulated tenant
// from their seed (SimulationSplitKey).
type SplitKey [32]byte

// SplitKeyFrom derives a tenant's split key from one of its secrets (for
// example the seed of its identity key), under a fixed domain label, so
// the split is stable across restarts and differs between tenants.
func SplitKeyFrom(secret []byte) SplitKey {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("fedb2b/train-test-split/key/v1"))
	var k SplitKey
	copy(k[:], m.Sum(nil))
	return k
}

// SimulationSplitKey is the split key of simulated tenant i under seed. It
// protects nothing (the seed is public): simulations only.
func SimulationSplitKey(seed uint64, tenant int) SplitKey {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seed)
	binary.BigEndian.PutUint64(b[8:], uint64(tenant))
	return SplitKeyFrom(b[:])
}

// Derive returns an independent key for a second split of the same data
// (a validation part carved out of the training part, say), named by
// purpose.
func (k SplitKey) Derive(purpose string) SplitKey {
	return SplitKeyFrom(append(k[:], purpose...))
}

// TrainTestSplit splits ex into train and test so that each record's side
// depends on that record alone: a record goes to test when
// HMAC-SHA256(key, label, text), read as a number in [0, 1), is below
// testFraction. Adding, removing or changing one record of a tenant's
// file therefore moves no other record between the parts, which the
// record-level guarantee needs: the neighbouring data sets of the
// accountant (one record added or removed) must stay neighbours after the
// split. (A shuffle of each label's records, the previous rule, moved
// hundreds of records when one was removed.)
//
// The file line number is not hashed (removing a row shifts every later
// line); identical records go to the same side. The part sizes are
// binomial around testFraction·len(ex), not stratified: a rare label may
// end up entirely on one side. testFraction <= 0 (or NaN) puts everything
// in train, >= 1 everything in test. Both parts keep input order.
func TrainTestSplit(ex []Example, testFraction float64, key SplitKey) (train, test []Example) {
	for _, e := range ex {
		if HeldOut(e, testFraction, key) {
			test = append(test, e)
		} else {
			train = append(train, e)
		}
	}
	return train, test
}

// HeldOut reports whether TrainTestSplit puts e in the test part.
func HeldOut(e Example, testFraction float64, key SplitKey) bool {
	switch {
	case !(testFraction > 0):
		return false
	case testFraction >= 1:
		return true
	}
	return RecordUniform(key, []byte(e.Label), []byte(e.Text)) < testFraction
}

// RecordUniform maps the fields of one record to a number in [0, 1) by
// HMAC-SHA256 under key (each field length-prefixed, so field boundaries
// are unambiguous). Splits of other record types (a customer's rows, a
// product's series) use it with their own identity fields.
func RecordUniform(key SplitKey, fields ...[]byte) float64 {
	m := hmac.New(sha256.New, key[:])
	var n [8]byte
	for _, f := range fields {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		m.Write(n[:])
		m.Write(f)
	}
	sum := m.Sum(nil)
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}
