package dataset

import (
	"errors"
	"fmt"
)

// Example is one labelled (or unlabelled) text.
type Example struct {
	// Text is the input text, exactly as in the source (not trimmed).
	Text string
	// Label is the class label, trimmed of surrounding white space; it is
	// empty for unlabelled data (LoadOptions.LabelCol == "").
	Label string
	// Line is the 1-based line of the source file where the record starts,
	// or 0 when the example does not come from a file (Synthesize).
	Line int
}

// ErrorPolicy says what Load does with a bad row.
type ErrorPolicy int

const (
	// Skip records the bad row in LoadReport.Bad, counts it in
	// LoadReport.Skipped and goes on. It is the zero value.
	Skip ErrorPolicy = iota
	// Fail stops at the first bad row and returns an error naming its file,
	// line and reason.
	Fail
)

// String returns "skip" or "fail".
func (p ErrorPolicy) String() string {
	switch p {
	case Skip:
		return "skip"
	case Fail:
		return "fail"
	}
	return fmt.Sprintf("ErrorPolicy(%d)", int(p))
}

// Formats accepted in LoadOptions.Format.
const (
	FormatCSV   = "csv"
	FormatTSV   = "tsv"
	FormatJSONL = "jsonl"
)

// DefaultTextCol is the text column used when LoadOptions.TextCol is empty.
const DefaultTextCol = "text"

// MaxListedBadRows caps LoadReport.Bad; rows beyond it are still counted in
// LoadReport.Skipped.
const MaxListedBadRows = 100

// MaxLineBytes is the longest JSONL line Load accepts; longer lines are bad
// rows.
const MaxLineBytes = 1 << 20

// LoadOptions says which columns to read and how to treat bad rows.
type LoadOptions struct {
	// TextCol names the text column (CSV header name or JSON key);
	// "" means DefaultTextCol ("text"). Matching ignores case and
	// surrounding white space.
	TextCol string
	// LabelCol names the label column; "" loads unlabelled data (for
	// predict) and ignores any label column.
	LabelCol string
	// Format is FormatCSV, FormatTSV or FormatJSONL; "" picks it from the
	// file name's extension (.csv, .tsv, .jsonl, .ndjson).
	Format string
	// OnError is the bad-row policy; the zero value is Skip.
	OnError ErrorPolicy
	// MaxBadRows, when positive, makes Load fail once more than this many
	// rows were skipped (a file that is mostly bad is probably the wrong
	// file). Zero means no limit.
	MaxBadRows int
	// MaxBadFraction, when positive, makes Load fail when more than this
	// fraction of the data rows were bad (checked at the end; a file in
	// the wrong encoding loses most of its rows this way rather than
	// silently). Zero means no limit.
	MaxBadFraction float64
	// Encoding is the file's text encoding: "" or "utf-8", or one of
	// Encodings (gbk, gb18030, utf-16 with or without BOM, latin1); text
	// is converted to UTF-8 as it is read.
	Encoding string
}

// BadRow describes one row that could not be loaded. It is also the error
// Load returns (wrapped) under the Fail policy: errors.As finds it and
// errors.Is(err, ErrBadRow) holds.
type BadRow struct {
	File   string // the name given to Load (the path for LoadFile)
	Line   int    // 1-based line where the row starts
	Reason string // what is wrong, e.g. "empty text"
}

// Error returns "file:line: reason".
func (b BadRow) Error() string {
	return fmt.Sprintf("%s:%d: %s", b.File, b.Line, b.Reason)
}

// Unwrap returns ErrBadRow.
func (b BadRow) Unwrap() error { return ErrBadRow }

// LoadReport counts what Load read. Rows == Loaded + Skipped always holds;
// blank lines are not rows.
type LoadReport struct {
	Rows    int      // data rows seen (header excluded)
	Loaded  int      // rows returned as examples
	Skipped int      // bad rows skipped under the Skip policy
	Bad     []BadRow // the first MaxListedBadRows bad rows
}

// String summarises the report for a log line or a CLI, e.g.
// "120 rows: 118 loaded, 2 skipped (first: a.csv:7: empty text in column "text")".
func (r LoadReport) String() string {
	s := fmt.Sprintf("%d rows: %d loaded, %d skipped", r.Rows, r.Loaded, r.Skipped)
	if len(r.Bad) > 0 {
		s += " (first: " + r.Bad[0].Error() + ")"
	}
	return s
}

// Sentinel errors; the errors Load returns wrap one of them.
var (
	// ErrBadRow: a row was bad under the Fail policy.
	ErrBadRow = errors.New("bad row")
	// ErrTooManyBadRows: more than LoadOptions.MaxBadRows rows were bad.
	ErrTooManyBadRows = errors.New("too many bad rows")
	// ErrMissingColumn: the header (CSV) or every record (JSONL) lacks a
	// named column.
	ErrMissingColumn = errors.New("missing column")
	// ErrFormat: the format is unknown or the file is not in it (for
	// example UTF-16 text or an empty file without a header).
	ErrFormat = errors.New("unsupported format")
)
