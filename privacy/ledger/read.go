package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTornTail reports bytes after the last newline of a ledger: the
// remains of an append that crashed before it completed. Such an append was
// never acknowledged, so nothing it describes was released; [Open] removes
// the bytes when it opens the ledger for writing.
var ErrTornTail = errors.New("ledger: torn last line")

// LineError reports a line that does not decode to a valid entry.
type LineError struct {
	Path string // file, when known
	Line int    // 1-based line number
	Err  error
}

func (e *LineError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("ledger: line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("ledger: %s: line %d: %v", e.Path, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// ReadFile reads and decodes every line of the ledger at path (see
// [Decode]).
func ReadFile(path string) ([]Entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	entries, _, err := Decode(b)
	var le *LineError
	if errors.As(err, &le) {
		le.Path = path
	} else if err != nil {
		err = fmt.Errorf("%w: %s", err, path)
	}
	return entries, err
}

// Read reads all of r and decodes it like [Decode].
func Read(r io.Reader) ([]Entry, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("ledger: failed to read: %w", err)
	}
	entries, _, err := Decode(b)
	return entries, err
}

// Decode decodes a ledger's bytes: one canonical entry per line, each line
// ended by '\n'. It returns the entries of the complete lines and the
// number of bytes after the last newline. When that number is not zero
// the error wraps [ErrTornTail] (the entries are still returned). A line
// that fails to decode returns the entries before it and a *[LineError].
// Decode checks each entry on its own, not the chain (see [Link]).
func Decode(b []byte) (entries []Entry, torn int, err error) {
	end := bytes.LastIndexByte(b, '\n') + 1
	torn = len(b) - end
	rest := b[:end]
	for n := 1; len(rest) > 0; n++ {
		i := bytes.IndexByte(rest, '\n')
		line := rest[:i]
		rest = rest[i+1:]
		e, err := DecodeLine(line)
		if err != nil {
			return entries, torn, &LineError{Line: n, Err: err}
		}
		entries = append(entries, e)
	}
	if torn > 0 {
		return entries, torn, fmt.Errorf("%w (%d bytes after the last complete entry)", ErrTornTail, torn)
	}
	return entries, 0, nil
}

// Link checks that e directly follows prev in a ledger: its Seq is one
// more and its PrevHash is prev's hash. prev is nil for the first entry,
// which must have Seq 1 and PrevHash [GenesisHash].
func Link(prev *Entry, e Entry) error {
	wantSeq, wantHash := uint64(1), GenesisHash
	if prev != nil {
		h, err := prev.Hash()
		if err != nil {
			return err
		}
		wantSeq, wantHash = prev.Seq+1, h
	}
	if e.Seq != wantSeq {
		return fmt.Errorf("seq %d where %d was expected (entry missing, duplicated or reordered)", e.Seq, wantSeq)
	}
	if e.PrevHash != wantHash {
		return errors.New("prev_hash does not match the previous entry (hash chain broken)")
	}
	return nil
}
