package dataset

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// loadDelimited reads a CSV (comma ',') or TSV (comma '\t') file whose first
// record is the header. Ragged rows are detected here rather than by
// encoding/csv (FieldsPerRecord = -1) so that they become bad rows with line
// numbers instead of ending the read.
func (l *loader) loadDelimited(r io.Reader, comma rune) error {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	if comma == '\t' {
		cr.LazyQuotes = true // TSV files rarely quote; a stray " is text
	}

	header, err := cr.Read()
	if err != nil {
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			return fmt.Errorf("dataset: %s: empty file, expected a header row: %w", l.name, ErrFormat)
		case errors.As(err, &pe):
			return fmt.Errorf("dataset: %s:%d: cannot parse the header row: %w", l.name, pe.StartLine, err)
		}
		return fmt.Errorf("dataset: %s: failed to read the header: %w", l.name, err)
	}
	header = append([]string(nil), header...) // ReuseRecord: keep our copy
	for _, h := range header {
		if !utf8.ValidString(h) {
			return fmt.Errorf("dataset: %s:1: header is not valid UTF-8 (give the encoding, e.g. --encoding gbk, or save the file as UTF-8): %w", l.name, ErrFormat)
		}
	}
	textIdx, err := l.column(header, l.opt.TextCol, "text")
	if err != nil {
		return err
	}
	l.cloneText = true
	labelIdx := -1
	if l.opt.LabelCol != "" {
		if labelIdx, err = l.column(header, l.opt.LabelCol, "label"); err != nil {
			return err
		}
	}

	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("dataset: %s: failed to read: %w", l.name, err)
			}
			if err := l.bad(pe.StartLine, "cannot parse CSV: %v", pe.Err); err != nil {
				return err
			}
			continue
		}
		line, _ := cr.FieldPos(0) // Read returned at least one field
		if len(rec) != len(header) {
			if err := l.bad(line, "ragged row: %d fields, header has %d", len(rec), len(header)); err != nil {
				return err
			}
			continue
		}
		label := ""
		if labelIdx >= 0 {
			label = rec[labelIdx]
		}
		if err := l.row(rec[textIdx], label, line); err != nil {
			return err
		}
	}
}

// column finds want in header; role ("text" or "label") is for messages.
func (l *loader) column(header []string, want, role string) (int, error) {
	idx := -1
	for i, h := range header {
		if !sameColumn(h, want) {
			continue
		}
		if idx >= 0 {
			return -1, fmt.Errorf("dataset: %s:1: %s column %q appears twice in the header (columns %d and %d)",
				l.name, role, want, idx+1, i+1)
		}
		idx = i
	}
	if idx < 0 {
		return -1, fmt.Errorf("dataset: %s:1: no %s column %q in the header; the file has columns %s: %w",
			l.name, role, want, listColumns(header), ErrMissingColumn)
	}
	return idx, nil
}
