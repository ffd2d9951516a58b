package dataset

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// LoadFile opens path and calls Load with it; errors and bad rows name the
// path.
func LoadFile(path string, opt LoadOptions) ([]Example, LoadReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, LoadReport{}, fmt.Errorf("dataset: failed to open data file: %w", err)
	}
	defer f.Close()
	return Load(f, path, opt)
}

// Load reads examples from r, a CSV/TSV file with a header row or a JSONL
// file with one JSON object per line. name is used to pick the format when
// opt.Format is "" and to name the file in errors and bad rows.
//
// Under the Skip policy a bad row is reported and skipped; under Fail the
// first one ends the load with an error wrapping its BadRow. Errors that
// concern the whole file (unknown format, UTF-16, header without the named
// columns, read failures, too many bad rows) are returned under both
// policies. On error the examples are nil and the report counts what was
// read up to the error.
func Load(r io.Reader, name string, opt LoadOptions) ([]Example, LoadReport, error) {
	format, err := resolveFormat(name, opt.Format)
	if err != nil {
		return nil, LoadReport{}, err
	}
	if opt.OnError != Skip && opt.OnError != Fail {
		return nil, LoadReport{}, fmt.Errorf("dataset: unknown error policy %d", int(opt.OnError))
	}
	if !(opt.MaxBadFraction >= 0 && opt.MaxBadFraction <= 1) {
		return nil, LoadReport{}, fmt.Errorf("dataset: bad-row fraction %v is not in [0, 1]", opt.MaxBadFraction)
	}
	if r, err = decoded(r, opt.Encoding); err != nil {
		return nil, LoadReport{}, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if err := skipBOM(br, name); err != nil {
		return nil, LoadReport{}, err
	}
	l := &loader{name: name, opt: opt}
	if l.opt.TextCol == "" {
		l.opt.TextCol = DefaultTextCol
	}
	switch format {
	case FormatCSV:
		err = l.loadDelimited(br, ',')
	case FormatTSV:
		err = l.loadDelimited(br, '\t')
	case FormatJSONL:
		err = l.loadJSONL(br)
	}
	if err != nil {
		return nil, l.rep, err
	}
	if f := l.opt.MaxBadFraction; f > 0 && l.rep.Rows > 0 && float64(l.rep.Skipped) > f*float64(l.rep.Rows) {
		hint := ""
		if l.invalidUTF8 > l.rep.Skipped/2 {
			hint = " (most are not valid UTF-8: is the file in another encoding? try --encoding gbk, gb18030, utf-16 or latin1)"
		}
		return nil, l.rep, fmt.Errorf("dataset: %s: %d of %d rows are bad, more than the allowed fraction %g%s; first: %v: %w",
			name, l.rep.Skipped, l.rep.Rows, f, hint, l.rep.Bad[0], ErrTooManyBadRows)
	}
	return l.out, l.rep, nil
}

// resolveFormat returns the explicit format or the one the extension names.
func resolveFormat(name, format string) (string, error) {
	f := strings.ToLower(strings.TrimSpace(format))
	if f == "" {
		switch strings.ToLower(filepath.Ext(name)) {
		case ".csv":
			f = FormatCSV
		case ".tsv", ".tab":
			f = FormatTSV
		case ".jsonl", ".ndjson":
			f = FormatJSONL
		default:
			return "", fmt.Errorf("dataset: %s: cannot tell the format from the extension %q (want .csv, .tsv, .jsonl or .ndjson, or set the format): %w",
				name, filepath.Ext(name), ErrFormat)
		}
	}
	switch f {
	case FormatCSV, FormatTSV, FormatJSONL:
		return f, nil
	case "ndjson":
		return FormatJSONL, nil
	}
	return "", fmt.Errorf("dataset: %s: unknown format %q (want csv, tsv or jsonl): %w", name, format, ErrFormat)
}

// skipBOM drops a UTF-8 byte-order mark and rejects UTF-16/32 text, which
// would otherwise show up as one bad row per line.
func skipBOM(br *bufio.Reader, name string) error {
	head, _ := br.Peek(4) // a short read is fine: small files
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}),
		bytes.HasPrefix(head, []byte{0, 0, 0xFE, 0xFF}):
		return fmt.Errorf("dataset: %s: file is UTF-16 or UTF-32 encoded; give --encoding utf-16 or save it as UTF-8: %w", name, ErrFormat)
	}
	return nil
}

// invalidUTF8Reason is the bad-row reason for text that is not UTF-8.
const invalidUTF8Reason = "invalid UTF-8 (the file is in another encoding: give it, e.g. --encoding gbk, or save the file as UTF-8)"

// loader accumulates examples and the report for one file.
type loader struct {
	name        string
	opt         LoadOptions
	out         []Example
	rep         LoadReport
	invalidUTF8 int               // bad rows for invalid UTF-8
	labels      map[string]string // one copy of each distinct label
	cloneText   bool              // the text is a substring of a whole record's string
}

// add records one good row. Memory: a label is stored once however many
// rows carry it, and with cloneText the text is copied out of the
// record's string (encoding/csv returns the fields of a record as
// substrings of one string), so the other columns of the file are not
// kept alive by the examples.
func (l *loader) add(text, label string, line int) {
	l.rep.Rows++
	l.rep.Loaded++
	if l.labels == nil {
		l.labels = map[string]string{}
	}
	lab, ok := l.labels[label]
	if !ok {
		lab = strings.Clone(label)
		if len(l.labels) < maxInternedLabels {
			l.labels[lab] = lab
		}
	}
	if l.cloneText {
		text = strings.Clone(text)
	}
	l.out = append(l.out, Example{Text: text, Label: lab, Line: line})
}

// maxInternedLabels bounds the label table (a file whose "label" column
// is really free text must not grow it without limit).
const maxInternedLabels = 1 << 16

// bad records one bad row and returns the error that ends the load, if any.
func (l *loader) bad(line int, format string, args ...any) error {
	b := BadRow{File: l.name, Line: line, Reason: fmt.Sprintf(format, args...)}
	l.rep.Rows++
	if l.opt.OnError == Fail {
		return fmt.Errorf("dataset: %w", b)
	}
	l.rep.Skipped++
	if len(l.rep.Bad) < MaxListedBadRows {
		l.rep.Bad = append(l.rep.Bad, b)
	}
	if l.opt.MaxBadRows > 0 && l.rep.Skipped > l.opt.MaxBadRows {
		return fmt.Errorf("dataset: %s: more than %d bad rows (last at line %d: %s): %w",
			l.name, l.opt.MaxBadRows, line, b.Reason, ErrTooManyBadRows)
	}
	return nil
}

// row validates the text and label fields of one row and records it.
func (l *loader) row(text, label string, line int) error {
	if !utf8.ValidString(text) || !utf8.ValidString(label) {
		l.invalidUTF8++
		return l.bad(line, "%s", invalidUTF8Reason)
	}
	if strings.TrimSpace(text) == "" {
		return l.bad(line, "empty text in column %q", l.opt.TextCol)
	}
	label = strings.TrimSpace(label)
	if l.opt.LabelCol != "" && label == "" {
		return l.bad(line, "empty label in column %q", l.opt.LabelCol)
	}
	l.add(text, label, line)
	return nil
}

// sameColumn reports whether a header name matches a wanted column name.
func sameColumn(header, want string) bool {
	return strings.EqualFold(strings.TrimSpace(header), strings.TrimSpace(want))
}

// listColumns formats column names for an error message, quoting each and
// capping the list.
func listColumns(cols []string) string {
	const maxCols = 30
	var b strings.Builder
	for i, c := range cols {
		if i == maxCols {
			fmt.Fprintf(&b, ", ... (%d more)", len(cols)-maxCols)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if len(c) > 64 {
			c = c[:64] + "..."
		}
		fmt.Fprintf(&b, "%q", strings.ToValidUTF8(c, "\uFFFD"))
	}
	if len(cols) == 0 {
		return "(none)"
	}
	return b.String()
}
