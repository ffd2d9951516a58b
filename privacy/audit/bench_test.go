package audit

import "testing"

// BenchmarkVerify verifies a coordinator and two tenant ledgers after 10
// rounds (60 + 20 + 20 lines): decoding, chains, signatures, ε replay and
// cross-checks.
func BenchmarkVerify(b *testing.B) {
	f := buildFederation(b, 10)
	trusted := f.trusted()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := Verify(f.files(), trusted); !res.OK {
			b.Fatal(res.Failures)
		}
	}
}

// BenchmarkLoad is the baseline of BenchmarkVerify: only reading and
// decoding the same files.
func BenchmarkLoad(b *testing.B) {
	f := buildFederation(b, 10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.files()
	}
}
