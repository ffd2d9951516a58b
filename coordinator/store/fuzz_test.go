package store

import (
	"reflect"
	"testing"
	"time"
)

// FuzzDecodeRound checks that arbitrary bytes never panic the round
// decoder and that an accepted record survives an encode/decode round trip.
func FuzzDecodeRound(f *testing.F) {
	f.Add(encode(RoundRecord{Task: "t", Round: 3, Attempt: 1, Stage: "unmask", Cohort: []string{"a", "b"}, Session: "00ff", Outcome: Finished, ModelVersion: 3, Updated: time.Unix(1, 0).UTC()}))
	f.Add([]byte(`{"v":1,"rec":{"round":-1,"stage":"x"}}`))
	f.Add([]byte(`{"v":1,"rec":{"round":1,"stage":"x","session":"0"}}`))
	f.Add([]byte(`{"v":2,"rec":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRound(b)
		if err != nil {
			return
		}
		again, err := DecodeRound(encode(r))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(normRound(again), normRound(r)) {
			t.Fatalf("round trip changed the record: %+v vs %+v", again, r)
		}
	})
}

// normRound makes nil and empty slices and time zones compare equal.
func normRound(r RoundRecord) RoundRecord {
	if len(r.Cohort) == 0 {
		r.Cohort = nil
	}
	if len(r.Survivors) == 0 {
		r.Survivors = nil
	}
	r.Updated = r.Updated.UTC()
	return r
}

// FuzzDecodeTenant does the same for tenant records.
func FuzzDecodeTenant(f *testing.F) {
	f.Add(encode(TenantRecord{Name: "acme", EncoderID: "e", EpsilonCap: 8, Delta: 1e-6}))
	f.Add([]byte(`{"v":1,"rec":{"name":"x","epsilon_cap":-1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeTenant(b)
		if err != nil {
			return
		}
		if err := CheckTenant(r); err != nil {
			t.Fatalf("decoded a record that fails its check: %v", err)
		}
		if _, err := DecodeTenant(encode(r)); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

// FuzzDecodeTask does the same for task records, and for model entries.
func FuzzDecodeTask(f *testing.F) {
	f.Add(encode(TaskRecord{ID: "intent", Spec: []byte{1, 2}}))
	f.Add(encode(modelEntry{Hash: "0270da4daac514f30bece5788a87ad7b800f59476d0d7e6f70d4b61fbc4f5e9e", Size: 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := DecodeTask(b); err == nil {
			if _, err := DecodeTask(encode(r)); err != nil {
				t.Fatalf("re-decode task: %v", err)
			}
		}
		if m, err := decodeModel(b); err == nil {
			if _, err := decodeModel(encode(m)); err != nil {
				t.Fatalf("re-decode model entry: %v", err)
			}
		}
	})
}
