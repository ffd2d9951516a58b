package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// loadJSONL reads one JSON object per line. Blank lines are ignored and are
// not rows. Field names match the wanted column names ignoring case; a text
// or label may be a JSON string or number (a number keeps its literal form,
// so {"label": 11} has label "11").
//
// JSONL has no header, so a missing key is a bad row of its own; but if no
// row at all has the key, the file is taken to use other names and Load
// returns an ErrMissingColumn error listing the keys it saw.
func (l *loader) loadJSONL(br *bufio.Reader) error {
	var (
		lineNo            int
		sawText, sawLabel bool
		keysSeen          = map[string]bool{}
	)
	for {
		line, tooLong, err := readLine(br)
		if len(line) == 0 && !tooLong && errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("dataset: %s: failed to read: %w", l.name, err)
		}
		lineNo++
		if tooLong {
			if err := l.bad(lineNo, "line longer than %d bytes", MaxLineBytes); err != nil {
				return err
			}
			continue
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		text, label, hasText, hasLabel, reason := l.parseObject(line, keysSeen)
		sawText = sawText || hasText
		sawLabel = sawLabel || hasLabel
		if reason != "" {
			if reason == invalidUTF8Reason {
				l.invalidUTF8++
			}
			if err := l.bad(lineNo, "%s", reason); err != nil {
				return err
			}
			continue
		}
		if err := l.row(text, label, lineNo); err != nil {
			return err
		}
	}
	if l.rep.Rows > 0 && l.rep.Loaded == 0 {
		keys := make([]string, 0, len(keysSeen))
		for k := range keysSeen {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !sawText {
			return fmt.Errorf("dataset: %s: no record has a %q field; the records have fields %s: %w",
				l.name, l.opt.TextCol, listColumns(keys), ErrMissingColumn)
		}
		if l.opt.LabelCol != "" && !sawLabel {
			return fmt.Errorf("dataset: %s: no record has a %q field; the records have fields %s: %w",
				l.name, l.opt.LabelCol, listColumns(keys), ErrMissingColumn)
		}
	}
	return nil
}

// parseObject decodes one JSON line and extracts the text and label. A
// non-empty reason means the row is bad. keys collects the field names seen
// (capped) for the missing-column message.
func (l *loader) parseObject(line []byte, keys map[string]bool) (text, label string, hasText, hasLabel bool, reason string) {
	if !utf8.Valid(line) {
		return "", "", false, false, invalidUTF8Reason
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return "", "", false, false, "malformed JSON: " + jsonReason(err)
	}
	if obj == nil {
		return "", "", false, false, "malformed JSON: line is null, want an object"
	}
	for k := range obj {
		if len(keys) >= 1000 {
			break
		}
		keys[k] = true
	}
	textRaw, hasText := lookup(obj, l.opt.TextCol)
	var labelRaw json.RawMessage
	if l.opt.LabelCol != "" {
		labelRaw, hasLabel = lookup(obj, l.opt.LabelCol)
	}
	if !hasText {
		return "", "", false, hasLabel, fmt.Sprintf("missing field %q", l.opt.TextCol)
	}
	if text, reason = scalar(textRaw, l.opt.TextCol); reason != "" {
		return "", "", hasText, hasLabel, reason
	}
	if l.opt.LabelCol == "" {
		return text, "", true, false, ""
	}
	if !hasLabel {
		return "", "", true, false, fmt.Sprintf("missing field %q (label)", l.opt.LabelCol)
	}
	if label, reason = scalar(labelRaw, l.opt.LabelCol); reason != "" {
		return "", "", true, true, reason
	}
	return text, label, true, true, ""
}

// lookup finds the field named want: an exact match first, else the
// first key (in sorted order) that matches ignoring case, so the choice does
// not depend on map order.
func lookup(obj map[string]json.RawMessage, want string) (json.RawMessage, bool) {
	if v, ok := obj[want]; ok {
		return v, true
	}
	best, found := "", false
	for k := range obj {
		if sameColumn(k, want) && (!found || k < best) {
			best, found = k, true
		}
	}
	return obj[best], found
}

// scalar turns a JSON string or number into text.
func scalar(raw json.RawMessage, field string) (string, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", fmt.Sprintf("field %q is empty", field)
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Sprintf("field %q: %s", field, jsonReason(err))
		}
		return s, ""
	case 'n':
		return "", fmt.Sprintf("field %q is null", field)
	case '{', '[', 't', 'f':
		return "", fmt.Sprintf("field %q is not a string or number", field)
	}
	return string(raw), "" // a number: json.Unmarshal already validated it
}

// jsonReason shortens a decoding error for a bad-row reason.
func jsonReason(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "json: ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "..."
	}
	return s
}

// readLine returns the next line without its line end. A line longer than
// MaxLineBytes is consumed and reported with tooLong set. err is io.EOF on
// the last (possibly unterminated) line.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > MaxLineBytes+2 { // +2 for "\r\n"
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		buf = bytes.TrimSuffix(buf, []byte("\r"))
		if tooLong {
			return nil, true, err
		}
		return buf, false, err
	}
}
