package ledger

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeLine checks that decoding never panics and that every accepted
// line is exactly the canonical encoding of what it decodes to.
func FuzzDecodeLine(f *testing.F) {
	path := filepath.Join(f.TempDir(), "l")
	l, err := Open(path, testKey(f, 1), WithClock(fixedClock()))
	if err != nil {
		f.Fatal(err)
	}
	in, _ := l.Append(round("acme", 1))
	l.Release(in.Seq, artifact("x"))
	l.Close()
	b, _ := os.ReadFile(path)
	for _, line := range bytes.Split(b, []byte("\n")) {
		f.Add(line)
	}
	f.Add([]byte(`{"seq":1}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := DecodeLine(line)
		if err != nil {
			return
		}
		enc, err := e.Encode()
		if err != nil {
			t.Fatalf("accepted entry does not encode: %v", err)
		}
		if !bytes.Equal(enc, line) {
			t.Fatalf("accepted a non-canonical line:\n%s\n%s", line, enc)
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("accepted an invalid entry: %v", err)
		}
	})
}

// FuzzDecode checks that a whole file never panics the decoder and that the
// entries and torn tail account for every byte.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("{}\n{"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, torn, err := Decode(b)
		if err == nil && torn != 0 {
			t.Fatal("torn tail without error")
		}
		if torn < 0 || torn > len(b) {
			t.Fatalf("torn = %d of %d bytes", torn, len(b))
		}
		_ = entries
	})
}
