package dataset

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encodings lists the text encodings LoadOptions.Encoding accepts besides
// UTF-8 (the default).
var Encodings = []string{"utf-8", "gbk", "gb18030", "utf-16", "utf-16le", "utf-16be", "latin1"}

// decoder returns the decoder of a named encoding; nil for UTF-8.
func decoder(name string) (encoding.Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "utf-8", "utf8":
		return nil, nil
	case "gbk", "cp936":
		return simplifiedchinese.GBK, nil
	case "gb18030":
		return simplifiedchinese.GB18030, nil
	case "utf-16", "utf16":
		// A byte-order mark decides; without one, little-endian (what
		// Windows writes).
		return unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), nil
	case "utf-16le":
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), nil
	case "utf-16be":
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), nil
	case "latin1", "iso-8859-1":
		return charmap.ISO8859_1, nil
	}
	return nil, fmt.Errorf("dataset: unknown encoding %q (want one of %s): %w", name, strings.Join(Encodings, ", "), ErrFormat)
}

// decoded wraps r so that it yields UTF-8 from the named encoding.
func decoded(r io.Reader, name string) (io.Reader, error) {
	enc, err := decoder(name)
	if err != nil || enc == nil {
		return r, err
	}
	return transform.NewReader(r, enc.NewDecoder()), nil
}
